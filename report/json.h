/* SPDX-License-Identifier: MIT */
/*
 * A small streaming JSON writer: escaped strings, exact 64-bit integers.
 * Keys are NULL inside arrays. Nesting is limited to JSON_MAX_DEPTH levels
 * counting the top-level object: a container opened deeper is dropped whole
 * (the output stays well-formed) and json_end() returns -E2BIG.
 */
#ifndef PVTIME_REPORT_JSON_H
#define PVTIME_REPORT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH		16
#define JSON_FORMAT_VERSION	1

struct json {
	FILE *out;
	int depth;
	bool has_items[JSON_MAX_DEPTH];	/* a comma is due at this level */
	int skipped;			/* open containers past the limit */
	int error;			/* 0 or -E2BIG */
};

/* Starts the top-level object on out. */
void json_begin(struct json *j, FILE *out);
/* Closes the top-level object and ends the line; 0, or -E2BIG if nesting was too deep. */
int json_end(struct json *j);

/* 0, or -E2BIG past JSON_MAX_DEPTH (the container and its contents are dropped). */
int json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
int json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);

void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
/* A finite double with enough digits to round-trip; non-finite becomes null. */
void json_double(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);
void json_string(struct json *j, const char *key, const char *v);
void json_null(struct json *j, const char *key);

/* "format_version", "command" (argv as an array) and "pvtime_version". */
void json_header(struct json *j, int argc, char **argv);

#endif

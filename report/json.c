// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <math.h>

#include "json.h"

static void put_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/*
 * Comma and key before a value at the current level. False inside a
 * container opened past JSON_MAX_DEPTH: the value is dropped, so what was
 * written stays well-formed and json_end() reports -E2BIG.
 */
static bool item(struct json *j, const char *key)
{
	if (j->skipped)
		return false;
	if (j->has_items[j->depth])
		fputc(',', j->out);
	j->has_items[j->depth] = true;
	if (key) {
		put_escaped(j->out, key);
		fputc(':', j->out);
	}
	return true;
}

static int open(struct json *j, const char *key, char bracket)
{
	if (j->skipped || j->depth + 1 >= JSON_MAX_DEPTH) {
		j->skipped++;
		j->error = -E2BIG;
		return -E2BIG;
	}
	item(j, key);
	fputc(bracket, j->out);
	j->depth++;
	j->has_items[j->depth] = false;
	return 0;
}

static void close(struct json *j, char bracket)
{
	if (j->skipped) {
		j->skipped--;
		return;
	}
	if (j->depth <= 1)	/* unbalanced: the top level is json_end()'s */
		return;
	fputc(bracket, j->out);
	j->depth--;
}

void json_begin(struct json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->skipped = 0;
	j->error = 0;
	j->has_items[0] = false;
	fputc('{', out);
	j->depth = 1;
	j->has_items[1] = false;
}

int json_end(struct json *j)
{
	fputs("}\n", j->out);
	j->depth = 0;
	fflush(j->out);
	return j->error;
}

int json_object_begin(struct json *j, const char *key) { return open(j, key, '{'); }
void json_object_end(struct json *j) { close(j, '}'); }
int json_array_begin(struct json *j, const char *key) { return open(j, key, '['); }
void json_array_end(struct json *j) { close(j, ']'); }

void json_u64(struct json *j, const char *key, uint64_t v)
{
	if (!item(j, key))
		return;
	fprintf(j->out, "%" PRIu64, v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	if (!item(j, key))
		return;
	fprintf(j->out, "%" PRId64, v);
}

void json_double(struct json *j, const char *key, double v)
{
	if (!item(j, key))
		return;
	if (isfinite(v))
		fprintf(j->out, "%.17g", v);
	else
		fputs("null", j->out);
}

void json_bool(struct json *j, const char *key, bool v)
{
	if (!item(j, key))
		return;
	fputs(v ? "true" : "false", j->out);
}

void json_string(struct json *j, const char *key, const char *v)
{
	if (!item(j, key))
		return;
	put_escaped(j->out, v ? v : "");
}

void json_null(struct json *j, const char *key)
{
	if (!item(j, key))
		return;
	fputs("null", j->out);
}

void json_header(struct json *j, int argc, char **argv)
{
	json_u64(j, "format_version", JSON_FORMAT_VERSION);
	json_string(j, "pvtime_version", PVT_VERSION_STRING);
	json_array_begin(j, "command");
	for (int i = 0; i < argc; i++)
		json_string(j, NULL, argv[i]);
	json_array_end(j);
}

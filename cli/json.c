// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <math.h>

#include "args.h"
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

/* Comma and key before a value at the current level. */
static void item(struct json *j, const char *key)
{
	if (j->has_items[j->depth])
		fputc(',', j->out);
	j->has_items[j->depth] = true;
	if (key) {
		put_escaped(j->out, key);
		fputc(':', j->out);
	}
}

static void open(struct json *j, const char *key, char bracket)
{
	item(j, key);
	fputc(bracket, j->out);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->has_items[j->depth] = false;
}

static void close(struct json *j, char bracket)
{
	fputc(bracket, j->out);
	if (j->depth > 0)
		j->depth--;
}

void json_begin(struct json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->has_items[0] = false;
	fputc('{', out);
	j->depth = 1;
	j->has_items[1] = false;
}

void json_end(struct json *j)
{
	fputs("}\n", j->out);
	j->depth = 0;
	fflush(j->out);
}

void json_object_begin(struct json *j, const char *key) { open(j, key, '{'); }
void json_object_end(struct json *j) { close(j, '}'); }
void json_array_begin(struct json *j, const char *key) { open(j, key, '['); }
void json_array_end(struct json *j) { close(j, ']'); }

void json_u64(struct json *j, const char *key, uint64_t v)
{
	item(j, key);
	fprintf(j->out, "%" PRIu64, v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	item(j, key);
	fprintf(j->out, "%" PRId64, v);
}

void json_double(struct json *j, const char *key, double v)
{
	item(j, key);
	if (isfinite(v))
		fprintf(j->out, "%.17g", v);
	else
		fputs("null", j->out);
}

void json_bool(struct json *j, const char *key, bool v)
{
	item(j, key);
	fputs(v ? "true" : "false", j->out);
}

void json_string(struct json *j, const char *key, const char *v)
{
	item(j, key);
	put_escaped(j->out, v ? v : "");
}

void json_null(struct json *j, const char *key)
{
	item(j, key);
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

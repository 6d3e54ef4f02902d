// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "options.h"
#include "pvtime/pvclock.h"
#include "pvtime/xentimer.h"

/*
 * Values: strict decimal (0x hex for unsigned), no signs where none belong,
 * no junk, no overflow; each error is one line naming the option as spelled.
 */

/* Digits of text in base 10 or 16 into *out; -1 on junk or overflow past max. */
static int parse_digits(const char *p, unsigned base, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*p)
		return -1;
	for (; *p; p++) {
		unsigned d;

		if (isdigit((unsigned char)*p))
			d = (unsigned)(*p - '0');
		else if (base == 16 && isxdigit((unsigned char)*p))
			d = (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
		else
			return -1;
		if (v > (max - d) / base)
			return -2;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* An unsigned decimal or 0x hex integer up to max into *out; -1 after a message. */
static int parse_u64(const char *spelled, const char *text, uint64_t max, uint64_t *out)
{
	unsigned base = 10;
	const char *p = text;
	int ret;

	if (!*text) {
		usage_error("%s: missing value", spelled);
		return -1;
	}
	if (*p == '-') {
		usage_error("%s: '%s' must not be negative", spelled, text);
		return -1;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	ret = parse_digits(p, base, max, out);
	if (ret == -2)
		usage_error("%s: '%s' is out of range (max %llu)", spelled, text, (unsigned long long)max);
	else if (ret)
		usage_error("%s: '%s' is not a decimal or 0x hex integer", spelled, text);
	return ret ? -1 : 0;
}

int opt_uint(const char *spelled, const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	if (parse_u64(spelled, text, max, out))
		return -1;
	if (*out >= min)
		return 0;
	if (min == 1)
		usage_error("%s: must not be 0", spelled);
	else
		usage_error("%s: must be %llu..%llu", spelled, (unsigned long long)min,
			    (unsigned long long)max);
	return -1;
}

/*
 * A signed decimal fraction ("-12.5") as a fixed-point integer with
 * frac_digits places (ppm with 6 places = 1e-12 units) within [min, max].
 */
static int parse_fixed(const char *opt, const char *text, unsigned frac_digits,
		       int64_t min, int64_t max, int64_t *out)
{
	const char *p = text;
	int negative = 0;
	uint64_t mag = 0, limit;
	unsigned places = 0;
	int seen_digit = 0, seen_point = 0;

	if (!*text) {
		usage_error("%s: missing value", opt);
		return -1;
	}
	if (*p == '-' || *p == '+')
		negative = *p++ == '-';
	limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p; p++) {
		if (*p == '.' && !seen_point && frac_digits) {
			seen_point = 1;
			continue;
		}
		if (!isdigit((unsigned char)*p))
			goto bad;
		if (seen_point && ++places > frac_digits) {
			usage_error("%s: '%s' has more than %u decimal places", opt, text,
				    frac_digits);
			return -1;
		}
		seen_digit = 1;
		if (mag > (limit - (unsigned)(*p - '0')) / 10)
			goto range;
		mag = mag * 10 + (unsigned)(*p - '0');
	}
	if (!seen_digit)
		goto bad;
	for (; places < frac_digits; places++) {
		if (mag > limit / 10)
			goto range;
		mag *= 10;
	}
	{
		int64_t v = negative ? (int64_t)(0 - mag) : (int64_t)mag;

		if (v < min || v > max)
			goto range;
		*out = v;
	}
	return 0;
bad:
	usage_error("%s: '%s' is not a %s", opt, text,
		    frac_digits ? "decimal number" : "decimal integer");
	return -1;
range:
	usage_error("%s: '%s' is out of range", opt, text);
	return -1;
}

/* --algo: the library's own names (pvt_timer_algo_parse), not a second table. */
int opt_parse_algo(const char *spelled, const char *text, void *field)
{
	char list[64] = "";

	if (!pvt_timer_algo_parse(text, field))
		return 0;
	for (enum pvt_timer_algo a = PVT_ALGO_LEGACY; a <= PVT_ALGO_PVTIME; a++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", a ? "|" : "",
			 pvt_timer_algo_name(a));
	usage_error("%s: '%s' is not one of %s", spelled, text, list);
	return -1;
}

const struct opt_choice opt_format_choices[] = {
	{ "text", CLI_FMT_TEXT }, { "json", CLI_FMT_JSON }, { "openmetrics", CLI_FMT_OPENMETRICS },
	{ NULL, 0 },
};
const struct opt_choice opt_frac_bits_choices[] = {
	{ "48", PVT_FRAC_BITS_VMX }, { "32", PVT_FRAC_BITS_SVM }, { NULL, 0 },
};

/* Integers go into fields of any width: the table says how wide. */
static int store_uint(void *field, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1: memcpy(field, &u8, 1); return 0;
	case 2: memcpy(field, &u16, 2); return 0;
	case 4: memcpy(field, &u32, 4); return 0;
	case 8: memcpy(field, &v, 8); return 0;
	}
	usage_error("internal: an option table names a %zu-byte field", size);
	return -1;
}

static uint64_t size_max(size_t size)
{
	return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

static int take_uint(struct opt *o, const char *spelled, const char *text)
{
	uint64_t max = o->max < size_max(o->size) ? o->max : size_max(o->size);
	uint64_t v;

	if (opt_uint(spelled, text, o->min, max, &v))
		return -1;
	return store_uint(o->field, o->size, v);
}

static int take_int(struct opt *o, const char *spelled, const char *text)
{
	int64_t v;

	if (parse_fixed(spelled, text, o->kind == OPT_FIXED ? o->frac_digits : 0, o->smin, o->smax, &v))
		return -1;
	return store_uint(o->field, o->size, (uint64_t)v);
}

static int take_seconds(struct opt *o, const char *spelled, const char *text)
{
	int64_t ns;

	/* Fixed point with 9 places: exactly ns, no floating point. */
	if (parse_fixed(spelled, text, 9, 0, (int64_t)o->max * 1000000000, &ns))
		return -1;
	if (ns <= 0) {
		usage_error("%s: must be more than 0 s", spelled);
		return -1;
	}
	*(uint64_t *)o->field = (uint64_t)ns;
	return 0;
}

static const struct opt_choice *find_choice(const struct opt_choice *c, const char *text)
{
	for (; c->name; c++)
		if (!strcmp(c->name, text))
			return c;
	return NULL;
}

static int bad_choice(const char *spelled, const char *text, const struct opt_choice *c)
{
	char list[256] = "";

	for (; c->name; c++) {
		if (*list)
			strncat(list, "|", sizeof(list) - strlen(list) - 1);
		strncat(list, c->name, sizeof(list) - strlen(list) - 1);
	}
	usage_error("%s: '%s' is not one of %s", spelled, text, list);
	return -1;
}

static int take_choice(struct opt *o, const char *spelled, const char *text)
{
	const struct opt_choice *c = find_choice(o->choices, text);

	if (!c)
		return bad_choice(spelled, text, o->choices);
	if (o->kind == OPT_FORMAT) {
		struct cli_output *out = o->field;

		out->format = (enum cli_format)c->value;
		return 0;
	}
	return store_uint(o->field, o->size, (uint64_t)(int64_t)c->value);
}

static int take_value(struct opt *o, const char *spelled, const char *text)
{
	switch (o->kind) {
	case OPT_FLAG:
		*(bool *)o->field = true;
		return 0;
	case OPT_UINT:
		return take_uint(o, spelled, text);
	case OPT_INT:
	case OPT_FIXED:
		return take_int(o, spelled, text);
	case OPT_SECONDS:
		return take_seconds(o, spelled, text);
	case OPT_CHOICE:
	case OPT_FORMAT:
		return take_choice(o, spelled, text);
	case OPT_STRING:
		if (!*text) {
			usage_error("%s: missing value", spelled);
			return -1;
		}
		*(const char **)o->field = text;
		return 0;
	case OPT_CUSTOM:
		return o->parse(spelled, text, o->field);
	case OPT_END:
		break;
	}
	return -1;
}

static struct opt *find_long(struct opt *opts, const char *name, size_t len)
{
	for (; opts->kind != OPT_END; opts++)
		if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

static struct opt *find_short(struct opt *opts, char c)
{
	for (; opts->kind != OPT_END; opts++)
		if (opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

static void print_help(const char *usage, const struct opt *opts)
{
	bool listed = false;

	if (!usage)
		return;		/* the command prints its own */
	printf("usage: %s\n", usage);
	for (; opts->kind != OPT_END; opts++) {
		if (!opts->help)
			continue;
		if (!listed)
			printf("\noptions:\n");
		listed = true;
		printf("  --%-18s %s%s\n", opts->name, opts->help, opts->required ? " (required)" : "");
	}
}

/* The option named by argv[*i] (and its value); advances *i past what it used. */
static int take_one(const char *cmd, struct opt *opts, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *value = NULL;
	char spelled[64];
	struct opt *o;

	if (arg[1] == '-') {
		const char *eq = strchr(arg + 2, '=');
		size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);

		o = find_long(opts, arg + 2, len);
		if (!o)
			return usage_error("%s: unknown option '%s' (try --help)", cmd, arg);
		snprintf(spelled, sizeof(spelled), "--%s", o->name);
		if (eq && o->kind == OPT_FLAG)
			return usage_error("%s: takes no value", spelled);
		if (eq)
			value = eq + 1;
	} else {
		o = find_short(opts, arg[1]);
		if (!o)
			return usage_error("%s: unknown option '%s' (try --help)", cmd, arg);
		snprintf(spelled, sizeof(spelled), "-%c", o->short_name);
		if (arg[2] && o->kind == OPT_FLAG)
			return usage_error("%s: unknown option '%s' (try --help)", cmd, arg);
		if (arg[2])
			value = arg + 2;
	}
	if (o->kind != OPT_FLAG && !value) {
		if (*i + 1 >= argc)
			return usage_error("%s: %s: missing value", cmd, spelled);
		value = argv[++*i];
	}
	if (take_value(o, spelled, value))
		return PVT_EXIT_USAGE;
	o->given = true;
	if (o->seen)
		*o->seen = true;
	return 0;
}

static const char *choice_name(const struct opt_choice *c, int value)
{
	for (; c->name; c++)
		if (c->value == value)
			return c->name;
	return "?";
}

/* The rules between options: required ones, exclusive pairs, --json vs --format. */
static int check_table(const char *cmd, struct opt *opts)
{
	for (struct opt *o = opts; o->kind != OPT_END; o++) {
		struct opt *other = o->excludes ? find_long(opts, o->excludes, strlen(o->excludes)) : NULL;

		if (o->required && !o->given)
			return usage_error("--%s: missing (required by %s)", o->name, cmd);
		if (o->given && other && other->given)
			return usage_error("%s: --%s and --%s are alternatives: give one", cmd, o->name,
					   other->name);
		if (o->kind == OPT_FORMAT && o->given) {
			struct cli_output *out = o->field;

			if (out->json && out->format != CLI_FMT_JSON)
				return usage_error("%s: --json and --format %s: choose one", cmd,
						   choice_name(o->choices, (int)out->format));
			out->json = out->format == CLI_FMT_JSON;
			out->openmetrics = out->format == CLI_FMT_OPENMETRICS;
			out->csv = out->format == CLI_FMT_CSV;
		}
	}
	return 0;
}

int opts_parse(const char *cmd, const char *usage, struct opt *opts, int argc, char **argv)
{
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			print_help(usage, opts);
			return OPTS_HELP;
		}
		if (!strcmp(arg, "--")) {
			if (i + 1 < argc)
				return usage_error("%s: unexpected argument '%s'", cmd, argv[i + 1]);
			break;
		}
		if (arg[0] != '-' || !arg[1])
			return usage_error("%s: unexpected argument '%s'", cmd, arg);
		if ((ret = take_one(cmd, opts, argc, argv, &i)))
			return ret;
	}
	return check_table(cmd, opts);
}

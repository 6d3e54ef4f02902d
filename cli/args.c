// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "args.h"

static void vreport(const char *fmt, va_list ap)
{
	fputs("pvtime: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return PVT_EXIT_USAGE;
}

int runtime_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return PVT_EXIT_RUNTIME;
}

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

int arg_u64(const char *opt, const char *text, int allow_hex, uint64_t max,
	    uint64_t *out)
{
	unsigned base = 10;
	const char *p = text;
	int ret;

	if (!text || !*text) {
		usage_error("%s: missing value", opt);
		return -1;
	}
	if (*p == '-') {
		usage_error("%s: '%s' must not be negative", opt, text);
		return -1;
	}
	if (allow_hex && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	ret = parse_digits(p, base, max, out);
	if (ret == -2) {
		usage_error("%s: '%s' is out of range (max %llu)", opt, text,
			    (unsigned long long)max);
		return -1;
	}
	if (ret) {
		usage_error("%s: '%s' is not %s", opt, text,
			    allow_hex ? "a decimal or 0x hex integer" : "a decimal integer");
		return -1;
	}
	return 0;
}

int arg_u64_range(const char *opt, const char *text, uint64_t min, uint64_t max,
		  uint64_t *out)
{
	uint64_t v;

	if (arg_u64(opt, text, 0, max, &v))
		return -1;
	if (v < min) {
		usage_error("%s: must be %llu..%llu", opt, (unsigned long long)min,
			    (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int arg_i64(const char *opt, const char *text, int64_t min, int64_t max,
	    int64_t *out)
{
	return arg_fixed(opt, text, 0, min, max, out);
}

int arg_fixed(const char *opt, const char *text, unsigned frac_digits,
	      int64_t min, int64_t max, int64_t *out)
{
	const char *p = text;
	int negative = 0;
	uint64_t mag = 0, limit;
	unsigned places = 0;
	int seen_digit = 0, seen_point = 0;

	if (!text || !*text) {
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

/* SPDX-License-Identifier: MIT */
/* Command-line argument parsing: strict numbers, one-line errors naming the argument. */
#ifndef PVTIME_CLI_ARGS_H
#define PVTIME_CLI_ARGS_H

#include <stdint.h>

#define PVT_EXIT_OK		0
#define PVT_EXIT_RUNTIME	1
#define PVT_EXIT_USAGE		2
#ifndef PVT_VERSION_STRING
#error "PVT_VERSION_STRING comes from CMakeLists.txt's project(VERSION)"
#endif

/* Prints "pvtime: <message>" on stderr and returns PVT_EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "pvtime: <message>" on stderr and returns PVT_EXIT_RUNTIME. */
int runtime_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parse an unsigned decimal (or 0x hex when allow_hex) into *out, rejecting
 * signs, junk and overflow past max. On error prints a line naming opt and
 * returns -1.
 */
int arg_u64(const char *opt, const char *text, int allow_hex, uint64_t max,
	    uint64_t *out);

/*
 * As arg_u64 (decimal) for a value within [min, max], e.g. a count that
 * must be at least 1: "<opt>: must be <min>..<max>" below min.
 */
int arg_u64_range(const char *opt, const char *text, uint64_t min, uint64_t max,
		  uint64_t *out);

/* As arg_u64 for a signed decimal within [min, max]. */
int arg_i64(const char *opt, const char *text, int64_t min, int64_t max,
	    int64_t *out);

/*
 * A signed decimal fraction ("-12.5") as a fixed-point integer with
 * frac_digits decimal places (e.g. ppm with 6 places = 1e-12 units),
 * rejecting more places than that and values outside [min, max].
 */
int arg_fixed(const char *opt, const char *text, unsigned frac_digits,
	      int64_t min, int64_t max, int64_t *out);

#endif

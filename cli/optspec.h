/* SPDX-License-Identifier: MIT */
/*
 * Declarative long options for subcommands with strict integer values:
 * every bad input becomes one line on stderr naming the option, exit 2.
 */
#ifndef PVTIME_CLI_OPTSPEC_H
#define PVTIME_CLI_OPTSPEC_H

#include <stdbool.h>
#include <stdint.h>

enum optspec_kind {
	OPT_U64,	/* unsigned decimal or 0x hex within [umin, umax] */
	OPT_I64,	/* signed decimal within [imin, imax] */
	OPT_FRAC_BITS,	/* 32 or 48 */
	OPT_STRING,	/* any text (e.g. a file name or a choice checked by the caller) */
	OPT_FLAG,	/* no value */
};

struct optspec {
	const char *name;	/* long name without the dashes */
	enum optspec_kind kind;
	uint64_t umin, umax;
	int64_t imin, imax;
	bool required;
	const char *help;	/* one line for --help */
	/* results */
	bool set;
	uint64_t u;
	int64_t i;
	const char *s;
};

/*
 * Parses argv[1..] into opts; cmd (e.g. "calc ratio") prefixes messages.
 * --json sets *json when json is not NULL; --help prints usage and returns 1.
 * Returns 0 on success, 1 after --help, PVT_EXIT_USAGE after a message.
 */
int optspec_parse(int argc, char **argv, const char *cmd, const char *usage, struct optspec *opts, int n,
		  bool *json);

/* The spec called name (which must exist). */
struct optspec *optspec_get(struct optspec *opts, int n, const char *name);

#endif

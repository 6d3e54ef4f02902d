/* SPDX-License-Identifier: MIT */
/*
 * The one option parser of every subcommand. A command lists its options
 * in a table; each entry writes its value straight into a named field of
 * the command's own struct, so nothing is read back by position. Values are
 * strict (no signs, junk, overflow or empty text) and every bad input is one
 * line on stderr naming the option as the user spelled it, exit 2.
 *
 * The options several commands share are defined once below, with one
 * limit each: -n/--loops, -i/--interval, --json, --format, --metrics,
 * --algo, --fifo, --frac-bits, --quiet, --plot. --duration is shared too,
 * but its ceiling is the command's (a benchmark run is not a soak).
 *
 * Accepted forms: --name VALUE, --name=VALUE, -n VALUE, -nVALUE. Long names
 * must be spelled in full: an abbreviation that works today would break
 * the day another option starts with the same letters.
 */
#ifndef PVTIME_CLI_OPTIONS_H
#define PVTIME_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum opt_kind {
	OPT_END,	/* closes a table */
	OPT_FLAG,	/* bool: set to true, takes no value */
	OPT_UINT,	/* unsigned integer field: decimal or 0x hex, in [min, max] */
	OPT_INT,	/* signed integer field: decimal in [smin, smax] */
	OPT_FIXED,	/* int64_t: a decimal fraction with .frac_digits places, in [smin, smax] */
	OPT_SECONDS,	/* uint64_t ns: seconds, a decimal with up to 9 places, 1 ns .. max s */
	OPT_CHOICE,	/* integer or enum field: the .value of the matching .choices name */
	OPT_STRING,	/* const char *: any non-empty text (a file name) */
	OPT_CUSTOM,	/* .parse() turns the text into the field */
	OPT_FORMAT,	/* struct cli_output: --format, checked against --json */
};

/* One accepted value of an OPT_CHOICE option; a table ends with name NULL. */
struct opt_choice {
	const char *name;
	int value;
};

/* What a report is written as: --json, --format, --metrics together. */
enum cli_format { CLI_FMT_TEXT, CLI_FMT_JSON, CLI_FMT_OPENMETRICS, CLI_FMT_CSV };

struct cli_output {
	/* results */
	bool json;		/* --json, or --format json */
	bool openmetrics;	/* --format openmetrics */
	bool csv;		/* --format csv (tsdrift) */
	const char *metrics;	/* --metrics FILE, or NULL */
	enum cli_format format;	/* --format as given (the parser resolves it into the above) */
};

struct opt {
	const char *name;	/* long name without the dashes */
	char short_name;	/* 'n' for -n, or 0 */
	enum opt_kind kind;
	void *field;		/* where the value goes */
	size_t size;		/* sizeof the field (OPT_UINT, OPT_INT, OPT_CHOICE) */
	uint64_t min, max;	/* OPT_UINT; OPT_SECONDS: max seconds */
	int64_t smin, smax;	/* OPT_INT, OPT_FIXED */
	unsigned frac_digits;	/* OPT_FIXED */
	const struct opt_choice *choices;	/* OPT_CHOICE, OPT_FORMAT */
	/* OPT_CUSTOM: 0, or -1 after a message naming spelled (the option as given). */
	int (*parse)(const char *spelled, const char *text, void *field);
	bool required;
	bool *seen;		/* when not NULL: set true when the option is given */
	const char *excludes;	/* long name of an option this one cannot be given with */
	const char *help;	/* one line in --help's option list, or NULL */
	bool given;		/* the parser's own record */
};

/* Returned by opts_parse() after --help printed the usage: the command exits 0. */
#define OPTS_HELP	(-1)

/*
 * Parses argv[1..] (argv[0] is the command) against opts, which ends with
 * OPT_END. cmd prefixes messages ("bench vmm"); --help prints "usage: "
 * usage, then the help lines of the options that have one (nothing when
 * usage is NULL: the caller prints its own). Returns 0,
 * OPTS_HELP, or PVT_EXIT_USAGE after a message.
 */
int opts_parse(const char *cmd, const char *usage, struct opt *opts, int argc, char **argv);

/* -n and --loops everywhere: 1 .. two billion (the simulator's own ceiling). */
#define CLI_MAX_LOOPS		2000000000ull
/* -i and --interval everywhere: 1 ns .. one hour. */
#define CLI_MAX_INTERVAL_NS	3600000000000ull
/* --fifo everywhere: a SCHED_FIFO priority, 0 for none (SCHED_OTHER). */
#define CLI_MAX_FIFO		99

/* OPT_CUSTOM parser of --algo into an enum pvt_timer_algo. */
int opt_parse_algo(const char *spelled, const char *text, void *field);
extern const struct opt_choice opt_format_choices[];		/* text json openmetrics */
extern const struct opt_choice opt_frac_bits_choices[];	/* 48 32 */

/*
 * The shared options, as designators for one table entry: `{ OPT_LOOPS(x) }`,
 * or `{ OPT_LOOPS(x), .seen = &given }` to add what the macro leaves out.
 */
#define OPT_FIELD(f)		.field = &(f), .size = sizeof(f)

#define OPT_LOOPS(f)                                                                \
	.name = "loops", .short_name = 'n', .kind = OPT_UINT, OPT_FIELD(f),        \
	.min = 1, .max = CLI_MAX_LOOPS
#define OPT_INTERVAL(f)                                                             \
	.name = "interval", .short_name = 'i', .kind = OPT_UINT, OPT_FIELD(f),     \
	.min = 1, .max = CLI_MAX_INTERVAL_NS
#define OPT_ALGO(f)                                                                 \
	.name = "algo", .kind = OPT_CUSTOM, .field = &(f), .parse = opt_parse_algo
#define OPT_FIFO(f)                                                                 \
	.name = "fifo", .kind = OPT_UINT, OPT_FIELD(f), .max = CLI_MAX_FIFO
#define OPT_FRAC_BITS(f)                                                            \
	.name = "frac-bits", .kind = OPT_CHOICE, OPT_FIELD(f),                     \
	.choices = opt_frac_bits_choices, .help = "48 (Intel VMX, default) or 32 (AMD SVM)"
#define OPT_QUIET(f)                                                                \
	.name = "quiet", .short_name = 'q', .kind = OPT_FLAG, .field = &(f)
#define OPT_PLOT(f)                                                                 \
	.name = "plot", .kind = OPT_STRING, .field = &(f),                         \
	.help = "also write an SVG plot to this file"
/* The ceiling differs by command; -n and --duration exclude each other. */
#define OPT_DURATION(f, max_s)                                                      \
	.name = "duration", .kind = OPT_SECONDS, .field = &(f), .max = (max_s),    \
	.excludes = "loops"
#define OPT_JSON(f)                                                                 \
	.name = "json", .kind = OPT_FLAG, .field = &(f), .help = "one JSON object on stdout"

/* Three entries: --json, --format (choices c) and --metrics into out. */
#define OPT_OUTPUT_CHOICES(out, c)                                                  \
	{ OPT_JSON((out).json) },                                                   \
	{ .name = "format", .kind = OPT_FORMAT, .field = &(out), .choices = (c) }, \
	{ .name = "metrics", .kind = OPT_STRING, .field = &(out).metrics,          \
	  .help = "also write OpenMetrics to this file (atomically)" }
/* The same with --format text|json|openmetrics. */
#define OPT_OUTPUT(out)		OPT_OUTPUT_CHOICES(out, opt_format_choices)

#define OPT_TABLE_END		{ .kind = OPT_END }

/* For OPT_CUSTOM parsers: an unsigned decimal in [min, max]; 0, or -1 after a message naming spelled. */
int opt_uint(const char *spelled, const char *text, uint64_t min, uint64_t max, uint64_t *out);

#endif

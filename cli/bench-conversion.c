// SPDX-License-Identifier: MIT
/*
 * pvtime bench conversion: ns/op of the exact guest-ns-at-host-TSC
 * conversion and of its inverse, next to clock_gettime and rdtsc timed in
 * the same run (measure/bench-conversion.c). --callgrind-iterations N runs
 * one loop N times untimed so bench/callgrind-conversion.sh can count
 * instructions per operation.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/utsname.h>

#include "args.h"
#include "bench-conversion.h"
#include "cmdline.h"
#include "commands.h"
#include "json.h"
#include "runctl.h"
#include "options.h"

/* --op's values; also the JSON keys' prefixes, indexed by enum bench_conv_op. */
static const struct opt_choice op_choices[] = {
	{ "forward", BENCH_CONV_FORWARD }, { "inverse", BENCH_CONV_INVERSE },
	{ "clock_gettime", BENCH_CONV_CLOCK_GETTIME }, { "rdtsc", BENCH_CONV_RDTSC },
	{ "empty", BENCH_CONV_EMPTY }, { "forward_chained", BENCH_CONV_FORWARD_CHAINED },
	{ NULL, 0 },
};

/* The text output's label of each operation. */
static const char *const op_labels[BENCH_CONV_OPS] = {
	"forward: guest ns at host TSC (exact)", "inverse: first host TSC at deadline",
	"clock_gettime(CLOCK_MONOTONIC)", "rdtsc", "empty loop (overhead)",
	"forward, chained (latency)",
};

static void print_json(const struct bench_conv_config *cfg, const struct bench_conv_result *r)
{
	const double *med = r->ns_per_op;
	struct json j;
	struct utsname u;

	json_begin(&j, stdout);
	cmdline_json_header(&j);
	json_string(&j, "bench", "conversion");
	runctl_json(&j);
	json_object_begin(&j, "machine");
	json_string(&j, "cpu", r->cpu);
	if (!uname(&u)) {
		json_string(&j, "kernel", u.release);
		json_string(&j, "arch", u.machine);
	}
	json_object_end(&j);
	json_object_begin(&j, "config");
	json_u64(&j, "host_khz", r->host_khz);
	json_u64(&j, "guest_khz", r->guest_khz);
	json_u64(&j, "frac_bits", r->frac_bits);
	json_object_end(&j);
	json_u64(&j, "iterations", cfg->iterations);
	json_u64(&j, "repeat", cfg->repeat);
	for (int op = 0; op < BENCH_CONV_OPS; op++) {
		char key[64];

		snprintf(key, sizeof(key), "%s_ns_per_op", op_choices[op].name);
		json_double(&j, key, med[op]);
		snprintf(key, sizeof(key), "%s_ns_per_op_min", op_choices[op].name);
		json_double(&j, key, r->ns_per_op_min[op]);
	}
	json_double(&j, "forward_per_clock_gettime", med[BENCH_CONV_FORWARD] / med[BENCH_CONV_CLOCK_GETTIME]);
	json_double(&j, "inverse_per_clock_gettime", med[BENCH_CONV_INVERSE] / med[BENCH_CONV_CLOCK_GETTIME]);
	json_double(&j, "forward_per_rdtsc", med[BENCH_CONV_FORWARD] / med[BENCH_CONV_RDTSC]);
	json_double(&j, "inverse_per_rdtsc", med[BENCH_CONV_INVERSE] / med[BENCH_CONV_RDTSC]);
	json_bool(&j, "forward_within_half_clock_gettime",
		  med[BENCH_CONV_FORWARD] * 2 <= med[BENCH_CONV_CLOCK_GETTIME]);
	json_end(&j);
}

static void print_text(const struct bench_conv_config *cfg, const struct bench_conv_result *r)
{
	const double *med = r->ns_per_op;

	runctl_text(stdout, UINT64_MAX);
	printf("# pvtime bench conversion: %" PRIu64 " ops x %u runs (median, min) per operation\n",
	       cfg->iterations, cfg->repeat);
	printf("# clock: host %" PRIu32 " kHz, guest %" PRIu32 " kHz, %u fraction bits, 1 day of uptime\n",
	       r->host_khz, r->guest_khz, r->frac_bits);
	for (int op = 0; op < BENCH_CONV_OPS; op++)
		printf("%-38s %8.2f ns/op  (min %.2f)\n", op_labels[op], med[op], r->ns_per_op_min[op]);
	printf("forward = %.2f x clock_gettime, %.2f x rdtsc; inverse = %.2f x clock_gettime, %.2f x rdtsc\n",
	       med[BENCH_CONV_FORWARD] / med[BENCH_CONV_CLOCK_GETTIME],
	       med[BENCH_CONV_FORWARD] / med[BENCH_CONV_RDTSC],
	       med[BENCH_CONV_INVERSE] / med[BENCH_CONV_CLOCK_GETTIME],
	       med[BENCH_CONV_INVERSE] / med[BENCH_CONV_RDTSC]);
}

/* The engine's only failures: memory, or a clock the model rejects. */
static int failed(int err)
{
	return runtime_error("bench conversion: %s", err == -ENOMEM ? "out of memory" :
			     "cannot build the benchmark clock");
}

int bench_conversion(int argc, char **argv)
{
	struct bench_conv_config cfg = { .iterations = 5000000, .repeat = 7 };
	uint64_t callgrind_n = 0;
	enum bench_conv_op only = BENCH_CONV_FORWARD;
	bool json = false, callgrind = false, op_given = false;
	struct opt o[] = {
		{ .name = "iterations", .kind = OPT_UINT, OPT_FIELD(cfg.iterations), .min = 1, .max = 1000000000000ull,
		  .help = "operations per timed run (default 5000000)" },
		{ .name = "repeat", .kind = OPT_UINT, OPT_FIELD(cfg.repeat), .min = 1, .max = BENCH_CONV_MAX_REPEAT,
		  .help = "timed runs, median reported (default 7)" },
		{ .name = "callgrind-iterations", .kind = OPT_UINT, OPT_FIELD(callgrind_n),
		  .max = 1000000000000ull, .seen = &callgrind,
		  .help = "run only --op N times, untimed (for callgrind instruction counts)" },
		{ .name = "op", .kind = OPT_CHOICE, OPT_FIELD(only), .choices = op_choices, .seen = &op_given,
		  .help = "forward|inverse|clock_gettime|rdtsc|empty|forward_chained (with --callgrind-iterations)" },
		{ OPT_JSON(json) }, OPT_TABLE_END,
	};
	struct bench_conv_result res;
	int ret = opts_parse("bench conversion",
			     "pvtime bench conversion [--iterations N] [--repeat R] [--json]\n"
			     "       pvtime bench conversion --callgrind-iterations N --op forward|inverse|empty",
			     o, argc, argv);

	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	if (op_given && !callgrind)
		return usage_error("--op: only with --callgrind-iterations");
	if (callgrind) {
		uint64_t sink = 0;

		ret = bench_conv_callgrind(only, callgrind_n, &sink);
		if (ret)
			return failed(ret);
		printf("sink=%" PRIu64 "\n", sink);
		return PVT_EXIT_OK;
	}
	runctl_install();
	ret = bench_conv_measure(&cfg, &res);
	if (ret)
		return failed(ret);
	if (json)
		print_json(&cfg, &res);
	else
		print_text(&cfg, &res);
	return runctl_final(fflush(stdout) ? runtime_error("bench conversion: cannot write output")
					   : PVT_EXIT_OK);
}

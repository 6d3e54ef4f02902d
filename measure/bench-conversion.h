/* SPDX-License-Identifier: MIT */
/*
 * The engine of `pvtime bench conversion`: ns/op of the exact
 * guest-ns-at-host-TSC conversion and of its inverse
 * (pvt_guest_clock_host_tsc_at), with clock_gettime(CLOCK_MONOTONIC) and
 * rdtsc timed in the same run as yardsticks. The clock is fixed: a 3 GHz
 * guest on a 2596.136 MHz VMX host one day after the master clock reference.
 */
#ifndef PVTIME_MEASURE_BENCH_CONVERSION_H
#define PVTIME_MEASURE_BENCH_CONVERSION_H

#include <stdint.h>

/* The timed loops, in the order the outputs list them. */
enum bench_conv_op {
	BENCH_CONV_FORWARD,
	BENCH_CONV_INVERSE,
	BENCH_CONV_CLOCK_GETTIME,
	BENCH_CONV_RDTSC,
	BENCH_CONV_EMPTY,		/* the loop's own overhead */
	BENCH_CONV_FORWARD_CHAINED,	/* latency: each input needs the last result */
	BENCH_CONV_OPS
};

#define BENCH_CONV_MAX_REPEAT	64

struct bench_conv_config {
	uint64_t iterations;	/* per timed run, >= 1 (clock_gettime: / 4 + 1) */
	unsigned repeat;	/* timed runs per loop, 1..BENCH_CONV_MAX_REPEAT */
};

struct bench_conv_result {
	uint32_t host_khz, guest_khz;	/* the benchmark clock */
	unsigned frac_bits;
	/*
	 * Median and fastest ns/op over the runs done. A SIGINT/SIGTERM
	 * (runctl) stops after the run in progress: NAN for a loop with none.
	 */
	double ns_per_op[BENCH_CONV_OPS];
	double ns_per_op_min[BENCH_CONV_OPS];
	char cpu[256];		/* /proc/cpuinfo's model name, or "unknown" */
};

/* Times every loop; 0, -EINVAL (a config out of range), -ENOMEM. */
int bench_conv_measure(const struct bench_conv_config *cfg, struct bench_conv_result *res);

/*
 * Runs op's loop n times untimed, for callgrind's instruction counts;
 * *sink is what the loop computed (print it so nothing is optimised away).
 */
int bench_conv_callgrind(enum bench_conv_op op, uint64_t n, uint64_t *sink);

#endif

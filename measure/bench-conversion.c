// SPDX-License-Identifier: MIT
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pvtime/guestclock.h"

#include "clockns.h"
#include "bench-conversion.h"
#include "runctl.h"

#define PAIRS		4096	/* (now, deadline) inputs cycled by the inverse loop */
#define HOST_KHZ	2596136u
#define GUEST_KHZ	3000000u

struct bench {
	struct pvt_guest_clock clock;
	uint64_t now[PAIRS], deadline[PAIRS];
	uint64_t sink;		/* keeps results alive */
};

static inline uint64_t read_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return clock_now_ns(CLOCK_MONOTONIC);
#endif
}

/* Hides v from the optimizer so each iteration really converts a new value. */
#define OPAQUE(v) __asm__ volatile("" : "+r"(v))

/* The loops are separate functions so callgrind and perf can name them. */
__attribute__((noinline)) static void loop_forward(struct bench *b, uint64_t n)
{
	uint64_t h = b->now[0], sum = 0;

	for (uint64_t i = 0; i < n; i++) {
		OPAQUE(h);
		sum += pvt_guest_clock_ns(&b->clock, h);
		h += 1237;
	}
	b->sink += sum;
}

/* Latency rather than throughput: each input depends on the previous result. */
__attribute__((noinline)) static void loop_forward_chained(struct bench *b, uint64_t n)
{
	uint64_t h = b->now[0], ns = 0;

	for (uint64_t i = 0; i < n; i++) {
		ns = pvt_guest_clock_ns(&b->clock, h);
		h += 1237 + (ns & 1);
	}
	b->sink += ns;
}

__attribute__((noinline)) static void loop_inverse(struct bench *b, uint64_t n)
{
	uint64_t sum = 0, h;

	for (uint64_t i = 0; i < n; i++) {
		unsigned k = (unsigned)i & (PAIRS - 1);

		pvt_guest_clock_host_tsc_at(&b->clock, b->now[k], b->deadline[k], &h);
		sum += h;
	}
	b->sink += sum;
}

__attribute__((noinline)) static void loop_clock_gettime(struct bench *b, uint64_t n)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < n; i++)
		sum += clock_now_ns(CLOCK_MONOTONIC);
	b->sink += sum;
}

__attribute__((noinline)) static void loop_rdtsc(struct bench *b, uint64_t n)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < n; i++)
		sum += read_tsc();
	b->sink += sum;
}

__attribute__((noinline)) static void loop_empty(struct bench *b, uint64_t n)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < n; i++) {
		OPAQUE(sum);
		sum += i;
	}
	b->sink += sum;
}

static void (*const loops[BENCH_CONV_OPS])(struct bench *, uint64_t) = {
	loop_forward, loop_inverse, loop_clock_gettime, loop_rdtsc, loop_empty, loop_forward_chained,
};

/* The clock, and deadlines 1 us .. ~1 s ahead of a "now" that moves forward. */
static int setup(struct bench *b)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	uint64_t start = 86400ull * HOST_KHZ * 1000, x = 88172645463325252ull;
	int ret;

	memset(b, 0, sizeof(*b));
	if ((ret = pvt_kvm_clock_init(&kvm, HOST_KHZ, PVT_FRAC_BITS_VMX)) ||
	    (ret = pvt_kvm_tsc_scaling(&kvm, GUEST_KHZ, 1000000, &tsc)) ||
	    (ret = pvt_kvm_guest_clock(&kvm, &tsc, &b->clock)))
		return ret < 0 ? ret : -EINVAL;
	for (unsigned k = 0; k < PAIRS; k++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		b->now[k] = start + (uint64_t)k * 2596136;
		b->deadline[k] = pvt_guest_clock_ns(&b->clock, b->now[k]) + 1000 + (x >> 34);
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Median ns/op over repeat runs of n iterations. A SIGINT/SIGTERM stops
 * after the run in progress: the median of the runs done, NAN when none was.
 */
static double measure(struct bench *b, enum bench_conv_op op, uint64_t n, unsigned repeat,
		      double *min_out)
{
	double runs[BENCH_CONV_MAX_REPEAT];

	*min_out = NAN;
	if (runctl_signal())
		return NAN;
	loops[op](b, n / 10 + 1);	/* warm caches and branch predictors */
	for (unsigned r = 0; r < repeat; r++) {
		uint64_t t0 = clock_now_ns(CLOCK_MONOTONIC);

		if (runctl_signal()) {
			repeat = r;
			break;
		}
		loops[op](b, n);
		runs[r] = (double)(clock_now_ns(CLOCK_MONOTONIC) - t0) / (double)n;
	}
	if (!repeat)
		return NAN;
	qsort(runs, repeat, sizeof(runs[0]), cmp_double);
	*min_out = runs[0];
	return runs[repeat / 2];
}

static void cpu_model(char *buf, size_t n)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, n, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(buf, n, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = 0;
			break;
		}
	}
	fclose(f);
}

int bench_conv_measure(const struct bench_conv_config *cfg, struct bench_conv_result *res)
{
	struct bench *b;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!cfg->iterations || !cfg->repeat || cfg->repeat > BENCH_CONV_MAX_REPEAT)
		return -EINVAL;
	b = malloc(sizeof(*b));	/* 64 KiB of inputs: not on the stack */
	if (!b)
		return -ENOMEM;
	ret = setup(b);
	if (ret) {
		free(b);
		return ret;
	}
	res->host_khz = HOST_KHZ;
	res->guest_khz = GUEST_KHZ;
	res->frac_bits = PVT_FRAC_BITS_VMX;
	cpu_model(res->cpu, sizeof(res->cpu));
	for (int op = 0; op < BENCH_CONV_OPS; op++) {
		/* The slowest loop by far: a quarter of the iterations. */
		uint64_t n = op == BENCH_CONV_CLOCK_GETTIME ? cfg->iterations / 4 + 1 : cfg->iterations;

		res->ns_per_op[op] = measure(b, (enum bench_conv_op)op, n, cfg->repeat,
					     &res->ns_per_op_min[op]);
	}
	free(b);
	return 0;
}

int bench_conv_callgrind(enum bench_conv_op op, uint64_t n, uint64_t *sink)
{
	struct bench *b;
	int ret;

	if ((unsigned)op >= BENCH_CONV_OPS)
		return -EINVAL;
	b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	ret = setup(b);
	if (!ret) {
		loops[op](b, n);
		*sink = b->sink;
	}
	free(b);
	return ret;
}

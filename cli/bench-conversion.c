// SPDX-License-Identifier: MIT
/*
 * pvtime bench conversion: ns/op of the exact guest-ns-at-host-TSC
 * conversion and of its inverse (pvt_guest_clock_host_tsc_at), with
 * clock_gettime(CLOCK_MONOTONIC) and rdtsc measured in the same run as
 * yardsticks. --callgrind-iterations N runs one loop N times untimed so
 * bench/callgrind-conversion.sh can count instructions per operation.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "pvtime/guestclock.h"

#include "args.h"
#include "clockns.h"
#include "cmdline.h"
#include "commands.h"
#include "json.h"
#include "runctl.h"
#include "options.h"

#define PAIRS		4096	/* (now, deadline) inputs cycled by the inverse loop */
#define OPS		6

enum op { OP_FORWARD, OP_INVERSE, OP_CLOCK_GETTIME, OP_RDTSC, OP_EMPTY, OP_FORWARD_CHAINED };


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

static void (*const loops[OPS])(struct bench *, uint64_t) = {
	loop_forward, loop_inverse, loop_clock_gettime, loop_rdtsc, loop_empty, loop_forward_chained,
};

/* A 3 GHz guest on a 2596.136 MHz VMX host one day after the master clock reference. */
static int setup(struct bench *b, uint32_t host_khz, uint32_t guest_khz, unsigned frac)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	uint64_t start = 86400ull * host_khz * 1000, x = 88172645463325252ull;

	memset(b, 0, sizeof(*b));
	if (pvt_kvm_clock_init(&kvm, host_khz, frac) || pvt_kvm_tsc_scaling(&kvm, guest_khz, 1000000, &tsc) ||
	    pvt_kvm_guest_clock(&kvm, &tsc, &b->clock))
		return -1;
	for (unsigned k = 0; k < PAIRS; k++) {
		/* Deadlines 1 us .. ~1 s ahead of a "now" that moves forward. */
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
 * after the run in progress: the median of the runs done, NAN (JSON null)
 * when none was.
 */
static double measure(struct bench *b, enum op op, uint64_t n, unsigned repeat, double *min_out)
{
	double runs[64];

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

/* --op's values; also the JSON keys' prefixes, indexed by enum op. */
static const struct opt_choice op_choices[] = {
	{ "forward", OP_FORWARD }, { "inverse", OP_INVERSE }, { "clock_gettime", OP_CLOCK_GETTIME },
	{ "rdtsc", OP_RDTSC }, { "empty", OP_EMPTY }, { "forward_chained", OP_FORWARD_CHAINED },
	{ NULL, 0 },
};

int bench_conversion(int argc, char **argv)
{
	uint64_t n = 5000000, callgrind_n = 0;
	unsigned repeat = 7;
	enum op only = OP_FORWARD;
	bool json = false, callgrind = false, op_given = false;
	struct opt o[] = {
		{ .name = "iterations", .kind = OPT_UINT, OPT_FIELD(n), .min = 1, .max = 1000000000000ull,
		  .help = "operations per timed run (default 5000000)" },
		{ .name = "repeat", .kind = OPT_UINT, OPT_FIELD(repeat), .min = 1, .max = 64,
		  .help = "timed runs, median reported (default 7)" },
		{ .name = "callgrind-iterations", .kind = OPT_UINT, OPT_FIELD(callgrind_n),
		  .max = 1000000000000ull, .seen = &callgrind,
		  .help = "run only --op N times, untimed (for callgrind instruction counts)" },
		{ .name = "op", .kind = OPT_CHOICE, OPT_FIELD(only), .choices = op_choices, .seen = &op_given,
		  .help = "forward|inverse|clock_gettime|rdtsc|empty|forward_chained (with --callgrind-iterations)" },
		{ OPT_JSON(json) }, OPT_TABLE_END,
	};
	struct bench *b;
	double med[OPS], min[OPS];
	int ret = opts_parse("bench conversion",
			     "pvtime bench conversion [--iterations N] [--repeat R] [--json]\n"
			     "       pvtime bench conversion --callgrind-iterations N --op forward|inverse|empty",
			     o, argc, argv);

	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	if (op_given && !callgrind)
		return usage_error("--op: only with --callgrind-iterations");
	b = malloc(sizeof(*b));
	if (!b)
		return runtime_error("bench conversion: out of memory");
	if (setup(b, 2596136, 3000000, PVT_FRAC_BITS_VMX)) {
		free(b);
		return runtime_error("bench conversion: cannot build the benchmark clock");
	}
	if (callgrind) {
		loops[only](b, callgrind_n);
		printf("sink=%" PRIu64 "\n", b->sink);
		free(b);
		return PVT_EXIT_OK;
	}
	runctl_install();
	for (int op = 0; op < OPS; op++)
		med[op] = measure(b, (enum op)op, op == OP_CLOCK_GETTIME ? n / 4 + 1 : n, repeat, &min[op]);

	if (json) {
		struct json j;
		struct utsname u;
		char cpu[256];

		cpu_model(cpu, sizeof(cpu));
		json_begin(&j, stdout);
		cmdline_json_header(&j);
		json_string(&j, "bench", "conversion");
		runctl_json(&j);
		json_object_begin(&j, "machine");
		json_string(&j, "cpu", cpu);
		if (!uname(&u)) {
			json_string(&j, "kernel", u.release);
			json_string(&j, "arch", u.machine);
		}
		json_object_end(&j);
		json_object_begin(&j, "config");
		json_u64(&j, "host_khz", 2596136);
		json_u64(&j, "guest_khz", 3000000);
		json_u64(&j, "frac_bits", PVT_FRAC_BITS_VMX);
		json_object_end(&j);
		json_u64(&j, "iterations", n);
		json_u64(&j, "repeat", repeat);
		for (int op = 0; op < OPS; op++) {
			char key[64];

			snprintf(key, sizeof(key), "%s_ns_per_op", op_choices[op].name);
			json_double(&j, key, med[op]);
			snprintf(key, sizeof(key), "%s_ns_per_op_min", op_choices[op].name);
			json_double(&j, key, min[op]);
		}
		json_double(&j, "forward_per_clock_gettime", med[OP_FORWARD] / med[OP_CLOCK_GETTIME]);
		json_double(&j, "inverse_per_clock_gettime", med[OP_INVERSE] / med[OP_CLOCK_GETTIME]);
		json_double(&j, "forward_per_rdtsc", med[OP_FORWARD] / med[OP_RDTSC]);
		json_double(&j, "inverse_per_rdtsc", med[OP_INVERSE] / med[OP_RDTSC]);
		json_bool(&j, "forward_within_half_clock_gettime", med[OP_FORWARD] * 2 <= med[OP_CLOCK_GETTIME]);
		json_end(&j);
	} else {
		runctl_text(stdout, UINT64_MAX);
		printf("# pvtime bench conversion: %" PRIu64 " ops x %u runs (median, min) per operation\n", n, repeat);
		printf("# clock: host 2596136 kHz, guest 3000000 kHz, 48 fraction bits, 1 day of uptime\n");
		for (int op = 0; op < OPS; op++)
			printf("%-38s %8.2f ns/op  (min %.2f)\n",
			       op == OP_FORWARD ? "forward: guest ns at host TSC (exact)" :
			       op == OP_INVERSE ? "inverse: first host TSC at deadline" :
			       op == OP_CLOCK_GETTIME ? "clock_gettime(CLOCK_MONOTONIC)" :
			       op == OP_RDTSC ? "rdtsc" :
			       op == OP_EMPTY ? "empty loop (overhead)" : "forward, chained (latency)", med[op], min[op]);
		printf("forward = %.2f x clock_gettime, %.2f x rdtsc; inverse = %.2f x clock_gettime, %.2f x rdtsc\n",
		       med[OP_FORWARD] / med[OP_CLOCK_GETTIME], med[OP_FORWARD] / med[OP_RDTSC],
		       med[OP_INVERSE] / med[OP_CLOCK_GETTIME], med[OP_INVERSE] / med[OP_RDTSC]);
	}
	free(b);
	return runctl_final(fflush(stdout) ? runtime_error("bench conversion: cannot write output")
					   : PVT_EXIT_OK);
}

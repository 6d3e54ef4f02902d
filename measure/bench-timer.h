/* SPDX-License-Identifier: MIT */
/*
 * The engine of `pvtime bench timer`: what arming a Xen timer costs, next
 * to its yardsticks timed in the same run: rdtsc, clock_gettime, and one
 * KVM_GET_CLOCK ioctl (the clock read the in-kernel fix does per arm).
 * Arming is timed with a null host timer (no syscall) per algorithm and
 * with a real timerfd. Pairing: ns per call and the uncertainty per
 * backend; the vDSO sandwich's is measured per pairing, KVM_GET_CLOCK's is
 * the backend's constant 1 ns bound. Delivery: how late after its deadline
 * a thread sleeping on the vCPU's timerfd learns what fired through
 * pvt_xen_vcpu_service (guest clock), against a bare timerfd wake
 * (CLOCK_MONOTONIC), samples interleaved.
 */
#ifndef PVTIME_MEASURE_BENCH_TIMER_H
#define PVTIME_MEASURE_BENCH_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"

#include "pvtime/xentimer.h"

#include "stats.h"

#define BENCH_TIMER_REPEAT		7	/* timed runs, the median reported */
#define BENCH_TIMER_GUEST_KHZ		3000000u	/* a scaled guest: the costly inverse */
#define BENCH_TIMER_DELIVERY_AHEAD_NS	200000ull	/* each delivery sample sleeps this long */
#define BENCH_TIMER_MIN_ITERATIONS	100
#define BENCH_TIMER_ALGOS		3

struct bench_timer_config {
	uint64_t iterations;	/* per timed run, >= 100 (syscalls and pairings: / 10 + 1) */
};

struct bench_timer_result {
	char clocksource[64];
	uint32_t host_khz;	/* this host's TSC as the vDSO clock measures it */
	uint32_t guest_khz;
	double rdtsc_ns, clock_gettime_ns;	/* per op, median */
	bool have_kvm;		/* a VM for KVM_GET_CLOCK; else kvm_why says why not */
	const char *kvm_why;
	double kvm_get_clock_ns;
	enum pvt_timer_algo algos[BENCH_TIMER_ALGOS];	/* pvtime, kvm, legacy */
	double arm_ns[BENCH_TIMER_ALGOS];	/* set_timer_op, null host timer */
	double arm_timerfd_ns;			/* pvtime with a real timerfd */
	uint64_t delivery_samples;
	struct stats service_late_ns;	/* engine: deadline to service, guest clock */
	struct stats timerfd_late_ns;	/* bare timerfd wake, CLOCK_MONOTONIC */
	int64_t delivery_added_p50_ns;	/* what service/take adds to the bare wake */
	double pair_vdso_ns;		/* per call */
	struct stats vdso_uncertainty_ns;	/* measured per pairing */
	bool have_kvm_clock;		/* the KVM_GET_CLOCK backend paired (master clock) */
	double pair_kvm_ns;
	struct stats kvm_uncertainty_ns;	/* the backend's stated bound, not a measurement */
	/* The targets. */
	bool arm_le_100ns, arm_3x_cheaper_than_kvm_get_clock;	/* the latter: have_kvm only */
	bool vdso_uncertainty_p50_le_20ns, delivery_adds_le_1us_p50;
	char error[160];	/* why it failed */
};

/*
 * Runs every part (about a second with the default 200000 iterations); 0,
 * or -errno with res->error saying which part. res holds samples either
 * way: bench_timer_result_free().
 */
int bench_timer_measure(const struct bench_timer_config *cfg, struct bench_timer_result *res);
void bench_timer_result_free(struct bench_timer_result *res);

/* The figures as JSON members of j's open object (the keys of `pvtime bench timer --json`). */
void bench_timer_json(struct json *j, const struct bench_timer_config *cfg, struct bench_timer_result *r);

#endif

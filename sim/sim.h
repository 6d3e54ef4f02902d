/* SPDX-License-Identifier: MIT */
/*
 * The deterministic host + guest simulation behind `pvtime sim`, `demo` and
 * `bench sim`: a simulated host (lib simhost) runs the library's real Xen
 * timer engine (xentimer) for N vCPUs whose guests run the seed's timerlat
 * loop. Nothing here converts clocks itself: the guest reads its clock with
 * pvt_guest_clock_ns(), the engine does the rest.
 */
#ifndef PVTIME_SIM_SIM_H
#define PVTIME_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "pvtime/xentimer.h"
#include "timerlat-report.h"

/*
 * The algorithms are the engine's own (enum pvt_timer_algo, named by
 * pvt_timer_algo_name()); every one of them, in order, is
 * PVT_ALGO_LEGACY .. SIM_ALGO_LAST.
 */
#define SIM_ALGO_LAST		PVT_ALGO_PVTIME
#define SIM_ALGOS		(SIM_ALGO_LAST + 1)

enum sim_hypercall { SIM_HC_SET_TIMER_OP, SIM_HC_SINGLESHOT, SIM_HC_COUNT };

extern const char *const sim_hypercall_names[SIM_HC_COUNT];

#define SIM_MAX_VCPUS		4096u
#define SIM_MAX_LOOPS		2000000000ull	/* per vCPU */
#define SIM_MAX_PPM		100000		/* |--ntp-ppm| <= 10 % */

struct sim_config {
	enum pvt_timer_algo algo;
	enum sim_hypercall hypercall;
	uint32_t host_khz, guest_khz;
	unsigned frac_bits;		/* 48 (VMX) or 32 (SVM) */
	uint64_t uptime_s;		/* first loop at host_tsc = uptime * H * 1000 */
	uint64_t loops;			/* per vCPU */
	uint64_t interval_ns;
	unsigned vcpus;
	uint64_t wake_latency_ns;	/* fixed part of expiry -> guest running */
	uint64_t wake_jitter_ns;	/* plus uniform [0, jitter] from the PRNG */
	int64_t ntp_ppt;		/* --ntp-ppm in parts per 10^12 */
	uint64_t preempt_ns;		/* between legacy's two clock reads */
	uint64_t resnapshot_s;		/* master clock re-snapshot period, 0 = never */
	uint64_t seed;
	uint64_t duration_ns;		/* simulated time; 0 = -n only. A vCPU ends the loop
					   that crosses it. */
	/*
	 * Called every few thousand loops with the loops done so far; true
	 * stops the run (a signal): what was measured is kept. NULL = never.
	 */
	bool (*poll)(void *ctx, uint64_t loops_done);
	void *poll_ctx;
};

/* Defaults of the CLI (100 us sleeps, 1000 loops, one vCPU, no noise). */
void sim_config_default(struct sim_config *cfg);

/*
 * Rejects what cannot be simulated: 0 kHz, interval 0, an uptime or run
 * whose host TSC, guest TSC or ns would overflow 64 bits. Returns 0, or
 * prints a one-line error naming the argument and returns 2 (the CLI's
 * usage exit status, PVT_EXIT_USAGE).
 */
int sim_config_check(const struct sim_config *cfg);

/* What a run produced beyond the report. */
struct sim_result {
	uint64_t events;		/* host timer expiries simulated */
	uint64_t end_true_ns;		/* simulated true time at the end */
	uint64_t resnapshots;		/* master clock updates done */
	bool stopped;			/* cfg->poll asked to stop */
};

/*
 * Runs the simulation, feeding every observed sleep to r (which prints per
 * loop unless quiet). With r NULL nothing is recorded (benchmarks).
 * 0 or -errno (-ENOMEM, -ERANGE if a clock overflowed mid-run).
 */
int sim_run(const struct sim_config *cfg, struct timerlat_report *r,
	    struct sim_result *res);

/* The clock model a configuration gives, for headers and JSON. */
struct sim_model {
	uint64_t ratio;			/* KVM's decision (2^frac = unscaled) */
	bool scaled;
	uint64_t advertised_khz;	/* what the pvclock page's mul/shift encode */
	uint64_t start_host_tsc;	/* uptime * H * 1000 */
	uint64_t start_guest_ns;	/* exact guest clock there */
	int64_t onestep_error_ns;	/* legacy - exact there (tsdrift's error_ns) */
};

/* Computes the model; 0 or -errno for a configuration sim_config_check() rejects. */
int sim_model(const struct sim_config *cfg, struct sim_model *m);

#endif

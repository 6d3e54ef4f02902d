/* SPDX-License-Identifier: MIT */
/*
 * `pvtime bench vmm`'s measurement: what a timer hypercall costs the VMM
 * (exit to resume, sleep excluded) next to a bare port-I/O exit measured
 * in the same run, and the guest's lateness for each algorithm next to the
 * host baseline (and cyclictest when installed), over repeated runs.
 */
#ifndef PVTIME_MEASURE_BENCH_VMM_H
#define PVTIME_MEASURE_BENCH_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "cyclictest.h"
#include "json.h"
#include "vmm-vs-host.h"

#define BENCH_MAX_REPEAT	20
/* runs[], last[]: one per algorithm, indexed by enum pvt_timer_algo (pvtime last). */
#define BENCH_ALGOS		(PVT_ALGO_PVTIME + 1)

/* What the runs are: the parsed options. */
struct bench_vmm_config {
	uint64_t loops, interval_ns;
	unsigned repeat, vcpus;
	int fifo;
	enum pvt_guest_scenario scenario;	/* idle (timerlat), busy, mixed */
	enum vmm_irq_pref irq_pref;
	struct vmm_config adv;			/* --advance: advance_mode/advance_ns only */
	uint64_t duration_ns;			/* --duration: per run, instead of -n */
};

/* One algorithm's figures from one run. */
struct bench_run {
	int64_t p50, p99, max;		/* guest lateness, ns */
	int64_t cost_timer, cost_block;	/* handling p50, ns */
	int64_t delivery;		/* VMM expiry delivery lateness p50, ns */
	uint64_t early;
	struct vmm_irq_breakdown irq;	/* busy/mixed */
	struct vmm_irq_totals irq_totals;
	uint64_t loops;			/* guest loops measured (fewer when interrupted) */
	struct vmm_advance_summary adv;	/* pvtime's timer advance (adv.on) */
};

/* The mean, lowest and highest p50 of one algorithm (or the host) over the runs. */
struct spread {
	int64_t lo, hi;
	double mean;
};

/* The advance targets: delivery within 1 us, mean spin within the advance's p50 + 2 us. */
#define DELIVERY_BUDGET_NS	1000
#define SPIN_SLACK_NS		2000

/* What the outputs conclude from all runs; computed once, printed as text or JSON. */
struct figures {
	struct spread algo[BENCH_ALGOS], host;
	int64_t budget_ns;	/* pvtime p50 within host p50 + this */
	bool met;
	/* The platform floor: < 0 when there is none (mixed). */
	double floor_extra_ns, floor_p50_ns;
	bool floor_has_host;	/* the host's wake-up is part of it (no advance) */
	bool advance_on;
	/* pvtime's means over the runs of each run's p50 (delivery, advance) or mean (spin). */
	double delivery_mean, spin_mean, advance_p50_mean;
	bool delivery_met, spin_met;
};

/* What the runs measured; error/watchdog_error: one line each, empty when none. */
struct bench_vmm_result {
	unsigned repeat;		/* repetitions with data (the last may be partial) */
	bool stopped;			/* SIGINT/SIGTERM ended the runs */
	int irq_mode;			/* what the runs used */
	char irq_name[96];
	bool dma_held;
	struct vmm_vs_host last[BENCH_ALGOS];	/* the last run of each algo, for OpenMetrics */
	bool have_last[BENCH_ALGOS];
	struct bench_run runs[BENCH_ALGOS][BENCH_MAX_REPEAT];
	struct bench_run host[BENCH_MAX_REPEAT];
	int64_t bare_rt_p50, bare_rt_p99, null_handling_p50;	/* ns, -1: no sample */
	bool cyclic_ok;			/* cyclictest ran: its figures */
	struct cyclictest_result cyclic;
	struct figures f;		/* the conclusions over all runs */
	char error[VMM_ERROR_LEN + 64];		/* why bench_vmm_measure() failed */
	char watchdog_error[VMM_ERROR_LEN + 64];	/* a run the watchdog stopped (the figures are kept) */
};

/*
 * The bare exit, then cfg->repeat rounds of the three algorithms, then
 * cyclictest (unless a signal stopped the runs). 0, or -errno with
 * res->error; res->repeat 0: nothing measured. bench_vmm_result_free()
 * either way (res starts zeroed).
 */
int bench_vmm_measure(const struct bench_vmm_config *cfg, struct bench_vmm_result *res);
void bench_vmm_result_free(struct bench_vmm_result *res);

/* Everything measured and concluded as JSON members of j's open object (`pvtime bench vmm --json`). */
void bench_vmm_json(struct json *j, const struct bench_vmm_config *cfg, const struct bench_vmm_result *res);

#endif

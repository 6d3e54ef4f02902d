/* SPDX-License-Identifier: MIT */
/*
 * A finished VM's results in figures (vmm/results.c): totals over vCPUs,
 * the guest's timerlat samples as a report, handling costs, the timer
 * advance and the upcall path. They read struct vmm after vmm_run() (or
 * while its vCPUs are stopped), return 0 or -errno, and print nothing.
 */
#ifndef PVT_VMM_RESULTS_H
#define PVT_VMM_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "stats.h"
#include "timerlat-report.h"
#include "vmm.h"

/* Totals over vCPUs. */
struct vmm_totals {
	uint64_t loops, early_wakeups, exits, hypercalls;
	uint64_t lost_timers;		/* vCPUs the watchdog found still asleep on a timer */
	uint64_t page_checks, page_mismatches, sample_checks, sample_mismatches;
	uint64_t singleshot_fired, periodic_fired;
	const char *first_mismatch;	/* NULL when none */
};
void vmm_totals(const struct vmm *vm, struct vmm_totals *t);

/*
 * 1 when vCPU c of a timer scenario still had loops to do when the watchdog
 * ended the run: it was asleep on a timer that never came (a lost timer).
 */
uint64_t vmm_vcpu_lost(const struct vmm *vm, unsigned c);

/*
 * Adds every timerlat loop of every vCPU (latency = t1.ns - t0.ns) to r
 * (busy/mixed: each software timer's lateness plus one interval). -ENOMEM.
 */
int vmm_timerlat_report(struct vmm *vm, struct timerlat_report *r);

/*
 * Handling cost samples in ns (exit to resume, sleep excluded) into an
 * initialised-here stats: VMM_COST_TIMER timer hypercalls, _BLOCK (wake to
 * resume), _NULL bare null-port exits, _DELIVERY how late each singleshot
 * expiry was delivered on the guest's clock (signed). -ENOMEM, -EINVAL.
 */
int vmm_cost(const struct vmm *vm, enum vmm_cost_kind kind, struct stats *s);

/* The timer advance over all vCPUs (on = some expiry was served with one). */
struct vmm_advance_summary {
	bool on;
	uint64_t expiries, spins;	/* expiries served with an advance; those that spun */
	int64_t advance_p50, advance_p99;	/* the advance each was armed with, ns */
	int64_t spin_p50, spin_p99;	/* CPU spent spinning per expiry (0 when woken late), ns */
	double spin_mean;		/* ns, over every expiry */
};
int vmm_advance_summary(const struct vmm *vm, struct vmm_advance_summary *s);

/* "off", "adaptive" or the fixed ns (in buf) as cfg's algo will use it. */
const char *vmm_advance_name(const struct vmm_config *cfg, char *buf, size_t len);

/* ---- upcalls (busy/mixed) ---- */
struct vmm_irq_totals {
	uint64_t raises, kicks, injections, msis, windows, blocks;
	uint64_t upcalls, upcalls_direct, timers_fired, timers_armed;
};
void vmm_irq_totals(const struct vmm *vm, struct vmm_irq_totals *t);

/* p50 of each stage of the interrupt path, ns (-1: no sample). */
struct vmm_irq_breakdown {
	size_t n;			/* upcalls that came by interrupt */
	int64_t wake_ns, kick_ns, inject_ns, entry_ns, handler_ns, raise_to_fire_ns;
};
/* 0, or -1 when out of memory (b holds what was computed). */
int vmm_irq_breakdown(const struct vmm *vm, struct vmm_irq_breakdown *b);

/* The software timers' lateness on the guest clock (deadline to fire), ns. 0 or -1. */
int vmm_irq_lateness(const struct vmm *vm, struct stats *s);

/* How the upcall is delivered, in words ("none" without upcalls). */
const char *vmm_irq_name(const struct vmm *vm);
/* "idle", "busy", "mixed" (or "other" for the other scenarios). */
const char *vmm_guest_name(const struct vmm_config *cfg);

/* ns from host TSC ticks at the VM's TSC rate. */
uint64_t vmm_tsc_to_ns(const struct vmm *vm, uint64_t ticks);

/* Whether KVM here is kvm_pvm (guests without VMX/SVM: worth a line in every report). */
bool vmm_host_is_pvm(void);

/* Oracle (a) checks voided by a master-clock re-snapshot, over vCPUs; *first: the first one's text. */
uint64_t vmm_resnapshots(const struct vmm *vm, const char **first);

/* "its own kvmclock ..." / "the VMM's Xen vcpu_time_info ..." for reports. */
const char *vmm_clock_name(const struct vmm_config *cfg);

/*
 * JSON members into j's open object: the whole VM (clock, totals, upcalls,
 * advance, oracles, per vCPU), the timer advance ("advance" and, when it
 * served expiries, its summary), the upcalls ("upcalls", busy/mixed only)
 * and the interrupt path's p50 ("interrupt_path_p50_ns").
 */
void vmm_json(struct json *j, const struct vmm *vm);
void vmm_advance_json(struct json *j, const struct vmm *vm);
void vmm_advance_summary_json(struct json *j, const struct vmm_advance_summary *a);
void vmm_irq_json(struct json *j, const struct vmm *vm);
void vmm_irq_breakdown_json(struct json *j, const struct vmm_irq_breakdown *b);

#endif

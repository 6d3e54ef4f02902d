/* SPDX-License-Identifier: MIT */
/*
 * timerlat in a real KVM guest through the tiny VMM, plus a host baseline
 * from the same run (same interval, same scheduling policy,
 * /dev/cpu_dma_latency held at 0 through both): the figures `pvtime
 * timerlat --vmm` and `pvtime bench vmm` report.
 */
#ifndef PVTIME_MEASURE_VMM_VS_HOST_H
#define PVTIME_MEASURE_VMM_VS_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "results.h"
#include "timerlat-host.h"
#include "json.h"
#include "timerlat-report.h"
#include "vmm.h"

/* One guest run and its host baseline, measured back to back. */
struct vmm_vs_host {
	struct timerlat_report guest, host;
	struct timerlat_host_env env;
	bool env_ready;
	struct vmm_totals totals;
	int64_t cost_timer_p50, cost_block_p50, cost_null_p50;	/* ns, -1 = none */
	int64_t delivery_p50;	/* expiry delivery lateness on the guest clock, ns */
	/* busy/mixed: how the upcall went (irq_mode PVT_IRQ_NONE otherwise) */
	int irq_mode;
	char irq_name[96];
	struct vmm_irq_totals irq_totals;
	struct vmm_irq_breakdown irq;
	struct vmm_advance_summary adv;	/* the timer advance (adv.on: it served expiries) */
	char adv_name[24];	/* off, adaptive or the fixed ns */
	bool stopped;		/* a signal or --duration stopped the guest */
	bool watchdog;		/* the watchdog ended the run: watchdog_error says how */
	int watchdog_exit;	/* the exit status for it, set by the CLI (cli/vmm-timerlat.c) */
	unsigned nr_vcpus;
	struct timerlat_report *vcpu;	/* per vCPU (quiet), for OpenMetrics labels */
	uint64_t *vcpu_early;		/* early wake-ups per vCPU as the guest counted */
	uint64_t *vcpu_lost;		/* lost timers per vCPU (vmm_vcpu_lost) */
	char watchdog_error[VMM_ERROR_LEN + 64];	/* "what: the VM's error" */
	char error[VMM_ERROR_LEN + 64];	/* why vmm_vs_host_run() failed, one line */
};

/*
 * Runs cfg's guest (PVT_SCN_TIMERLAT, BUSY or MIXED) then, when host_too,
 * the host baseline with the same loops/interval/FIFO priority, the
 * environment held for both. The guest's lines go to out unless quiet.
 * duration_ns (0: none) stops the guest after that long; SIGINT/SIGTERM
 * stop it too (no host baseline then) with what was measured kept; a
 * watchdog stop is kept the same way (m->watchdog). what names the run in
 * the progress line (on a terminal stderr when progress) and in m->error.
 * 0, or -errno with m->error saying why; vmm_vs_host_free() either way.
 */
int vmm_vs_host_run(const char *what, const struct vmm_config *cfg,
		    struct vmm_vs_host *m, FILE *out, bool quiet, bool host_too,
		    uint64_t duration_ns, bool progress);
void vmm_vs_host_free(struct vmm_vs_host *m);

/* JSON members: the "host" baseline, "guest_minus_host_lateness_ns" (p50/p99/max/mean), the DMA hold. */
void vmm_vs_host_json(struct json *j, struct vmm_vs_host *m);

#endif

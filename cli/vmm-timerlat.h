/* SPDX-License-Identifier: MIT */
/*
 * `pvtime timerlat --vmm`: the seed's loop in a real KVM guest through the
 * tiny VMM, plus a host baseline from the same run (same interval, same
 * scheduling policy, /dev/cpu_dma_latency held at 0 through both), and the
 * table of guest lateness minus host lateness.
 */
#ifndef PVTIME_CLI_VMM_TIMERLAT_H
#define PVTIME_CLI_VMM_TIMERLAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "timerlat-host.h"
#include "timerlat-report.h"
#include "vmm-cli.h"

/* `pvtime timerlat --vmm [options]` (cmd_timerlat hands over argv when it sees --vmm). */
int timerlat_vmm(int argc, char **argv);

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
	int watchdog_exit;	/* the watchdog ended the run: the exit status, reported after the figures */
	unsigned nr_vcpus;
	struct timerlat_report *vcpu;	/* per vCPU (quiet), for OpenMetrics labels */
	uint64_t *vcpu_early;		/* early wake-ups per vCPU as the guest counted */
	uint64_t *vcpu_lost;		/* lost timers per vCPU (vmm_vcpu_lost) */
};

/*
 * Runs cfg's guest (PVT_SCN_TIMERLAT, BUSY or MIXED) then the host baseline with
 * the same loops/interval/FIFO priority, the environment held for both.
 * Lines go to out unless quiet. duration_ns (0: none) stops the guest after
 * that long; SIGINT/SIGTERM stop it too (no host baseline then) with what
 * was measured kept. progress: a progress line on a terminal stderr.
 * 0, or an exit code after a message.
 */
int vmm_vs_host_measure(const char *prog, const struct vmm_config *cfg,
			struct vmm_vs_host *m, FILE *out, bool quiet, bool host_too,
			uint64_t duration_ns, bool progress);
void vmm_vs_host_free(struct vmm_vs_host *m);

/*
 * OpenMetrics for a measured run: the guest over all vCPUs, each vCPU (when
 * more than one) and the host baseline; on stdout and/or atomically to path.
 */
int vmm_vs_host_metrics(struct vmm_vs_host *m, const struct vmm_config *cfg,
			const char *prog, bool to_stdout, const char *path);

/* "metric guest host guest-host" table (p50, p99, max, mean). */
void vmm_vs_host_table(FILE *out, struct vmm_vs_host *m);
/* The same as JSON: "host" object and "guest_minus_host" object. */
void vmm_vs_host_json(struct json *j, struct vmm_vs_host *m);
/* "# upcall delivery ..." and the interrupt path's p50 breakdown (busy/mixed). */
void vmm_vs_host_irq(FILE *out, const struct vmm_vs_host *m);
/* "# cpu_dma_latency: ..." and scheduler lines. */
void vmm_vs_host_env(FILE *out, const struct vmm_vs_host *m, int fifo_priority);

#endif

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

#include "timerlat-report.h"
#include "vmm-cli.h"
#include "vmm-vs-host.h"

/* `pvtime timerlat --vmm [options]` (cmd_timerlat hands over argv when it sees --vmm). */
int timerlat_vmm(int argc, char **argv);

/*
 * vmm_vs_host_run() (measure/vmm-vs-host.h) that prints: a watchdog stop's
 * message (m->watchdog_exit set, the figures kept) and a failure's. 0, or an
 * exit code after a message; vmm_vs_host_free() either way.
 */
int vmm_vs_host_measure(const char *prog, const struct vmm_config *cfg,
			struct vmm_vs_host *m, FILE *out, bool quiet, bool host_too,
			uint64_t duration_ns, bool progress);

/*
 * OpenMetrics for a measured run: the guest over all vCPUs, each vCPU (when
 * more than one) and the host baseline; on stdout and/or atomically to path.
 */
int vmm_vs_host_metrics(struct vmm_vs_host *m, const struct vmm_config *cfg,
			const char *prog, bool to_stdout, const char *path);

/* "metric guest host guest-host" table (p50, p99, max, mean). */
void vmm_vs_host_table(FILE *out, struct vmm_vs_host *m);
/* "# upcall delivery ..." and the interrupt path's p50 breakdown (busy/mixed). */
void vmm_vs_host_irq(FILE *out, const struct vmm_vs_host *m);
/* "# cpu_dma_latency: ..." and scheduler lines. */
void vmm_vs_host_env(FILE *out, const struct vmm_vs_host *m, int fifo_priority);

#endif

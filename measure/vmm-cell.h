/* SPDX-License-Identifier: MIT */
/*
 * One timerlat cell in a real guest (the demo's real-KVM table): a VM run
 * of cfg under run control, reduced to the guest's lateness, the VMM's
 * delivery lateness and, on the Xen page, how far the legacy one-step
 * clock model trails the guest's clock at the end of the run (Bug 1).
 */
#ifndef PVTIME_MEASURE_VMM_CELL_H
#define PVTIME_MEASURE_VMM_CELL_H

#include <stddef.h>
#include <stdint.h>

#include "vmm.h"

struct vmm_cell {
	int64_t p50, min, max;		/* guest lateness, ns (0 without samples) */
	int64_t delivery_p50;		/* VMM expiry delivery lateness, ns (-1: none) */
	int64_t model_error_ns;		/* Xen page: guest clock - legacy one-step, now */
	uint64_t early, mismatches;	/* early wake-ups; oracle mismatches */
	uint32_t tsc_khz;		/* the VM's TSC rate */
};

/*
 * Runs cfg (PVT_SCN_TIMERLAT, BUSY or MIXED) with what on the progress
 * line (none drawn: quiet); a SIGINT stops the vCPUs and the loops done are
 * kept. 0, or -errno with the VM's error (may be "") in err.
 */
int vmm_cell_run(const struct vmm_config *cfg, const char *what, struct vmm_cell *c,
		 char *err, size_t len);

#endif

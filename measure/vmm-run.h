/* SPDX-License-Identifier: MIT */
/*
 * A VM run under run control: vmm_run() polls us every 50 ms from its own
 * thread (vm->poll_stop) and stops the vCPUs when SIGINT/SIGTERM arrived or
 * the duration has passed, the same way its watchdog does (stop flag,
 * immediate_exit, a SIGUSR1 kick out of KVM_RUN or a blocked poll), so it
 * returns with every vCPU thread joined and the loops done so far gathered
 * from guest memory.
 */
#ifndef PVTIME_MEASURE_VMM_RUN_H
#define PVTIME_MEASURE_VMM_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm.h"

/*
 * Creates and runs a VM from cfg. SIGINT/SIGTERM (runctl) or duration_ns
 * (0: none) stop the vCPUs; the VM keeps what they did (*stopped set, 0
 * returned). what names the run on the progress line, drawn on a terminal
 * unless quiet. 0, or -errno with vm->error saying why; vm stays valid to
 * vmm_destroy() either way.
 */
int vmm_run_ctl(struct vmm *vm, const struct vmm_config *cfg, const char *what,
		uint64_t duration_ns, bool quiet, bool *stopped);

#endif

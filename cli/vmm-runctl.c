// SPDX-License-Identifier: MIT
/*
 * Running the VMM under run control: vmm_run() polls us every 50 ms from
 * its own thread (vm->poll_stop) and stops the vCPUs when SIGINT/SIGTERM
 * arrived or --duration has passed, the same way its watchdog does (stop
 * flag, immediate_exit, a SIGUSR1 kick out of KVM_RUN or a blocked poll),
 * so it returns with every vCPU thread joined and the loops done so far
 * gathered from guest memory. The signal handler only records the signal.
 */
#include <errno.h>
#include <string.h>

#include "args.h"
#include "runctl.h"
#include "vmm-cli.h"

struct watch {
	struct vmm *vm;
	struct runctl rc;
	bool stopping;
};

static uint64_t loops_done(const struct vmm *vm)
{
	uint64_t n = 0;

	/* Written by the guest itself: no host thread races with this read. */
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].shared)
			n += __atomic_load_n(&vm->vcpus[i].shared->loops_done, __ATOMIC_RELAXED);
	return n;
}

static bool poll_stop(void *ctx)
{
	struct watch *w = ctx;

	if (!w->stopping && runctl_should_stop(&w->rc, loops_done(w->vm), runctl_now_ns()))
		w->stopping = true;
	return w->stopping;
}

int vmm_cli_run_ctl(const char *prog, struct vmm *vm, const struct vmm_config *cfg,
		    uint64_t duration_ns, bool quiet, bool *stopped)
{
	struct vmm_config c = *cfg;
	struct watch w = { .vm = vm };
	int ret;

	*stopped = false;
	if (vmm_create(vm, &c))
		return runtime_error("%s: %s", prog, vm->error);
	if (runctl_signal()) {
		*stopped = true;	/* nothing ran: an empty report */
		return 0;
	}
	runctl_start(&w.rc, prog, duration_ns ? 0 : cfg->loops * cfg->nr_vcpus, duration_ns,
		     quiet);
	vm->poll_stop = poll_stop;
	vm->poll_ctx = &w;
	ret = vmm_run(vm);
	vm->poll_stop = NULL;
	runctl_end(&w.rc);
	/* Stopped on purpose: the vCPUs report -ECANCELED, which is no failure here. */
	if (w.stopping && (ret == -ECANCELED || !ret)) {
		*stopped = true;
		vm->error[0] = '\0';
		return 0;
	}
	if (ret)
		return runtime_error("%s: %s", prog, vm->error);
	return 0;
}

// SPDX-License-Identifier: MIT
/* A VM run under run control (see vmm-run.h); the signal handler only records the signal. */
#include <errno.h>
#include <string.h>

#include "runctl.h"
#include "vmm-run.h"

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

int vmm_run_ctl(struct vmm *vm, const struct vmm_config *cfg, const char *what,
		uint64_t duration_ns, bool quiet, bool *stopped)
{
	struct vmm_config c = *cfg;
	struct watch w = { .vm = vm };
	int ret;

	*stopped = false;
	ret = vmm_create(vm, &c);
	if (ret)
		return ret < 0 ? ret : -EIO;
	if (runctl_signal()) {
		*stopped = true;	/* nothing ran: an empty report */
		return 0;
	}
	runctl_start(&w.rc, what, duration_ns ? 0 : cfg->loops * cfg->nr_vcpus, duration_ns,
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
	return ret < 0 ? ret : ret ? -EIO : 0;
}

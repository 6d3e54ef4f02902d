// SPDX-License-Identifier: MIT
/*
 * Failure reporting for the VM and its vCPUs: the one file every other VMM
 * file calls into and that calls none of them back.
 */
#include <stdarg.h>
#include <stdio.h>

#include "vmm-internal.h"

int vmm__fail(struct vmm *vm, int err, const char *fmt, ...)
{
	va_list ap;

	/* vCPU threads may fail at once: the first one claims the message. */
	if (!__atomic_exchange_n(&vm->error_claimed, 1, __ATOMIC_SEQ_CST)) {
		va_start(ap, fmt);
		vsnprintf(vm->error, sizeof(vm->error), fmt, ap);
		va_end(ap);
	}
	return err;
}

int vcpu__fail(struct vmm_vcpu *vcpu, int err, const char *fmt, ...)
{
	va_list ap;

	if (!vcpu->error[0]) {
		va_start(ap, fmt);
		vsnprintf(vcpu->error, sizeof(vcpu->error), fmt, ap);
		va_end(ap);
	}
	if (!vcpu->res.status)
		vcpu->res.status = err;
	vmm__fail(vcpu->vm, err, "vCPU %u: %s", vcpu->id, vcpu->error);
	__atomic_store_n(&vcpu->vm->stop, 1, __ATOMIC_SEQ_CST);
	return err;
}

// SPDX-License-Identifier: MIT
/* The ucall channel: the guest reports done, a failed check, or a new clock page. */
#include <errno.h>
#include <string.h>

#include "vmm-internal.h"

/* The guest's file name for an ABORT, or "?" if the pointer is bad. */
static const char *guest_string(struct vmm *vm, uint64_t gpa, char *buf, size_t len)
{
	const char *src;
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		src = vmm__gpa(vm, gpa + i, 1);
		if (!src)
			return "?";
		buf[i] = *src;
		if (!*src)
			return buf;
	}
	buf[i] = 0;
	return buf;
}

static int clock_registered(struct vmm_vcpu *vcpu, uint64_t gpa)
{
	uint64_t msr = 0;
	int ret;

	if (!vmm__gpa(vcpu->vm, gpa, sizeof(struct pvt_pvclock_page)))
		return vcpu__fail(vcpu, -EFAULT,
				  "guest registered its pvclock page at GPA 0x%llx, outside its %llu MiB of RAM: VM stopped",
				  (unsigned long long)gpa,
				  (unsigned long long)(vcpu->vm->mem_size >> 20));
	/* Trust KVM's MSR, not the guest's word: one ioctl per registration. */
	ret = vcpu__get_msr(vcpu, PVT_MSR_KVM_SYSTEM_TIME_NEW, &msr);
	if (ret)
		return vcpu__fail(vcpu, ret, "reading MSR_KVM_SYSTEM_TIME_NEW failed");
	if (msr != (gpa | 1))
		return vcpu__fail(vcpu, -EPROTO,
				  "guest says kvmclock at 0x%llx, KVM's MSR says 0x%llx",
				  (unsigned long long)gpa, (unsigned long long)msr);
	vcpu->clock_gpa = gpa;
	ret = vcpu__check_page(vcpu);
	if (ret)
		return ret;
	return vcpu__sync_guest_clock(vcpu);
}

int vcpu__ucall(struct vmm_vcpu *vcpu)
{
	struct kvm_regs *regs = &vcpu->run->s.regs.regs;
	char file[64];

	switch (regs->rax) {
	case PVT_UCALL_DONE:
		vcpu->res.status = 0;
		return 1;
	case PVT_UCALL_ABORT:
		return vcpu__fail(vcpu, -EPROTO,
				  "guest check failed at %s:%llu: seen %lld, expected %lld",
				  guest_string(vcpu->vm, regs->r10, file, sizeof(file)),
				  (unsigned long long)regs->rdi, (long long)regs->rsi,
				  (long long)regs->rdx);
	case PVT_UCALL_CLOCK:
		return clock_registered(vcpu, regs->rdi) ? -EFAULT : 0;
	case PVT_UCALL_CHECKPOINT:
		return vcpu->clock_gpa ? vcpu__check_page(vcpu) : 0;
	default:
		return vcpu__fail(vcpu, -EPROTO, "unknown ucall %llu",
				  (unsigned long long)regs->rax);
	}
}

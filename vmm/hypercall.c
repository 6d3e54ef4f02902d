// SPDX-License-Identifier: MIT
/*
 * The hypercall port (ABI in guest/abi.h): Xen's set_timer_op, vcpu_op
 * timer commands and sched_op yield/block, dispatched to the timer engine.
 * Arguments come from kvm_run's synced registers and the result goes back
 * the same way, so a hypercall costs no ioctl beyond KVM_RUN itself. The
 * dispatch itself sees only the register values and guest memory (through
 * vmm__gpa), so it also runs on a fake vCPU (tests/fuzz_vmm_hypercall.c).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "vmm-internal.h"

/* Slices of a block's sleep, so a stopping VM is noticed promptly. */
#define BLOCK_SLICE_NS	100000000ull

/*
 * Xen's do_vcpu_op: the periodic commands may name any vCPU of the domain,
 * the singleshot ones only the caller (-EINVAL, before the argument is
 * read). The engine takes the target's lock, so another vCPU's thread may
 * program its timers; its expiries still reach its own page and timerfd.
 */
static int64_t vcpu_op(struct vmm_vcpu *vcpu, uint64_t cmd, uint64_t target_id,
		       uint64_t arg_gpa)
{
	struct vmm *vm = vcpu->vm;
	struct vmm_vcpu *owner;
	size_t len = 0;
	const void *arg = NULL;
	uint8_t copy[sizeof(struct pvt_xen_singleshot_arg)];
	bool singleshot = cmd == PVT_VCPUOP_set_singleshot_timer ||
			  cmd == PVT_VCPUOP_stop_singleshot_timer;
	int64_t guest_ret;
	int ret;

	/* The engine says how much guest memory each timer command reads. */
	if (cmd > 0x7fffffff || pvt_xen_vcpu_op_arg_size((int)cmd, &len) || len > sizeof(copy))
		return -PVT_XEN_ENOSYS;
	if (target_id >= vm->nr_vcpus)
		return -PVT_XEN_ENOENT;
	owner = &vm->vcpus[target_id];
	if (singleshot && owner != vcpu)
		return -PVT_XEN_EINVAL;
	if (len) {
		const void *src = vmm__gpa(vm, arg_gpa, len);

		if (!src)
			return -PVT_XEN_EFAULT;
		memcpy(copy, src, len);
		arg = copy;
	}
	ret = pvt_xen_vcpu_op(vcpu->xen, owner->xen, (int)cmd, arg, len, &guest_ret);
	vcpu__take_expiries(owner);
	/* A host timer that cannot be armed is the VMM's failure: the VM stops. */
	if (vcpu__check_host_timer(vcpu, owner, ret))
		return 0;
	return guest_ret;
}

/* SCHEDOP_block: sleep on this vCPU's own timerfd until an event is pending. */
static int64_t block(struct vmm_vcpu *vcpu)
{
	struct pvt_xen_vcpu_state st;
	bool waited = false;
	int ret;

	for (;;) {
		/* Recorded by another vCPU's call on this one: into the page first. */
		vcpu__take_expiries(vcpu);
		if (__atomic_load_n(&vcpu->shared->pending, __ATOMIC_SEQ_CST))
			return 0;
		pvt_xen_vcpu_get_state(vcpu->xen, &st);
		/*
		 * Nothing armed, or armed but never converted to a host timer
		 * (no guest clock registered yet): no event can ever come.
		 */
		if ((!st.singleshot_armed && !st.period_ns) || !st.host_armed) {
			/*
			 * Unless another thread (the irq thread, a vCPU's cross
			 * call) is between taking an expiry of ours and raising
			 * it, or spinning out an advance with the host timer
			 * off: then the event is on its way. Its count went up
			 * before the engine call whose effect get_state() just
			 * saw (the engine lock orders them), and down after the
			 * raise; so 0 here means its pending bit is visible.
			 */
			if (__atomic_load_n(&vcpu->inflight, __ATOMIC_SEQ_CST)) {
				if (!waited)
					vcpu->res.inflight_waits++;
				waited = true;
				if (__atomic_load_n(&vcpu->vm->stop, __ATOMIC_SEQ_CST))
					return 0;
				sched_yield();
				continue;
			}
			if (__atomic_load_n(&vcpu->shared->pending, __ATOMIC_SEQ_CST))
				return 0;
			return -PVT_XEN_EDEADLK;
		}
		if (__atomic_load_n(&vcpu->vm->stop, __ATOMIC_SEQ_CST))
			return 0;	/* the run loop stops before re-entering */
		ret = vcpu__wait_event(vcpu, BLOCK_SLICE_NS);
		vcpu->wake_tsc = vmm__rdtsc();
		if (ret == -ETIMEDOUT || ret == -EINTR)
			continue;
		if (ret < 0) {
			vcpu__fail(vcpu, ret, "waiting on the host timer: %s", strerror(-ret));
			return 0;
		}
		/* Fired (or a clock step cancelled it): serve it; a failed re-arm stops the VM. */
		if (vcpu__serve_timer(vcpu, true))
			return 0;
	}
}

int64_t vcpu__hypercall_dispatch(struct vmm_vcpu *vcpu, uint64_t nr, uint64_t a0,
				 uint64_t a1, uint64_t a2)
{
	int64_t ret;

	switch (nr) {
	case PVT_XEN_set_timer_op:
		if ((ret = vcpu__sync_guest_clock_call(vcpu))) {
			if (ret < 0)
				return 0;	/* the VM stops: res.status says why */
			ret = -PVT_XEN_EINVAL;	/* its clock page is garbage */
			break;
		}
	{
		int host = pvt_xen_set_timer_op(vcpu->xen, a0, &ret);

		vcpu__take_expiries(vcpu);
		(void)vcpu__check_host_timer(vcpu, vcpu, host);
		break;
	}
	case PVT_XEN_vcpu_op:
		if ((ret = vcpu__sync_guest_clock_call(vcpu))) {
			if (ret < 0)
				return 0;
			ret = -PVT_XEN_EINVAL;
			break;
		}
		ret = vcpu_op(vcpu, a0, a1, a2);
		break;
	case PVT_XEN_sched_op:
		if (a0 == PVT_SCHEDOP_yield)
			ret = 0;
		else if (a0 == PVT_SCHEDOP_block)
			ret = block(vcpu);
		else
			ret = -PVT_XEN_ENOSYS;
		break;
	case PVT_XEN_hvm_op:
		ret = vcpu__hvm_op(vcpu, a0, a1);
		break;
	case PVT_HC_kvmclock_register:
		/* What the guest's WRMSR would do, for a guest in user mode. */
		if (!vmm__gpa(vcpu->vm, a0, sizeof(struct pvt_pvclock_page)))
			return vcpu__fail(vcpu, -EFAULT,
					  "guest registered its pvclock page at GPA 0x%llx, outside its %llu MiB of RAM: VM stopped",
					  (unsigned long long)a0,
					  (unsigned long long)(vcpu->vm->mem_size >> 20));
		ret = vcpu__set_msr(vcpu, PVT_MSR_KVM_SYSTEM_TIME_NEW, a0 | 1) ?
		      -PVT_XEN_EINVAL : 0;
		break;
	default:
		ret = -PVT_XEN_ENOSYS;
		break;
	}
	return ret;
}

int vcpu__hypercall(struct vmm_vcpu *vcpu)
{
	struct kvm_regs *regs = &vcpu->run->s.regs.regs;
	int64_t ret;

	/* Expiries due by now reach the guest before it changes its timers. */
	if (vcpu__poll_timer(vcpu))
		return vcpu->res.status;
	ret = vcpu__hypercall_dispatch(vcpu, regs->rax, regs->rdi, regs->rsi, regs->rdx);
	if (vcpu->res.status)
		return vcpu->res.status;	/* stopped: the guest gets no result */
	regs->rax = (uint64_t)ret;
	vcpu->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
	return 0;
}

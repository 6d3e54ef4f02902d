// SPDX-License-Identifier: MIT
/*
 * Upcalls: an expiry interrupts the vCPU with the vector it registered
 * (Xen's HVMOP_set_evtchn_upcall_vector), running or not.
 *
 * Every expiry goes through vcpu__raise_upcall(), from whichever thread
 * learnt of it: the vCPU's own (at an exit, in SCHEDOP_block), another
 * vCPU's (a cross-vCPU periodic timer), or the irq thread, which sleeps on
 * the timerfds of vCPUs that registered a vector, because a running vCPU's
 * thread is in KVM_RUN and cannot. Raising takes no lock of the VMM:
 *
 * - in-kernel irqchip (PVT_IRQ_CHIP): KVM_SIGNAL_MSI to the vCPU's local
 *   APIC; KVM itself kicks the vCPU out of guest mode and injects.
 * - userspace (PVT_IRQ_USER): the vCPU thread injects with KVM_INTERRUPT
 *   before its next KVM_RUN, or asks for an interrupt window; a vCPU in
 *   guest mode is kicked out with SIGUSR1, whose handler sets
 *   immediate_exit so a signal landing just before KVM_RUN is not lost.
 *
 * The kick cannot be lost: the raiser ORs the event then reads the mode;
 * the vCPU thread stores IN_GUEST then reads the events (both seq_cst), so
 * one of them sees the other. A blocked vCPU is woken through an eventfd
 * with the same pairing. While the guest has its upcall mask set nothing is
 * sent: it re-checks `pending` when it clears the mask.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmm-internal.h"

#define APIC_MSI_ADDR	0xfee00000u
/* SCHED_FIFO's highest priority on Linux: the irq thread goes one above the vCPUs, capped here. */
#define FIFO_PRIO_MAX	99

static bool uses_upcalls(const struct vmm_config *cfg)
{
	return cfg->scenario == PVT_SCN_BUSY || cfg->scenario == PVT_SCN_MIXED;
}

int vmm__irq_create(struct vmm *vm)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int r;

	vm->irq_mode = PVT_IRQ_NONE;
	if (!uses_upcalls(&vm->cfg))
		return 0;
	if (vm->cfg.irq_pref == VMM_IRQ_USER) {
		vm->irq_mode = PVT_IRQ_USER;
		snprintf(vm->irq_why, sizeof(vm->irq_why), "asked for");
	} else {
		r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP);
		if (vm->cfg.refuse_irqchip)
			r = -EPERM;	/* the fallback's test, on a KVM that has one */
		else if (r > 0)
			r = ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0 ? -errno : 0;
		else
			r = -ENOTSUP;
		if (!r) {
			vm->irq_mode = PVT_IRQ_CHIP;
		} else if (vm->cfg.irq_pref == VMM_IRQ_CHIP) {
			return vmm__fail(vm, r, "this KVM has no in-kernel irqchip (KVM_CREATE_IRQCHIP: %s)",
					 strerror(-r));
		} else {
			vm->irq_mode = PVT_IRQ_USER;
			snprintf(vm->irq_why, sizeof(vm->irq_why), "KVM_CREATE_IRQCHIP: %s",
				 strerror(-r));
		}
	}
	vm->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	vm->irq_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->epoll_fd < 0 || vm->irq_stop_fd < 0 ||
	    epoll_ctl(vm->epoll_fd, EPOLL_CTL_ADD, vm->irq_stop_fd, &ev) < 0)
		return vmm__fail(vm, -errno, "irq thread setup: %s", strerror(errno));
	return 0;
}

int vcpu__irq_create(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;

	if (vm->irq_mode == PVT_IRQ_NONE)
		return 0;
	vcpu->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vcpu->wake_fd < 0)
		return vcpu__fail(vcpu, -errno, "eventfd: %s", strerror(errno));
	/* With an in-kernel local APIC, KVM parks the others until INIT/SIPI: start them. */
	if (vm->irq_mode == PVT_IRQ_CHIP && vcpu->id) {
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

		if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0)
			return vcpu__fail(vcpu, -errno, "KVM_SET_MP_STATE: %s", strerror(errno));
	}
	return 0;
}

void vcpu__irq_destroy(struct vmm_vcpu *vcpu)
{
	if (vcpu->wake_fd >= 0)
		close(vcpu->wake_fd);
	vcpu->wake_fd = -1;
}

static void count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static void send_msi(struct vmm_vcpu *vcpu, uint32_t vector)
{
	struct pvt_guest_vcpu *page = vcpu->shared;
	struct kvm_msi msi = {
		.address_lo = APIC_MSI_ADDR | (vcpu->id << 12),	/* physical destination = vCPU id */
		.data = vector,					/* fixed, edge */
	};

	/* Stamps for the guest's breakdown: any raiser may write them (relaxed atomics). */
	__atomic_store_n(&page->irq_kick_tsc, vmm__rdtsc(), __ATOMIC_RELAXED);
	/* 0 means the APIC did not take it (software-disabled): the guest's bug, visible in counters. */
	if (ioctl(vcpu->vm->vm_fd, KVM_SIGNAL_MSI, &msi) > 0)
		count(&vcpu->res.msis);
	__atomic_store_n(&page->irq_inject_tsc, vmm__rdtsc(), __ATOMIC_RELAXED);
}

static void kick(struct vmm_vcpu *vcpu)
{
	int tid = __atomic_load_n(&vcpu->tid, __ATOMIC_SEQ_CST);

	/* tgkill, not pthread_kill: a thread that has just ended is no error. */
	if (tid && !syscall(SYS_tgkill, getpid(), tid, SIGUSR1))
		count(&vcpu->res.kicks);
}

/*
 * The advance on a running vCPU (the irq thread woke inside the window):
 * kick it out of guest mode now, so the exit overlaps the spin, and hold it
 * out (before its next entry) until the expiry is raised; it then enters
 * with the interrupt injected. Only an optimisation: an unheld vCPU gets
 * the usual raise (kick or MSI) once the expiry is due. Userspace delivery
 * only: it needs the kick anyway and gets it earlier. With the in-kernel
 * irqchip the MSI kicks and injects inside KVM; an extra signal kick adds a
 * userspace exit and re-entry (measured here: entry p50 26 -> 49 us, the
 * irq thread's wake-ups leaving little window to overlap).
 */
void vcpu__hold_begin(struct vmm_vcpu *vcpu, uint64_t due_tsc)
{
	if (vcpu->vm->irq_mode != PVT_IRQ_USER ||
	    !__atomic_load_n(&vcpu->upcall_vector, __ATOMIC_SEQ_CST))
		return;
	__atomic_store_n(&vcpu->hold_tsc, due_tsc, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vcpu->mode, __ATOMIC_SEQ_CST) == VMM_MODE_IN_GUEST) {
		count(&vcpu->res.holds);
		kick(vcpu);
	}
}

void vcpu__hold_end(struct vmm_vcpu *vcpu)
{
	__atomic_store_n(&vcpu->hold_tsc, 0, __ATOMIC_SEQ_CST);
}

/* How long past its due TSC a hold may last (the raiser preempted): then the vCPU just enters. */
#define HOLD_SLACK_NS	200000ull

static void hold_wait(struct vmm_vcpu *vcpu)
{
	uint64_t due = __atomic_load_n(&vcpu->hold_tsc, __ATOMIC_SEQ_CST), until;

	if (!due)
		return;
	until = due + HOLD_SLACK_NS * vcpu->vm->tsc_khz / 1000000;
	while (__atomic_load_n(&vcpu->hold_tsc, __ATOMIC_SEQ_CST) &&
	       !__atomic_load_n(&vcpu->vm->stop, __ATOMIC_SEQ_CST) && vmm__rdtsc() < until)
		__builtin_ia32_pause();
}

void vcpu__raise_upcall(struct vmm_vcpu *vcpu, uint32_t kind)
{
	struct pvt_guest_vcpu *page = vcpu->shared;
	uint32_t vector, old;
	int mode;

	__atomic_fetch_add(kind == PVT_EV_PERIODIC ? &page->periodic_fired : &page->singleshot_fired,
			   1, __ATOMIC_SEQ_CST);
	old = __atomic_fetch_or(&page->pending, kind, __ATOMIC_SEQ_CST);
	vector = __atomic_load_n(&vcpu->upcall_vector, __ATOMIC_SEQ_CST);
	if (!vector)
		return;		/* no upcall registered: the page is all (timerlat) */
	count(&vcpu->res.raises);
	if (!old) {
		uint64_t now = vmm__rdtsc();

		__atomic_store_n(&vcpu->raise_tsc, now, __ATOMIC_RELAXED);
		__atomic_store_n(&page->irq_raise_tsc, now, __ATOMIC_RELAXED);
	}
	mode = __atomic_load_n(&vcpu->mode, __ATOMIC_SEQ_CST);
	if (mode == VMM_MODE_BLOCKED) {
		uint64_t one = 1;

		if (write(vcpu->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			vcpu__fail(vcpu, -errno, "waking the blocked vCPU: %s", strerror(errno));
	}
	if (__atomic_load_n(&page->upcall_mask, __ATOMIC_SEQ_CST))
		return;		/* the guest looks at pending when it unmasks */
	if (vcpu->vm->irq_mode == PVT_IRQ_CHIP)
		send_msi(vcpu, vector);
	else if (mode == VMM_MODE_IN_GUEST)
		kick(vcpu);
}

int64_t vcpu__hvm_op(struct vmm_vcpu *vcpu, uint64_t cmd, uint64_t arg_gpa)
{
	struct vmm *vm = vcpu->vm;
	const uint8_t *arg;
	struct vmm_vcpu *target;
	uint32_t id;
	uint8_t vector;

	if (cmd != PVT_HVMOP_set_evtchn_upcall_vector)
		return -PVT_XEN_ENOSYS;
	/* Upcalls are the busy/mixed scenarios' business; elsewhere the page is all. */
	if (vm->irq_mode == PVT_IRQ_NONE)
		return -PVT_XEN_ENOSYS;
	arg = vmm__gpa(vm, arg_gpa, 5);
	if (!arg)
		return -PVT_XEN_EFAULT;
	memcpy(&id, arg, sizeof(id));
	vector = arg[4];
	if (id >= vm->nr_vcpus)
		return -PVT_XEN_ENOENT;
	if (vector < 0x10)
		return -PVT_XEN_EINVAL;	/* Xen's rule: no exception vectors */
	target = &vm->vcpus[id];
	if (!__atomic_exchange_n(&target->upcall_vector, vector, __ATOMIC_SEQ_CST)) {
		/* From now on a running target's timer needs someone awake: the irq thread. */
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = target };

		if (epoll_ctl(vm->epoll_fd, EPOLL_CTL_ADD, pvt_hosttimer_fd(target->timer), &ev) < 0) {
			vcpu__fail(vcpu, -errno, "epoll_ctl: %s", strerror(errno));
			return 0;
		}
	}
	return 0;
}

void vcpu__irq_before_entry(struct vmm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct pvt_guest_vcpu *page = vcpu->shared;
	uint32_t vector;

	if (vcpu->vm->irq_mode == PVT_IRQ_NONE)
		return;
	hold_wait(vcpu);
	__atomic_store_n(&vcpu->mode, VMM_MODE_IN_GUEST, __ATOMIC_SEQ_CST);
	vector = __atomic_load_n(&vcpu->upcall_vector, __ATOMIC_SEQ_CST);
	if (vcpu->vm->irq_mode != PVT_IRQ_USER || !vector)
		return;
	if (!__atomic_load_n(&page->pending, __ATOMIC_SEQ_CST) ||
	    __atomic_load_n(&page->upcall_mask, __ATOMIC_SEQ_CST)) {
		run->request_interrupt_window = 0;
		return;
	}
	/* Not while one is still queued, nor with interrupts off (the entry stub). */
	if (run->ready_for_interrupt_injection && run->if_flag) {
		struct kvm_interrupt irq = { .irq = vector };
		uint64_t raise = __atomic_load_n(&vcpu->raise_tsc, __ATOMIC_RELAXED);

		/* Out of guest mode since exit_tsc; raised at raise: the later is the kick's end. */
		__atomic_store_n(&page->irq_kick_tsc, vcpu->exit_tsc > raise ? vcpu->exit_tsc : raise,
				 __ATOMIC_RELAXED);
		if (ioctl(vcpu->fd, KVM_INTERRUPT, &irq) < 0) {
			vcpu__fail(vcpu, -errno, "KVM_INTERRUPT: %s", strerror(errno));
			return;
		}
		__atomic_store_n(&page->irq_inject_tsc, vmm__rdtsc(), __ATOMIC_RELAXED);
		count(&vcpu->res.injections);
		run->request_interrupt_window = 0;
	} else if (!run->request_interrupt_window) {
		run->request_interrupt_window = 1;
		count(&vcpu->res.windows);
	}
}

void vcpu__irq_after_exit(struct vmm_vcpu *vcpu)
{
	if (vcpu->vm->irq_mode == PVT_IRQ_NONE)
		return;
	__atomic_store_n(&vcpu->mode, VMM_MODE_OUTSIDE, __ATOMIC_SEQ_CST);
	/* A kick that arrived after the exit is spent: the events are looked at before entry. */
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

int vcpu__wait_event(struct vmm_vcpu *vcpu, uint64_t timeout_ns)
{
	struct pollfd p[2] = {
		{ .fd = vcpu->wake_fd, .events = POLLIN },
		{ .fd = pvt_hosttimer_fd(vcpu->timer), .events = POLLIN },
	};
	uint64_t drain;
	int r;

	if (!__atomic_load_n(&vcpu->upcall_vector, __ATOMIC_SEQ_CST))
		return pvt_hosttimer_wait(vcpu->timer, timeout_ns);
	/*
	 * The irq thread serves the timerfd too now. Sleeping on it as well
	 * keeps the idle path's direct wake-up; if the irq thread drains it
	 * first, its raise wakes us through wake_fd (the mode pairing below).
	 */
	__atomic_store_n(&vcpu->mode, VMM_MODE_BLOCKED, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vcpu->shared->pending, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&vcpu->mode, VMM_MODE_OUTSIDE, __ATOMIC_SEQ_CST);
		return 0;
	}
	count(&vcpu->res.blocks);
	r = poll(p, 2, (int)(timeout_ns / 1000000 ? timeout_ns / 1000000 : 1));
	if (r < 0)
		r = -errno;
	else
		r = r ? 0 : -ETIMEDOUT;
	if (!r && (p[0].revents & POLLIN) &&
	    read(vcpu->wake_fd, &drain, sizeof(drain)) < 0 && errno != EAGAIN)
		r = -errno;
	__atomic_store_n(&vcpu->mode, VMM_MODE_OUTSIDE, __ATOMIC_SEQ_CST);
	/* The caller serves the timer (the irq thread may have been first: nothing then). */
	return r;
}

static void *irq_thread(void *arg)
{
	struct vmm *vm = arg;
	struct epoll_event ev[PVT_GUEST_MAX_VCPUS + 1];

	pvt_thread_set_timerslack(1);
	if (vm->cfg.fifo_priority > 0)
		/* Above the vCPUs: a computing vCPU thread never yields its CPU. */
		(void)pvt_thread_set_fifo(vm->cfg.fifo_priority < FIFO_PRIO_MAX ?
					  vm->cfg.fifo_priority + 1 : FIFO_PRIO_MAX);
	for (;;) {
		int n = epoll_wait(vm->epoll_fd, ev, PVT_GUEST_MAX_VCPUS + 1, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vmm__fail(vm, -errno, "irq thread: epoll_wait: %s", strerror(errno));
			__atomic_store_n(&vm->stop, 1, __ATOMIC_SEQ_CST);
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			struct vmm_vcpu *vcpu = ev[i].data.ptr;
			int r;

			if (!vcpu)
				return NULL;	/* vmm__irq_stop */
			/*
			 * service() drains the timerfd, records what is due and
			 * re-arms; each fired kind then goes to
			 * vcpu__raise_upcall(). A failure stops the VM.
			 */
			r = vcpu__service(vcpu, VMM_SERVE_WOKE | VMM_SERVE_REMOTE);
			if (r < 0) {
				vmm__fail(vm, r, "vCPU %u: the host timer of vCPU %u could not be armed (%s): VM stopped",
					  vcpu->id, vcpu->id, strerror(-r));
				__atomic_store_n(&vm->stop, 1, __ATOMIC_SEQ_CST);
			}
		}
	}
}

int vmm__irq_start(struct vmm *vm)
{
	int r;

	if (vm->irq_mode == PVT_IRQ_NONE)
		return 0;
	r = pthread_create(&vm->irq_thread, NULL, irq_thread, vm);
	if (r)
		return vmm__fail(vm, -r, "pthread_create (irq thread): %s", strerror(r));
	vm->irq_thread_started = true;
	return 0;
}

void vmm__irq_stop(struct vmm *vm)
{
	uint64_t one = 1;

	if (vm->irq_thread_started) {
		if (write(vm->irq_stop_fd, &one, sizeof(one)) < 0)
			pthread_cancel(vm->irq_thread);
		pthread_join(vm->irq_thread, NULL);
		vm->irq_thread_started = false;
	}
	if (vm->epoll_fd >= 0)
		close(vm->epoll_fd);
	if (vm->irq_stop_fd >= 0)
		close(vm->irq_stop_fd);
	vm->epoll_fd = vm->irq_stop_fd = -1;
}

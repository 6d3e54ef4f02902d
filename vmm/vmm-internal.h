/* SPDX-License-Identifier: MIT */
/*
 * The VMM's internals: the object__verb functions its files share (vmm__*
 * on the VM, vcpu__* on one vCPU). The CLI needs only vmm.h; tests that
 * drive the VMM's insides (the hypercall fuzzer, the oracle tests) include
 * this too.
 */
#ifndef PVT_VMM_VMM_INTERNAL_H
#define PVT_VMM_VMM_INTERNAL_H

#include "vmm.h"

/* Records the first error of the VM (printf-like). Returns err. */
int vmm__fail(struct vmm *vm, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Records a vCPU's error and asks the VM to stop. Returns err. */
int vcpu__fail(struct vmm_vcpu *vcpu, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An x86 page: a page table, the vCPU page (vmm/guest/abi.h lays them out 0x1000 apart). */
#define VMM_PAGE_SIZE		4096ull

/* Host pointer for [gpa, gpa + len) or NULL if any byte is outside RAM. */
static inline void *vmm__gpa(struct vmm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return vm->mem + gpa;
}

/* Builds the identity page tables and GDT in guest memory. */
void vmm__setup_paging(struct vmm *vm);
/* Points a vCPU's segment registers at long mode with that paging. */
int vcpu__setup_long_mode(struct vmm_vcpu *vcpu);

int vmm__kvm_open(struct vmm *vm);
int vmm__get_clock(struct vmm *vm, struct kvm_clock_data *data);

int vcpu__create(struct vmm_vcpu *vcpu);
void vcpu__destroy(struct vmm_vcpu *vcpu);
int vcpu__get_tsc_offset(struct vmm_vcpu *vcpu, uint64_t *offset);
int vcpu__set_tsc_offset(struct vmm_vcpu *vcpu, uint64_t offset);
int vcpu__get_msr(struct vmm_vcpu *vcpu, uint32_t index, uint64_t *value);
int vcpu__set_msr(struct vmm_vcpu *vcpu, uint32_t index, uint64_t value);
void *vcpu__thread(void *arg);

/* Handles a hypercall exit: result into the synced rax. */
int vcpu__hypercall(struct vmm_vcpu *vcpu);
/*
 * The hypercall itself: Xen's result for hypercall nr with arguments a0..a2
 * (rdi, rsi, rdx); guest memory only through vmm__gpa. If the VM must stop
 * instead (res.status set, error says why) the result is meaningless.
 */
int64_t vcpu__hypercall_dispatch(struct vmm_vcpu *vcpu, uint64_t nr, uint64_t a0,
				 uint64_t a1, uint64_t a2);
/* Handles a ucall exit. Returns 1 when the guest is done, 0 to go on, -errno. */
int vcpu__ucall(struct vmm_vcpu *vcpu);

/* The engine for this VM / vCPU (xenclock mode publishes pages first). */
int vmm__engine_init(struct vmm *vm);
int vcpu__engine_init(struct vmm_vcpu *vcpu);
/* A consistent copy of the guest's registered kvmclock page (fails the vCPU if outside RAM). */
int vcpu__read_guest_page(struct vmm_vcpu *vcpu, struct pvt_pvclock_page *page);
/* Hands the guest's current clock page to the engine if it changed. */
int vcpu__sync_guest_clock(struct vmm_vcpu *vcpu);
/*
 * The same before a timer hypercall: 1 when the guest scribbled its page
 * into garbage (the call gets -EINVAL, the engine keeps its clock), else
 * 0 or -errno (VM stopped).
 */
int vcpu__sync_guest_clock_call(struct vmm_vcpu *vcpu);
/* Delivers expiries that are already due (at an exit, before dispatch). 0 or -errno (VM stopped). */
int vcpu__poll_timer(struct vmm_vcpu *vcpu);
/*
 * The vCPU's own timerfd woke (woke: a host timer wake-up, not a look at
 * an exit): the engine records what is due and re-arms, the expiries go
 * into the vCPU page. 0 or -errno (VM stopped).
 */
int vcpu__serve_timer(struct vmm_vcpu *vcpu, bool woke);
/*
 * The same from any thread, without touching the vCPU's error state: the
 * host -errno of a failed re-arm is returned for the caller to report.
 * Counts itself in vcpu->inflight; spins out an advance window (advance.c),
 * holding a running vCPU out of guest mode meanwhile when REMOTE.
 */
#define VMM_SERVE_WOKE		1u	/* after a host timer wake-up (not a look at an exit) */
#define VMM_SERVE_REMOTE	2u	/* not the vCPU's own thread (the irq thread): may hold it */
int vcpu__service(struct vmm_vcpu *vcpu, unsigned flags);

/*
 * soak.c, at an exit on the vCPU's own thread (cfg.roundtrip_per_mille):
 * now and then saves the vCPU's timer state and restores it in place, as a
 * migration would. 0, or -errno with the VM stopped.
 */
int vcpu__soak_exit(struct vmm_vcpu *vcpu);

/* ---- timer advance (advance.c) ---- */

/* Sets the mode from the config (PVTIME only) and the starting advance. */
void vcpu__advance_init(struct vmm_vcpu *vcpu);
void vcpu__advance_destroy(struct vmm_vcpu *vcpu);
/* Hands the current advance to the engine (the next arming uses it). 0 or -errno. */
int vcpu__advance_apply(struct vmm_vcpu *vcpu);
/* The advance in effect now, ns (0: off). */
uint64_t vcpu__advance_ns(const struct vmm_vcpu *vcpu);
/* A wake-up ran lateness_ns after its (advanced) host timer instant: adaptive's input. */
void vcpu__advance_wake(struct vmm_vcpu *vcpu, uint64_t lateness_ns);
/* Spins to due_tsc (the engine's exact instant); returns the CPU time spent, ns. */
uint64_t vcpu__advance_spin(struct vmm_vcpu *vcpu, uint64_t due_tsc);
/* Per expiry with an advance: the spin and the advance it was armed with. */
void vcpu__advance_record(struct vmm_vcpu *vcpu, uint64_t spin_ns, uint64_t advance_ns);
/* After an engine call on owner: what it recorded goes into owner's page. */
void vcpu__take_expiries(struct vmm_vcpu *owner);
/*
 * err is the host status of an engine call on owner: if the engine could
 * not arm owner's host timer, stops the VM (as vcpu's failure) with a
 * message and returns the -errno; else 0. Host errors are never returned
 * to the guest: they are not Xen's.
 */
int vcpu__check_host_timer(struct vmm_vcpu *vcpu, struct vmm_vcpu *owner, int err);

/* ---- upcalls (irq.c) ---- */

/* Chooses and sets up the VM's irq mode (before the vCPUs exist). */
int vmm__irq_create(struct vmm *vm);
/* Per vCPU, after KVM_CREATE_VCPU (MP state, eventfd). */
int vcpu__irq_create(struct vmm_vcpu *vcpu);
void vcpu__irq_destroy(struct vmm_vcpu *vcpu);
/* The irq thread: serves the timerfds of vCPUs that registered a vector. */
int vmm__irq_start(struct vmm *vm);
void vmm__irq_stop(struct vmm *vm);
/*
 * An expiry of kind (PVT_EV_*) reached vCPU vcpu, from any thread: the
 * event bit and counter in its page, then, with an upcall vector
 * registered and unmasked, the interrupt (MSI, or a kick and KVM_INTERRUPT
 * at its next entry), or a wake-up if it is blocked. The one place expiries go.
 */
void vcpu__raise_upcall(struct vmm_vcpu *vcpu, uint32_t kind);
/* The irq thread's advance window on a running vCPU: kick it out, hold it until hold_end. */
void vcpu__hold_begin(struct vmm_vcpu *vcpu, uint64_t due_tsc);
void vcpu__hold_end(struct vmm_vcpu *vcpu);
/* HVMOP_*: the guest-visible result. */
int64_t vcpu__hvm_op(struct vmm_vcpu *vcpu, uint64_t cmd, uint64_t arg_gpa);
/* Just before KVM_RUN / just after it returned, on the vCPU's thread. */
void vcpu__irq_before_entry(struct vmm_vcpu *vcpu);
void vcpu__irq_after_exit(struct vmm_vcpu *vcpu);
/* SCHEDOP_block's wait: the timerfd, or the wake eventfd once a vector is registered. */
int vcpu__wait_event(struct vmm_vcpu *vcpu, uint64_t timeout_ns);

/* The VMM's own Xen vcpu_time_info pages (PVT_CLK_XEN). */
int vmm__xenclock_publish(struct vmm *vm);

/* Oracle (a): KVM's page vs the model from TSC kHz, KVM_GET_CLOCK, TSC offset. */
int vcpu__check_page(struct vmm_vcpu *vcpu);
/*
 * Oracle (a)'s verdict on a page checked against its model. seen == model:
 * OK. Otherwise, without the page read after the vCPU next ran (after ==
 * NULL): SUSPECT; KVM rewrote it since (after != seen): VOID, the check used
 * a KVM_GET_CLOCK from a newer master clock than the page's; after == seen:
 * MISMATCH. The version field is ignored (KVM bumps it on every rewrite).
 */
enum vmm_page_verdict { VMM_PAGE_OK, VMM_PAGE_SUSPECT, VMM_PAGE_VOID, VMM_PAGE_MISMATCH };
enum vmm_page_verdict vmm__page_verdict(const struct pvt_pvclock_page *seen,
					const struct pvt_pvclock_page *model,
					const struct pvt_pvclock_page *after);
/*
 * At an exit, after the vCPU ran: settles a suspect oracle (a) check (counts
 * a mismatch or a resnapshot, then re-checks the rewritten page). 0 or -errno.
 */
int vcpu__confirm_page(struct vmm_vcpu *vcpu);
/* At the end of a vCPU's run: a suspect check that was never settled counts as a mismatch. */
void vcpu__page_unsettled(struct vmm_vcpu *vcpu);
/* Oracle (b): new guest samples vs host TSC bracket and the model's ns. */
int vcpu__check_samples(struct vmm_vcpu *vcpu);
/* Independent guest ns for a TSC (no shared code with pvclock.h). */
uint64_t vmm__oracle_ns(const struct pvt_pvclock_page *page, uint64_t tsc);

/* Busy-waits until the host TSC reaches tsc (pause between reads); returns the last read. */
static inline uint64_t vmm__spin_until_tsc(uint64_t tsc)
{
	uint64_t now;

	while ((now = vmm__rdtsc()) < tsc)
		__builtin_ia32_pause();
	return now;
}

extern const uint8_t pvt_guest_image[], pvt_guest_image_end[];

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The tiny VMM: one VM on /dev/kvm, 1..N vCPU threads, a freestanding guest
 * (vmm/guest/) that reads its own kvmclock and sleeps on Xen-style timers
 * served by libpvtime's xentimer engine.
 *
 * Functions return 0 or -errno; on failure vm->error holds one line saying
 * what went wrong (the CLI prints it). Nothing here prints or exits.
 */
#ifndef PVT_VMM_VMM_H
#define PVT_VMM_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "guest/abi.h"
#include "pvtime/guestclock.h"
#include "pvtime/hostclock.h"
#include "pvtime/hosttimer.h"
#include "pvtime/xentimer.h"

#define VMM_ERROR_LEN	512

/* What to run; vmm_config_default() fills it. */
struct vmm_config {
	unsigned nr_vcpus;		/* 1..PVT_GUEST_MAX_VCPUS */
	uint64_t mem_size;		/* guest RAM, bytes */
	enum pvt_guest_scenario scenario;
	enum pvt_guest_clock_src clock_src;
	enum pvt_guest_timer_api timer_api;
	enum pvt_timer_algo algo;
	enum pvt_guest_bad_case bad_case;
	uint64_t loops;			/* timerlat loops / clockcheck bursts */
	uint64_t interval_ns;		/* timerlat sleep */
	uint64_t burst;			/* clockcheck reads per burst */
	bool set_tsc_offset;		/* false: keep KVM's own offset */
	uint64_t tsc_offset;		/* guest TSC - host TSC, all vCPUs */
	uint64_t tsc_offset_step;	/* vCPU i gets tsc_offset + i * step (0: same) */
	uint32_t advertise_khz;		/* PVT_CLK_XEN: frequency in the VMM's page (0: TSC kHz - 1) */
	uint64_t uptime_s;		/* PVT_CLK_XEN: reference point this far back */
	bool check_samples;		/* oracle (b) at every exit */
	bool measure_costs;		/* record per-exit handling cost */
	int fifo_priority;		/* vCPU threads' SCHED_FIFO prio, 0 = SCHED_OTHER */
	uint64_t watchdog_ms;		/* whole run; 0 = none */
	bool kernel_mode;		/* measure at guest CPL 0 (emulated on kvm_pvm) */
};

/* Per-vCPU results the VMM gathers. */
struct vmm_vcpu_result {
	int status;			/* 0: guest said DONE; else -errno */
	uint64_t exits, hypercalls;
	uint64_t loops_done, early_wakeups;	/* as the guest counted */
	uint64_t singleshot_fired, periodic_fired;
	uint64_t nr_samples;		/* guest samples, copied to samples */
	struct pvt_guest_sample *samples;	/* malloc'd copy (owned) */
	uint64_t tsc_offset;
	/* oracles */
	uint64_t page_checks, page_mismatches;
	/*
	 * Oracle (a) disagreements voided because KVM re-snapshotted its master
	 * clock between writing the page and KVM_GET_CLOCK (the page changed at
	 * the vCPU's next entry); resnapshot[] describes the first one.
	 */
	uint64_t resnapshots;
	char resnapshot[VMM_ERROR_LEN];
	uint64_t sample_checks, sample_mismatches;
	char mismatch[VMM_ERROR_LEN];	/* the first mismatch, both values */
	struct pvt_pvclock_page kvm_page, model_page;	/* last oracle (a) pair */
	struct kvm_clock_data clock_data;	/* the KVM_GET_CLOCK it used */
	bool master_clock;		/* KVM_GET_CLOCK said TSC_STABLE */
	/* handling costs in host TSC ticks (exit to resume, sleep excluded) */
	uint64_t *cost_timer, *cost_block, *cost_null;
	uint64_t n_cost_timer, n_cost_block, n_cost_null, cost_cap;
	/* singleshot delivery time on the guest clock minus its deadline, ns */
	int64_t *wake_late;
	uint64_t n_wake_late;
};

struct vmm;

/* One vCPU: its KVM fd, thread and timer engine state. */
struct vmm_vcpu {
	struct vmm *vm;
	unsigned id;
	int fd;				/* KVM vCPU fd */
	struct kvm_run *run;		/* mmap'd shared run structure */
	size_t run_size;
	pthread_t thread;
	bool thread_started;
	struct pvt_guest_vcpu *shared;	/* the vCPU page in guest memory */
	uint64_t tsc_offset;		/* KVM_VCPU_TSC_OFFSET as read back */
	struct pvt_hosttimer *timer;	/* this vCPU's own timerfd */
	struct pvt_xen_vcpu *xen;	/* engine state */
	struct pvt_guest_clock engine_clock;	/* the clock last handed to the engine */
	bool engine_clock_set;
	uint64_t clock_gpa;		/* registered kvmclock page, 0 = none */
	struct pvt_pvclock_page clock_seen;	/* last page handed to the engine */
	bool clock_set;
	struct pvt_pvclock_page model_page;	/* oracle (a)'s validated page */
	bool model_valid;
	/* Oracle (a) disagreed; decided at the vCPU's next exit (vcpu__confirm_page). */
	bool page_suspect;
	struct pvt_pvclock_page suspect_page, suspect_model;
	uint64_t entry_tsc, exit_tsc;	/* host TSC around the last KVM_RUN */
	uint64_t samples_checked;
	bool block_measured;		/* the last exit was a block that slept */
	uint64_t wake_tsc;		/* host TSC when the block's sleep ended */
	struct vmm_vcpu_result res;
	char error[VMM_ERROR_LEN];
};

/* The VM: KVM fds, guest memory, the clocks and the engine shared by vCPUs. */
struct vmm {
	struct vmm_config cfg;
	int kvm_fd, vm_fd;
	uint8_t *mem;			/* guest RAM at GPA 0 */
	uint64_t mem_size;
	uint32_t tsc_khz;		/* KVM_GET_TSC_KHZ */
	struct vmm_vcpu *vcpus;
	unsigned nr_vcpus;
	struct pvt_hostclock *hostclock;
	struct pvt_kvm_clock legacy_model;	/* one-step model (Xen clock mode) */
	struct pvt_xen_vm *xen;
	struct pvt_pvclock_page xen_page[PVT_GUEST_MAX_VCPUS]; /* published (Xen mode) */
	int stop;			/* atomic: watchdog or a failed vCPU */
	/*
	 * Optional, set between vmm_create() and vmm_run(): vmm_run() calls it
	 * from its own thread every 50 ms while vCPUs run; true stops them as
	 * the watchdog does, but as a request, not an error (the vCPUs end with
	 * -ECANCELED, their results are gathered). A CLI's Ctrl-C or --duration.
	 */
	bool (*poll_stop)(void *ctx);
	void *poll_ctx;
	int error_claimed;		/* atomic: error[] has its first message */
	char error[VMM_ERROR_LEN];
};

/* Defaults: 2 vCPUs, 64 MiB, timerlat 100 x 100 us on kvmclock, pvtime, checks on. */
void vmm_config_default(struct vmm_config *cfg);

/* Probes /dev/kvm and the capabilities the VMM needs; 0 or -errno with why in msg. */
int vmm_probe(char *msg, unsigned len);

/* Creates the VM, its memory, the guest image and the vCPUs. */
int vmm_create(struct vmm *vm, const struct vmm_config *cfg);

/* Runs all vCPUs to completion (or watchdog). 0 if every vCPU finished cleanly. */
int vmm_run(struct vmm *vm);

/* Frees everything vmm_create() made (the results too). */
void vmm_destroy(struct vmm *vm);

/* ---- internals shared between the VMM's files ---- */

/* Records the first error of the VM (printf-like). Returns err. */
int vmm__fail(struct vmm *vm, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Records a vCPU's error and asks the VM to stop. Returns err. */
int vcpu__fail(struct vmm_vcpu *vcpu, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

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
/* Delivers expiries that are already due (at an exit, before dispatch). 0 or -errno (VM stopped). */
int vcpu__poll_timer(struct vmm_vcpu *vcpu);
/*
 * The vCPU's own timerfd woke: the engine records what is due and re-arms,
 * the expiries go into the vCPU page. 0 or -errno (VM stopped).
 */
int vcpu__serve_timer(struct vmm_vcpu *vcpu);
/* After an engine call on owner: what it recorded goes into owner's page. */
void vcpu__take_expiries(struct vmm_vcpu *owner);
/*
 * err is the host status of an engine call on owner: if the engine could
 * not arm owner's host timer, stops the VM (as vcpu's failure) with a
 * message and returns the -errno; else 0. Host errors are never returned
 * to the guest: they are not Xen's.
 */
int vcpu__check_host_timer(struct vmm_vcpu *vcpu, struct vmm_vcpu *owner, int err);

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

static inline uint64_t vmm__rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

extern const uint8_t pvt_guest_image[], pvt_guest_image_end[];

#endif

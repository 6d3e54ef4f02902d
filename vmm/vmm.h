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

/* How an upcall reaches a vCPU (busy/mixed scenarios). */
enum vmm_irq_pref {
	VMM_IRQ_AUTO = 0,	/* in-kernel irqchip if KVM has one, else userspace */
	VMM_IRQ_CHIP,		/* in-kernel local APIC, KVM_SIGNAL_MSI; fail without it */
	VMM_IRQ_USER,		/* KVM_INTERRUPT + request_interrupt_window + signal kick */
};

/* Timer advance (advance.c). */
enum vmm_advance_mode { VMM_ADV_OFF = 0, VMM_ADV_FIXED, VMM_ADV_ADAPTIVE };

/* One vCPU's advance controller. */
struct vmm_advance {
	enum vmm_advance_mode mode;	/* OFF for LEGACY and KVM */
	uint64_t cur_ns;		/* atomic: the advance in effect */
	uint64_t cap_ns;
	pthread_mutex_t lock;		/* the window (trylock: a busy update skips a sample) */
	uint64_t window[128];		/* recent wake-up lateness, ns */
	uint32_t count;
	bool inited;			/* the lock exists */
};

/* Where a vCPU thread is, for the kick (vcpu->mode). */
enum vmm_vcpu_mode { VMM_MODE_OUTSIDE = 0, VMM_MODE_IN_GUEST, VMM_MODE_BLOCKED };

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
	enum vmm_irq_pref irq_pref;	/* busy/mixed: how upcalls are delivered */
	bool refuse_irqchip;		/* tests: act as if KVM_CREATE_IRQCHIP failed */
	uint64_t test_raise_delay_us;	/* tests: sleep between taking an expiry and raising it */
	enum vmm_advance_mode advance_mode;	/* timer advance (PVTIME only; advance.c) */
	uint64_t advance_ns;		/* VMM_ADV_FIXED's advance */
	uint64_t test_spin_sleep_us;	/* tests: sleep inside each advance spin (a preemption) */
	uint64_t seed;			/* hostile/soak: the guest's PRNG (and the VMM's round trips) */
	uint32_t roundtrip_per_mille;	/* soak: save+restore a vCPU's timers at this share of exits */
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
	/* upcalls (busy/mixed) */
	uint64_t raises, kicks, injections, msis, windows, blocks;
	uint64_t inflight_waits;	/* block() waited for another thread's raise */
	uint64_t holds;			/* kicked at the advanced time and held out (advance) */
	/* timer advance: per expiry served with one (atomics: two threads may serve) */
	uint64_t advanced_expiries, spins, spin_total_ns;
	uint64_t *spin_ns, *advance_ns;	/* [cost_cap] */
	uint64_t n_spin;
	uint64_t upcalls, upcalls_direct, timers_fired, timers_armed;
	uint64_t nr_irq_recs;		/* guest records, copied to irq_recs */
	struct pvt_guest_irq_rec *irq_recs;	/* malloc'd copy (owned) */
	uint64_t roundtrips;		/* soak: timer save/restore round trips (soak.c) */
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
	uint64_t clock_gpa;		/* registered kvmclock page, 0 = none */
	struct pvt_pvclock_page clock_seen;	/* last page handed to the engine */
	bool clock_set;
	struct pvt_pvclock_page model_page;	/* oracle (a)'s validated page */
	bool model_valid;
	/* Oracle (a) disagreed; decided at the vCPU's next exit (vcpu__confirm_page). */
	bool page_suspect;
	struct pvt_pvclock_page suspect_page, suspect_model;
	uint64_t entry_tsc, exit_tsc;	/* host TSC around the last KVM_RUN */
	/*
	 * Entry TSC of the first KVM_RUN since the last port-I/O exit: an
	 * asynchronous exit (a kick) may fall between a guest's clock read and
	 * its publishing the sample, so oracle (b)'s bracket starts here.
	 */
	uint64_t bracket_tsc;
	uint64_t samples_checked;
	bool block_measured;		/* the last exit was a block that slept */
	uint64_t wake_tsc;		/* host TSC when the block's sleep ended */
	struct vmm_vcpu_result res;
	/* upcalls (irq.c) */
	uint32_t upcall_vector;		/* atomic: 0 = none registered */
	int mode;			/* atomic enum vmm_vcpu_mode */
	int wake_fd;			/* eventfd: wakes a blocked vCPU, -1 = none */
	uint64_t raise_tsc;		/* atomic: host TSC of the first raise since the last injection */
	int tid;			/* atomic: its thread id while it runs (the kick), 0 = none */
	int inflight;			/* atomic: threads between an engine take and the raise */
	uint64_t hold_tsc;		/* atomic: held out of guest mode until raised (advance), 0 = no */
	struct vmm_advance adv;
	uint64_t soak_rng;		/* soak.c: when to round-trip (this thread only) */
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
	int irq_mode;			/* enum pvt_guest_irq_mode this VM uses */
	char irq_why[160];		/* why the userspace path was chosen (auto) */
	uint64_t irq_recs_gpa, irq_recs_per_vcpu;	/* the VMM's own copy, not the guest's config */
	int epoll_fd, irq_stop_fd;	/* the irq thread's timerfd set and its stop eventfd */
	pthread_t irq_thread;
	bool irq_thread_started;
	int stop;			/* atomic: watchdog or a failed vCPU */
	bool watchdog_fired;		/* the run ended by the watchdog (set before the joins end) */
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

static inline uint64_t vmm__rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

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

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

/*
 * What a handling-cost figure measures. The exit kinds (TIMER, BLOCK, NULL)
 * are host TSC ticks from the exit (BLOCK: from the sleep's end) to the
 * next entry; DELIVERY is a singleshot's delivery time on the guest clock
 * minus its deadline, ns, signed. The values are the CLI's kinds 0..3.
 */
enum vmm_cost_kind {
	VMM_COST_TIMER = 0,	/* a timer hypercall */
	VMM_COST_BLOCK,		/* SCHEDOP_block, its sleep excluded */
	VMM_COST_NULL,		/* a null exit (the guest's null port) */
	VMM_COST_EXIT_KINDS,	/* how many of the above */
	VMM_COST_DELIVERY = VMM_COST_EXIT_KINDS,
};

/* The cost samples of one vCPU (cfg.measure_costs); every array holds cap entries. */
struct vmm_costs {
	uint64_t cap;			/* 0: none recorded (no memory) */
	uint64_t *ticks[VMM_COST_EXIT_KINDS];	/* [kind][i], host TSC ticks */
	uint64_t n[VMM_COST_EXIT_KINDS];
	int64_t *wake_late;		/* VMM_COST_DELIVERY, ns */
	uint64_t n_wake_late;		/* atomic: any thread may deliver */
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
	struct vmm_costs cost;		/* handling costs and delivery lateness */
	/* upcalls (busy/mixed) */
	uint64_t raises, kicks, injections, msis, windows, blocks;
	uint64_t inflight_waits;	/* block() waited for another thread's raise */
	uint64_t holds;			/* kicked at the advanced time and held out (advance) */
	/* timer advance: per expiry served with one (atomics: two threads may serve) */
	uint64_t advanced_expiries, spins, spin_total_ns;
	uint64_t *spin_ns, *advance_ns;	/* [cost.cap] */
	uint64_t n_spin;
	uint64_t upcalls, upcalls_direct, timers_fired, timers_armed;
	uint64_t nr_irq_recs;		/* guest records, copied to irq_recs */
	struct pvt_guest_irq_rec *irq_recs;	/* malloc'd copy (owned) */
	uint64_t roundtrips;		/* soak: timer save/restore round trips (soak.c) */
};

/* One vCPU's clock oracles (clockcheck.c): what they checked and still owe. */
struct vmm_oracle {
	struct pvt_pvclock_page model_page;	/* oracle (a)'s validated page */
	bool model_valid;
	/* Oracle (a) disagreed; decided at the vCPU's next exit (vcpu__confirm_page). */
	bool page_suspect;
	struct pvt_pvclock_page suspect_page, suspect_model;
	/*
	 * Entry TSC of the first KVM_RUN since the last port-I/O exit: an
	 * asynchronous exit (a kick) may fall between a guest's clock read and
	 * its publishing the sample, so oracle (b)'s bracket starts here.
	 */
	uint64_t bracket_tsc;
	uint64_t samples_checked;	/* oracle (b): guest samples already checked */
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
	bool exited;			/* its work is done (under vm->exit_lock) */
	struct pvt_guest_vcpu *shared;	/* the vCPU page in guest memory */
	uint64_t tsc_offset;		/* KVM_VCPU_TSC_OFFSET as read back */
	struct pvt_hosttimer *timer;	/* this vCPU's own timerfd */
	struct pvt_xen_vcpu *xen;	/* engine state */
	uint64_t clock_gpa;		/* registered kvmclock page, 0 = none */
	struct pvt_pvclock_page clock_seen;	/* last page handed to the engine */
	bool clock_set;
	struct vmm_oracle oracle;	/* clockcheck.c's state */
	uint64_t entry_tsc, exit_tsc;	/* host TSC around the last KVM_RUN */
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
	pthread_mutex_t exit_lock;	/* vmm_run(): the vCPU threads' exited flags */
	pthread_cond_t exit_cond;	/* CLOCK_MONOTONIC: the watchdog's wait */
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

/*
 * The host TSC, ordered after earlier loads (lfence): the VMM's one reading,
 * shared with the CLI's demo so both count in the same ticks.
 */
static inline uint64_t vmm__rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The Xen timer engine: one state per vCPU serving __HYPERVISOR_set_timer_op
 * and the VCPUOP timer calls, converting guest-clock deadlines to host
 * timers, delivering expiries through a callback (a VMM injects VIRQ_TIMER).
 *
 * Threads: each vCPU has its own lock; any thread may call any function on
 * any vCPU. The expiry callback runs with that vCPU's lock held (so a stop
 * that returned can never be followed by a stale expiry): it must not call
 * pvt_xen_* on the same vCPU. It is called from the hypercall itself for a
 * deadline already reached (no host round trip), from the host timer path
 * (pvt_xen_vcpu_timer_fired / pvt_hosttimer_handle), and from
 * set_guest_clock / restore.
 *
 * Each vCPU owns one host timer serving both its singleshot and its
 * periodic timer (armed at the earlier of the two).
 *
 * Algorithms (pvt_timer_algo), all on the same code path:
 *  - LEGACY: KVM before the seed's fix. Guest now = one-step
 *    pvt_kvm_clock_legacy_ns() at one TSC read; later (the backend's
 *    preempt_point in between) a separate timer-clock read; host deadline
 *    = that read + (deadline - guest now). Fires as the host timer fires.
 *  - KVM: the seed's fix. One pairing gives (TSC, mono); guest now is the
 *    exact guest clock at that TSC; host deadline = mono + guest delta.
 *  - PVTIME: deadline -> exact host TSC (pvt_guest_clock_host_tsc_at) ->
 *    timer clock via pairing + tracked rate, rounded later plus the
 *    pairing's uncertainty. Long timers (remaining x slew_bound_ppm >
 *    final_stage_ns, i.e. > 1 ms by default) arm early by that margin and
 *    re-pair/re-convert at each wake (two-stage arming); on
 *    every wake the engine reads the TSC and re-arms if the guest clock has
 *    not reached the deadline: never early.
 * LEGACY and KVM model in-kernel KVM and expect a CLOCK_MONOTONIC host
 * clock; PVTIME also works on the CLOCK_REALTIME (KVM_GET_CLOCK) one, where
 * a step wakes the timer (cancel-on-set) and it re-pairs and re-arms.
 *
 * Each hypercall reads the host TSC once (under the vCPU lock) and reuses
 * that reading for "now", the conversion and the host timer deadline.
 *
 * Host timer failures (pvt_hosttimer_arm: a full simulated queue -ENOSPC,
 * a timerfd_settime error) are never silent. A call that changes the timers
 * (set_timer_op, set/stop_singleshot, set/stop_periodic, vcpu_op,
 * set_guest_clock, restore, import_kvm) and cannot arm the host timer for
 * its new state returns that -errno and keeps the previous state: timers,
 * period, phase, clock, port/priority are put back and the host timer is
 * armed for them again (an expiry the call already delivered stays
 * delivered). Host errors are not Xen errors: a VMM must not hand them to
 * the guest (tell them apart with pvt_xen_vcpu_host_error()). Where there
 * is no caller (pvt_xen_vcpu_timer_fired re-arming), the timers stay armed
 * in guest time with no host timer behind them, and the error waits in
 * pvt_xen_vcpu_host_error(); the next call re-tries arming.
 */
#ifndef PVTIME_XENTIMER_H
#define PVTIME_XENTIMER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvtime/export.h"
#include "pvtime/guestclock.h"
#include "pvtime/hostclock.h"
#include "pvtime/hosttimer.h"

PVT_BEGIN_DECLS

/* Xen ABI numbers (xen/include/public/xen.h, vcpu.h). */
#define PVT_XEN_HYPERVISOR_set_timer_op		15
#define PVT_XEN_HYPERVISOR_vcpu_op		24
#define PVT_XEN_VCPUOP_set_periodic_timer	6
#define PVT_XEN_VCPUOP_stop_periodic_timer	7
#define PVT_XEN_VCPUOP_set_singleshot_timer	8
#define PVT_XEN_VCPUOP_stop_singleshot_timer	9
#define PVT_XEN_VCPU_SSHOTTMR_future		1u
#define PVT_XEN_VIRQ_TIMER			0
#define PVT_XEN_PERIOD_MIN_NS			1000000ull		/* MILLISECS(1) */
#define PVT_XEN_STIME_DELTA_MAX			((1ull << 62) - 1)
/* set_timer_op's Linux workaround: deadlines this far off become 100 ms. */
#define PVT_XEN_WORKAROUND_SHIFT		50
#define PVT_XEN_WORKAROUND_DELAY_NS		100000000ull

/* Xen's struct vcpu_set_singleshot_timer (x86-64 layout, 16 bytes). */
struct pvt_xen_singleshot_arg {
	uint64_t timeout_abs_ns;	/* guest-clock deadline */
	uint32_t flags;			/* PVT_XEN_VCPU_SSHOTTMR_* */
	uint32_t pad;
};

/* Xen's struct vcpu_set_periodic_timer. */
struct pvt_xen_periodic_arg {
	uint64_t period_ns;
};

/* KVM_XEN_VCPU_ATTR_TYPE_TIMER's payload (u.timer): expires_ns in guest ns, 0 = none. */
struct pvt_xen_kvm_timer_attr {
	uint32_t port;
	uint32_t priority;
	uint64_t expires_ns;
};

enum pvt_timer_algo {
	PVT_ALGO_LEGACY,
	PVT_ALGO_KVM,
	PVT_ALGO_PVTIME,
};

/* Which timer expired. */
enum pvt_xen_expiry {
	PVT_XEN_EXPIRY_SINGLESHOT,
	PVT_XEN_EXPIRY_PERIODIC,
};

struct pvt_xen_vcpu;

/* Delivers one expiry (inject VIRQ_TIMER); runs with vcpu's lock held. */
typedef void (*pvt_xen_expiry_fn)(void *ctx, struct pvt_xen_vcpu *vcpu,
				  enum pvt_xen_expiry kind);

/* Legacy's guest "now" (e.g. a KVM_GET_CLOCK ioctl); 0 or -errno. */
typedef int (*pvt_xen_legacy_now_fn)(void *ctx, uint64_t *guest_ns);

/* Per-VM options. */
struct pvt_xen_vm_config {
	enum pvt_timer_algo algo;	/* default PVT_ALGO_PVTIME */
	bool linux_workaround;		/* set_timer_op: >2^50 ns ahead or negative -> 100 ms; default on */
	bool strict_future;		/* honour VCPU_SSHOTTMR_future with -ETIME; default off */
	bool periodic_rephase;		/* Xen: next = now + period when late; default off (exact grid) */
	uint64_t slew_bound_ppm;	/* max rate change during a timer; default 1000 */
	uint64_t final_stage_ns;	/* arm exactly when remaining x slew_bound <= this; default 1000 */
};

/* One VM: configuration (read at pvt_xen_vm_init) and the host clock its vCPUs share. */
struct pvt_xen_vm {
	struct pvt_xen_vm_config cfg;
	struct pvt_hostclock *hostclock;	/* not owned */
	const struct pvt_kvm_clock *kvm;	/* legacy's one-step model; not owned */
	pvt_xen_legacy_now_fn legacy_now;	/* overrides kvm when set */
	void *legacy_now_ctx;
	uint64_t slew_mul;			/* slew_bound_ppm / 10^6 as a 0.64 fraction */
};

/* Counters for tests and benchmarks (read under the lock via pvt_xen_vcpu_stats). */
struct pvt_xen_vcpu_stats {
	uint64_t delivered;		/* expiry callbacks */
	uint64_t immediate;		/* delivered from the hypercall itself */
	uint64_t host_fires;		/* timer_fired calls */
	uint64_t early_wakes;		/* host fired before the guest deadline (re-armed) */
	uint64_t stages;		/* early (two-stage) arms */
	uint64_t coalesced;		/* periodic ticks folded into one event */
	uint64_t step_rearms;		/* host clock stepped while arming: re-paired, re-armed */
};

/* A timer's state in guest time. */
struct pvt_xen_timer {
	bool armed;
	uint64_t deadline_ns;		/* guest-clock deadline (next tick for periodic) */
	uint64_t target_tsc;		/* PVTIME: host TSC at which it is due */
	uint64_t host_ns;		/* LEGACY/KVM: timer-clock deadline */
	bool converted;			/* target_tsc/host_ns valid for the current clock */
};

/* One vCPU's timers. */
struct pvt_xen_vcpu {
	pthread_mutex_t lock;
	struct pvt_xen_vm *vm;
	uint32_t id;
	struct pvt_guest_clock clock;	/* the pvclock this vCPU registered + its TSC scaling */
	bool clock_valid;		/* false until set_guest_clock */
	struct pvt_xen_timer singleshot;
	struct pvt_xen_timer periodic;
	uint64_t period_ns;		/* 0 = periodic off */
	bool pending;			/* an expiry delivered, not yet taken */
	uint32_t port, priority;	/* KVM attr round trip (opaque to the engine) */
	struct pvt_hosttimer *timer;	/* not owned; on_fire set by init */
	bool host_armed;
	uint64_t host_armed_ns;
	pvt_xen_expiry_fn expiry;
	void *expiry_ctx;
	struct pvt_xen_vcpu_stats stats;
	uint64_t call_tsc;		/* the one TSC read of the current call */
	bool call_tsc_valid;
	int host_error;			/* last host timer failure not yet taken, -errno */
};

/* Defaults: PVTIME, workaround on, strict off, exact grid, 1000 ppm, 1000 ns. */
PVT_API void pvt_xen_vm_config_default(struct pvt_xen_vm_config *cfg);

/*
 * Sets up a VM. cfg NULL = defaults. kvm (legacy's one-step model) may be
 * NULL; LEGACY then needs vm->legacy_now set, else its timers stay unconverted.
 */
PVT_API int pvt_xen_vm_init(struct pvt_xen_vm *vm, const struct pvt_xen_vm_config *cfg,
		    struct pvt_hostclock *hostclock,
		    const struct pvt_kvm_clock *kvm);

/* Sets up a vCPU with its host timer (its on_fire is taken over) and callback. */
PVT_API int pvt_xen_vcpu_init(struct pvt_xen_vcpu *vcpu, struct pvt_xen_vm *vm,
		      uint32_t id, struct pvt_hosttimer *timer,
		      pvt_xen_expiry_fn expiry, void *expiry_ctx);

/*
 * Disarms and releases the lock (the host timer stays the caller's). Stop
 * serving the host timer's fd first: its on_fire points at this vCPU.
 */
PVT_API void pvt_xen_vcpu_destroy(struct pvt_xen_vcpu *vcpu);

/*
 * The clock the guest registered for this vCPU (a snapshot of its pvclock
 * page + TSC scaling). Re-converts armed timers; delivers those now due.
 * -EINVAL for an unusable clock, or a host -errno (state unchanged).
 */
PVT_API int pvt_xen_vcpu_set_guest_clock(struct pvt_xen_vcpu *vcpu,
				 const struct pvt_guest_clock *clock);

/* The guest clock now (exact, one TSC read). -ENODATA before set_guest_clock. */
PVT_API int pvt_xen_vcpu_guest_now(struct pvt_xen_vcpu *vcpu, uint64_t *guest_ns);

/*
 * __HYPERVISOR_set_timer_op(deadline) from vcpu's own thread; 0 stops.
 * 0, or a host timer -errno (state unchanged; see the top of this file).
 */
PVT_API int pvt_xen_set_timer_op(struct pvt_xen_vcpu *vcpu, uint64_t deadline_ns);

/* VCPUOP_set_singleshot_timer on the caller itself. 0, -ETIME (strict only) or a host -errno. */
PVT_API int pvt_xen_set_singleshot(struct pvt_xen_vcpu *vcpu, uint64_t deadline_ns,
			   uint32_t flags);

/* VCPUOP_stop_singleshot_timer on the caller itself. 0 or a host -errno (periodic re-armed). */
PVT_API int pvt_xen_stop_singleshot(struct pvt_xen_vcpu *vcpu);

/* VCPUOP_set_periodic_timer: first tick at now + period. -EINVAL if out of range, or a host -errno. */
PVT_API int pvt_xen_set_periodic(struct pvt_xen_vcpu *vcpu, uint64_t period_ns);

/* VCPUOP_stop_periodic_timer. 0 or a host -errno (singleshot re-armed). */
PVT_API int pvt_xen_stop_periodic(struct pvt_xen_vcpu *vcpu);

/*
 * __HYPERVISOR_vcpu_op(cmd, target, arg) for the timer commands, with
 * Xen's errors: target NULL -> -ENOENT, singleshot on another vCPU ->
 * -EINVAL, arg shorter than the command's struct -> -EFAULT, other cmds
 * -> -ENOSYS; or the command's host -errno. arg is the argument already
 * copied from guest memory.
 */
PVT_API int pvt_xen_vcpu_op(struct pvt_xen_vcpu *caller, struct pvt_xen_vcpu *target,
		    int cmd, const void *arg, size_t arg_len);

/*
 * The host timer expired (or woke spuriously): delivers what is due,
 * re-arms the rest (periodic on its exact grid, missed ticks -> one event).
 * Also the hosttimer's on_fire.
 */
PVT_API void pvt_xen_vcpu_timer_fired(struct pvt_xen_vcpu *vcpu);

/*
 * The last host timer failure (-errno) since the previous call, 0 if none;
 * clears it. Set by any arming that failed, including timer_fired's.
 */
PVT_API int pvt_xen_vcpu_host_error(struct pvt_xen_vcpu *vcpu);

/*
 * Whether the host timer is armed and, if so, its timer-clock deadline
 * (read under the lock: another thread may be re-arming it).
 */
PVT_API bool pvt_xen_vcpu_host_deadline(struct pvt_xen_vcpu *vcpu, uint64_t *deadline_ns);

/* Returns and clears the pending flag (the VMM took the event). */
PVT_API bool pvt_xen_vcpu_take_pending(struct pvt_xen_vcpu *vcpu);

/* A consistent copy of the state (tests, VMM introspection). */
PVT_API void pvt_xen_vcpu_snapshot(struct pvt_xen_vcpu *vcpu, struct pvt_xen_timer *singleshot,
			   struct pvt_xen_timer *periodic, uint64_t *period_ns,
			   bool *pending, struct pvt_xen_vcpu_stats *stats);

/* ---- save / restore ---- */

/* KVM's form: port, priority and the singleshot deadline in guest ns (0 = none). */
PVT_API void pvt_xen_vcpu_export_kvm(struct pvt_xen_vcpu *vcpu,
			     struct pvt_xen_kvm_timer_attr *attr);

/*
 * Imports KVM's form: expires_ns 0 stops the singleshot timer, else arms
 * it (no Linux workaround; a past deadline fires at once). 0 or a host -errno.
 */
PVT_API int pvt_xen_vcpu_import_kvm(struct pvt_xen_vcpu *vcpu,
			    const struct pvt_xen_kvm_timer_attr *attr);

#define PVT_XEN_BLOB_MAGIC	0x58545650u	/* "PVTX" little-endian */
#define PVT_XEN_BLOB_VERSION	1u
#define PVT_XEN_BLOB_SIZE	64u

/*
 * Exports the full timer state (guest-clock singleshot deadline, period,
 * next periodic tick = the phase, pending, port, priority) as a versioned,
 * checksummed little-endian blob. Returns its size or -ENOSPC.
 */
PVT_API int pvt_xen_vcpu_save(struct pvt_xen_vcpu *vcpu, void *buf, size_t len);

/*
 * Restores a blob: validates magic, version, length, checksum, flags and
 * ranges first (-EINVAL / -EBADMSG / -EPROTO, state unchanged). Replaces the
 * current timers; no Linux workaround; a past deadline fires at once. Before
 * set_guest_clock the deadlines are kept in guest time and converted (or
 * fired) when the clock arrives. Safe to repeat and while armed.
 * Errors: -EMSGSIZE (length), -EPROTO (magic/version), -EBADMSG (checksum),
 * -EINVAL (flags, reserved bits or values out of range), a host -errno
 * (state unchanged).
 */
PVT_API int pvt_xen_vcpu_restore(struct pvt_xen_vcpu *vcpu, const void *buf, size_t len);

/* Name of an algorithm ("legacy", "kvm", "pvtime"). */
PVT_API const char *pvt_timer_algo_name(enum pvt_timer_algo algo);

/* Parses an algorithm name. -EINVAL if unknown. */
PVT_API int pvt_timer_algo_parse(const char *name, enum pvt_timer_algo *algo);

PVT_END_DECLS

#endif

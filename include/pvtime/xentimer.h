/* SPDX-License-Identifier: MIT */
/*
 * The Xen timer engine: one state per vCPU serving __HYPERVISOR_set_timer_op
 * and the VCPUOP timer calls, converting guest-clock deadlines to host
 * timers, and recording expiries for the VMM to take (it then injects
 * VIRQ_TIMER).
 *
 * Threads and locks (the rules for every pvt_ function):
 *  - Any thread may call any function on any vCPU. Each vCPU has its own
 *    lock, taken inside each call; a VM and a host clock are shared
 *    read-mostly (the pairing is published lock-free, re-paired under a
 *    trylock that never waits).
 *  - The library calls no user code while holding its locks, with two
 *    exceptions: the host clock backend's ops and the LEGACY "now" hook
 *    (pvt_xen_vm_set_legacy_now), and a bring-your-own host timer's arm
 *    and disarm. These are leaf operations: they must not call pvt_
 *    functions nor take locks that are held around pvt_ calls.
 *  - So a VMM may hold its own locks (a big lock) around any pvt_ call.
 *    Lock order: VMM locks -> engine vCPU lock -> pairing trylock.
 *
 * Event loop. Expiries are recorded per vCPU, never called out:
 *  - a hypercall (or set_guest_clock, restore, import_kvm) whose deadline
 *    has already passed records the expiry before it returns;
 *  - when a vCPU's host timer fires (its fd, pvt_hosttimer_fd(), polls
 *    readable; a simulated timer's notify hook runs; a bring-your-own
 *    timer's event), the VMM calls pvt_xen_vcpu_service(), which delivers
 *    what is due, re-arms the rest and takes the recorded expiries;
 *  - pvt_xen_vcpu_take() returns what was recorded (which timers, their
 *    guest-ns deadlines, coalesced periodic ticks) and clears it; the
 *    optional pvt_xen_vcpu_event_fd() is readable while something is
 *    recorded, for a loop that serves vCPUs it does not run;
 *  - other fds a loop may serve: the host clock's step watch
 *    (pvt_hostclock_step_fd) and, instead of a re-pairing on the hypercall
 *    path, a refresh at pvt_hostclock_next_refresh_ns().
 * Nothing is delivered early (the guest clock has reached the deadline when
 * it is recorded), lost or duplicated: a stop that returned means no later
 * expiry of the stopped timer is recorded.
 *
 * Each vCPU owns one host timer serving both its singleshot and its
 * periodic timer (armed at the earlier of the two).
 *
 * Host wake-ups are bounded in host time, whatever the guest clock does (a
 * scribbled page running 10^4 x fast or slow): a periodic tick is not due
 * before a gap of period_ns / PVT_XEN_PERIODIC_MAX_RATE_FACTOR host ns
 * (measured on the host TSC) after the previous one was due (PVTIME; at
 * most a gap before it was delivered), so any T host ns hold at most
 * T x factor / period + 2 periodic deliveries; the grid ticks passed by
 * then are coalesced into one (periodic_ticks, stats.coalesced). A
 * singleshot fires once per arming hypercall. Each deadline costs at most
 * log2(host ns away / final_stage_ns) early stages (about 6 with the
 * defaults), and the other wakes follow host events (a realtime step, a
 * host timer that fired before the TSC got there): so per vCPU, over T host
 * ns with period P, wakes <= (T x factor / P + 2 + timer hypercalls) x
 * (1 + stages) + host events. Later only: nothing becomes early; a tick
 * the guest clock jumps to may wait up to one gap; a sane clock served
 * within a period of its ticks keeps its exact grid.
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
 *    re-pair/re-convert at each wake (two-stage arming); on every wake the
 *    engine reads the TSC and re-arms if the guest clock has not reached
 *    the deadline: never early.
 * LEGACY and KVM model in-kernel KVM and expect a CLOCK_MONOTONIC host
 * clock; PVTIME also works on the CLOCK_REALTIME (KVM_GET_CLOCK) one, where
 * a step wakes the timer (cancel-on-set) and it re-pairs and re-arms.
 *
 * Each call reads the host TSC once (under the vCPU lock) and reuses that
 * reading for "now", the conversion and the host timer deadline.
 *
 * Two error channels. Hypercall entry points return the HOST status (0 or
 * a -errno that is the VMM's business, never the guest's) and write the
 * guest-visible Xen result to *guest_ret (0 or a negative Xen errno, whose
 * values are Linux's on x86). A host failure (the host timer cannot be
 * armed: a full simulated queue -ENOSPC, a timerfd_settime error) leaves
 * the previous state: timers, period, phase, clock, port/priority are put
 * back and the host timer is armed for them again (an expiry the call
 * already recorded stays recorded). service() returns a failure of its
 * re-arm the same way; the timers then stay armed in guest time with no
 * host timer behind them until a later call arms one.
 *
 * Teardown while vCPU threads block on their host timers: make each thread
 * leave first (a stop flag it checks, plus a wake it cannot miss: a
 * pvt_hosttimer_wait() timeout, or a signal repeated until the thread is
 * gone, which makes the wait return -EINTR), join it, then free in this
 * order: pvt_xen_vcpu_free, pvt_hosttimer_free, pvt_xen_vm_free,
 * pvt_hostclock_free. No thread may be inside a call on, or asleep on the
 * fd of, a vCPU or timer being freed.
 */
#ifndef PVTIME_XENTIMER_H
#define PVTIME_XENTIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvtime/export.h"
#include "pvtime/guestclock.h"
#include "pvtime/hostclock.h"
#include "pvtime/hosttimer.h"
#include "pvtime/xen_abi.h"

PVT_BEGIN_DECLS

/*
 * The periodic timer is delivered at most this many times per period of
 * host time (ticks beyond that are coalesced): see the top comment.
 */
#define PVT_XEN_PERIODIC_MAX_RATE_FACTOR	2

/* set_timer_op's Linux workaround: deadlines this far off become 100 ms. */
#define PVT_XEN_WORKAROUND_SHIFT		50
#define PVT_XEN_WORKAROUND_DELAY_NS		100000000ull

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

struct pvt_xen_vm;	/* opaque */
struct pvt_xen_vcpu;	/* opaque */

/* pvt_xen_events.fired bits. */
#define PVT_XEN_FIRED_SINGLESHOT	(1u << 0)
#define PVT_XEN_FIRED_PERIODIC		(1u << 1)
/* Restored from a blob saved with an expiry pending (which timer is not kept). */
#define PVT_XEN_FIRED_RESTORED		(1u << 2)

/* What fired since the last take. */
struct pvt_xen_events {
	uint32_t fired;			/* PVT_XEN_FIRED_* */
	uint32_t reserved;
	uint64_t singleshot_deadline_ns;/* guest ns of the singleshot that fired */
	uint64_t periodic_deadline_ns;	/* guest ns of the last periodic tick that fired */
	uint64_t periodic_ticks;	/* ticks folded into this event (>1 when coalesced) */
	/*
	 * Set by service() with an advance (pvt_xen_vcpu_set_advance): nothing
	 * more is due yet but the earliest deadline is this host TSC, within
	 * the advance window; spin until it, then call service() again. 0 otherwise.
	 */
	uint64_t due_tsc;
};

/* Legacy's guest "now" (e.g. a KVM_GET_CLOCK ioctl); 0 or -errno. Runs under the vCPU lock. */
typedef int (*pvt_xen_legacy_now_fn)(void *ctx, uint64_t *guest_ns);

/* Per-VM options. Start from pvt_xen_vm_config_default(), which sets size. */
struct pvt_xen_vm_config {
	uint32_t size;			/* sizeof(struct pvt_xen_vm_config) */
	enum pvt_timer_algo algo;	/* default PVT_ALGO_PVTIME */
	bool linux_workaround;		/* set_timer_op: >2^50 ns ahead or negative -> 100 ms; default on */
	bool strict_future;		/* honour VCPU_SSHOTTMR_future with -ETIME; default off */
	bool periodic_rephase;		/* Xen: next = now + period when late; default off (exact grid) */
	uint64_t slew_bound_ppm;	/* max rate change during a timer; default 1000 */
	uint64_t final_stage_ns;	/* arm exactly when remaining x slew_bound <= this; default 1000 */
};

/* Counters for tests and benchmarks (pvt_xen_vcpu_get_stats). */
struct pvt_xen_vcpu_stats {
	uint64_t delivered;		/* expiries recorded */
	uint64_t immediate;		/* recorded by the hypercall itself */
	uint64_t host_fires;		/* services after the host timer fired */
	uint64_t early_wakes;		/* host fired before the guest deadline (re-armed) */
	uint64_t stages;		/* early (two-stage) arms */
	uint64_t coalesced;		/* periodic ticks folded into one event */
	uint64_t step_rearms;		/* host clock stepped while arming: re-paired, re-armed */
};

/* A consistent view of one vCPU's timers (pvt_xen_vcpu_get_state). */
struct pvt_xen_vcpu_state {
	bool singleshot_armed;
	bool periodic_armed;
	bool host_armed;		/* the host timer is armed */
	bool pending;			/* expiries recorded, not yet taken */
	uint64_t singleshot_deadline_ns;/* guest ns */
	uint64_t periodic_deadline_ns;	/* next tick, guest ns (0 = not phased yet) */
	uint64_t period_ns;		/* 0 = periodic off */
	uint64_t host_deadline_ns;	/* timer-clock ns of the host timer */
};

/* ---- VM ---- */

/* Defaults: PVTIME, workaround on, strict off, exact grid, 1000 ppm, 1000 ns. */
PVT_API void pvt_xen_vm_config_default(struct pvt_xen_vm_config *cfg);

/*
 * A VM on hostclock (not owned; outlives the VM). cfg NULL = defaults; a
 * cfg->size the library does not know is -EINVAL. kvm (legacy's one-step
 * model, not owned, read at each conversion) may be NULL; LEGACY then needs
 * pvt_xen_vm_set_legacy_now(), else its timers stay unconverted.
 */
PVT_API int pvt_xen_vm_new(const struct pvt_xen_vm_config *cfg,
			   struct pvt_hostclock *hostclock,
			   const struct pvt_kvm_clock *kvm, struct pvt_xen_vm **out);

/* Frees the VM (free its vCPUs first). NULL is fine. */
PVT_API void pvt_xen_vm_free(struct pvt_xen_vm *vm);

/* LEGACY's guest "now" instead of the kvm model (set before creating vCPUs). */
PVT_API void pvt_xen_vm_set_legacy_now(struct pvt_xen_vm *vm, pvt_xen_legacy_now_fn fn,
				       void *ctx);

/* ---- vCPU ---- */

/*
 * A vCPU with its host timer (not owned; outlives the vCPU; one vCPU per
 * timer). Serve the timer by calling pvt_xen_vcpu_service() when it fires.
 */
PVT_API int pvt_xen_vcpu_new(struct pvt_xen_vm *vm, uint32_t id,
			     struct pvt_hosttimer *timer, struct pvt_xen_vcpu **out);

/* Disarms and frees (stop serving its timer first; the timer stays the caller's). NULL is fine. */
PVT_API void pvt_xen_vcpu_free(struct pvt_xen_vcpu *vcpu);

/* The id given at creation. */
PVT_API uint32_t pvt_xen_vcpu_id(const struct pvt_xen_vcpu *vcpu);

/*
 * The clock the guest registered for this vCPU (a snapshot of its pvclock
 * page + TSC scaling). Re-converts armed timers; records those now due.
 * -EINVAL for an unusable clock, or a host -errno (state unchanged).
 */
PVT_API int pvt_xen_vcpu_set_guest_clock(struct pvt_xen_vcpu *vcpu,
					 const struct pvt_guest_clock *clock);

/* The guest clock now (exact, one TSC read). -ENODATA before set_guest_clock. */
PVT_API int pvt_xen_vcpu_guest_now(struct pvt_xen_vcpu *vcpu, uint64_t *guest_ns);

/* ---- hypercalls: return the host status, write the Xen result to *guest_ret ---- */

/* __HYPERVISOR_set_timer_op(deadline); 0 stops. Guest result always 0. */
PVT_API int pvt_xen_set_timer_op(struct pvt_xen_vcpu *vcpu, uint64_t deadline_ns,
				 int64_t *guest_ret);

/* VCPUOP_set_singleshot_timer on the caller itself. Guest: 0 or -ETIME (strict only). */
PVT_API int pvt_xen_set_singleshot(struct pvt_xen_vcpu *vcpu, uint64_t deadline_ns,
				   uint32_t flags, int64_t *guest_ret);

/* VCPUOP_stop_singleshot_timer on the caller itself (the periodic timer is re-armed). */
PVT_API int pvt_xen_stop_singleshot(struct pvt_xen_vcpu *vcpu, int64_t *guest_ret);

/* VCPUOP_set_periodic_timer: first tick at now + period. Guest: 0 or -EINVAL (range). */
PVT_API int pvt_xen_set_periodic(struct pvt_xen_vcpu *vcpu, uint64_t period_ns,
				 int64_t *guest_ret);

/* VCPUOP_stop_periodic_timer (the singleshot is re-armed). */
PVT_API int pvt_xen_stop_periodic(struct pvt_xen_vcpu *vcpu, int64_t *guest_ret);

/*
 * __HYPERVISOR_vcpu_op(cmd, target, arg) for the timer commands. Guest
 * results as Xen: target NULL -> -ENOENT, singleshot on another vCPU ->
 * -EINVAL, arg shorter than the command's struct -> -EFAULT, other cmds
 * -> -ENOSYS. arg is the argument already copied from guest memory
 * (pvt_xen_vcpu_op_arg_size() says how much).
 */
PVT_API int pvt_xen_vcpu_op(struct pvt_xen_vcpu *caller, struct pvt_xen_vcpu *target,
			    int cmd, const void *arg, size_t arg_len, int64_t *guest_ret);

/* Bytes of guest memory to copy for a VCPUOP timer command (0 for the stops); -ENOSYS otherwise. */
PVT_API int pvt_xen_vcpu_op_arg_size(int cmd, size_t *len);

/* ---- expiries ---- */

/* Takes (returns and clears) what was recorded. 1 if something fired, 0 if not. */
PVT_API int pvt_xen_vcpu_take(struct pvt_xen_vcpu *vcpu, struct pvt_xen_events *ev);

/*
 * The vCPU's host timer woke (or may have): drains its fd without blocking,
 * records what is due (periodic on its exact grid, missed ticks coalesced),
 * re-arms the rest, then takes. 1 or 0 as take, or a host -errno: reading
 * the fd failed (what was due is still served and the timer re-armed) or
 * re-arming failed; *ev is filled in either way.
 */
PVT_API int pvt_xen_vcpu_service(struct pvt_xen_vcpu *vcpu, struct pvt_xen_events *ev);

/*
 * An eventfd readable while expiries are recorded (written on the none ->
 * some transition, drained by take), created on the first call. -errno if
 * it cannot be created. Closed by pvt_xen_vcpu_free().
 */
PVT_API int pvt_xen_vcpu_event_fd(struct pvt_xen_vcpu *vcpu);

/*
 * PVTIME only (-EINVAL otherwise): arm the host timer advance_ns before the
 * exact instant; service() woken inside that window returns with due_tsc
 * set instead of re-arming (the VMM spins to it). 0 turns it off.
 */
PVT_API int pvt_xen_vcpu_set_advance(struct pvt_xen_vcpu *vcpu, uint64_t advance_ns);

/* A consistent copy of the timers' state. */
PVT_API void pvt_xen_vcpu_get_state(struct pvt_xen_vcpu *vcpu, struct pvt_xen_vcpu_state *st);

/* Copies min(size, sizeof) bytes of the counters (callers pass sizeof *stats). */
PVT_API void pvt_xen_vcpu_get_stats(struct pvt_xen_vcpu *vcpu, struct pvt_xen_vcpu_stats *stats,
				    size_t size);

/* ---- save / restore ---- */

/* KVM's form: port, priority and the singleshot deadline in guest ns (0 = none). */
PVT_API void pvt_xen_vcpu_export_kvm(struct pvt_xen_vcpu *vcpu,
				     struct pvt_xen_kvm_timer_attr *attr);

/*
 * Imports KVM's form: expires_ns 0 stops the singleshot timer, else arms
 * it (no Linux workaround; a past deadline is recorded at once). 0 or a host -errno.
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
 * current timers; no Linux workaround; a past deadline is recorded at once;
 * a saved pending expiry comes back as PVT_XEN_FIRED_RESTORED. Before
 * set_guest_clock the deadlines are kept in guest time and converted (or
 * recorded) when the clock arrives. Safe to repeat and while armed.
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

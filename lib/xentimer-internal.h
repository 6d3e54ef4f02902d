/* SPDX-License-Identifier: MIT */
/*
 * Engine internals shared by xentimer*.c (and tests, which look inside);
 * every xt_ function needs vcpu->lock held.
 */
#ifndef PVTIME_XENTIMER_INTERNAL_H
#define PVTIME_XENTIMER_INTERNAL_H

#include <pthread.h>

#include "pvtime/xentimer.h"
#include "hostclock-internal.h"
#include "hosttimer-internal.h"

struct pvt_xen_vm {
	struct pvt_xen_vm_config cfg;
	struct pvt_hostclock *hostclock;	/* not owned */
	const struct pvt_kvm_clock *kvm;	/* legacy's one-step model; not owned */
	pvt_xen_legacy_now_fn legacy_now;	/* overrides kvm when set */
	void *legacy_now_ctx;
	uint64_t slew_mul;			/* slew_bound_ppm / 10^6 as a 0.64 fraction */
};

/* A timer's state in guest time. */
struct pvt_xen_timer {
	bool armed;
	uint64_t deadline_ns;		/* guest-clock deadline (next tick for periodic) */
	uint64_t target_tsc;		/* PVTIME: host TSC at which it is due */
	uint64_t host_ns;		/* LEGACY/KVM: timer-clock deadline */
	bool converted;			/* target_tsc/host_ns valid for the current clock */
};

struct pvt_xen_vcpu {
	pthread_mutex_t lock;
	struct pvt_xen_vm *vm;
	uint32_t id;
	struct pvt_guest_clock clock;	/* the pvclock this vCPU registered + its TSC scaling */
	bool clock_valid;		/* false until set_guest_clock */
	struct pvt_xen_timer singleshot;
	struct pvt_xen_timer periodic;
	uint64_t period_ns;		/* 0 = periodic off */
	/*
	 * Where the periodic timer's host-time floor counts from; the next
	 * tick is not due before period_ns / PVT_XEN_PERIODIC_MAX_RATE_FACTOR
	 * later. PVTIME: the host TSC when the last delivered tick was due
	 * (xentimer.c, periodic_last_tsc). LEGACY/KVM, which compare on the
	 * timer clock: that clock when it was delivered (per_last_ns).
	 */
	uint64_t per_last_tsc;
	uint64_t per_last_ns;
	bool per_last_valid;
	struct pvt_xen_events ev;	/* recorded, not yet taken (due_tsc unused) */
	int event_fd;			/* -1 until pvt_xen_vcpu_event_fd() */
	uint32_t port, priority;	/* KVM attr round trip (opaque to the engine) */
	struct pvt_hosttimer *timer;	/* not owned */
	bool host_armed;
	uint64_t host_armed_ns;		/* what the host timer was armed at */
	uint64_t advance_ns;		/* PVTIME: arm this much before the instant */
	struct pvt_xen_vcpu_stats stats;
	uint64_t call_tsc;		/* the one TSC read of the current call */
	bool call_tsc_valid;
};

/* Takes the vCPU lock and starts a call (one TSC read per call, lazily). */
static inline void xt_lock(struct pvt_xen_vcpu *v)
{
	pthread_mutex_lock(&v->lock);
	v->call_tsc_valid = false;
}

static inline void xt_unlock(struct pvt_xen_vcpu *v)
{
	v->call_tsc_valid = false;
	pthread_mutex_unlock(&v->lock);
}

/* The host TSC of this call: read once, then reused. */
static inline uint64_t xt_tsc(struct pvt_xen_vcpu *v)
{
	if (!v->call_tsc_valid) {
		v->call_tsc = hc_read_tsc(v->vm->hostclock);
		v->call_tsc_valid = true;
	}
	return v->call_tsc;
}

/* Guest now for this vCPU's algorithm. -ENODATA without a clock. */
int xt_guest_now(struct pvt_xen_vcpu *v, uint64_t *ns);
/*
 * Arms (or re-arms) the singleshot at a guest deadline; records it at once
 * if due. Returns xt_program()'s result.
 */
int xt_singleshot_arm(struct pvt_xen_vcpu *v, uint64_t deadline_ns, bool immediate);
/*
 * Converts every armed timer for the current clock, records what is due,
 * programs the host timer. Returns xt_program()'s result.
 */
int xt_settle(struct pvt_xen_vcpu *v, bool immediate);
/* Programs the host timer at the earliest armed timer (or disarms). 0 or its -errno. */
int xt_program(struct pvt_xen_vcpu *v);
/* Makes the event fd (if any) readable: call on the none -> some transition only. */
void xt_event_signal(struct pvt_xen_vcpu *v);
/* Moves the recorded expiries to *ev and clears them. 1 if any. */
int xt_take(struct pvt_xen_vcpu *v, struct pvt_xen_events *ev);

/* What a call may change, kept to put back when its host timer fails. */
struct xt_saved {
	struct pvt_xen_timer singleshot, periodic;
	uint64_t period_ns;
	struct pvt_guest_clock clock;
	bool clock_valid;
	uint32_t port, priority;
};

/* Saves the state a call is about to change. */
void xt_save(const struct pvt_xen_vcpu *v, struct xt_saved *s);
/*
 * Ends a call: if ret is a host-timer failure, puts the saved state back and
 * programs the host timer for it again. Unlocks; returns ret.
 */
int xt_finish(struct pvt_xen_vcpu *v, const struct xt_saved *s, int ret);

/*
 * Writes the seal of a PVT_XEN_BLOB_SIZE blob (FNV-1a 64 of bytes 0..55,
 * little-endian at 56): the save path, and tests that forge blobs.
 */
void xt_blob_seal(uint8_t *blob);

/* A consistent copy of the internal state (tests). Any pointer may be NULL. */
void xt_snapshot(struct pvt_xen_vcpu *v, struct pvt_xen_timer *singleshot,
		 struct pvt_xen_timer *periodic, uint64_t *period_ns,
		 bool *pending, struct pvt_xen_vcpu_stats *stats);

#endif

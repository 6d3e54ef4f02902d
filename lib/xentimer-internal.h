/* SPDX-License-Identifier: MIT */
/* Engine internals shared by xentimer*.c; every function needs vcpu->lock held. */
#ifndef PVTIME_XENTIMER_INTERNAL_H
#define PVTIME_XENTIMER_INTERNAL_H

#include "pvtime/xentimer.h"

/* Takes the vCPU lock and starts a call (one TSC read per call, lazily). */
void xt_lock(struct pvt_xen_vcpu *v);
void xt_unlock(struct pvt_xen_vcpu *v);
/* The host TSC of this call: read once, then reused. */
uint64_t xt_tsc(struct pvt_xen_vcpu *v);
/* Guest now for this vCPU's algorithm. -ENODATA without a clock. */
int xt_guest_now(struct pvt_xen_vcpu *v, uint64_t *ns);
/*
 * Arms (or re-arms) the singleshot at a guest deadline; delivers at once if
 * due. Returns xt_program()'s result.
 */
int xt_singleshot_arm(struct pvt_xen_vcpu *v, uint64_t deadline_ns, bool immediate);
/*
 * Converts every armed timer for the current clock, delivers what is due,
 * programs the host timer. Returns xt_program()'s result.
 */
int xt_settle(struct pvt_xen_vcpu *v, bool immediate);
/*
 * Programs the host timer at the earliest armed timer (or disarms). 0, or
 * the host timer's -errno (also recorded in host_error; host_armed false).
 */
int xt_program(struct pvt_xen_vcpu *v);

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

#endif

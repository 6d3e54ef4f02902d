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
/* Arms (or re-arms) the singleshot at a guest deadline; delivers at once if due. */
void xt_singleshot_arm(struct pvt_xen_vcpu *v, uint64_t deadline_ns, bool immediate);
/* Converts every armed timer for the current clock, delivers what is due, programs the host timer. */
void xt_settle(struct pvt_xen_vcpu *v, bool immediate);
/* Programs the host timer at the earliest armed timer (or disarms). */
void xt_program(struct pvt_xen_vcpu *v);

#endif

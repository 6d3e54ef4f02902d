/* SPDX-License-Identifier: MIT */
/*
 * A simulated host: deterministic, no real time, no syscalls, no malloc per
 * event. Single-threaded: one simulation drives it.
 *
 * True time is an integer ns count. The host TSC is an exact function of it:
 *   tsc(t) = tsc_base + floor(t * tsc_khz / 10^6).
 * CLOCK_MONOTONIC is piecewise linear, slewed in parts per 10^12 (ppt):
 *   mono(t) = seg_mono + floor((t - seg_true) * (10^12 + slew_ppt) / 10^12)
 * A slew change starts a new segment at the current instant (mono stays
 * continuous). CLOCK_REALTIME = mono + realtime_offset and can be stepped.
 *
 * Host timers (pvt_simhost_timer_new) sit in a binary heap keyed by their
 * monotonic deadline (a realtime timer's is converted when it is armed;
 * mono is non-decreasing in true time, so that is also firing order; equal
 * deadlines fire in arming order). A timer fires at the
 * first true ns at which mono reaches its deadline; its notify hook runs at
 * that instant + wake_latency_ns (time never goes backwards: an overdue
 * timer runs at the current instant + wake latency). The hook is the user's:
 * it runs with no library lock held and typically calls
 * pvt_xen_vcpu_service() on the timer's vCPU.
 */
#ifndef PVTIME_SIMHOST_H
#define PVTIME_SIMHOST_H

#include <stdint.h>

#include "pvtime/export.h"
#include "pvtime/hostclock.h"
#include "pvtime/hosttimer.h"

PVT_BEGIN_DECLS

#define PVT_PPT_ONE	1000000000000ll	/* 10^12: slew_ppt unit base */

/* 1 ppm in ppt. */
#define PVT_PPT_PER_PPM	1000000ll

struct pvt_simhost;

/* Returns ns of true time to insert at a preemption point (legacy's two reads). */
typedef uint64_t (*pvt_simhost_preempt_fn)(void *ctx);

/* A simulated timer fired (called by pvt_simhost_step with no library lock held). */
typedef void (*pvt_simhost_notify_fn)(void *ctx);

struct pvt_simhost_config {
	uint32_t tsc_khz;		/* host TSC rate */
	uint64_t start_true_ns;		/* initial true time */
	uint64_t tsc_base;		/* TSC at true time 0 */
	uint64_t start_mono_ns;		/* CLOCK_MONOTONIC at start_true_ns */
	int64_t slew_ppt;		/* initial slew, |x| < 10^12 */
	uint64_t wake_latency_ns;	/* fire -> notify delay */
	uint32_t max_timers;		/* heap capacity (allocated here) */
};

/* A new host. -EINVAL on a bad config, -ENOMEM. */
PVT_API int pvt_simhost_new(const struct pvt_simhost_config *cfg, struct pvt_simhost **out);

/* Frees the host. Its timers stay valid but inert (arming them fails); free them any time. */
PVT_API void pvt_simhost_free(struct pvt_simhost *sim);

/* True time now, in ns. */
PVT_API uint64_t pvt_simhost_now_ns(const struct pvt_simhost *sim);

/* Timers fired so far (statistics). */
PVT_API uint64_t pvt_simhost_fired(const struct pvt_simhost *sim);

/* The host TSC at true time t. */
PVT_API uint64_t pvt_simhost_tsc_at(const struct pvt_simhost *sim, uint64_t true_ns);

/* CLOCK_MONOTONIC at true time t (extended along the current slew). */
PVT_API uint64_t pvt_simhost_mono_at(const struct pvt_simhost *sim, uint64_t true_ns);

/* The first true ns >= now at which mono >= mono_ns (current slew); UINT64_MAX if none. */
PVT_API uint64_t pvt_simhost_true_at_mono(const struct pvt_simhost *sim, uint64_t mono_ns);

/* The first true ns >= now at which the TSC >= tsc; UINT64_MAX if none. */
PVT_API uint64_t pvt_simhost_true_at_tsc(const struct pvt_simhost *sim, uint64_t tsc);

/* Now, in each clock. */
PVT_API uint64_t pvt_simhost_tsc(const struct pvt_simhost *sim);
PVT_API uint64_t pvt_simhost_mono(const struct pvt_simhost *sim);
PVT_API uint64_t pvt_simhost_realtime(const struct pvt_simhost *sim);

/* Changes the slew from now on (|slew_ppt| < 10^12). -EINVAL otherwise. */
PVT_API int pvt_simhost_set_slew(struct pvt_simhost *sim, int64_t slew_ppt);

/*
 * Steps CLOCK_REALTIME by delta_ns (CLOCK_MONOTONIC never steps) and counts
 * the step, which the realtime host clock reports as its step count (what
 * the KVM backend's cancel-on-set watch fd tells on a real host). Armed
 * realtime timers are cancelled: each fires at once (queued at now).
 */
PVT_API void pvt_simhost_step_realtime(struct pvt_simhost *sim, int64_t delta_ns);

/* Installs the preemption hook (NULL removes it). */
PVT_API void pvt_simhost_set_preempt(struct pvt_simhost *sim, pvt_simhost_preempt_fn fn,
				     void *ctx);

/* Moves true time forward by ns without firing timers (a preemption). */
PVT_API void pvt_simhost_skip(struct pvt_simhost *sim, uint64_t ns);

/* True ns at which the earliest queued timer fires; UINT64_MAX if none. */
PVT_API uint64_t pvt_simhost_next_fire(const struct pvt_simhost *sim);

/*
 * Fires the earliest timer if it fires at or before until_true_ns: sets now
 * to its fire instant + wake latency and calls its notify hook. Returns 1 if
 * one fired, 0 otherwise (then now = max(now, until_true_ns)).
 */
PVT_API int pvt_simhost_step(struct pvt_simhost *sim, uint64_t until_true_ns);

/* Fires every timer due up to until_true_ns, then sets now to it. Returns the count. */
PVT_API uint64_t pvt_simhost_run_until(struct pvt_simhost *sim, uint64_t until_true_ns);

/* A host clock backed by sim: exact pairs (uncertainty 0), exact current rate. */
PVT_API int pvt_simhost_hostclock_new(struct pvt_simhost *sim, struct pvt_hostclock **out);

/*
 * A host clock like the KVM_GET_CLOCK backend over sim: pairs the TSC with
 * CLOCK_REALTIME (which pvt_simhost_step_realtime steps), uncertainty 1 ns.
 */
PVT_API int pvt_simhost_hostclock_new_realtime(struct pvt_simhost *sim,
					       struct pvt_hostclock **out);

/* A host timer in sim's queue (CLOCK_MONOTONIC). Free with pvt_hosttimer_free. */
PVT_API int pvt_simhost_timer_new(struct pvt_simhost *sim, struct pvt_hosttimer **out);

/*
 * A CLOCK_REALTIME host timer in sim's queue, like the KVM_GET_CLOCK backend's
 * CANCEL_ON_SET timerfd: fires when realtime reaches the deadline (UINT64_MAX:
 * never in practice), or at once when pvt_simhost_step_realtime cancels it.
 * Free with pvt_hosttimer_free.
 */
PVT_API int pvt_simhost_timer_new_realtime(struct pvt_simhost *sim,
					   struct pvt_hosttimer **out);

/* The hook pvt_simhost_step calls when t (a simulated timer) fires. -EINVAL otherwise. */
PVT_API int pvt_simhost_timer_set_notify(struct pvt_hosttimer *t, pvt_simhost_notify_fn fn,
					 void *ctx);

PVT_END_DECLS

#endif

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
 * Host timers (pvt_hosttimer_init_sim) sit in a binary heap keyed by their
 * monotonic deadline (mono is non-decreasing in true time, so that is also
 * firing order; equal deadlines fire in arming order). A timer fires at the
 * first true ns at which mono reaches its deadline; its on_fire runs at that
 * instant + wake_latency_ns (time never goes backwards: an overdue timer
 * runs at the current instant + wake latency).
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

/* Returns ns of true time to insert at a preemption point (legacy's two reads). */
typedef uint64_t (*pvt_simhost_preempt_fn)(void *ctx);

struct pvt_simhost_config {
	uint32_t tsc_khz;		/* host TSC rate */
	uint64_t start_true_ns;		/* initial true time */
	uint64_t tsc_base;		/* TSC at true time 0 */
	uint64_t start_mono_ns;		/* CLOCK_MONOTONIC at start_true_ns */
	int64_t slew_ppt;		/* initial slew, |x| < 10^12 */
	uint64_t wake_latency_ns;	/* fire -> on_fire delay */
	uint32_t max_timers;		/* heap capacity (allocated at init) */
};

struct pvt_simhost {
	uint64_t true_ns;		/* now */
	uint32_t tsc_khz;
	uint64_t tsc_base;
	/* Current monotonic segment. */
	uint64_t seg_true_ns, seg_mono_ns;
	int64_t slew_ppt;
	int64_t realtime_offset_ns;	/* change it only through step_realtime */
	uint64_t realtime_steps;	/* steps so far: the realtime clock's step count */
	uint64_t wake_latency_ns;
	pvt_simhost_preempt_fn preempt;	/* may be NULL */
	void *preempt_ctx;
	/* Timer heap. */
	struct pvt_hosttimer **heap;
	uint32_t count, capacity;
	uint64_t next_seq;
	uint64_t fired;			/* statistics */
};

/* Sets up a host (allocates the heap). -EINVAL on a bad config, -ENOMEM. */
PVT_API int pvt_simhost_init(struct pvt_simhost *sim, const struct pvt_simhost_config *cfg);

/* Frees the heap; timers still queued are unlinked. */
PVT_API void pvt_simhost_destroy(struct pvt_simhost *sim);

/* The host TSC at true time t. */
PVT_API uint64_t pvt_simhost_tsc_at(const struct pvt_simhost *sim, uint64_t true_ns);

/* CLOCK_MONOTONIC at true time t >= seg_true_ns (current segment). */
PVT_API uint64_t pvt_simhost_mono_at(const struct pvt_simhost *sim, uint64_t true_ns);

/* The first true ns >= now at which mono >= mono_ns (current slew); UINT64_MAX if none. */
PVT_API uint64_t pvt_simhost_true_at_mono(const struct pvt_simhost *sim, uint64_t mono_ns);

/* The first true ns >= now at which the TSC >= tsc; UINT64_MAX if none. */
PVT_API uint64_t pvt_simhost_true_at_tsc(const struct pvt_simhost *sim, uint64_t tsc);

/* Now, in each clock. */
static inline uint64_t pvt_simhost_tsc(const struct pvt_simhost *sim)
{
	return pvt_simhost_tsc_at(sim, sim->true_ns);
}

static inline uint64_t pvt_simhost_mono(const struct pvt_simhost *sim)
{
	return pvt_simhost_mono_at(sim, sim->true_ns);
}

static inline uint64_t pvt_simhost_realtime(const struct pvt_simhost *sim)
{
	return pvt_simhost_mono(sim) + (uint64_t)sim->realtime_offset_ns;
}

/* Changes the slew from now on (|slew_ppt| < 10^12). -EINVAL otherwise. */
PVT_API int pvt_simhost_set_slew(struct pvt_simhost *sim, int64_t slew_ppt);

/*
 * Steps CLOCK_REALTIME by delta_ns (CLOCK_MONOTONIC never steps) and counts
 * the step, which the realtime host clock reports as its step count (what
 * the KVM backend's cancel-on-set watch fd tells on a real host).
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
 * to its fire instant + wake latency and calls its on_fire. Returns 1 if
 * one fired, 0 otherwise (then now = max(now, until_true_ns)).
 */
PVT_API int pvt_simhost_step(struct pvt_simhost *sim, uint64_t until_true_ns);

/* Fires every timer due up to until_true_ns, then sets now to it. Returns the count. */
PVT_API uint64_t pvt_simhost_run_until(struct pvt_simhost *sim, uint64_t until_true_ns);

/* A host clock backed by sim: exact pairs (uncertainty 0), exact current rate. */
PVT_API int pvt_hostclock_init_sim(struct pvt_hostclock *hc, struct pvt_simhost *sim);

/*
 * A host clock like the KVM_GET_CLOCK backend over sim: pairs the TSC with
 * CLOCK_REALTIME (which pvt_simhost_step_realtime steps), uncertainty 1 ns.
 */
PVT_API int pvt_hostclock_init_sim_realtime(struct pvt_hostclock *hc, struct pvt_simhost *sim);

/* A host timer in sim's queue (CLOCK_MONOTONIC). */
PVT_API int pvt_hosttimer_init_sim(struct pvt_hosttimer *t, struct pvt_simhost *sim);

PVT_END_DECLS

#endif

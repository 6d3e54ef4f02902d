/* SPDX-License-Identifier: MIT */
/*
 * The host clock object, shared by hostclock*.c, simhost-backends.c and
 * xentimer*.c (and tests, which look inside).
 */
#ifndef PVTIME_HOSTCLOCK_INTERNAL_H
#define PVTIME_HOSTCLOCK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "pvtime/hostclock.h"

/* The published state arming reads; written only under refresh_lock. */
struct hc_snap {
	uint64_t seq;			/* odd while being written */
	uint64_t tsc, mono_ns, uncertainty_ns;
	uint64_t rate_int, rate_frac;
	uint64_t rate_err_ppb;
	uint64_t step_gen;		/* backend step count before the pairing */
};

struct pvt_hostclock {
	const struct pvt_hostclock_ops *ops;
	void *ctx;			/* backend state */
	clockid_t clockid;		/* clock of mono_ns and of the host timers */
	unsigned flags;			/* PVT_HOSTCLOCK_F_* */
	int step_fd;			/* step watch (KVM backend), or -1 */
	uint64_t refresh_ns;		/* re-pair when the pairing is older */
	uint64_t refresh_tsc;		/* refresh_ns in TSC ticks */
	uint64_t rate_window_ns;	/* rate from pairings 1..2 windows apart */
	struct hc_snap snap;		/* accessed only with __atomic */
	int refresh_lock;		/* 0/1 spin-free trylock (atomic) */
	/* Rate tracker state, under refresh_lock. */
	struct pvt_clock_pair anchor;	/* older pairing of the rate window */
	struct pvt_clock_pair anchor_next; /* next anchor, once one window old */
	bool anchor_next_valid;
	int64_t freq_ppb;		/* last kernel frequency correction seen */
	bool freq_valid;
	uint64_t pairings;		/* refreshes done (statistics) */
};

/* a + b, saturating at UINT64_MAX. */
static inline uint64_t hc_add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* a - b, floored at 0. */
static inline uint64_t hc_sub_floor(uint64_t a, uint64_t b)
{
	return b > a ? 0 : a - b;
}

/*
 * The one conversion host TSC -> timer-clock ns from a pairing and a rate
 * (pvt_hostclock_tsc_to_mono*, the engine's arming). late: never early,
 * i.e. at or after the true clock at tsc: the distance from the pairing
 * rounded up going forward and down going back, and the pairing's
 * uncertainty added to mono_ns before the distance is, so the result is
 * mono_ns + uncertainty_ns +- distance exactly, clamped only at the end
 * (to 0 and UINT64_MAX). !late: the best estimate, mono_ns +- the distance
 * rounded down (toward the pairing going forward, away from it going back).
 */
static inline uint64_t hc_tsc_to_mono(const struct pvt_clock_pair *p,
				      const struct pvt_rate *r, uint64_t tsc, bool late)
{
	uint64_t unc = late ? p->uncertainty_ns : 0, d;

	if (tsc >= p->tsc)
		return hc_add_sat(hc_add_sat(p->mono_ns, unc),
				  pvt_rate_apply(r, tsc - p->tsc, late));
	d = pvt_rate_apply(r, p->tsc - tsc, !late);
	if (d <= p->mono_ns)
		return hc_add_sat(p->mono_ns - d, unc);
	return hc_sub_floor(unc, d - p->mono_ns);
}

/* The backend's reads, inline for the library's hot paths. */
static inline uint64_t hc_read_tsc(struct pvt_hostclock *hc)
{
	return hc->ops->read_tsc(hc->ctx);
}

static inline uint64_t hc_steps(struct pvt_hostclock *hc, bool poll)
{
	return hc->ops->steps ? hc->ops->steps(hc->ctx, poll) : 0;
}

/* ops->destroy for a backend whose ctx is one malloc'd block. */
void hc_free_ctx(void *ctx);

/* ops->freq_ppb: the kernel's NTP frequency correction (pvt_hostclock_kernel_freq_ppb). */
int hc_kernel_freq_ppb(void *ctx, int64_t *ppb);

/* Step count the published pairing was taken at (lock-free). */
uint64_t hc_pair_gen(const struct pvt_hostclock *hc);

/* As pvt_hostclock_current(), plus the step count of the pairing (gen may be NULL). */
void hc_current_gen(const struct pvt_hostclock *hc, struct pvt_clock_pair *pair,
		    struct pvt_rate *rate, uint64_t *err_ppb, uint64_t *gen);

/* Refreshes only if the pairing is older than refresh_ns at now_tsc; never waits. */
void hc_maybe_refresh(struct pvt_hostclock *hc, uint64_t now_tsc);

/*
 * The pairing and rate to convert with at now_tsc, and the step count they
 * hold for: re-pairs if the published pairing predates a known step (a
 * private pairing if another thread holds the refresh, never waits), else
 * as hc_maybe_refresh(). No syscall unless it re-pairs.
 *
 * Clock steps (CLOCK_REALTIME set): the published pairing records the
 * backend's step count read just before it was taken; it is stale when the
 * count has moved since. The arm path checks that with one atomic load
 * before converting and, for a steppable clock, polls once after arming its
 * host timer: a step before that arm is seen there (and re-armed), a step
 * after it cancels the armed CANCEL_ON_SET timer.
 */
void hc_sync(struct pvt_hostclock *hc, uint64_t now_tsc, struct pvt_clock_pair *pair,
	     struct pvt_rate *rate, uint64_t *gen);

#endif

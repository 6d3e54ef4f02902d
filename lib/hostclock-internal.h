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

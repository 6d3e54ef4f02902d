// SPDX-License-Identifier: MIT
/*
 * The backend-independent part of a host clock: the published pairing and
 * rate (a seqlock whose every field is an atomic, so readers never block
 * and sanitizers see no plain race), conversion TSC -> timer clock, and
 * re-pairing with rate tracking.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <unistd.h>

#include "hostclock-internal.h"
#include "ratetrack-div.h"

#define DEFAULT_REFRESH_NS	10000000ull	/* 10 ms: 1 ppm rate error -> 10 ns */
#define NOT_TSC_REFRESH_NS	1000000ull	/* 1 ms when the model is weaker */
#define DEFAULT_RATE_WINDOW_NS	1000000000ull	/* 1 s between rate pairings */
#define PPB_ONE			1000000000ull	/* 10^9 ppb = 1 */

/*
 * A pairing that moved against the TSC by more than 1 / STEP_SLEW_DIV of the
 * distance since the anchor (chrony's transients reach 8 %), plus
 * STEP_SLACK_NS for the two pairings' own error, was stepped, not slewed.
 */
#define STEP_SLEW_DIV		8
#define STEP_SLACK_NS		1000

/*
 * Seqlock without fences (sanitizers do not model them): data stores are
 * releases after the odd sequence store, data loads are acquires before
 * the second sequence load. On x86 all of these are plain moves.
 */
#define LOAD(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

static void publish(struct pvt_hostclock *hc, const struct pvt_clock_pair *pair,
		    const struct pvt_rate *rate, uint64_t err_ppb, uint64_t gen)
{
	struct hc_snap *s = &hc->snap;
	uint64_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED);
	STORE(&s->tsc, pair->tsc);
	STORE(&s->mono_ns, pair->mono_ns);
	STORE(&s->uncertainty_ns, pair->uncertainty_ns);
	STORE(&s->rate_int, rate->ns_int);
	STORE(&s->rate_frac, rate->ns_frac);
	STORE(&s->rate_err_ppb, err_ppb);
	STORE(&s->step_gen, gen);
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

void pvt_hostclock_current(const struct pvt_hostclock *hc,
			   struct pvt_clock_pair *pair, struct pvt_rate *rate,
			   uint64_t *err_ppb)
{
	hc_current_gen(hc, pair, rate, err_ppb, NULL);
}

void hc_current_gen(const struct pvt_hostclock *hc, struct pvt_clock_pair *pair,
		    struct pvt_rate *rate, uint64_t *err_ppb, uint64_t *gen)
{
	const struct hc_snap *s = &hc->snap;
	uint64_t seq, err, g;

	for (;;) {
		seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		pair->tsc = LOAD(&s->tsc);
		pair->mono_ns = LOAD(&s->mono_ns);
		pair->uncertainty_ns = LOAD(&s->uncertainty_ns);
		rate->ns_int = LOAD(&s->rate_int);
		rate->ns_frac = LOAD(&s->rate_frac);
		err = LOAD(&s->rate_err_ppb);
		g = LOAD(&s->step_gen);
		if (!(seq & 1) && __atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq)
			break;
#if defined(__x86_64__)
		__builtin_ia32_pause();
#endif
	}
	if (err_ppb)
		*err_ppb = err;
	if (gen)
		*gen = g;
}

uint64_t pvt_hostclock_tsc_to_mono(const struct pvt_hostclock *hc, uint64_t tsc)
{
	struct pvt_clock_pair p;
	struct pvt_rate r;

	pvt_hostclock_current(hc, &p, &r, NULL);
	return hc_tsc_to_mono(&p, &r, tsc, true);
}

uint64_t pvt_hostclock_tsc_to_mono_est(const struct pvt_hostclock *hc,
				       uint64_t tsc)
{
	struct pvt_clock_pair p;
	struct pvt_rate r;

	pvt_hostclock_current(hc, &p, &r, NULL);
	return hc_tsc_to_mono(&p, &r, tsc, false);
}

int pvt_hostclock_pair(struct pvt_hostclock *hc, struct pvt_clock_pair *out)
{
	return hc->ops->pair(hc->ctx, out);
}

/* ns -> TSC ticks at rate (for the refresh threshold), rounded down. */
static uint64_t ns_to_ticks(const struct pvt_rate *r, uint64_t ns)
{
	uint64_t rem;

	if (r->ns_int)
		return ns / r->ns_int;	/* >= 1 ns per tick: coarse is fine */
	if (!r->ns_frac || ns >= r->ns_frac)
		return UINT64_MAX;
	return pvt_div128_64((pvt_u128)ns << 64, r->ns_frac, &rem);
}

static bool try_lock(struct pvt_hostclock *hc)
{
	return !__atomic_exchange_n(&hc->refresh_lock, 1, __ATOMIC_ACQUIRE);
}

static void unlock(struct pvt_hostclock *hc)
{
	__atomic_store_n(&hc->refresh_lock, 0, __ATOMIC_RELEASE);
}

/* True when the clock moved against the TSC by more than any slew could: a step. */
static bool stepped(const struct pvt_hostclock *hc, const struct pvt_clock_pair *p,
		    const struct pvt_rate *rate)
{
	uint64_t want, got, diff;

	if (p->tsc < hc->anchor.tsc || p->mono_ns < hc->anchor.mono_ns)
		return true;
	want = pvt_rate_apply(rate, p->tsc - hc->anchor.tsc, false);
	got = p->mono_ns - hc->anchor.mono_ns;
	diff = want > got ? want - got : got - want;
	return diff > want / STEP_SLEW_DIV + STEP_SLACK_NS;
}

/* rate x (10^9 + to) / (10^9 + from): a kernel frequency change, applied at once. */
static void rescale(struct pvt_rate *rate, int64_t from_ppb, int64_t to_ppb)
{
	pvt_u128 r = ((pvt_u128)rate->ns_int << 64) | rate->ns_frac;
	uint64_t num = (uint64_t)((int64_t)PPB_ONE + to_ppb), den = (uint64_t)((int64_t)PPB_ONE + from_ppb);
	uint64_t rem;

	if ((int64_t)num <= 0 || (int64_t)den <= 0 || (r >> 96))
		return;
	/* r < 2^96 and num < 2^31: the product fits. */
	r = pvt_div128_full(r * num, den, &rem);
	rate->ns_int = (uint64_t)(r >> 64);
	rate->ns_frac = (uint64_t)r;
}

/* Under refresh_lock: a fresh pairing, a new rate if the window allows. */
static int refresh_locked(struct pvt_hostclock *hc)
{
	struct pvt_clock_pair pair, cur;
	struct pvt_rate rate, new_rate;
	uint64_t err_ppb, dmono;
	int64_t freq;
	int ret;
	/* Before pairing: a step racing the pairing leaves it marked stale. */
	uint64_t gen = hc_steps(hc, false);

	ret = hc->ops->pair(hc->ctx, &pair);
	if (ret)
		return ret;
	pvt_hostclock_current(hc, &cur, &rate, &err_ppb);
	if (hc->ops->freq_ppb && !hc->ops->freq_ppb(hc->ctx, &freq)) {
		if (hc->freq_valid && freq != hc->freq_ppb) {
			/* NTP changed the frequency: a window spanning it would average two rates. */
			rescale(&rate, hc->freq_ppb, freq);
			hc->anchor = pair;
			hc->anchor_next_valid = false;
			publish(hc, &pair, &rate, err_ppb, gen);
			hc->freq_ppb = freq;
			hc->pairings++;
			return 0;
		}
		hc->freq_ppb = freq;
		hc->freq_valid = true;
	}
	if (hc->ops->rate && !hc->ops->rate(hc->ctx, &new_rate, &err_ppb)) {
		rate = new_rate;
	} else if (stepped(hc, &pair, &rate)) {
		/* CLOCK_REALTIME was set: start a new window from here. */
		hc->anchor = pair;
		hc->anchor_next_valid = false;
	} else if (pair.mono_ns - hc->anchor.mono_ns >= PVT_RATE_MIN_WINDOW_NS) {
		uint64_t new_err;

		dmono = pair.mono_ns - hc->anchor.mono_ns;
		new_err = ((pair.uncertainty_ns + hc->anchor.uncertainty_ns) *
			   PPB_ONE + dmono - 1) / dmono;
		/* Sharper than what we have, or a full window (follows NTP). */
		if ((new_err < err_ppb || dmono >= hc->rate_window_ns) &&
		    !pvt_rate_from_delta(dmono, pair.tsc - hc->anchor.tsc, &new_rate)) {
			rate = new_rate;
			err_ppb = new_err;
		}
		/* Slide: the anchor stays 1..2 windows behind. */
		if (hc->anchor_next_valid &&
		    pair.mono_ns - hc->anchor.mono_ns >= 2 * hc->rate_window_ns) {
			hc->anchor = hc->anchor_next;
			hc->anchor_next_valid = false;
		}
		if (!hc->anchor_next_valid &&
		    pair.mono_ns - hc->anchor.mono_ns >= hc->rate_window_ns) {
			hc->anchor_next = pair;
			hc->anchor_next_valid = true;
		}
	}
	publish(hc, &pair, &rate, err_ppb, gen);
	hc->pairings++;
	return 0;
}

int pvt_hostclock_refresh(struct pvt_hostclock *hc)
{
	int ret;

	if (!try_lock(hc))
		return -EBUSY;
	ret = refresh_locked(hc);
	unlock(hc);
	return ret;
}

void hc_maybe_refresh(struct pvt_hostclock *hc, uint64_t now_tsc)
{
	uint64_t at = LOAD(&hc->snap.tsc);

	if (now_tsc - at > hc->refresh_tsc && now_tsc > at)
		(void)pvt_hostclock_refresh(hc);
}

uint64_t hc_pair_gen(const struct pvt_hostclock *hc)
{
	return LOAD(&hc->snap.step_gen);
}

void hc_sync(struct pvt_hostclock *hc, uint64_t now_tsc, struct pvt_clock_pair *pair,
	     struct pvt_rate *rate, uint64_t *gen)
{
	uint64_t steps = hc_steps(hc, false);

	if (hc_pair_gen(hc) == steps)
		hc_maybe_refresh(hc, now_tsc);
	else if (pvt_hostclock_refresh(hc) == -EBUSY) {
		/*
		 * Another thread is re-pairing, maybe from before the step:
		 * do not wait for it, pair privately (rate from the snapshot).
		 */
		hc_current_gen(hc, pair, rate, NULL, gen);
		if (!hc->ops->pair(hc->ctx, pair))
			*gen = steps;
		return;
	}
	hc_current_gen(hc, pair, rate, NULL, gen);
}

int pvt_hostclock_new_ops(const struct pvt_hostclock_ops *ops, void *ctx,
			  clockid_t clockid, unsigned flags,
			  const struct pvt_rate *initial_rate,
			  struct pvt_hostclock **out)
{
	struct pvt_clock_pair pair;
	struct pvt_hostclock *hc;
	struct pvt_rate rate;
	uint64_t err_ppb = 0, gen;
	int ret;

	if (!ops || !ops->pair || !ops->read_tsc || !ops->read_mono || !out)
		return -EINVAL;
	hc = calloc(1, sizeof(*hc));
	if (!hc)
		return -ENOMEM;
	hc->ops = ops;
	hc->ctx = ctx;
	hc->clockid = clockid;
	hc->flags = flags;
	hc->step_fd = -1;
	hc->refresh_ns = (flags & PVT_HOSTCLOCK_F_NOT_TSC) ? NOT_TSC_REFRESH_NS :
							     DEFAULT_REFRESH_NS;
	hc->rate_window_ns = DEFAULT_RATE_WINDOW_NS;

	ret = -EINVAL;
	if (initial_rate) {
		rate = *initial_rate;
		err_ppb = UINT64_MAX;	/* unknown: the first window replaces it */
	} else if (!ops->rate || ops->rate(ctx, &rate, &err_ppb)) {
		goto fail;
	}
	if (!rate.ns_int && !rate.ns_frac)
		goto fail;
	gen = hc_steps(hc, true);
	ret = ops->pair(ctx, &pair);
	if (ret)
		goto fail;
	hc->anchor = pair;
	publish(hc, &pair, &rate, err_ppb, gen);
	hc->refresh_tsc = ns_to_ticks(&rate, hc->refresh_ns);
	*out = hc;
	return 0;
fail:
	free(hc);
	return ret;
}

void pvt_hostclock_free(struct pvt_hostclock *hc)
{
	if (!hc)
		return;
	if (hc->ops->destroy)
		hc->ops->destroy(hc->ctx);
	free(hc);
}

clockid_t pvt_hostclock_clockid(const struct pvt_hostclock *hc)
{
	return hc->clockid;
}

unsigned pvt_hostclock_flags(const struct pvt_hostclock *hc)
{
	return hc->flags;
}

const char *pvt_hostclock_name(const struct pvt_hostclock *hc)
{
	return hc->ops->name ? hc->ops->name : "?";
}

uint64_t pvt_hostclock_read_tsc(struct pvt_hostclock *hc)
{
	return hc_read_tsc(hc);
}

uint64_t pvt_hostclock_read_mono(struct pvt_hostclock *hc)
{
	return hc->ops->read_mono(hc->ctx);
}

uint64_t pvt_hostclock_steps(struct pvt_hostclock *hc, bool poll)
{
	return hc_steps(hc, poll);
}

uint64_t pvt_hostclock_next_refresh_ns(const struct pvt_hostclock *hc)
{
	uint64_t m = LOAD(&hc->snap.mono_ns);

	return hc_add_sat(m, hc->refresh_ns);
}

int pvt_hostclock_step_fd(const struct pvt_hostclock *hc)
{
	return hc->step_fd;
}

int pvt_hostclock_handle_step(struct pvt_hostclock *hc)
{
	uint64_t steps = pvt_hostclock_steps(hc, true);
	int ret;

	if (steps == hc_pair_gen(hc))
		return 0;
	/* A refresh already running may predate the step: it is re-checked at arming. */
	ret = pvt_hostclock_refresh(hc);
	return ret && ret != -EBUSY ? ret : 1;
}

void hc_free_ctx(void *ctx)
{
	free(ctx);
}

/* The real backends' CLOCK_MONOTONIC and CLOCK_REALTIME both run at this rate. */
int hc_kernel_freq_ppb(void *ctx, int64_t *ppb)
{
	(void)ctx;
	return pvt_hostclock_kernel_freq_ppb(ppb);
}

int pvt_hostclock_kernel_freq_ppb(int64_t *ppb)
{
	struct timex tx;
	long user_hz = sysconf(_SC_CLK_TCK);

	memset(&tx, 0, sizeof(tx));	/* modes 0: read only, never sets the clock */
	if (adjtimex(&tx) < 0)
		return -errno;
	if (user_hz <= 0)
		user_hz = 100;
	/* freq: ppm << 16. tick: us per USER_HZ tick, nominal 10^6 / USER_HZ. */
	*ppb = (int64_t)tx.freq * 1000 / 65536 +
	       ((int64_t)tx.tick - 1000000 / user_hz) * user_hz * 1000;
	return 0;
}

int pvt_hostclock_clocksource(char *buf, unsigned len)
{
	FILE *f;
	size_t n;

	if (!len)
		return -EINVAL;
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

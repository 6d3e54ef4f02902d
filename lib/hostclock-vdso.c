// SPDX-License-Identifier: MIT
/*
 * vDSO sandwich backend: TSC / clock_gettime(CLOCK_MONOTONIC) / TSC. The
 * kernel's own TSC read lies inside the window; pairing the midpoint with
 * the clock value is off by at most half the window (+1 ns for the
 * clock's truncation to ns). Retries keep the narrowest window: an
 * interrupt inside one only widens that sample.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clockread.h"
#include "hostclock-internal.h"

#define SANDWICH_TRIES		5
#define DEFAULT_CALIB_NS	2000000ull

struct vdso_ctx {
	struct pvt_rate rate;	/* calibrated, for the window -> ns bound */
};

#if defined(__x86_64__)
/*
 * The three reads of a sandwich. tests/test_hostclock_vdso.c includes this
 * file with PVT_VDSO_SCRIPTED_READS defined and its own scripted versions
 * (a TSC that goes backwards, a clock that stalls).
 */
#ifndef PVT_VDSO_SCRIPTED_READS
/* rdtscp waits for earlier instructions; the lfence keeps later ones after it. */
static inline uint64_t tsc_ordered(void)
{
	unsigned aux;
	uint64_t t = __builtin_ia32_rdtscp(&aux);

	__builtin_ia32_lfence();
	return t;
}

/*
 * Opening read of a sandwich: no fence needed, the vDSO's own ordered TSC
 * read (lfence;rdtsc or rdtscp) waits for it to complete.
 */
static inline uint64_t tsc_open(void)
{
	return __builtin_ia32_rdtsc();
}

static uint64_t mono_now(void)
{
	return clock_now_ns(CLOCK_MONOTONIC);
}
#endif

/* "Now" (not a sandwich's end). */
static uint64_t vdso_read_tsc(void *ctx)
{
	(void)ctx;
	return pvt_rdtsc_lfence();
}

static uint64_t vdso_read_mono(void *ctx)
{
	(void)ctx;
	return mono_now();
}

/*
 * Narrowest of a few sandwiches; *window_tsc gets its width (calibration).
 * -EAGAIN (outputs untouched) if the TSC went backwards in every try.
 */
static int sandwich(uint64_t *tsc, uint64_t *mono, uint64_t *window_tsc)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < SANDWICH_TRIES; i++) {
		uint64_t a = tsc_open();
		uint64_t m = mono_now();
		uint64_t b = tsc_ordered();

		if (b >= a && b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*mono = m;
		}
	}
	if (best == UINT64_MAX)
		return -EAGAIN;
	*window_tsc = best;
	return 0;
}

/*
 * Each sandwich (a, m, b) says: the clock line, read at reference TSC R,
 * lies in [m - rate (b - R), m + 1 - rate (a - R)) (the kernel read some
 * TSC in [a, b]; m is truncated to ns). The line is the same for all tries
 * (the rate error over a few hundred ticks is far below 1 ps), so the
 * intersection of the tries' intervals bounds it. Where the TSC ticks
 * coarsely (AMD: ~26 ticks at a time) this is much narrower than the
 * narrowest single window. Units: 2^-32 ns.
 */
static int vdso_pair(void *ctx, struct pvt_clock_pair *out)
{
	struct vdso_ctx *v = ctx;
	uint64_t r32 = (v->rate.ns_int << 32) + (v->rate.ns_frac >> 32);
	uint64_t a[SANDWICH_TRIES], m[SANDWICH_TRIES], b[SANDWICH_TRIES];
	__int128 lo = 0, hi = 0, mid;
	uint64_t best = UINT64_MAX, mono, unc;
	int n = 0;

	for (int i = 0; i < SANDWICH_TRIES; i++) {
		a[n] = tsc_open();
		m[n] = mono_now();
		b[n] = tsc_ordered();
		if (b[n] >= a[n] && (!n || (a[n] >= b[n - 1] && m[n] >= m[n - 1])))
			n++;
	}
	if (!n)
		return -EAGAIN;	/* TSC went backwards every time */
	for (int i = 0; i < n; i++) {
		__int128 dm = (__int128)(m[i] - m[0]) << 32;
		__int128 l = dm - (__int128)r32 * (__int128)(b[i] - a[0]);
		__int128 h = dm + ((__int128)1 << 32) - (__int128)r32 * (__int128)(a[i] - a[0]);

		if (!i || l > lo)
			lo = l;
		if (!i || h < hi)
			hi = h;
		if (b[i] - a[i] < best)
			best = b[i] - a[i];
	}
	if (lo >= hi) {
		/* Inconsistent (a clock adjustment between tries): one window. */
		if (sandwich(&out->tsc, &out->mono_ns, &best))
			return -EAGAIN;
		out->uncertainty_ns = pvt_rate_apply(&v->rate, best - best / 2, true) + 1;
		return 0;
	}
	/* The ns at a[0] nearest the middle, and the distance to either end. */
	mid = lo + (hi - lo) / 2;
	mono = m[0] + (uint64_t)((mid + ((__int128)1 << 31)) >> 32);
	{
		__int128 at = ((__int128)(mono - m[0])) << 32;
		__int128 d = at - lo > hi - at ? at - lo : hi - at;

		unc = (uint64_t)((d + ((__int128)1 << 32) - 1) >> 32);
	}
	out->tsc = a[0];
	out->mono_ns = mono;
	out->uncertainty_ns = unc ? unc : 1;
	return 0;
}

/*
 * The rate from two sandwiches at least calib_ns apart (busy wait, init
 * only). A TSC that never moves forward across a whole sandwich, or a clock
 * or TSC that goes backwards between the two, gives -EAGAIN after
 * CALIB_TRIES attempts instead of a rate computed from garbage.
 */
#define CALIB_TRIES	1000

static int calibrate(uint64_t calib_ns, struct pvt_rate *rate)
{
	uint64_t t0 = 0, m0 = 0, t1 = 0, m1 = 0, w;	/* set by a successful sandwich() */
	int tries = 0;

	do {
		if (++tries > CALIB_TRIES)
			return -EAGAIN;
	} while (sandwich(&t0, &m0, &w));
	for (tries = 0;;) {
		if (++tries > CALIB_TRIES)
			return -EAGAIN;
		if (sandwich(&t1, &m1, &w))
			continue;
		if (m1 < m0 || t1 <= t0)
			return -EAGAIN;
		if (m1 - m0 >= calib_ns)
			break;
		tries = 0;	/* still waiting for calib_ns, not failing */
	}
	return pvt_rate_from_delta(m1 - m0, t1 - t0, rate);
}

static const struct pvt_hostclock_ops vdso_ops = {
	.name = "vdso",
	.pair = vdso_pair,
	.read_tsc = vdso_read_tsc,
	.read_mono = vdso_read_mono,
	.freq_ppb = hc_kernel_freq_ppb,
	.destroy = hc_free_ctx,
};

int pvt_hostclock_new_vdso(uint64_t calib_ns, struct pvt_hostclock **out)
{
	struct vdso_ctx *v;
	unsigned flags = 0;
	char cs[64];
	int ret;

	if (!calib_ns)
		calib_ns = DEFAULT_CALIB_NS;
	if (!pvt_hostclock_clocksource(cs, sizeof(cs)) && strcmp(cs, "tsc"))
		flags |= PVT_HOSTCLOCK_F_NOT_TSC;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ret = calibrate(calib_ns, &v->rate);
	if (!ret)
		ret = pvt_hostclock_new_ops(&vdso_ops, v, CLOCK_MONOTONIC,
					    flags, &v->rate, out);
	if (ret) {
		free(v);
		return ret;
	}
	return 0;
}
#else
int pvt_hostclock_new_vdso(uint64_t calib_ns, struct pvt_hostclock **out)
{
	(void)out;
	(void)calib_ns;
	return -ENOTSUP;
}
#endif

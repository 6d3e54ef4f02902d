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

#include "pvtime/hostclock.h"

#define SANDWICH_TRIES		5
#define DEFAULT_CALIB_NS	2000000ull

struct vdso_ctx {
	struct pvt_rate rate;	/* calibrated, for the window -> ns bound */
};

#if defined(__x86_64__)
/* rdtscp waits for earlier instructions; the lfence keeps later ones after it. */
static inline uint64_t tsc_ordered(void)
{
	unsigned aux;
	uint64_t t = __builtin_ia32_rdtscp(&aux);

	__builtin_ia32_lfence();
	return t;
}

static uint64_t vdso_read_tsc(void *ctx)
{
	(void)ctx;
	return tsc_ordered();
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t vdso_read_mono(void *ctx)
{
	(void)ctx;
	return mono_now();
}

/* Narrowest of a few sandwiches; *window_tsc gets its width. */
static void sandwich(uint64_t *tsc, uint64_t *mono, uint64_t *window_tsc)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < SANDWICH_TRIES; i++) {
		uint64_t a = tsc_ordered();
		uint64_t m = mono_now();
		uint64_t b = tsc_ordered();

		if (b >= a && b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*mono = m;
		}
	}
	*window_tsc = best;
}

static int vdso_pair(void *ctx, struct pvt_clock_pair *out)
{
	struct vdso_ctx *v = ctx;
	uint64_t window;

	sandwich(&out->tsc, &out->mono_ns, &window);
	if (window == UINT64_MAX)
		return -EAGAIN;	/* TSC went backwards every time */
	out->uncertainty_ns = pvt_rate_apply(&v->rate, window - window / 2, true) + 1;
	return 0;
}

static void vdso_destroy(void *ctx)
{
	free(ctx);
}

static const struct pvt_hostclock_ops vdso_ops = {
	.name = "vdso",
	.pair = vdso_pair,
	.read_tsc = vdso_read_tsc,
	.read_mono = vdso_read_mono,
	.destroy = vdso_destroy,
};

int pvt_hostclock_init_vdso(struct pvt_hostclock *hc, uint64_t calib_ns)
{
	struct vdso_ctx *v;
	uint64_t t0, m0, t1, m1, w;
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
	/* Calibrate: two pairings calib_ns apart (busy wait, init only). */
	sandwich(&t0, &m0, &w);
	do {
		sandwich(&t1, &m1, &w);
	} while (m1 - m0 < calib_ns);
	ret = pvt_rate_from_delta(m1 - m0, t1 - t0, &v->rate);
	if (!ret)
		ret = pvt_hostclock_init_ops(hc, &vdso_ops, v, CLOCK_MONOTONIC,
					     flags, &v->rate);
	if (ret) {
		free(v);
		return ret;
	}
	return 0;
}
#else
int pvt_hostclock_init_vdso(struct pvt_hostclock *hc, uint64_t calib_ns)
{
	(void)hc;
	(void)calib_ns;
	return -ENOTSUP;
}
#endif

// SPDX-License-Identifier: MIT
/* Naive reference arithmetic for the property tests (see ref_pvclock.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ref_pvclock.h"

struct ref_u128 ref_mul_64x64(uint64_t a, uint64_t b)
{
	uint32_t x[2] = { (uint32_t)a, (uint32_t)(a >> 32) };
	uint32_t y[2] = { (uint32_t)b, (uint32_t)(b >> 32) };
	uint32_t w[4] = { 0, 0, 0, 0 };

	/* Schoolbook: each partial product is added limb by limb with carry. */
	for (int i = 0; i < 2; i++) {
		uint64_t carry = 0;

		for (int k = 0; k < 2; k++) {
			uint64_t t = (uint64_t)x[i] * y[k] + w[i + k] + carry;

			w[i + k] = (uint32_t)t;
			carry = t >> 32;
		}
		w[i + 2] = (uint32_t)carry;
	}
	return (struct ref_u128){
		.hi = ((uint64_t)w[3] << 32) | w[2],
		.lo = ((uint64_t)w[1] << 32) | w[0],
	};
}

struct ref_u128 ref_shr(struct ref_u128 v, unsigned n)
{
	if (n >= 64)
		return (struct ref_u128){ .hi = 0, .lo = v.hi >> (n - 64) };
	if (n == 0)
		return v;
	return (struct ref_u128){ .hi = v.hi >> n, .lo = (v.lo >> n) | (v.hi << (64 - n)) };
}

int ref_cmp(struct ref_u128 a, struct ref_u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

uint64_t ref_scale_delta(uint64_t delta, uint32_t mul, int shift)
{
	uint64_t lo_part, hi_part;

	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	/* (delta * mul) >> 32 = hi32(delta) * mul + ((lo32(delta) * mul) >> 32): exact, fits 64 bits. */
	lo_part = (delta & 0xffffffffu) * (uint64_t)mul;
	hi_part = (delta >> 32) * (uint64_t)mul;
	return hi_part + (lo_part >> 32);
}

struct ref_u128 ref_tsc_scale_full(uint64_t x, uint64_t ratio, unsigned frac_bits)
{
	return ref_shr(ref_mul_64x64(x, ratio), frac_bits);
}

uint64_t ref_tsc_scale(uint64_t x, uint64_t ratio, unsigned frac_bits)
{
	return ref_tsc_scale_full(x, ratio, frac_bits).lo;
}

static int bitlen(uint64_t v)
{
	int n = 0;

	while (v) {
		v >>= 1;
		n++;
	}
	return n;
}

/* floor(n_hi:n_lo / d) one bit at a time; -1 if the quotient exceeds 64 bits. */
static int ref_divide(struct ref_u128 n, uint64_t d, uint64_t *q_out)
{
	struct ref_u128 rem = { 0, 0 };
	uint64_t q = 0;

	for (int bit = 127; bit >= 0; bit--) {
		uint64_t in = bit >= 64 ? (n.hi >> (bit - 64)) & 1 : (n.lo >> bit) & 1;

		rem.hi = (rem.hi << 1) | (rem.lo >> 63);
		rem.lo = (rem.lo << 1) | in;
		if (rem.hi || rem.lo >= d) {
			/* rem < 2d always, so a single subtraction suffices. */
			uint64_t borrow = rem.lo < d;

			rem.lo -= d;
			rem.hi -= borrow;
			if (bit >= 64)
				return -1;
			q |= 1ull << bit;
		}
	}
	*q_out = q;
	return 0;
}

int ref_time_scale(uint64_t scaled_hz, uint64_t base_hz, uint32_t *mul, int *shift)
{
	uint64_t s = scaled_hz, twice = scaled_hz * 2, t = 0, q;
	int n, sh;

	if (!scaled_hz || !base_hz)
		return -1;
	/* Stage 1 in closed form: the first n where base >> n is <= 2s (mod 2^64) and < 2^32. */
	for (n = 0; n < 64; n++) {
		t = base_hz >> n;
		if (t <= twice && t < (1ull << 32))
			break;
	}
	if (n == 64)
		t = 0;
	if (!t)
		return -1;	/* KVM's loop would spin forever here */
	sh = -n;
	/* Stage 2: bring s under 2^32, double t while that helps, then halve s. */
	if (bitlen(s) > 32) {
		int k = bitlen(s) - 32;

		s >>= k;
		sh += k;
	}
	if (t <= s) {
		int room = 32 - bitlen(t), j = 0;

		while (j < room && (t << j) <= s)
			j++;
		t <<= j;
		sh += j;
		while (t <= s) {
			s >>= 1;
			sh++;
		}
	}
	if (sh < -63 || sh > 63)
		return -1;
	if (ref_divide((struct ref_u128){ .hi = s >> 32, .lo = s << 32 }, t, &q) || q >> 32)
		return -1;
	*mul = (uint32_t)q;
	*shift = sh;
	return 0;
}

int ref_tsc_ratio(uint64_t host_khz, uint64_t guest_khz, unsigned frac_bits, uint64_t *ratio)
{
	struct ref_u128 n = { .hi = frac_bits ? guest_khz >> (64 - frac_bits) : 0,
			      .lo = guest_khz << frac_bits };

	if (!host_khz)
		return -1;
	return ref_divide(n, host_khz, ratio);
}

int ref_scale_delta_inverse(uint64_t ns, uint32_t mul, int shift, uint64_t *d)
{
	uint64_t lo = 0, hi = shift > 0 ? UINT64_MAX >> shift : UINT64_MAX;

	/* Deltas past hi would wrap the left shift: scale_delta is monotonic only below. */
	if (ref_scale_delta(hi, mul, shift) < ns)
		return -1;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (ref_scale_delta(mid, mul, shift) >= ns)
			hi = mid;
		else
			lo = mid + 1;
	}
	*d = lo;
	return 0;
}

int ref_tsc_scale_inverse(uint64_t from, uint64_t delta, uint64_t ratio,
			  unsigned frac_bits, uint64_t *h)
{
	struct ref_u128 target = ref_tsc_scale_full(from, ratio, frac_bits);
	uint64_t lo = from, hi = UINT64_MAX;

	if (!ratio)
		return -1;
	target.lo += delta;
	target.hi += target.lo < delta;
	if (ref_cmp(ref_tsc_scale_full(hi, ratio, frac_bits), target) < 0)
		return -1;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (ref_cmp(ref_tsc_scale_full(mid, ratio, frac_bits), target) >= 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*h = lo;
	return 0;
}

uint64_t ref_clock_ns(const struct ref_clock *c, uint64_t host_tsc)
{
	uint64_t guest_tsc = ref_tsc_scale(host_tsc, c->ratio, c->frac_bits) + c->offset;

	return c->system_time + ref_scale_delta(guest_tsc - c->tsc_timestamp, c->mul, c->shift);
}

int ref_reaches(uint64_t ahead_ns, uint64_t wait_ns)
{
	/* wait_ns is in (0, 2^63): reached once the reading is in [wait_ns, 2^63) ahead. */
	return ahead_ns >= wait_ns && ahead_ns < (1ull << 63);
}

/* The guest's TSC delta from tsc_timestamp k guest ticks after now, and its wrap count. */
struct ref_guest {
	const struct ref_clock *c;
	uint64_t delta0;	/* (guest TSC at now - tsc_timestamp) mod 2^64 */
};

/*
 * How many times the shifted delta has wrapped 2^64 since delta0's run began,
 * from the full-width value ((delta0 + k) << shift) computed in 128 bits.
 */
static uint64_t run_index(const struct ref_guest *g, uint64_t k)
{
	struct ref_u128 v = { .hi = g->delta0 + k < k, .lo = g->delta0 + k };

	if (g->c->shift <= 0)
		return v.hi;
	v = ref_mul_64x64(v.lo, 1ull << g->c->shift);
	return v.hi + (g->delta0 + k < k ? 1ull << g->c->shift : 0);
}

/* ns from tsc_timestamp at guest tick k: monotonic in k inside one run. */
static uint64_t delta_ns_at(const struct ref_guest *g, uint64_t k)
{
	return ref_scale_delta(g->delta0 + k, g->c->mul, g->c->shift);
}

/* First k in [lo, hi] with pred(k), pred monotone (false then true); hi + 1 if none (may wrap to 0). */
#define FIRST_TRUE(lo, hi, pred_k, out)                                   \
	do {                                                              \
		uint64_t l_ = (lo), h_ = (hi), k;                         \
		int any_;                                                 \
		k = h_;                                                   \
		any_ = (pred_k);                                          \
		if (!any_) {                                              \
			(out) = h_ + 1;                                   \
			break;                                            \
		}                                                         \
		while (l_ < h_) {                                         \
			k = l_ + (h_ - l_) / 2;                           \
			if (pred_k)                                       \
				h_ = k;                                   \
			else                                              \
				l_ = k + 1;                               \
		}                                                         \
		(out) = l_;                                               \
	} while (0)

int ref_deadline_host_tsc(const struct ref_clock *c, uint64_t now, uint64_t deadline_ns,
			  uint64_t *host_tsc, uint64_t *guest_ahead)
{
	uint64_t guest_now = ref_tsc_scale(now, c->ratio, c->frac_bits) + c->offset;
	struct ref_guest g = { .c = c, .delta0 = guest_now - c->tsc_timestamp };
	uint64_t now_ns = ref_clock_ns(c, now), wait = deadline_ns - now_ns;
	uint64_t d0 = delta_ns_at(&g, 0), best = UINT64_MAX, start = 0, h;
	/* The window of ns-from-timestamp values that reach: [d0 + wait, d0 + 2^63) mod 2^64. */
	struct ref_u128 lo = { .hi = d0 + wait < d0, .lo = d0 + wait };
	struct ref_u128 hi = { .hi = d0 + (1ull << 63) < d0, .lo = d0 + (1ull << 63) };
	uint64_t win[2][2];
	int nwin;

	*host_tsc = now;
	*guest_ahead = 0;
	if (wait == 0 || wait >= 1ull << 63)
		return 0;
	if (hi.hi == 0 || lo.hi) {
		/* Both ends on the same side of 2^64. */
		win[0][0] = lo.lo, win[0][1] = hi.lo, nwin = 1;
	} else {
		/* [lo, 2^64) and [0, hi - 2^64); an upper end of 0 stands for 2^64. */
		win[0][0] = lo.lo, win[0][1] = 0, win[1][0] = 0, win[1][1] = hi.lo;
		nwin = hi.lo ? 2 : 1;
	}
	/*
	 * The run now is in, then the next one. Every later run (only shift > 0
	 * has them) visits the same ns values at the same positions as the
	 * next one, and the last partial run a prefix of them, so it adds nothing.
	 */
	for (int run = 0; run < 2; run++) {
		uint64_t base = run_index(&g, start), end;

		FIRST_TRUE(start, UINT64_MAX, run_index(&g, k) != base, end);
		/* The run is [start, end - 1]; end == 0 means it reaches the horizon. */
		for (int w = 0; w < nwin; w++) {
			uint64_t first;

			FIRST_TRUE(start, end - 1, delta_ns_at(&g, k) >= win[w][0], first);
			if (first == end)
				continue;
			if ((win[w][1] == 0 || delta_ns_at(&g, first) < win[w][1]) && first < best)
				best = first;
		}
		if (best != UINT64_MAX || end == 0)
			break;
		start = end;
	}
	*guest_ahead = best;
	if (best == UINT64_MAX || best == 0)
		return -1;
	if (ref_tsc_scale_inverse(now, best, c->ratio, c->frac_bits, &h))
		return -1;
	if (!ref_reaches(ref_clock_ns(c, h) - now_ns, wait))
		return -1;
	*host_tsc = h;
	return 0;
}

uint64_t ref_rand(struct ref_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

uint64_t ref_rand_range(struct ref_rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo;

	if (span == UINT64_MAX)
		return ref_rand(r);
	return lo + ref_rand(r) % (span + 1);
}

uint64_t ref_rand_edge(struct ref_rng *r)
{
	unsigned k = (unsigned)ref_rand_range(r, 0, 63);
	uint64_t small = ref_rand_range(r, 0, 7);

	switch (ref_rand_range(r, 0, 6)) {
	case 0:
		return small;
	case 1:
		return (1ull << k) + small - 3;
	case 2:
		return UINT64_MAX - small;
	case 3:
		return (1ull << k) - 1;
	case 4:
		return ref_rand(r) >> k;
	default:
		return ref_rand(r);
	}
}

int ref_rand_shift(struct ref_rng *r)
{
	static const int edges[] = { -63, -62, -33, -32, -31, -1, 0, 1, 31, 32, 33, 62, 63 };

	if (ref_rand_range(r, 0, 1))
		return edges[ref_rand_range(r, 0, sizeof(edges) / sizeof(edges[0]) - 1)];
	return (int)ref_rand_range(r, 0, 126) - 63;
}

uint64_t ref_seed(const char *test)
{
	const char *env = getenv("PVT_TEST_SEED");
	uint64_t seed;

	if (env && *env)
		seed = strtoull(env, NULL, 0);
	else
		seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
	if (!seed)
		seed = 1;
	fprintf(stderr, "%s: random seed %" PRIu64 " (rerun with PVT_TEST_SEED=%" PRIu64 ")\n",
		test, seed, seed);
	return seed;
}

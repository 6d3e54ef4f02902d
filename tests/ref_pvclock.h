/* SPDX-License-Identifier: MIT */
/*
 * Test-side reference arithmetic: deliberately naive and structured
 * differently from lib/ (32-bit limbs, bit-at-a-time division, closed forms,
 * binary searches) so that a shared mistake is unlikely.
 */
#ifndef PVTIME_TESTS_REF_PVCLOCK_H
#define PVTIME_TESTS_REF_PVCLOCK_H

#include <stdint.h>

/* A 128-bit unsigned value as two 64-bit halves. */
struct ref_u128 {
	uint64_t hi, lo;
};

/* a * b by schoolbook multiplication on 32-bit limbs. */
struct ref_u128 ref_mul_64x64(uint64_t a, uint64_t b);
/* v >> n for 0 <= n < 128. */
struct ref_u128 ref_shr(struct ref_u128 v, unsigned n);
/* -1, 0, 1 as a <, ==, > b. */
int ref_cmp(struct ref_u128 a, struct ref_u128 b);

/* ((delta shifted) * mul) >> 32 via 32-bit limbs. */
uint64_t ref_scale_delta(uint64_t delta, uint32_t mul, int shift);
/* Low 64 bits of (x * ratio) >> frac_bits. */
uint64_t ref_tsc_scale(uint64_t x, uint64_t ratio, unsigned frac_bits);
/* Full-width (x * ratio) >> frac_bits. */
struct ref_u128 ref_tsc_scale_full(uint64_t x, uint64_t ratio, unsigned frac_bits);
/* kvm_get_time_scale() in closed form; -1 when the shift leaves [-63, 63] or an input is 0. */
int ref_time_scale(uint64_t scaled_hz, uint64_t base_hz, uint32_t *mul, int *shift);
/* floor(2^frac * guest / host) by bitwise long division; -1 if it exceeds 64 bits. */
int ref_tsc_ratio(uint64_t host_khz, uint64_t guest_khz, unsigned frac_bits, uint64_t *ratio);
/* Smallest d with ref_scale_delta(d) >= ns by binary search over non-wrapping d; -1 if none. */
int ref_scale_delta_inverse(uint64_t ns, uint32_t mul, int shift, uint64_t *d);
/* Smallest h >= from with full(h) >= full(from) + delta by binary search; -1 if none. */
int ref_tsc_scale_inverse(uint64_t from, uint64_t delta, uint64_t ratio,
			  unsigned frac_bits, uint64_t *h);

/* A guest clock spelled out for the reference: host TSC -> guest TSC -> ns. */
struct ref_clock {
	uint64_t ratio, offset;		/* guest TSC = ((host * ratio) >> frac_bits) + offset */
	unsigned frac_bits;
	uint64_t tsc_timestamp, system_time;
	uint32_t mul;
	int shift;
};

/* The guest clock at a host TSC, as the guest computes it (mod 2^64). */
uint64_t ref_clock_ns(const struct ref_clock *c, uint64_t host_tsc);
/* The clock reading ahead_ns past the reading at now "reaches" deadline: signed, relative to now. */
int ref_reaches(uint64_t ahead_ns, uint64_t wait_ns);

/*
 * The inverse's rule by an independent search: the first guest tick within
 * 2^64 - 1 ticks after now's whose reading reaches the deadline (binary
 * searches per monotonic run and window interval), then the first host TSC
 * at or past it, kept only if its reading reaches the deadline too.
 * 0 and *host_tsc, or -1 (skipped) with *guest_ahead set to the first
 * reaching guest tick (UINT64_MAX if none) so callers can probe around it.
 */
int ref_deadline_host_tsc(const struct ref_clock *c, uint64_t now, uint64_t deadline_ns,
			  uint64_t *host_tsc, uint64_t *guest_ahead);

/* xorshift64* generator with the biased draws the property tests use. */
struct ref_rng {
	uint64_t s;
};

uint64_t ref_rand(struct ref_rng *r);
/* Uniform-ish in [lo, hi]. */
uint64_t ref_rand_range(struct ref_rng *r, uint64_t lo, uint64_t hi);
/* A 64-bit value biased toward edges: 0, tiny, powers of two +-1, near 2^64, random widths. */
uint64_t ref_rand_edge(struct ref_rng *r);
/* A shift biased toward +-31/32/63 and 0. */
int ref_rand_shift(struct ref_rng *r);

/* The seed for property tests: PVT_TEST_SEED if set, else time-based; printed. */
uint64_t ref_seed(const char *test);

#endif

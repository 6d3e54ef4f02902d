// SPDX-License-Identifier: MIT
/*
 * Property tests: every optimized path in lib/ equals the naive reference in
 * ref_pvclock.c, and the inverses are exact, over inputs biased toward the
 * edges (near 2^64, shifts +-31/32/63, extreme ratios, tiny/huge deltas).
 * Each property runs with a fixed seed and a time-based one (printed; set
 * PVT_TEST_SEED to replay). PVT_TEST_SCALE multiplies the iteration counts.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pvtime/pvclock.h"
#include "ref_pvclock.h"

#define FIXED_SEED 0x9e3779b97f4a7c15ull

static uint64_t iterations(uint64_t base)
{
	const char *env = getenv("PVT_TEST_SCALE");
	double f = env ? strtod(env, NULL) : 1.0;

	return f > 0 ? (uint64_t)((double)base * f) + 1 : base;
}

/* Runs body(rng, seed) with the fixed seed and then a fresh one. */
#define FOR_EACH_SEED(name, rng, seed)                                                  \
	for (uint64_t seeds_[2] = { FIXED_SEED, ref_seed(name) }, i_ = 0, seed = seeds_[0]; \
	     i_ < 2; seed = seeds_[++i_ < 2 ? i_ : 0])                                      \
		for (struct ref_rng rng = { seed }, *once_ = &rng; once_; once_ = NULL)

static uint32_t rand_mul(struct ref_rng *r)
{
	return (uint32_t)ref_rand_edge(r) | (ref_rand_range(r, 0, 3) ? 0 : 0x80000000u);
}

static void scale_delta_equals_reference(void **state)
{
	(void)state;
	FOR_EACH_SEED("scale_delta", rng, seed) {
		for (uint64_t i = 0, n = iterations(1000000); i < n; i++) {
			uint64_t d = ref_rand_edge(&rng);
			uint32_t mul = rand_mul(&rng);
			int shift = ref_rand_shift(&rng);
			uint64_t got = pvt_scale_delta(d, mul, (int8_t)shift);
			uint64_t want = ref_scale_delta(d, mul, shift);

			if (got != want)
				fail_msg("seed %" PRIu64 ": scale_delta(%" PRIu64 ", %u, %d) = %" PRIu64
					 ", reference %" PRIu64, seed, d, mul, shift, got, want);
		}
	}
}

static void tsc_scale_equals_reference(void **state)
{
	(void)state;
	FOR_EACH_SEED("tsc_scale", rng, seed) {
		for (uint64_t i = 0, n = iterations(1000000); i < n; i++) {
			uint64_t x = ref_rand_edge(&rng), ratio = ref_rand_edge(&rng);
			unsigned frac = ref_rand_range(&rng, 0, 1) ? 48 : 32;
			uint64_t got = pvt_tsc_scale(x, ratio, frac);
			uint64_t want = ref_tsc_scale(x, ratio, frac);

			if (got != want)
				fail_msg("seed %" PRIu64 ": tsc_scale(%" PRIu64 ", %" PRIu64 ", %u) = %" PRIu64
					 ", reference %" PRIu64, seed, x, ratio, frac, got, want);
		}
	}
}

static void time_scale_equals_reference(void **state)
{
	(void)state;
	FOR_EACH_SEED("time_scale", rng, seed) {
		for (uint64_t i = 0, n = iterations(400000); i < n; i++) {
			/* Mostly KVM's own use (10^9 over a kHz-derived Hz), then anything. */
			uint64_t scaled = ref_rand_range(&rng, 0, 1) ? PVT_NSEC_PER_SEC : ref_rand_edge(&rng);
			uint64_t base = ref_rand_range(&rng, 0, 1) ?
				ref_rand_range(&rng, 0, 0xffffffffull) * 1000 : ref_rand_edge(&rng);
			uint32_t mul = 0, rmul = 0;
			int8_t shift = 0;
			int rshift = 0;
			int got = pvt_time_scale(scaled, base, &mul, &shift);
			int want = ref_time_scale(scaled, base, &rmul, &rshift);

			if ((got == 0) != (want == 0) || (!got && (mul != rmul || shift != rshift)))
				fail_msg("seed %" PRIu64 ": time_scale(%" PRIu64 ", %" PRIu64 ") = %d mul %u shift %d"
					 ", reference %d mul %u shift %d", seed, scaled, base,
					 got, mul, shift, want, rmul, rshift);
		}
	}
}

static void tsc_ratio_equals_reference(void **state)
{
	(void)state;
	FOR_EACH_SEED("tsc_ratio", rng, seed) {
		for (uint64_t i = 0, n = iterations(500000); i < n; i++) {
			uint32_t host = (uint32_t)ref_rand_edge(&rng), guest = (uint32_t)ref_rand_edge(&rng);
			unsigned frac = ref_rand_range(&rng, 0, 1) ? 48 : 32;
			uint64_t got = 0, want = 0;
			int ret = pvt_tsc_ratio(host, guest, frac, &got);
			int rret = host && guest ? ref_tsc_ratio(host, guest, frac, &want) : -1;

			if ((ret == 0) != (rret == 0) || (!ret && got != want))
				fail_msg("seed %" PRIu64 ": tsc_ratio(%u, %u, %u) = %d %" PRIu64
					 ", reference %d %" PRIu64, seed, host, guest, frac, ret, got,
					 rret, want);
		}
	}
}

static void scale_delta_inverse_exact(void **state)
{
	(void)state;
	FOR_EACH_SEED("scale_delta_inverse", rng, seed) {
		for (uint64_t i = 0, n = iterations(400000); i < n; i++) {
			uint32_t mul = rand_mul(&rng);
			int shift = ref_rand_shift(&rng);
			/* Half the targets are values the forward function really produces. */
			uint64_t ns = ref_rand_range(&rng, 0, 1) ?
				ref_scale_delta(ref_rand_edge(&rng), mul, shift) + ref_rand_range(&rng, 0, 2) :
				ref_rand_edge(&rng);
			uint64_t d = 0, rd = 0;
			int ret = pvt_scale_delta_inverse(ns, mul, (int8_t)shift, &d);
			int rret = ref_scale_delta_inverse(ns, mul, shift, &rd);

			if ((ret == 0) != (rret == 0) || (!ret && d != rd) || (ret && d != UINT64_MAX))
				fail_msg("seed %" PRIu64 ": scale_delta_inverse(%" PRIu64 ", %u, %d) = %d %" PRIu64
					 ", reference %d %" PRIu64, seed, ns, mul, shift, ret, d, rret, rd);
			if (ret)
				continue;
			if (pvt_scale_delta(d, mul, (int8_t)shift) < ns ||
			    (d && pvt_scale_delta(d - 1, mul, (int8_t)shift) >= ns))
				fail_msg("seed %" PRIu64 ": scale_delta_inverse(%" PRIu64 ", %u, %d) = %" PRIu64
					 " is not the first delta reaching it", seed, ns, mul, shift, d);
		}
	}
}

/* Ratios as hardware would see them: realistic kHz pairs, then raw edges. */
static uint64_t rand_ratio(struct ref_rng *r, unsigned frac)
{
	uint64_t ratio = 0;

	switch (ref_rand_range(r, 0, 3)) {
	case 0: {
		uint64_t host = ref_rand_range(r, 100000, 6000000);
		uint64_t guest = ref_rand_range(r, 100000, 6000000);

		ref_tsc_ratio(host, guest, frac, &ratio);
		break;
	}
	case 1:
		ratio = (1ull << frac) + ref_rand_range(r, 0, 6) - 3;
		break;
	case 2:
		ratio = ref_rand_range(r, 1, 3);
		break;
	default:
		ratio = ref_rand_edge(r);
	}
	return ratio ? ratio : 1;
}

static void tsc_scale_inverse_exact(void **state)
{
	(void)state;
	FOR_EACH_SEED("tsc_scale_inverse", rng, seed) {
		for (uint64_t i = 0, n = iterations(250000); i < n; i++) {
			unsigned frac = ref_rand_range(&rng, 0, 1) ? 48 : 32;
			uint64_t ratio = rand_ratio(&rng, frac);
			uint64_t from = ref_rand_edge(&rng);
			uint64_t delta = ref_rand_range(&rng, 0, 2) ? ref_rand_edge(&rng) >> ref_rand_range(&rng, 0, 63)
								  : ref_rand_edge(&rng);
			uint64_t h = 0, rh = 0;
			int ret = pvt_tsc_scale_inverse(from, delta, ratio, frac, &h);
			int rret = ref_tsc_scale_inverse(from, delta, ratio, frac, &rh);

			if ((ret == 0) != (rret == 0) || (!ret && h != rh) || (ret && h != UINT64_MAX))
				fail_msg("seed %" PRIu64 ": tsc_scale_inverse(%" PRIu64 ", %" PRIu64 ", %" PRIu64
					 ", %u) = %d %" PRIu64 ", reference %d %" PRIu64, seed, from, delta,
					 ratio, frac, ret, h, rret, rh);
			if (ret)
				continue;
			/* f(inv(x)) >= x and f(inv(x) - 1) < x, relative to from. */
			struct ref_u128 base = ref_tsc_scale_full(from, ratio, frac);
			struct ref_u128 at = ref_tsc_scale_full(h, ratio, frac);
			struct ref_u128 target = { base.hi + (base.lo + delta < base.lo), base.lo + delta };

			if (h < from || ref_cmp(at, target) < 0 ||
			    (h > from && ref_cmp(ref_tsc_scale_full(h - 1, ratio, frac), target) >= 0))
				fail_msg("seed %" PRIu64 ": tsc_scale_inverse(%" PRIu64 ", %" PRIu64 ", %" PRIu64
					 ", %u) = %" PRIu64 " is not the first host TSC reaching it",
					 seed, from, delta, ratio, frac, h);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scale_delta_equals_reference),
		cmocka_unit_test(tsc_scale_equals_reference),
		cmocka_unit_test(time_scale_equals_reference),
		cmocka_unit_test(tsc_ratio_equals_reference),
		cmocka_unit_test(scale_delta_inverse_exact),
		cmocka_unit_test(tsc_scale_inverse_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * The guest-clock model: KVM's scaling decision, the page it builds, the
 * legacy one-step drift vectors (python3 big-integer values from the formulas in
 * docs/design.md), and exactness of pvt_guest_clock_host_tsc_at() over random VM
 * configurations (ratios, offsets, uptime up to 10 years, re-snapshots),
 * checked against a binary search over a reference clock; on hostile clocks
 * its rule (one for every shift, also across a wrapped shifted delta) is
 * checked against a reference search, tick probes and a brute force.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pvtime/guestclock.h"
#include "ref_pvclock.h"
#include "test_clock_helpers.h"
#include "check_inverse.h"

#define YEAR_S	(365ull * 86400)

static void scaling_decision(void **state)
{
	(void)state;
	/* 2596136 kHz: tolerance window [2595486, 2596785]. */
	assert_false(pvt_kvm_scaling_needed(2596136, 2595486));
	assert_true(pvt_kvm_scaling_needed(2596136, 2595485));
	assert_false(pvt_kvm_scaling_needed(2596136, 2596785));
	assert_true(pvt_kvm_scaling_needed(2596136, 2596786));
	assert_false(pvt_kvm_scaling_needed(2596136, 2596100));
	assert_true(pvt_kvm_scaling_needed(2596136, 3000000));
}

static void page_for_scaled_vcpu(void **state)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;

	(void)state;
	assert_int_equal(pvt_kvm_clock_init(&kvm, 2596136, 48), 0);
	assert_int_equal(kvm.host_mul, 3308738291u);
	assert_int_equal(kvm.host_shift, -1);
	kvm.master_tsc = 224306150400000ull;	/* one day of host TSC */
	kvm.master_ns = 86400000000000ull;
	kvm.kvmclock_offset_ns = -1000;
	assert_int_equal(pvt_kvm_tsc_scaling(&kvm, 3000000, 12345, &tsc), 0);
	assert_int_equal(tsc.ratio, 325262208964387ull);
	assert_int_equal(tsc.offset, 12345);
	assert_int_equal(pvt_kvm_advertised_khz(&kvm, &tsc), 2999999);
	assert_int_equal(pvt_kvm_guest_clock(&kvm, &tsc, &clock), 0);
	assert_int_equal(clock.page.tsc_timestamp, 259199999999999ull + 12345);
	assert_int_equal(clock.page.system_time, 86400000000000ull - 1000);
	assert_int_equal(clock.page.tsc_to_system_mul, 2863312485u);
	assert_int_equal(clock.page.tsc_shift, -1);
	assert_int_equal(clock.page.version & 1, 0);
	assert_int_equal(clock.page.flags, PVT_PVCLOCK_TSC_STABLE);
	assert_int_equal(pvt_guest_clock_check(&clock), 0);

	/* Within tolerance: no scaling and the host's own kHz. */
	assert_int_equal(pvt_kvm_tsc_scaling(&kvm, 2596100, 0, &tsc), 0);
	assert_int_equal(tsc.ratio, 1ull << 48);
	assert_int_equal(pvt_kvm_advertised_khz(&kvm, &tsc), 2596136);
	/* Exactly half: the advertised kHz is exact. */
	assert_int_equal(pvt_kvm_tsc_scaling(&kvm, 1298068, 0, &tsc), 0);
	assert_int_equal(pvt_kvm_advertised_khz(&kvm, &tsc), 1298068);
}

static void model_rejects(void **state)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;

	(void)state;
	assert_int_equal(pvt_kvm_clock_init(&kvm, 0, 48), -EINVAL);
	assert_int_equal(pvt_kvm_clock_init(&kvm, 1000, 33), -EINVAL);
	assert_int_equal(pvt_kvm_clock_init(&kvm, 4294967295u, 48), 0);
	assert_int_equal(pvt_kvm_tsc_scaling(&kvm, 0, 0, &tsc), -EINVAL);
	/* A 1 kHz guest on a 4.29 THz host: KVM would advertise 0 kHz. */
	assert_int_equal(pvt_kvm_tsc_scaling(&kvm, 1, 0, &tsc), 0);
	assert_int_equal(pvt_kvm_guest_clock(&kvm, &tsc, &clock), -ERANGE);
	clock = (struct pvt_guest_clock){ .tsc = { .ratio = 0, .frac_bits = 48 } };
	assert_int_equal(pvt_guest_clock_check(&clock), -EINVAL);
	clock.tsc.ratio = 1;
	clock.tsc.frac_bits = 40;
	assert_int_equal(pvt_guest_clock_check(&clock), -EINVAL);
	clock.tsc.frac_bits = 32;
	clock.page.tsc_shift = 64;
	assert_int_equal(pvt_guest_clock_check(&clock), -EINVAL);
}

static void drift_vectors(void **state)
{
	(void)state;
	assert_int_equal(onestep_error_ns(2596136, 3000000, 48, 10), -3333);
	assert_int_equal(onestep_error_ns(2596136, 3000000, 48, 3600), -1199934);
	assert_int_equal(onestep_error_ns(2596136, 3000000, 48, 86400), -28798439);
	assert_int_equal(onestep_error_ns(2596136, 3000000, 48, 864000), -287984398);
	assert_int_equal(onestep_error_ns(2893202, 2500000, 32, 60), -23984);
	assert_int_equal(onestep_error_ns(2596136, 2596100, 48, 86400), 0);
	assert_int_equal(onestep_error_ns(3000000, 1500000, 48, YEAR_S), 0);
}

static void no_scaling_no_drift(void **state)
{
	struct ref_rng rng = { ref_seed("no_scaling_no_drift") };

	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint32_t host = (uint32_t)ref_rand_range(&rng, 100000, 6000000);
		/* Anything inside KVM's +-250 ppm window. */
		uint32_t guest = (uint32_t)ref_rand_range(&rng, host - host / 4000 + 1, host + host / 4000 - 1);
		uint64_t elapsed = ref_rand_range(&rng, 0, 10 * YEAR_S);

		if (onestep_error_ns(host, guest, ref_rand_range(&rng, 0, 1) ? 48 : 32, elapsed))
			fail_msg("host %u guest %u elapsed %" PRIu64 ": unscaled guest drifts", host,
				 guest, elapsed);
	}
}

/* The guest clock at h computed with the reference arithmetic only. */
static uint64_t clock_ref_ns(const struct pvt_guest_clock *c, uint64_t h)
{
	struct ref_clock rc = ref_clock_of(c);

	return ref_clock_ns(&rc, h);
}

static bool reached(const struct pvt_guest_clock *c, uint64_t h, uint64_t deadline)
{
	return (int64_t)(clock_ref_ns(c, h) - deadline) >= 0;
}

static uint32_t rand_guest_khz(struct ref_rng *r, uint32_t host)
{
	switch (ref_rand_range(r, 0, 5)) {
	case 0:
		return host;
	case 1:
		return host / 2;
	case 2:
		return (uint32_t)ref_rand_range(r, host - host / 4000, host + host / 4000);
	case 3:
		/* Extreme ratios, but no guest TSC past 10 GHz: 43 years of it must fit 64 bits. */
		return (uint32_t)ref_rand_range(r, host / 10 + 1, host * 10ull < 10000000 ? host * 10ull : 10000000);
	default:
		return (uint32_t)ref_rand_range(r, 200000, 6000000);
	}
}

static void host_tsc_at_exact(void **state)
{
	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		uint64_t seed = pass ? ref_seed("host_tsc_at_exact") : 0x5eed5eed5eedull;
		struct ref_rng rng = { seed };
		uint64_t cases = 0;

		while (cases < 100000) {
			struct pvt_kvm_clock kvm;
			struct pvt_tsc_scaling tsc;
			struct pvt_guest_clock clock;
			uint32_t host = (uint32_t)ref_rand_range(&rng, 100000, 6000000);
			uint32_t guest = rand_guest_khz(&rng, host);
			unsigned frac = ref_rand_range(&rng, 0, 1) ? 48 : 32;
			uint64_t ticks_per_year = YEAR_S * host * 1000;

			if (pvt_kvm_clock_init(&kvm, host, frac) ||
			    pvt_kvm_tsc_scaling(&kvm, guest, ref_rand_range(&rng, 0, 1) ? ref_rand(&rng) : 0, &tsc))
				fail_msg("seed %" PRIu64 ": host %u guest %u frac %u rejected", seed, host, guest, frac);
			kvm.master_tsc = ref_rand_range(&rng, 0, 1) ? 0 : ref_rand_range(&rng, 0, 10 * ticks_per_year);
			kvm.master_ns = ref_rand_range(&rng, 0, 10 * YEAR_S * PVT_NSEC_PER_SEC);
			kvm.kvmclock_offset_ns = (int64_t)ref_rand_range(&rng, 0, 2 * YEAR_S * PVT_NSEC_PER_SEC) -
						 (int64_t)(YEAR_S * PVT_NSEC_PER_SEC);
			if (kvm.kvmclock_offset_ns < 0 && (uint64_t)-kvm.kvmclock_offset_ns > kvm.master_ns)
				kvm.kvmclock_offset_ns = 0;

			for (int snap = 0; snap < 4; snap++, cases++) {
				uint64_t now, deadline, want, got = 0, lo, hi, now_ns, ahead_ns;
				const char *why;
				char buf[512];
				int ret;

				if (snap) {
					/* Master clock re-snapshot: KVM takes a new pair from the host clock. */
					uint64_t t = kvm.master_tsc + ref_rand_range(&rng, 0, ticks_per_year);

					kvm.master_ns = pvt_kvm_clock_legacy_ns(&kvm, t) - (uint64_t)kvm.kvmclock_offset_ns;
					kvm.master_tsc = t;
				}
				if (pvt_kvm_guest_clock(&kvm, &tsc, &clock))
					fail_msg("seed %" PRIu64 ": no page for host %u guest %u", seed, host, guest);
				now = kvm.master_tsc + ref_rand_range(&rng, 0, 10 * ticks_per_year);
				now_ns = clock_ref_ns(&clock, now);
				switch (ref_rand_range(&rng, 0, 4)) {
				case 0:
					ahead_ns = ref_rand_range(&rng, 0, 10);
					break;
				case 1:
					ahead_ns = ref_rand_range(&rng, 0, PVT_NSEC_PER_SEC);
					break;
				case 2:
					ahead_ns = ref_rand_range(&rng, 0, 10 * YEAR_S * PVT_NSEC_PER_SEC);
					break;
				case 3: /* in the past */
					ahead_ns = (uint64_t)-(int64_t)ref_rand_range(&rng, 1, 1ull << 40);
					break;
				default: /* >= 2^63 ahead reads as the past */
					ahead_ns = (1ull << 63) + ref_rand_range(&rng, 0, 1ull << 40);
				}
				deadline = now_ns + ahead_ns;

				ret = pvt_guest_clock_host_tsc_at(&clock, now, deadline, &got);
				why = check_inverse(&clock, now, deadline, &ret, buf, sizeof(buf));
				if (why)
					fail_msg("seed %" PRIu64 ": %s: %s", seed, why, buf);
				if ((int64_t)ahead_ns <= 0) {
					if (ret || got != now)
						fail_msg("seed %" PRIu64 ": past deadline gave %d %" PRIu64 ", want now %" PRIu64,
							 seed, ret, got, now);
					continue;
				}
				/* Independent bound: even at half speed the clock reaches it by hi. */
				lo = now;
				hi = now + (uint64_t)(((unsigned __int128)ahead_ns * host * 2) / 1000000) + 64;
				if (!reached(&clock, hi, deadline))
					fail_msg("seed %" PRIu64 ": reference bound too small", seed);
				while (lo < hi) {
					uint64_t mid = lo + (hi - lo) / 2;

					if (reached(&clock, mid, deadline))
						hi = mid;
					else
						lo = mid + 1;
				}
				want = lo;
				if (ret || got != want || !reached(&clock, got, deadline) ||
				    (got > now && reached(&clock, got - 1, deadline)))
					fail_msg("seed %" PRIu64 ": host %u guest %u frac %u offset %" PRIu64
						 " master %" PRIu64 "/%" PRIu64 " now %" PRIu64 " deadline %" PRIu64
						 ": got %d %" PRIu64 ", first host TSC reaching it %" PRIu64,
						 seed, host, guest, frac, tsc.offset, kvm.master_tsc, kvm.master_ns,
						 now, deadline, ret, got, want);
			}
		}
	}
}

/* A clock with every field drawn from the edge-biased generator. */
static void rand_edge_clock(struct ref_rng *r, struct pvt_guest_clock *c)
{
	c->tsc.frac_bits = ref_rand_range(r, 0, 1) ? 48 : 32;
	c->tsc.ratio = ref_rand_range(r, 0, 3) ? ref_rand_edge(r) : pvt_tsc_ratio_one(c->tsc.frac_bits);
	if (!c->tsc.ratio)
		c->tsc.ratio = 1;
	c->tsc.offset = ref_rand_edge(r);
	c->page = (struct pvt_pvclock_page){
		.version = 2,
		.tsc_timestamp = ref_rand_edge(r),
		.system_time = ref_rand_edge(r),
		.tsc_to_system_mul = (uint32_t)ref_rand_edge(r),
		.tsc_shift = (int8_t)ref_rand_shift(r),
	};
}

static void guest_clock_ns_equals_reference(void **state)
{
	struct ref_rng rng = { ref_seed("guest_clock_ns_equals_reference") };

	(void)state;
	for (int i = 0; i < 300000; i++) {
		struct pvt_guest_clock c;
		struct pvt_kvm_clock kvm = {
			.master_tsc = ref_rand_edge(&rng), .master_ns = ref_rand_edge(&rng),
			.kvmclock_offset_ns = (int64_t)ref_rand_edge(&rng),
			.host_mul = (uint32_t)ref_rand_edge(&rng), .host_shift = (int8_t)ref_rand_shift(&rng),
		};
		uint64_t h = ref_rand_edge(&rng), got, want;

		rand_edge_clock(&rng, &c);
		got = pvt_guest_clock_ns(&c, h);
		want = clock_ref_ns(&c, h);
		if (got != want)
			fail_msg("seed %" PRIu64 " case %d: guest clock at %" PRIu64 " = %" PRIu64 ", reference %" PRIu64,
				 rng.s, i, h, got, want);
		got = pvt_kvm_clock_legacy_ns(&kvm, h);
		want = kvm.master_ns + (uint64_t)kvm.kvmclock_offset_ns +
		       ref_scale_delta(h - kvm.master_tsc, kvm.host_mul, kvm.host_shift);
		if (got != want)
			fail_msg("legacy ns at %" PRIu64 " = %" PRIu64 ", reference %" PRIu64, h, got, want);
	}
}

/* A wait biased toward the edges of the signed window: tiny, 2^63 - small, any. */
static uint64_t rand_wait(struct ref_rng *r, const struct pvt_guest_clock *c)
{
	uint64_t tick_ns = ref_scale_delta(1, c->page.tsc_to_system_mul, c->page.tsc_shift);

	switch (ref_rand_range(r, 0, 4)) {
	case 0:
		return ref_rand_range(r, 0, 1000000);
	case 1:	/* within a few guest ticks' ns of now + 2^63 */
		return (1ull << 63) - ref_rand_range(r, 0, 4 * tick_ns + 4);
	case 2:
		return (1ull << 63) - ref_rand_range(r, 0, 1ull << ref_rand_range(r, 0, 63));
	default:
		return ref_rand_edge(r);
	}
}

/*
 * Hostile clocks (any ratio, offset, page, shift): every answer equals the
 * reference search of the rule and is the first host tick whose reading
 * reaches the deadline; every refusal is a real skip (check_inverse.h).
 */
static void host_tsc_at_hostile_clocks(void **state)
{
	uint64_t seed = ref_seed("host_tsc_at_hostile_clocks");
	struct ref_rng rng = { seed };
	unsigned solved = 0, refused = 0, next_run = 0;

	(void)state;
	for (int i = 0; i < 300000; i++) {
		struct pvt_guest_clock c;
		uint64_t now = ref_rand_edge(&rng), deadline, h;
		const char *why;
		char buf[512];
		int ret;

		rand_edge_clock(&rng, &c);
		if (ref_rand_range(&rng, 0, 3) == 0) {
			/* now's guest TSC delta past 2^(64 - shift), as a KVM-built page can have. */
			c.page.tsc_shift = (int8_t)ref_rand_range(&rng, 1, 63);
			c.page.tsc_timestamp = pvt_guest_tsc(&c.tsc, now) -
					       (ref_rand_edge(&rng) | 1ull << (64 - c.page.tsc_shift));
		}
		deadline = clock_ref_ns(&c, now) + rand_wait(&rng, &c);
		why = check_inverse(&c, now, deadline, &ret, buf, sizeof(buf));
		if (why)
			fail_msg("seed %" PRIu64 " case %d: %s: %s", seed, i, why, buf);
		if (ret) {
			refused++;
		} else if (pvt_guest_clock_host_tsc_at(&c, now, deadline, &h), h != now) {
			solved++;
			/* Answered after the clock's run wrapped: the fixed refusals. */
			next_run += pvt_scale_delta(pvt_guest_tsc(&c.tsc, h) - c.page.tsc_timestamp,
						    c.page.tsc_to_system_mul, c.page.tsc_shift) <
				    pvt_scale_delta(pvt_guest_tsc(&c.tsc, now) - c.page.tsc_timestamp,
						    c.page.tsc_to_system_mul, c.page.tsc_shift);
		}
	}
	print_message("hostile clocks: %u answered (%u after a wrap), %u refused\n", solved, next_run,
		      refused);
	/* The generator must reach every outcome. */
	assert_true(solved > 10000);
	assert_true(refused > 10000);
	assert_true(next_run > 100);
}

/* Far beyond any 64-bit TSC: saturate. */
static void host_tsc_at_saturates(void **state)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;
	uint64_t h = 0;

	(void)state;
	assert_int_equal(pvt_kvm_clock_init(&kvm, 3000000, 48), 0);
	assert_int_equal(pvt_kvm_tsc_scaling(&kvm, 1500000, 0, &tsc), 0);
	assert_int_equal(pvt_kvm_guest_clock(&kvm, &tsc, &clock), 0);
	/* The half-speed guest TSC tops out at 2^63 ticks = ~195 years; ask for 2^62 ns after ~146 years. */
	assert_int_equal(pvt_guest_clock_host_tsc_at(&clock, UINT64_MAX - 10, (1ull << 62) * 2 - 1, &h), -ERANGE);
	assert_int_equal(h, UINT64_MAX);
	/* A guest running 2x fast whose TSC would need to pass 2^64. */
	assert_int_equal(pvt_kvm_tsc_scaling(&kvm, 6000000, 0, &tsc), 0);
	assert_int_equal(pvt_kvm_guest_clock(&kvm, &tsc, &clock), 0);
	assert_int_equal(pvt_guest_clock_host_tsc_at(&clock, 0, (1ull << 63) - 1, &h), -ERANGE);
	assert_int_equal(h, UINT64_MAX);
	/*
	 * A 4x guest TSC steps 2^64 - 4 -> 2^64 (wraps to 0): a deadline that
	 * needs TSC delta 2^64 - 1 is never reached, though host TSC 2^62
	 * "scales past it" at full width.
	 */
	clock = (struct pvt_guest_clock){
		.tsc = { .ratio = 4ull << 32, .frac_bits = 32 },
		.page = { .tsc_to_system_mul = 0xffffffffu, .tsc_shift = 0 },
	};
	assert_int_equal(pvt_guest_clock_host_tsc_at(&clock, 1ull << 61,
						     UINT64_MAX - (1ull << 32), &h), -ERANGE);
	assert_int_equal(h, UINT64_MAX);
	assert_int_equal(pvt_guest_clock_host_tsc_at(&clock, 1ull << 61,
						     UINT64_MAX - (1ull << 32) - 3, &h), 0);
	assert_int_equal(h, (1ull << 62) - 1);
	/* Just reachable: answer checked by the forward function. */
	assert_int_equal(pvt_kvm_guest_clock(&kvm, &tsc, &clock), 0);
	assert_int_equal(pvt_guest_clock_host_tsc_at(&clock, 0, 3000000000ull * 1000, &h), 0);
	assert_true(pvt_guest_clock_ns(&clock, h) >= 3000000000ull * 1000);
	assert_true(pvt_guest_clock_ns(&clock, h - 1) < 3000000000ull * 1000);
}

/*
 * Issue #12's example: a 1 MHz vCPU (shift 10) whose TSC delta is past
 * 2^54, so the shifted delta has wrapped and the clock reads 5000 ns at
 * 2^63 + 5. It reads 10000 ns five ticks later; the inverse used to refuse.
 */
static void host_tsc_at_wrapped_shifted_delta(void **state)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;
	uint64_t now = (1ull << 63) + 5, h = 0;

	(void)state;
	assert_int_equal(pvt_kvm_clock_init(&kvm, 1000, 48), 0);
	assert_int_equal(pvt_kvm_tsc_scaling(&kvm, 1000, 0, &tsc), 0);
	assert_int_equal(pvt_kvm_guest_clock(&kvm, &tsc, &clock), 0);
	assert_int_equal(clock.page.tsc_shift, 10);
	assert_int_equal(pvt_guest_clock_ns(&clock, now), 5000);
	assert_int_equal(pvt_guest_clock_host_tsc_at(&clock, now, 10000, &h), 0);
	assert_int_equal(h, now + 5);
	assert_int_equal(pvt_guest_clock_ns(&clock, h), 10000);
	assert_int_equal(pvt_guest_clock_ns(&clock, h - 1), 9000);
	/* Readings step by 1000 ns: ..., now + 2^63 - 808, now + 2^63 + 192 (the past). */
	assert_int_equal(pvt_guest_clock_host_tsc_at(&clock, now, 5000 + (1ull << 63), &h), 0);
	assert_int_equal(h, now);
	assert_int_equal(pvt_guest_clock_host_tsc_at(&clock, now, 5000 + (1ull << 63) - 1000, &h), 0);
	assert_int_equal(pvt_guest_clock_ns(&clock, h) - 5000, (1ull << 63) - 808);
	assert_int_equal(pvt_guest_clock_ns(&clock, h + 1) - 5000, (1ull << 63) + 192);
	assert_int_equal(pvt_guest_clock_host_tsc_at(&clock, now, 5000 + (1ull << 63) - 807, &h), -ERANGE);
	assert_int_equal(h, UINT64_MAX);
}

/*
 * A deadline within one step of now + 2^63 follows one rule for every
 * shift: shift 0 with a 4x guest TSC and shift 2 with an unscaled one read
 * the same ns at every host TSC (..., now + 2^63 - 4, now + 2^63, ...).
 */
static void host_tsc_at_near_half_range(void **state)
{
	const uint64_t step_h = 2305843009750564864ull;	/* reads now + 2^63 - 4 */
	struct pvt_guest_clock clocks[2] = {
		{ .tsc = { .ratio = 4ull << 32, .frac_bits = 32 },
		  .page = { .tsc_to_system_mul = 0xffffffffu, .tsc_shift = 0 } },
		{ .tsc = { .ratio = 1ull << 32, .frac_bits = 32 },
		  .page = { .tsc_to_system_mul = 0xffffffffu, .tsc_shift = 2 } },
	};

	(void)state;
	for (int i = 0; i < 2; i++) {
		const struct pvt_guest_clock *c = &clocks[i];
		uint64_t now_ns = pvt_guest_clock_ns(c, 1), h = 0;

		assert_int_equal(now_ns, 3);
		assert_int_equal(pvt_guest_clock_ns(c, step_h) - now_ns, (1ull << 63) - 4);
		assert_int_equal(pvt_guest_clock_ns(c, step_h + 1) - now_ns, 1ull << 63);
		assert_int_equal(pvt_guest_clock_host_tsc_at(c, 1, now_ns + (1ull << 63) - 5, &h), 0);
		assert_int_equal(h, step_h);
		assert_int_equal(pvt_guest_clock_host_tsc_at(c, 1, now_ns + (1ull << 63) - 4, &h), 0);
		assert_int_equal(h, step_h);
		/* Next reading is now + 2^63, the past: the clock skips these. */
		for (uint64_t miss = 1; miss <= 3; miss++) {
			assert_int_equal(pvt_guest_clock_host_tsc_at(c, 1, now_ns + (1ull << 63) - miss, &h),
					 -ERANGE);
			assert_int_equal(h, UINT64_MAX);
		}
	}
}

/*
 * The run wraps and the clock reads ahead again: a page whose timestamp is
 * a few ticks past the guest's TSC reads ~2^64 ns into its run, and a
 * deadline just ahead is reached only after the delta wraps to 0.
 */
static void host_tsc_at_next_run(void **state)
{
	struct pvt_guest_clock c = {
		.tsc = { .ratio = 1ull << 48, .frac_bits = 48 },
		.page = { .tsc_timestamp = 1000, .system_time = 5000,
			  .tsc_to_system_mul = 0xffffffffu, .tsc_shift = 0 },
	};
	uint64_t now = 990, now_ns = pvt_guest_clock_ns(&c, now), h = 0;

	(void)state;
	/* 10 ticks behind the timestamp: 4294967295 * (2^64 - 10) >> 32 = 2^64 - 2^32 - 10. */
	assert_int_equal(now_ns, 5000 - (1ull << 32) - 10);
	/* At the timestamp the delta wraps to 0: the clock jumps ahead by 2^32 + 10 ns. */
	assert_int_equal(pvt_guest_clock_host_tsc_at(&c, now, now_ns + 9, &h), 0);
	assert_int_equal(h, 999);
	assert_int_equal(pvt_guest_clock_host_tsc_at(&c, now, now_ns + 10, &h), 0);
	assert_int_equal(h, 1000);
	assert_int_equal(pvt_guest_clock_host_tsc_at(&c, now, 5000, &h), 0);
	assert_int_equal(h, 1000);
	assert_int_equal(pvt_guest_clock_host_tsc_at(&c, now, 5001, &h), 0);
	assert_int_equal(h, 1002);	/* 4294967295 * 2 >> 32 = 1 */
	assert_int_equal(pvt_guest_clock_ns(&c, 1001), 5000);
}

/*
 * Brute force, independent of the reference search: guest ticks and then host
 * ticks are stepped one by one. With tsc_shift >= 54 a run is at most 1024
 * guest ticks and every later run reads the same ns at the same positions, so
 * two run lengths settle the rule completely; for other shifts (now placed
 * near the end of its run) a bounded scan checks what it can see.
 */
static void host_tsc_at_brute_force(void **state)
{
	uint64_t seed = ref_seed("host_tsc_at_brute_force");
	struct ref_rng rng = { seed };
	unsigned settled = 0, answered = 0;

	(void)state;
	for (int i = 0; i < 50000; i++) {
		struct pvt_guest_clock c;
		uint64_t now = ref_rand_edge(&rng), now_ns, wait, deadline, h = 0, limit, v0, k, t;
		bool complete = ref_rand_range(&rng, 0, 1);
		int ret, want_ret = -ERANGE;
		uint64_t want = UINT64_MAX;

		rand_edge_clock(&rng, &c);
		c.tsc.frac_bits = 32;
		c.tsc.ratio = ref_rand_range(&rng, 0, 2) ? ref_rand_range(&rng, 1ull << 30, 4ull << 32)
							 : 1ull << 32;
		v0 = pvt_guest_tsc(&c.tsc, now);
		if (complete) {
			c.page.tsc_shift = (int8_t)ref_rand_range(&rng, 54, 63);
			limit = 2ull << (64 - c.page.tsc_shift);
		} else {
			/* now a few ticks before its run ends. */
			uint64_t run = c.page.tsc_shift > 0 ? 1ull << (64 - c.page.tsc_shift) : 0;

			c.page.tsc_timestamp = v0 + ref_rand_range(&rng, 1, 64) - run;
			limit = 4096;
		}
		now_ns = clock_ref_ns(&c, now);
		switch (ref_rand_range(&rng, 0, 3)) {
		case 0:	/* a reading a few ticks ahead, give or take a ns */
			k = ref_rand_range(&rng, 1, limit);
			wait = clock_ref_ns(&c, now + k / 2) - now_ns + ref_rand_range(&rng, 0, 2) - 1;
			break;
		case 1:
			wait = (1ull << 63) - ref_rand_range(&rng, 1, 1ull << ref_rand_range(&rng, 0, 40));
			break;
		case 2:
			wait = ref_rand_range(&rng, 1, 1ull << ref_rand_range(&rng, 0, 63));
			break;
		default:
			wait = ref_rand_edge(&rng);
		}
		deadline = now_ns + wait;
		ret = pvt_guest_clock_host_tsc_at(&c, now, deadline, &h);
		if (wait == 0 || wait >= 1ull << 63) {
			if (ret || h != now)
				fail_msg("seed %" PRIu64 " case %d: past deadline gave %d %" PRIu64, seed, i, ret, h);
			continue;
		}
		/* The first guest tick whose reading reaches the deadline. */
		for (k = 1; k <= limit; k++) {
			uint64_t ns = c.page.system_time +
				      ref_scale_delta(v0 + k - c.page.tsc_timestamp,
						      c.page.tsc_to_system_mul, c.page.tsc_shift);

			if (ref_reaches(ns - now_ns, wait))
				break;
		}
		if (k <= limit) {
			/* The first host tick at or past it; no host tick before it may reach. */
			for (t = now + 1; t != 0; t++) {
				if (ref_reaches(clock_ref_ns(&c, t) - now_ns, wait) &&
				    pvt_guest_tsc(&c.tsc, t) - v0 < k)
					fail_msg("seed %" PRIu64 " case %d: host %" PRIu64 " reaches before guest tick %" PRIu64,
						 seed, i, t, k);
				if (pvt_guest_tsc(&c.tsc, t) - v0 >= k)
					break;
			}
			if (t != 0 && ref_reaches(clock_ref_ns(&c, t) - now_ns, wait))
				want_ret = 0, want = t;
		} else if (!complete) {
			/* Nothing seen: only an answer whose guest tick lies beyond the scan is possible. */
			if (!ret && pvt_guest_tsc(&c.tsc, h) - v0 <= limit)
				fail_msg("seed %" PRIu64 " case %d: answered %" PRIu64 " but no guest tick up to +%" PRIu64
					 " reaches the deadline", seed, i, h, limit);
			continue;
		}
		settled++;
		answered += !want_ret;
		if (ret != want_ret || h != want)
			fail_msg("seed %" PRIu64 " case %d: ratio %" PRIu64 " offset %" PRIu64 " page %" PRIu64 "/%" PRIu64
				 "/%u/%d now %" PRIu64 " deadline %" PRIu64 ": got %d %" PRIu64 ", brute force %d %" PRIu64,
				 seed, i, c.tsc.ratio, c.tsc.offset, c.page.tsc_timestamp, c.page.system_time,
				 c.page.tsc_to_system_mul, c.page.tsc_shift, now, deadline, ret, h, want_ret, want);
	}
	print_message("brute force: %u settled, %u answered\n", settled, answered);
	assert_true(settled > 20000);
	assert_true(answered > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scaling_decision),
		cmocka_unit_test(page_for_scaled_vcpu),
		cmocka_unit_test(model_rejects),
		cmocka_unit_test(drift_vectors),
		cmocka_unit_test(no_scaling_no_drift),
		cmocka_unit_test(host_tsc_at_exact),
		cmocka_unit_test(host_tsc_at_saturates),
		cmocka_unit_test(host_tsc_at_wrapped_shifted_delta),
		cmocka_unit_test(host_tsc_at_near_half_range),
		cmocka_unit_test(host_tsc_at_next_run),
		cmocka_unit_test(host_tsc_at_brute_force),
		cmocka_unit_test(guest_clock_ns_equals_reference),
		cmocka_unit_test(host_tsc_at_hostile_clocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

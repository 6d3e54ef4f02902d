// SPDX-License-Identifier: MIT
/*
 * Conversion exactness in simulation: for random VM configurations (TSC
 * ratio, offset, frac bits, uptime up to 10 years, master clock
 * re-snapshots while a timer is armed), the pvtime engine delivers the
 * expiry at the first true instant at which the guest clock reaches the
 * deadline (checked against a binary search over the exact model), never
 * before it and at most 1 ns after; and the host TSC it targets is the
 * first TSC tick at which the guest clock reaches the deadline.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "test_engine_harness.h"

#define YEAR_S		(365ull * 86400)
#define ITERATIONS	3000

/* A new master clock reference now, continuous with the old clock. */
static void resnapshot(struct harness *h)
{
	uint64_t now_tsc = pvt_simhost_tsc(h->sim);
	struct pvt_guest_clock next;

	h->kvm.master_ns = pvt_guest_clock_ns(&h->clock, now_tsc);
	h->kvm.master_tsc = now_tsc;
	assert_int_equal(pvt_kvm_guest_clock(&h->kvm, &h->clock.tsc, &next), 0);
	h->clock = next;
	for (unsigned i = 0; i < h->n; i++)
		assert_int_equal(h_set_guest_clock(h, h->vcpus[i], &h->clock), 0);
}

static uint64_t log_delta(uint64_t *seed)
{
	/* Log-uniform from 1 ns to ~17 s, with some exact zeros. */
	unsigned bits = (unsigned)(h_rand(seed) % 35);

	if (bits == 0)
		return 0;
	return h_rand(seed) & ((1ull << bits) - 1);
}

static void random_configs(void **state)
{
	uint64_t seed = 0x5eed0001, worst_late = 0, fired_now = 0;

	(void)state;
	for (int it = 0; it < ITERATIONS; it++) {
		struct harness h;
		struct h_cfg c;
		struct pvt_xen_timer ss;
		uint64_t deadline, arm_true, want, got, delta, from;
		bool snap = h_rand(&seed) % 3 == 0;

		h_cfg_default(&c);
		c.host_khz = 1000000 + (uint32_t)(h_rand(&seed) % 3000000);
		c.guest_khz = c.host_khz / 4 + (uint32_t)(h_rand(&seed) % (c.host_khz * 2ull));
		if (h_rand(&seed) % 4 == 0)
			c.guest_khz = c.host_khz;	/* unscaled */
		c.frac_bits = h_rand(&seed) & 1 ? 48 : 32;
		c.uptime_s = h_rand(&seed) % (10 * YEAR_S);
		c.tsc_offset = h_rand(&seed) & 1 ? h_rand(&seed) : 0;
		assert_int_equal(h_init(&h, &c), 0);

		delta = log_delta(&seed);
		deadline = h_guest_now(&h) + delta;
		arm_true = h.sim->true_ns;
		from = arm_true;
		assert_int_equal(h_set_timer_op(&h, h.vcpus[0], deadline), 0);
		xt_snapshot(h.vcpus[0], &ss, NULL, NULL, NULL, NULL);

		if (ss.armed) {
			/* The targeted TSC is the first tick that reaches the deadline. */
			assert_true(pvt_guest_clock_ns(&h.clock, ss.target_tsc) >= deadline);
			assert_true(pvt_guest_clock_ns(&h.clock, ss.target_tsc - 1) < deadline);
		}
		if (snap && ss.armed) {
			uint64_t mid = arm_true + (h_rand(&seed) % (delta + 1)) / 2;

			pvt_simhost_run_until(h.sim, mid);
			if (!h.logs[0].singleshot) {
				resnapshot(&h);
				/* The new page reads garbage before its reference. */
				from = h.sim->true_ns;
			}
		}
		pvt_simhost_run_until(h.sim, UINT64_MAX / 2 > arm_true + 4 * delta + 1000000 ?
						      arm_true + 4 * delta + 1000000 : UINT64_MAX / 2);
		if (h.logs[0].singleshot != 1)
			fail_msg("iteration %d: %" PRIu64 " deliveries, expected 1 (khz %u->%u delta %" PRIu64 ")",
				 it, h.logs[0].singleshot, c.host_khz, c.guest_khz, delta);
		got = h.logs[0].last_true_ns;
		want = h_first_true_at(&h, from, deadline);
		if (got < want || got - want > 1)
			fail_msg("iteration %d: fired at true %" PRIu64 ", first instant %" PRIu64
				 " (khz %u->%u frac %u uptime %" PRIu64 " s delta %" PRIu64 " snap %d)",
				 it, got, want, c.host_khz, c.guest_khz, c.frac_bits,
				 c.uptime_s, delta, snap);
		/* Never early on the guest's own clock. */
		assert_true(pvt_guest_clock_ns(&h.clock, h.logs[0].last_tsc) >= deadline);
		if (got - want > worst_late)
			worst_late = got - want;
		fired_now += got == arm_true;
		h_destroy(&h);
	}
	printf("# %d configurations: worst lateness %" PRIu64 " ns, %" PRIu64 " immediate\n",
	       ITERATIONS, worst_late, fired_now);
}

/* Deadlines at or before now are delivered from the hypercall itself. */
static void past_deadline_is_immediate(void **state)
{
	struct harness h;
	struct h_cfg c;
	uint64_t now;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	now = h_guest_now(&h);
	assert_int_equal(h_set_timer_op(&h, h.vcpus[0], now), 0);
	assert_int_equal(h.logs[0].singleshot, 1);
	assert_int_equal(h.logs[0].last_true_ns, h.sim->true_ns);
	assert_int_equal(h_set_timer_op(&h, h.vcpus[0], now - 1000), 0);
	assert_int_equal(h.logs[0].singleshot, 2);
	assert_int_equal(pvt_simhost_run_until(h.sim, h.sim->true_ns + 1000000000ull), 0);
	assert_int_equal(h.logs[0].singleshot, 2);
	h_destroy(&h);
}

/*
 * KVM_SET_CLOCK moves the guest clock back by 1 s, or a TSC write moves
 * the guest TSC (and KVM re-stamps the page), under an armed timer: it
 * fires when the new clock reaches the deadline (the guest asked in its
 * own time), for every algorithm.
 */
static void clock_change_reconverts(void **state)
{
	(void)state;
	for (int a = PVT_ALGO_LEGACY; a <= PVT_ALGO_PVTIME; a++) {
		for (int kind = 0; kind < 2; kind++) {
			struct harness h;
			struct h_cfg c;
			struct pvt_tsc_scaling tsc;
			uint64_t deadline, first;

			h_cfg_default(&c);
			c.vm.algo = (enum pvt_timer_algo)a;
			assert_int_equal(h_init(&h, &c), 0);
			deadline = h_guest_now(&h) + 10000000;
			assert_int_equal(h_set_timer_op(&h, h.vcpus[0], deadline), 0);
			pvt_simhost_run_until(h.sim, h.sim->true_ns + 1000000);
			if (kind == 0) {
				h.kvm.kvmclock_offset_ns -= 1000000000;	/* KVM_SET_CLOCK */
			} else {
				/*
				 * The guest writes its TSC back by 0.5 s of ticks: KVM
				 * re-stamps the page, the clock reads the same, but the
				 * old page no longer matches the guest TSC.
				 */
				h.clock.tsc.offset -= 1500000000ull;
			}
			tsc = h.clock.tsc;
			assert_int_equal(pvt_kvm_guest_clock(&h.kvm, &tsc, &h.clock), 0);
			assert_int_equal(h_set_guest_clock(&h, h.vcpus[0], &h.clock), 0);
			first = h_first_true_at(&h, h.sim->true_ns, deadline);
			if (kind == 0)
				assert_true(first > h.sim->true_ns + 900000000);
			pvt_simhost_run_until(h.sim, first + 2000000000ull);
			assert_int_equal(h.logs[0].singleshot, 1);
			/* legacy keeps its one-step view (h.kvm changed too), so all agree to us. */
			if (h.logs[0].last_true_ns < first - (a == PVT_ALGO_LEGACY ? 10000 : 0) ||
			    h.logs[0].last_true_ns > first + (a == PVT_ALGO_PVTIME ? 1 : 10000))
				fail_msg("%s change %d: fired at %" PRIu64 ", right instant %" PRIu64,
					 pvt_timer_algo_name(a), kind, h.logs[0].last_true_ns, first);
			h_destroy(&h);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_configs),
		cmocka_unit_test(past_deadline_is_immediate),
		cmocka_unit_test(clock_change_reconverts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

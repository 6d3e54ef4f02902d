// SPDX-License-Identifier: MIT
/*
 * Periodic timers: ticks on an exact guest-time grid (each at the first
 * instant the guest clock reaches start + k x period, whatever the wake-up
 * latency), missed ticks coalesced into one event with the grid kept, the
 * Xen-compatible re-phasing option, periodic and singleshot sharing one
 * host timer, and no tick after stop.
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

#define MS	1000000ull

static void exact_grid(void **state)
{
	(void)state;
	for (int lat = 0; lat < 2; lat++) {
		struct harness h;
		struct h_cfg c;
		struct pvt_xen_timer per;
		uint64_t g0, worst = 0;

		h_cfg_default(&c);
		c.wake_latency_ns = lat ? 300000 : 0;
		c.slew_ppt = 250 * PVT_PPT_PER_PPM;
		assert_int_equal(h_init(&h, &c), 0);
		g0 = h_guest_now(&h);
		assert_int_equal(h_set_periodic(&h, h.vcpus[0], MS), 0);
		for (uint64_t k = 1; k <= 2000; k++) {
			uint64_t first = h_first_true_at(&h, h.sim->true_ns, g0 + k * MS);

			assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
			while (h.logs[0].periodic < k)
				assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
			assert_int_equal(h.logs[0].periodic, k);
			/*
			 * Never before the grid instant; with no latency at most
			 * 1 ns after; with latency at most latency + 1 after (a
			 * two-stage wake may absorb part of it).
			 */
			if (h.logs[0].last_true_ns < first ||
			    h.logs[0].last_true_ns > first + c.wake_latency_ns + 1)
				fail_msg("latency %" PRIu64 ": tick %" PRIu64 " at %" PRIu64
					 ", grid instant %" PRIu64, c.wake_latency_ns, k,
					 h.logs[0].last_true_ns, first);
			if (h.logs[0].last_true_ns - first > worst)
				worst = h.logs[0].last_true_ns - first;
			/* The next tick stays on the grid, latency or not. */
			xt_snapshot(h.vcpus[0], NULL, &per, NULL, NULL, NULL);
			assert_int_equal(per.deadline_ns, g0 + (k + 1) * MS);
		}
		printf("# wake latency %" PRIu64 " ns: 2000 ticks on the grid, worst +%" PRIu64 " ns\n",
		       c.wake_latency_ns, worst);
		h_destroy(&h);
	}
}

static void missed_ticks_coalesce(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_xen_timer per;
	struct pvt_xen_vcpu_stats st;
	uint64_t g0;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	g0 = h_guest_now(&h);
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], MS), 0);
	/* The host is away for 10.5 ms (the vCPU thread was not scheduled). */
	pvt_simhost_skip(h.sim, 10 * MS + MS / 2);
	assert_int_equal(pvt_simhost_step(h.sim, h.sim->true_ns), 1);
	assert_int_equal(h.logs[0].periodic, 1);
	xt_snapshot(h.vcpus[0], NULL, &per, NULL, NULL, &st);
	/* Ticks 1..10 became one event; the next is tick 11, on the grid. */
	assert_int_equal(per.deadline_ns, g0 + 11 * MS);
	assert_int_equal(st.coalesced, 9);
	h_destroy(&h);
}

static void xen_rephase_option(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_xen_timer per;
	uint64_t g0, guest_at_tick;

	(void)state;
	h_cfg_default(&c);
	c.vm.periodic_rephase = true;
	c.wake_latency_ns = 300000;
	assert_int_equal(h_init(&h, &c), 0);
	g0 = h_guest_now(&h);
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], MS), 0);
	assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
	guest_at_tick = h_guest_now(&h);
	xt_snapshot(h.vcpus[0], NULL, &per, NULL, NULL, NULL);
	/* Xen: next = now + period, so the latency shifts the phase. */
	assert_true(guest_at_tick >= g0 + MS + 290000);
	assert_int_equal(per.deadline_ns, guest_at_tick + MS);
	h_destroy(&h);
}

static void periodic_and_singleshot_share_host_timer(void **state)
{
	struct harness h;
	struct h_cfg c;
	uint64_t g0;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	g0 = h_guest_now(&h);
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], 10 * MS), 0);
	assert_int_equal(h_set_singleshot(&h, h.vcpus[0], g0 + 3 * MS, 0), 0);
	pvt_simhost_run_until(h.sim, h_first_true_at(&h, h.sim->true_ns, g0 + 25 * MS));
	assert_int_equal(h.logs[0].singleshot, 1);
	assert_int_equal(h.logs[0].periodic, 2);
	/* Stop: no tick afterwards, none stale. */
	assert_int_equal(h_stop_periodic(&h, h.vcpus[0]), 0);
	pvt_simhost_run_until(h.sim, h.sim->true_ns + 100 * MS);
	assert_int_equal(h.logs[0].periodic, 2);
	assert_int_equal(h.sim->count, 0);	/* host timer disarmed */
	h_destroy(&h);
}

static void periodic_before_clock(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_hosttimer *t;
	struct pvt_xen_vcpu *v;
	struct h_slot slot;
	struct pvt_xen_timer per;
	uint64_t g;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	pvt_simhost_timer_new(h.sim, &t);
	assert_int_equal(h_vcpu_new(&h, &slot, h.vm, 0, t, &v), 0);
	assert_int_equal(h_set_periodic(&h, v, 2 * MS), 0);
	pvt_simhost_skip(h.sim, 5 * MS);
	g = h_guest_now(&h);
	assert_int_equal(h_set_guest_clock(&h, v, &h.clock), 0);
	xt_snapshot(v, NULL, &per, NULL, NULL, NULL);
	/* Phased when the clock became known. */
	assert_int_equal(per.deadline_ns, g + 2 * MS);
	assert_true(per.converted);
	pvt_xen_vcpu_free(v);
	pvt_hosttimer_free(t);
	h_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_grid),
		cmocka_unit_test(missed_ticks_coalesce),
		cmocka_unit_test(xen_rephase_option),
		cmocka_unit_test(periodic_and_singleshot_share_host_timer),
		cmocka_unit_test(periodic_before_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

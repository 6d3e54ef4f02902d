// SPDX-License-Identifier: MIT
/*
 * Regressions found by fuzz_xentimer_hypercalls. A guest whose clock reads
 * just below 2^63 ns (a hostile pvclock page) with a periodic timer: its
 * next ticks lie at or past 2^63, which the signed-deadline rule for guest
 * deadlines ("negative = in the past") must not apply to, or every tick is
 * due at once, forever: a VIRQ storm, and with a staged singleshot armed
 * from a stale pairing, host wake-ups without time moving (a livelock).
 * The ticks must come once per period, at their guest deadlines.
 *
 * On the CLOCK_REALTIME host clock (KVM_GET_CLOCK), a step while no host
 * timer is armed wakes nothing (cancel-on-set needs an armed timer): a
 * timer armed right after must not use the pairing from before the step
 * (it fired late by the step, an hour here).
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "test_engine_harness.h"

#define MS	1000000ull

static void periodic_across_2_63(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_guest_clock clock;
	struct pvt_xen_vcpu_stats st;
	uint64_t g0;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	/* The same clock, 5 ms short of 2^63 ns now. */
	clock = h.clock;
	clock.page.system_time += (1ull << 63) - 5 * MS - h_guest_now(&h);
	h.clock = clock;
	assert_int_equal(h_set_guest_clock(&h, h.vcpus[0], &clock), 0);
	g0 = h_guest_now(&h);
	assert_true(g0 < (1ull << 63) && g0 > (1ull << 63) - 6 * MS);
	/* A far singleshot (staged) and a 2 ms periodic crossing 2^63 at its 3rd tick. */
	assert_int_equal(h_set_singleshot(&h, h.vcpus[0], g0 + 40 * MS, 0), 0);
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], 2 * MS), 0);
	assert_int_equal(h.logs[0].periodic, 0);	/* nothing due at arming */
	pvt_simhost_run_until(h.sim, h_first_true_at(&h, h.sim->true_ns, g0 + 2 * MS) - 1);
	assert_int_equal(h.logs[0].periodic, 0);
	for (uint64_t k = 1; k <= 10; k++) {
		uint64_t due = h_first_true_at(&h, h.sim->true_ns, g0 + 2 * k * MS);

		/* Rounded up to the host clock: up to 2 ns late, never early. */
		pvt_simhost_run_until(h.sim, due + 2);
		if (h.logs[0].periodic != k)
			fail_msg("tick %" PRIu64 " (deadline %s 2^63): %" PRIu64 " periodic expiries",
				 k, g0 + 2 * k * MS < (1ull << 63) ? "below" : "at or past",
				 h.logs[0].periodic);
		if (h.logs[0].last_true_ns < due || h.logs[0].last_true_ns > due + 2)
			fail_msg("tick %" PRIu64 " at %" PRIu64 ", due at %" PRIu64, k,
				 h.logs[0].last_true_ns, due);
	}
	xt_snapshot(h.vcpus[0], NULL, NULL, NULL, NULL, &st);
	if (st.host_fires > 100)
		fail_msg("%" PRIu64 " host wake-ups for 10 ticks", st.host_fires);
	h_destroy(&h);
}

static void realtime_step_while_idle(void **state, int64_t step_ns)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_hostclock *rt;
	struct h_rt_timer r;
	struct pvt_xen_vm *vm;
	struct pvt_xen_vcpu *v;
	struct h_slot slot;
	uint64_t deadline, first;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	h.sim->realtime_offset_ns = 1700000000000000000ll;
	assert_int_equal(pvt_simhost_hostclock_new_realtime(h.sim, &rt), 0);
	assert_int_equal(h_rt_init(&r, h.sim), 0);
	assert_int_equal(pvt_xen_vm_new(NULL, rt, &h.kvm, &vm), 0);
	assert_int_equal(h_vcpu_new(&h, &slot, vm, 0, r.t, &v), 0);
	r.slot = &slot;
	assert_int_equal(h_set_guest_clock(&h, v, &h.clock), 0);
	/* A fresh pairing (arming pairs when idle), then nothing armed. */
	assert_int_equal(h_set_timer_op(&h, v, h_guest_now(&h) + 100000), 0);
	pvt_simhost_run_until(h.sim, h.sim->true_ns + 200000);
	assert_int_equal(h.logs[0].singleshot, 1);
	/* The host's wall clock steps while idle: no timer to cancel. */
	assert_false(r.armed);
	h_rt_step(h.sim, &r, step_ns);
	deadline = h_guest_now(&h) + 1000000;
	first = h_first_true_at(&h, h.sim->true_ns, deadline);
	assert_int_equal(h_set_timer_op(&h, v, deadline), 0);
	pvt_simhost_run_until(h.sim, first + 1000000);
	assert_int_equal(h.logs[0].singleshot, 2);
	if (h.logs[0].last_true_ns < first || h.logs[0].last_true_ns > first + 2)
		fail_msg("step %" PRId64 ": fired at %" PRIu64 ", due at %" PRIu64, step_ns,
			 h.logs[0].last_true_ns, first);
	pvt_xen_vcpu_free(v);
	pvt_xen_vm_free(vm);
	h_rt_destroy(&r);
	pvt_hostclock_free(rt);
	h_destroy(&h);
}

static void realtime_back_while_idle(void **state)
{
	realtime_step_while_idle(state, -3600ll * 1000000000ll);
}

static void realtime_forward_while_idle(void **state)
{
	realtime_step_while_idle(state, 3600ll * 1000000000ll);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(periodic_across_2_63),
		cmocka_unit_test(realtime_back_while_idle),
		cmocka_unit_test(realtime_forward_while_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

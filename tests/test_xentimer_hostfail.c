// SPDX-License-Identifier: MIT
/*
 * Host timer failures are never silent: a call whose host timer cannot be
 * armed (simulated queue full: -ENOSPC; an arm error like timerfd_settime's)
 * returns the -errno with the vCPU's previous timer state kept and armed
 * again (and the guest's Xen result untouched), a re-arm failure from the
 * host timer path is returned by service, and no expiry is lost,
 * doubled or delivered stale afterwards.
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

/* A host timer whose next arm fails with a chosen error (timerfd_settime's). */
static const struct ht_backend *sim_be;
static int fail_next_arm;

static int flaky_arm(struct pvt_hosttimer *t, uint64_t deadline_ns)
{
	int ret = fail_next_arm;

	if (ret) {
		/* Like the kernel: a failed settime leaves the old setting. */
		fail_next_arm = 0;
		return ret;
	}
	return sim_be->arm(t, deadline_ns);
}

static int flaky_disarm(struct pvt_hosttimer *t)
{
	return sim_be->disarm(t);
}

static void flaky_destroy(struct pvt_hosttimer *t)
{
	sim_be->destroy(t);
}

static const struct ht_backend flaky_be = {
	.arm = flaky_arm, .disarm = flaky_disarm, .destroy = flaky_destroy,
};

static void make_flaky(struct pvt_hosttimer *t)
{
	sim_be = t->be;
	t->be = &flaky_be;
	fail_next_arm = 0;
}

static void snap(struct harness *h, unsigned i, struct pvt_xen_timer *ss,
		 struct pvt_xen_timer *per, uint64_t *period)
{
	xt_snapshot(h->vcpus[i], ss, per, period, NULL, NULL);
}

/* Runs the simulation until true time t (every host timer due by then fires). */
static void run_to(struct harness *h, uint64_t t)
{
	pvt_simhost_run_until(h->sim, t);
}

/* Checks one singleshot delivery on vCPU i at the first true ns reaching deadline. */
static void assert_fired_at(struct harness *h, unsigned i, uint64_t count,
			    uint64_t first_true)
{
	assert_int_equal(h->logs[i].singleshot, count);
	if (h->logs[i].last_true_ns < first_true || h->logs[i].last_true_ns > first_true + 1)
		fail_msg("vCPU %u: expiry at true %" PRIu64 ", expected %" PRIu64 " (+1 ns)",
			 i, h->logs[i].last_true_ns, first_true);
}

/*
 * The queue holds one timer: vCPU 0's. vCPU 1's calls that need a host
 * timer fail with -ENOSPC and leave nothing armed; a call that needs none
 * (a past deadline) still works; once vCPU 0's fired, vCPU 1 arms fine.
 */
static void queue_full_refuses(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_xen_timer ss, per;
	struct pvt_xen_singleshot_arg sarg = { 0, 0, 0 };
	struct pvt_xen_periodic_arg parg = { 10 * MS };
	uint64_t period, g, d0;

	(void)state;
	h_cfg_default(&c);
	c.vcpus = 2;
	c.max_timers = 1;
	assert_int_equal(h_init(&h, &c), 0);
	g = h_guest_now(&h);
	d0 = g + 2 * MS;
	assert_int_equal(h_set_timer_op(&h, h.vcpus[0], d0), 0);

	assert_int_equal(h_set_timer_op(&h, h.vcpus[1], g + MS), -ENOSPC);
	sarg.timeout_abs_ns = g + MS;
	assert_int_equal(h_vcpu_op(&h, h.vcpus[1], h.vcpus[1],
					 PVT_XEN_VCPUOP_set_singleshot_timer,
					 &sarg, sizeof(sarg)), -ENOSPC);
	assert_int_equal(h_vcpu_op(&h, h.vcpus[1], h.vcpus[1],
					 PVT_XEN_VCPUOP_set_periodic_timer,
					 &parg, sizeof(parg)), -ENOSPC);
	/* The host's failure is not the guest's: its Xen result stays 0. */
	{
		int64_t gr = 7;

		assert_int_equal(pvt_xen_set_timer_op(h.vcpus[1], g + MS, &gr), -ENOSPC);
		assert_int_equal(gr, 0);
		gr = 7;
		assert_int_equal(pvt_xen_vcpu_op(h.vcpus[1], h.vcpus[1],
						 PVT_XEN_VCPUOP_set_periodic_timer,
						 &parg, sizeof(parg), &gr), -ENOSPC);
		assert_int_equal(gr, 0);
		assert_int_equal(h_take(&h, h.vcpus[1]), 0);
	}
	/* The previous state: nothing armed, no period. */
	snap(&h, 1, &ss, &per, &period);
	assert_false(ss.armed);
	assert_false(per.armed);
	assert_int_equal(period, 0);
	assert_false(h.vcpus[1]->host_armed);

	/* Already due: delivered from the call, no host timer needed. */
	assert_int_equal(h_set_timer_op(&h, h.vcpus[1], g - MS), 0);
	assert_int_equal(h.logs[1].singleshot, 1);

	/* vCPU 0's timer was untouched by all this and fires on time. */
	run_to(&h, h_first_true_at(&h, h.sim->true_ns, d0) + 10);
	assert_fired_at(&h, 0, 1, h_first_true_at(&h, 0, d0));
	/* Nothing refused ever fires on vCPU 1 (no stale expiry). */
	run_to(&h, h.sim->true_ns + 50 * MS);
	assert_int_equal(h.logs[1].singleshot, 1);
	assert_int_equal(h.logs[1].periodic, 0);

	/* The slot is free again: vCPU 1 arms and fires exactly once, on time. */
	g = h_guest_now(&h) + MS;
	assert_int_equal(h_set_timer_op(&h, h.vcpus[1], g), 0);
	run_to(&h, h.sim->true_ns + 5 * MS);
	assert_fired_at(&h, 1, 2, h_first_true_at(&h, 0, g));
	h_destroy(&h);
}

/*
 * An arm error with a timer already armed (timerfd_settime failing): the
 * call returns it and the old deadline stays armed and fires, once; the
 * new one never does. Same for set_periodic, set_guest_clock and restore.
 */
static void arm_error_keeps_previous(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_xen_timer ss, per;
	struct pvt_guest_clock moved;
	uint8_t blob[PVT_XEN_BLOB_SIZE];
	uint64_t period, g, d1, d2;

	(void)state;
	for (int algo = PVT_ALGO_LEGACY; algo <= PVT_ALGO_PVTIME; algo++) {
		h_cfg_default(&c);
		c.vm.algo = (enum pvt_timer_algo)algo;
		assert_int_equal(h_init(&h, &c), 0);
		make_flaky(h.timers[0]);
		g = h_guest_now(&h);
		d1 = g + 3 * MS;
		d2 = g + MS;
		assert_int_equal(h_set_timer_op(&h, h.vcpus[0], d1), 0);

		fail_next_arm = -EINVAL;
		assert_int_equal(h_set_timer_op(&h, h.vcpus[0], d2), -EINVAL);
		snap(&h, 0, &ss, &per, &period);
		assert_true(ss.armed);
		assert_int_equal(ss.deadline_ns, d1);
		assert_true(h.vcpus[0]->host_armed);	/* armed again for d1 */

		fail_next_arm = -EINVAL;
		assert_int_equal(h_set_periodic(&h, h.vcpus[0], MS), -EINVAL);
		snap(&h, 0, &ss, &per, &period);
		assert_false(per.armed);
		assert_int_equal(period, 0);
		assert_int_equal(ss.deadline_ns, d1);

		/*
		 * A new clock (TSC write: offset moved) whose re-arm fails: the
		 * old clock stays. (LEGACY converts with its one-step model,
		 * not the page: its host deadline does not move, no arm.)
		 */
		if (algo != PVT_ALGO_LEGACY) {
			moved = h.clock;
			moved.tsc.offset += 1000000;
			fail_next_arm = -EIO;
			assert_int_equal(h_set_guest_clock(&h, h.vcpus[0], &moved),
					 -EIO);
			assert_memory_equal(&h.vcpus[0]->clock, &h.clock, sizeof(h.clock));
		}

		/* A restore whose arm fails: the blob's state is not taken. */
		{
			struct harness h2;
			struct h_cfg c2 = c;

			assert_int_equal(h_init(&h2, &c2), 0);
			assert_int_equal(h_set_timer_op(&h2, h2.vcpus[0], d2), 0);
			assert_int_equal(pvt_xen_vcpu_save(h2.vcpus[0], blob, sizeof(blob)),
					 (int)sizeof(blob));
			h_destroy(&h2);
		}
		fail_next_arm = -EIO;
		assert_int_equal(h_restore(&h, h.vcpus[0], blob, sizeof(blob)), -EIO);
		snap(&h, 0, &ss, NULL, NULL);
		assert_int_equal(ss.deadline_ns, d1);

		/* Exactly one expiry, at d1's instant, none at d2's. */
		run_to(&h, h_first_true_at(&h, h.sim->true_ns, d2) + 10);
		assert_int_equal(h.logs[0].singleshot, 0);
		run_to(&h, h_first_true_at(&h, h.sim->true_ns, d1) + MS);
		assert_int_equal(h.logs[0].singleshot, 1);
		if (algo == PVT_ALGO_PVTIME)
			assert_fired_at(&h, 0, 1, h_first_true_at(&h, 0, d1));
		else
			assert_true(h.logs[0].last_true_ns >= h_first_true_at(&h, 0, d1) - 1000);
		assert_int_equal(h.logs[0].service_err, 0);
		h_destroy(&h);
	}
}

/* Fills the one free queue slot before the engine's own re-arm runs. */
static struct pvt_hosttimer *filler;

static void fire_with_queue_taken(void *ctx)
{
	assert_int_equal(pvt_hosttimer_arm(filler, UINT64_MAX / 2), 0);
	h_notify(ctx);
}

/*
 * The host timer path cannot re-arm (another timer took the slot): the
 * tick is delivered, the next one stays armed on the grid in guest time,
 * service says -ENOSPC, calls needing a host timer fail keeping that
 * state, and once there is room the next call arms it again: the missed
 * ticks arrive as one event, none is lost for good.
 */
static void rearm_failure_reported(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_hosttimer *extra;
	struct pvt_xen_timer ss, per;
	struct pvt_xen_vcpu_stats st;
	pvt_simhost_notify_fn engine_fire;
	uint64_t period, g0;

	(void)state;
	h_cfg_default(&c);
	c.max_timers = 1;
	c.vm.final_stage_ns = MS;	/* one host fire per tick */
	assert_int_equal(h_init(&h, &c), 0);
	assert_int_equal(pvt_simhost_timer_new(h.sim, &extra), 0);
	filler = extra;
	engine_fire = h.timers[0]->notify;
	h.timers[0]->notify = fire_with_queue_taken;
	g0 = h_guest_now(&h);
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], 2 * MS), 0);
	assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
	assert_int_equal(h.logs[0].periodic, 1);
	assert_int_equal(h.logs[0].service_err, -ENOSPC);
	snap(&h, 0, &ss, &per, &period);
	assert_true(per.armed);
	assert_int_equal(per.deadline_ns, g0 + 4 * MS);
	assert_int_equal(period, 2 * MS);
	assert_false(h.vcpus[0]->host_armed);

	/* A call needing a host timer fails and keeps the periodic state. */
	assert_int_equal(h_set_timer_op(&h, h.vcpus[0], g0 + 3 * MS), -ENOSPC);
	snap(&h, 0, &ss, &per, &period);
	assert_false(ss.armed);
	assert_true(per.armed);
	assert_int_equal(per.deadline_ns, g0 + 4 * MS);

	/*
	 * 9 ms later (ticks at +6, +8, +10 missed), room again: a call that
	 * re-programs (stopping the unarmed singleshot) arms the periodic,
	 * which is overdue and fires at once as one coalesced event.
	 */
	run_to(&h, h.sim->true_ns + 9 * MS);
	assert_int_equal(h.logs[0].periodic, 1);
	assert_int_equal(pvt_hosttimer_disarm(extra), 0);
	h.timers[0]->notify = engine_fire;
	assert_int_equal(h_stop_singleshot(&h, h.vcpus[0]), 0);
	/* Overdue: the host timer goes 1 ns ahead (xt_program never delivers). */
	assert_int_equal(pvt_simhost_step(h.sim, h.sim->true_ns + 1), 1);
	assert_int_equal(h.logs[0].periodic, 2);
	xt_snapshot(h.vcpus[0], NULL, &per, NULL, NULL, &st);
	assert_int_equal(st.coalesced, 3);
	assert_int_equal(per.deadline_ns, g0 + 12 * MS);
	/* And the grid goes on: the next tick at its exact instant. */
	assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
	assert_int_equal(h.logs[0].periodic, 3);
	if (h.logs[0].last_true_ns != h_first_true_at(&h, 0, g0 + 12 * MS))
		fail_msg("tick at true %" PRIu64 ", grid instant %" PRIu64,
			 h.logs[0].last_true_ns, h_first_true_at(&h, 0, g0 + 12 * MS));
	assert_int_equal(h.logs[0].service_err, 0);
	pvt_hosttimer_free(extra);
	h_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(queue_full_refuses),
		cmocka_unit_test(arm_error_keeps_previous),
		cmocka_unit_test(rearm_failure_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

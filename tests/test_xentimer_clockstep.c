// SPDX-License-Identifier: MIT
/*
 * A host clock that can be stepped (CLOCK_REALTIME paired through
 * KVM_GET_CLOCK): host timers are armed with TFD_TIMER_CANCEL_ON_SET, so a
 * step wakes them; the engine then re-pairs and re-arms. Simulated here:
 * a realtime backend over the simulated host and a host timer that is
 * cancelled (fires at once) when realtime is set, as a timerfd would be.
 * Expiries stay at the first true instant the guest clock reaches the
 * deadline, for steps forwards and backwards, and pending() bookkeeping
 * holds.
 */
#include <errno.h>
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

/*
 * One realtime VM: the harness' sim, a realtime host clock, one vCPU on the
 * simulated realtime timer rtt (or on a bring-your-own timer around it).
 */
struct rt_vm {
	struct harness h;
	struct pvt_hostclock *rt;
	struct pvt_hosttimer *rtt;	/* in the sim queue, stepped by the sim */
	struct pvt_hosttimer *ops_t;	/* the vCPU's timer when ops are given */
	struct pvt_xen_vm *vm;
	struct pvt_xen_vcpu *v;
	struct h_slot slot;
};

/* ops NULL: the plain realtime timer; else ops on ctx rtt drive it. */
static void rt_vm_init_ops(struct rt_vm *x, const struct pvt_hosttimer_ops *ops)
{
	struct h_cfg c;

	h_cfg_default(&c);
	assert_int_equal(h_init(&x->h, &c), 0);
	x->h.sim->realtime_offset_ns = 1700000000000000000ll;	/* before any pairing */
	assert_int_equal(pvt_simhost_hostclock_new_realtime(x->h.sim, &x->rt), 0);
	assert_int_equal(pvt_simhost_timer_new_realtime(x->h.sim, &x->rtt), 0);
	x->ops_t = NULL;
	if (ops)
		assert_int_equal(pvt_hosttimer_new_ops(ops, x->rtt, CLOCK_REALTIME, &x->ops_t), 0);
	assert_int_equal(pvt_xen_vm_new(NULL, x->rt, &x->h.kvm, &x->vm), 0);
	assert_int_equal(h_vcpu_new(&x->h, &x->slot, x->vm, 0, ops ? x->ops_t : x->rtt, &x->v),
			 0);
	assert_int_equal(pvt_simhost_timer_set_notify(x->rtt, h_notify, &x->slot), 0);
	assert_int_equal(h_set_guest_clock(&x->h, x->v, &x->h.clock), 0);
}

static void rt_vm_init(struct rt_vm *x)
{
	rt_vm_init_ops(x, NULL);
}

static void rt_vm_destroy(struct rt_vm *x)
{
	pvt_xen_vcpu_free(x->v);
	pvt_xen_vm_free(x->vm);
	pvt_hosttimer_free(x->ops_t);
	pvt_hosttimer_free(x->rtt);
	pvt_hostclock_free(x->rt);
	h_destroy(&x->h);
}

static void step(void **state, int64_t delta)
{
	struct rt_vm x;
	uint64_t deadline, first;

	(void)state;
	rt_vm_init(&x);
	deadline = h_guest_now(&x.h) + 50 * MS;
	first = h_first_true_at(&x.h, x.h.sim->true_ns, deadline);
	assert_int_equal(h_set_timer_op(&x.h, x.v, deadline), 0);
	/* Soon after arming: the pairing is fresh, only the cancel tells. */
	pvt_simhost_run_until(x.h.sim, x.h.sim->true_ns + MS);
	pvt_simhost_step_realtime(x.h.sim, delta);
	assert_int_equal(x.h.logs[0].singleshot, 0);	/* a cancel is not an expiry */
	pvt_simhost_run_until(x.h.sim, first + 100 * MS);
	assert_int_equal(x.h.logs[0].singleshot, 1);
	if (x.h.logs[0].last_true_ns < first || x.h.logs[0].last_true_ns > first + 2)
		fail_msg("step %" PRId64 ": fired at %" PRIu64 ", right instant %" PRIu64,
			 delta, x.h.logs[0].last_true_ns, first);
	/* Taken once, with its deadline; nothing left to take. */
	assert_int_equal(x.h.logs[0].last_ev.singleshot_deadline_ns, deadline);
	{
		struct pvt_xen_events ev;

		assert_int_equal(pvt_xen_vcpu_take(x.v, &ev), 0);
	}
	rt_vm_destroy(&x);
}

/*
 * The race the pre-arm check cannot see: the wall clock steps after the
 * engine checked (or re-paired) and before the timerfd is armed, so no
 * armed timer is cancelled. The hook sits in the host timer's arm op and
 * steps once, on the n-th arm.
 */
struct arm_hook {
	struct pvt_simhost *sim;
	unsigned arms, step_at;		/* step inside arm number step_at (1-based) */
	unsigned count;			/* ... and the count - 1 arms after it (0: one) */
	int64_t delta;
};

static struct arm_hook hook;	/* test-only: the ops have no context pointer */

static int hooked_arm(void *ctx, uint64_t deadline_ns)
{
	++hook.arms;
	if (hook.step_at && hook.arms >= hook.step_at &&
	    hook.arms < hook.step_at + (hook.count ? hook.count : 1))
		pvt_simhost_step_realtime(hook.sim, hook.delta);	/* the arm below replaces a cancel */
	return pvt_hosttimer_arm(ctx, deadline_ns);
}

static int hooked_disarm(void *ctx)
{
	return pvt_hosttimer_disarm(ctx);
}

static const struct pvt_hosttimer_ops hooked_ops = { .arm = hooked_arm, .disarm = hooked_disarm };

/*
 * rearm: the vCPU already has a timer armed and re-programs it (the old
 * arming is then replaced, not cancelled, in the kernel's eyes as well).
 * busy: a concurrent refresher holds the host clock's refresh lock (the
 * case where a re-pair is refused with -EBUSY).
 */
static void step_in_arm(int64_t delta, bool rearm, bool busy)
{
	struct rt_vm x;
	struct pvt_xen_vcpu_stats st;
	uint64_t deadline, first;

	rt_vm_init_ops(&x, &hooked_ops);
	memset(&hook, 0, sizeof(hook));
	hook.sim = x.h.sim;
	hook.delta = delta;
	hook.step_at = rearm ? 0 : 1;	/* 0: never */
	if (rearm) {
		assert_int_equal(h_set_timer_op(&x.h, x.v, h_guest_now(&x.h) + 80 * MS), 0);
		pvt_simhost_run_until(x.h.sim, x.h.sim->true_ns + MS);
		hook.step_at = hook.arms + 1;
	}
	if (busy)
		__atomic_store_n(&x.rt->refresh_lock, 1, __ATOMIC_RELAXED);
	deadline = h_guest_now(&x.h) + 20 * MS;
	first = h_first_true_at(&x.h, x.h.sim->true_ns, deadline);
	assert_int_equal(h_set_timer_op(&x.h, x.v, deadline), 0);
	__atomic_store_n(&x.rt->refresh_lock, 0, __ATOMIC_RELAXED);
	/* Stepped in the 20 ms timer's arm; up to 100 s (the 1 h steps) of runway. */
	pvt_simhost_run_until(x.h.sim, first + 100000 * MS);
	if (x.h.logs[0].singleshot != 1 || x.h.logs[0].last_true_ns < first ||
	    x.h.logs[0].last_true_ns > first + 2)
		fail_msg("step %" PRId64 " inside arm%s%s: %" PRIu64 " expiries, last at %" PRIu64
			 ", right instant %" PRIu64 " (late by %" PRId64 " ns)", delta,
			 rearm ? " (re-arm)" : "", busy ? " (refresh busy)" : "",
			 x.h.logs[0].singleshot, x.h.logs[0].last_true_ns, first,
			 (int64_t)(x.h.logs[0].last_true_ns - first));
	/* Found by the poll after the stepped arm, converted again, armed once more. */
	xt_snapshot(x.v, NULL, NULL, NULL, NULL, &st);
	assert_int_equal(st.step_rearms, 1);
	rt_vm_destroy(&x);
}

static void step_in_arm_forward(void **state)
{
	(void)state;
	step_in_arm(3600ll * 1000000000ll, false, false);
}

static void step_in_arm_backward(void **state)
{
	(void)state;
	step_in_arm(-3600ll * 1000000000ll, false, false);
}

static void step_in_rearm_backward(void **state)
{
	(void)state;
	step_in_arm(-25 * (int64_t)MS, true, false);
}

static void step_in_arm_refresh_busy(void **state)
{
	(void)state;
	step_in_arm(-3600ll * 1000000000ll, false, true);
}

/*
 * More steps inside one call than it re-arms for (STEP_REARMS = 4): the
 * clock steps inside each of 10 consecutive arms. The call must not give up
 * with a deadline from a stale pairing (a backward step would make it an
 * hour late): it arms to wake at once, service() programs again, and the
 * expiry comes exactly once at its instant.
 */
static void many_steps_in_one_arm(int64_t delta, unsigned count)
{
	struct rt_vm x;
	struct pvt_xen_vcpu_stats st;
	struct pvt_xen_events ev;
	uint64_t deadline, first;

	rt_vm_init_ops(&x, &hooked_ops);
	memset(&hook, 0, sizeof(hook));
	hook.sim = x.h.sim;
	hook.delta = delta;
	hook.step_at = 1;
	hook.count = count;
	deadline = h_guest_now(&x.h) + 20 * MS;
	first = h_first_true_at(&x.h, x.h.sim->true_ns, deadline);
	assert_int_equal(h_set_timer_op(&x.h, x.v, deadline), 0);
	pvt_simhost_run_until(x.h.sim, first + 100000 * MS);
	if (x.h.logs[0].singleshot != 1 || x.h.logs[0].last_true_ns < first ||
	    x.h.logs[0].last_true_ns > first + 2)
		fail_msg("%u steps of %" PRId64 " inside arms: %" PRIu64 " expiries, last at %"
			 PRIu64 ", right instant %" PRIu64, count, delta, x.h.logs[0].singleshot,
			 x.h.logs[0].last_true_ns, first);
	assert_int_equal(x.h.logs[0].service_err, 0);
	assert_int_equal(pvt_xen_vcpu_take(x.v, &ev), 0);
	xt_snapshot(x.v, NULL, NULL, NULL, NULL, &st);
	/* Steps seen by the post-arm polls (a step in a wake-at-once arm is seen by service). */
	assert_true(st.step_rearms >= (count < 4 ? count : 4) && st.step_rearms <= count);
	assert_true(hook.arms > count);
	rt_vm_destroy(&x);
}

static void many_steps_in_one_arm_backward(void **state)
{
	(void)state;
	many_steps_in_one_arm(-3600ll * 1000000000ll, 10);
	many_steps_in_one_arm(-25 * (int64_t)MS, 4);
	many_steps_in_one_arm(-25 * (int64_t)MS, 5);
	many_steps_in_one_arm(-7 * (int64_t)MS, 23);
}

static void many_steps_in_one_arm_forward(void **state)
{
	(void)state;
	many_steps_in_one_arm(3600ll * 1000000000ll, 10);
	many_steps_in_one_arm(5 * (int64_t)MS, 9);
}

/* A step known before arming while the refresh is busy: a private pairing, no wait. */
static void step_idle_refresh_busy(void **state)
{
	struct rt_vm x;
	uint64_t deadline, first;

	(void)state;
	rt_vm_init(&x);
	pvt_simhost_step_realtime(x.h.sim, -3600ll * 1000000000ll);
	__atomic_store_n(&x.rt->refresh_lock, 1, __ATOMIC_RELAXED);
	deadline = h_guest_now(&x.h) + 20 * MS;
	first = h_first_true_at(&x.h, x.h.sim->true_ns, deadline);
	assert_int_equal(h_set_timer_op(&x.h, x.v, deadline), 0);
	__atomic_store_n(&x.rt->refresh_lock, 0, __ATOMIC_RELAXED);
	pvt_simhost_run_until(x.h.sim, first + 100 * MS);
	assert_int_equal(x.h.logs[0].singleshot, 1);
	if (x.h.logs[0].last_true_ns < first || x.h.logs[0].last_true_ns > first + 2)
		fail_msg("fired at %" PRIu64 ", right instant %" PRIu64, x.h.logs[0].last_true_ns, first);
	rt_vm_destroy(&x);
}

/* The simulated realtime timer: UINT64_MAX means never (not "fire now"). */
static void rt_timer_never(void **state)
{
	struct rt_vm x;

	(void)state;
	rt_vm_init(&x);
	/* The timer is served through the vCPU: a wake would show as a host fire. */
	assert_int_equal(pvt_hosttimer_arm(x.rtt, UINT64_MAX), 0);
	assert_int_equal(pvt_simhost_run_until(x.h.sim, x.h.sim->true_ns + 1000 * MS), 0);
	assert_true(x.rtt->armed);
	{
		struct pvt_xen_vcpu_stats st;

		xt_snapshot(x.v, NULL, NULL, NULL, NULL, &st);
		assert_int_equal(st.host_fires, 0);
	}
	assert_int_equal(pvt_hosttimer_disarm(x.rtt), 0);
	rt_vm_destroy(&x);
}

/* CLOCK_MONOTONIC never steps: arming never polls or re-arms. */
static void monotonic_no_step_rounds(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_xen_vcpu_stats st;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	assert_null(h.hc->ops->steps);
	assert_int_equal(h_set_timer_op(&h, h.vcpus[0], h_guest_now(&h) + MS), 0);
	xt_snapshot(h.vcpus[0], NULL, NULL, NULL, NULL, &st);
	assert_int_equal(st.step_rearms, 0);
	assert_int_equal(h.timers[0]->arms, 1);
	h_destroy(&h);
}

static void step_forward(void **state)
{
	step(state, 3600ll * 1000000000ll);
}

static void step_backward(void **state)
{
	step(state, -25 * (int64_t)MS);
}

static void step_backward_small(void **state)
{
	step(state, -3000);
}

static void step_backward_far(void **state)
{
	step(state, -86400ll * 1000000000ll);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(step_forward),
		cmocka_unit_test(step_backward),
		cmocka_unit_test(step_backward_far),
		cmocka_unit_test(step_backward_small),
		cmocka_unit_test(step_in_arm_forward),
		cmocka_unit_test(step_in_arm_backward),
		cmocka_unit_test(step_in_rearm_backward),
		cmocka_unit_test(step_in_arm_refresh_busy),
		cmocka_unit_test(step_idle_refresh_busy),
		cmocka_unit_test(many_steps_in_one_arm_backward),
		cmocka_unit_test(many_steps_in_one_arm_forward),
		cmocka_unit_test(monotonic_no_step_rounds),
		cmocka_unit_test(rt_timer_never),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

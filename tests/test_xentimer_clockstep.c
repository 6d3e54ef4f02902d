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
#include <cmocka.h>

#include "test_engine_harness.h"

#define MS	1000000ull

/* A realtime timer: a sim (monotonic) timer at deadline - realtime offset. */
struct rt_timer {
	struct pvt_hosttimer t;		/* what the engine sees */
	struct pvt_hosttimer inner;	/* in the sim queue */
};

static void inner_fire(void *ctx)
{
	struct rt_timer *r = ctx;

	r->t.armed = false;
	if (r->t.on_fire)
		r->t.on_fire(r->t.on_fire_ctx);
}

static int rt_arm(struct pvt_hosttimer *t, uint64_t deadline_ns)
{
	struct rt_timer *r = (struct rt_timer *)t;
	int64_t off = r->inner.sim->realtime_offset_ns;
	uint64_t mono = (int64_t)deadline_ns - off > 0 ? deadline_ns - (uint64_t)off : 1;

	t->armed = true;
	t->deadline_ns = deadline_ns;
	return pvt_hosttimer_arm(&r->inner, mono);
}

static int rt_disarm(struct pvt_hosttimer *t)
{
	struct rt_timer *r = (struct rt_timer *)t;

	t->armed = false;
	return pvt_hosttimer_disarm(&r->inner);
}

static const struct pvt_hosttimer_ops rt_timer_ops = { .arm = rt_arm, .disarm = rt_disarm };

/* settimeofday as the host sees it: armed CANCEL_ON_SET timers wake up. */
static void step_realtime(struct pvt_simhost *sim, struct rt_timer *r, int64_t delta)
{
	pvt_simhost_step_realtime(sim, delta);
	if (r->t.armed) {
		pvt_hosttimer_disarm(&r->inner);
		inner_fire(r);	/* read() returns ECANCELED: the owner re-arms */
	}
}

static void step(void **state, int64_t delta)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_hostclock rt;
	struct rt_timer r;
	struct pvt_xen_vm vm;
	struct pvt_xen_vcpu v;
	uint64_t deadline, first;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	h.sim.realtime_offset_ns = 1700000000000000000ll;
	assert_int_equal(pvt_hostclock_init_sim_realtime(&rt, &h.sim), 0);
	memset(&r, 0, sizeof(r));
	r.t.ops = &rt_timer_ops;
	r.t.fd = -1;
	r.t.clockid = CLOCK_REALTIME;
	pvt_hosttimer_init_sim(&r.inner, &h.sim);
	r.inner.on_fire = inner_fire;
	r.inner.on_fire_ctx = &r;
	assert_int_equal(pvt_xen_vm_init(&vm, NULL, &rt, &h.kvm), 0);
	assert_int_equal(pvt_xen_vcpu_init(&v, &vm, 0, &r.t, h_expiry, &h), 0);
	assert_int_equal(pvt_xen_vcpu_set_guest_clock(&v, &h.clock), 0);

	deadline = h_guest_now(&h) + 50 * MS;
	first = h_first_true_at(&h, h.sim.true_ns, deadline);
	assert_int_equal(pvt_xen_set_timer_op(&v, deadline), 0);
	/* Soon after arming: the pairing is fresh, only the cancel tells. */
	pvt_simhost_run_until(&h.sim, h.sim.true_ns + MS);
	step_realtime(&h.sim, &r, delta);
	assert_int_equal(h.logs[0].singleshot, 0);	/* a cancel is not an expiry */
	pvt_simhost_run_until(&h.sim, first + 100 * MS);
	assert_int_equal(h.logs[0].singleshot, 1);
	if (h.logs[0].last_true_ns < first || h.logs[0].last_true_ns > first + 2)
		fail_msg("step %" PRId64 ": fired at %" PRIu64 ", right instant %" PRIu64,
			 delta, h.logs[0].last_true_ns, first);
	assert_true(pvt_xen_vcpu_take_pending(&v));
	assert_false(pvt_xen_vcpu_take_pending(&v));
	pvt_xen_vcpu_destroy(&v);
	pvt_hosttimer_destroy(&r.inner);
	pvt_hostclock_destroy(&rt);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

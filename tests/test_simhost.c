// SPDX-License-Identifier: MIT
/*
 * The simulated host: its clocks are the exact integer functions it
 * documents (checked against independent big-number arithmetic), slew
 * changes keep CLOCK_MONOTONIC continuous, the inverses return the first
 * true instant, and the timer queue fires in deadline order (FIFO on ties)
 * at the first instant monotonic reaches the deadline + wake latency. The
 * realtime timer fires when realtime reaches its deadline and at once when
 * realtime is stepped (cancel-on-set).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pvtime/simhost.h"
#include "test_engine_harness.h"

static void clocks_are_exact(void **state)
{
	struct pvt_simhost *sim;
	struct pvt_simhost_config c = {
		.tsc_khz = 2596136, .start_true_ns = 1000, .tsc_base = 77,
		.start_mono_ns = 5000, .slew_ppt = 500 * PVT_PPT_PER_PPM,
		.max_timers = 4,
	};
	uint64_t seed = 11;

	(void)state;
	assert_int_equal(pvt_simhost_new(&c, &sim), 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t t = 1000 + h_rand(&seed) % (3ull * 365 * 86400 * 1000000000ull);
		unsigned __int128 tsc = 77 + (unsigned __int128)t * 2596136 / 1000000;
		unsigned __int128 mono = 5000 + (unsigned __int128)(t - 1000) *
					 (1000000000000ull + 500000000ull) / 1000000000000ull;

		assert_int_equal(pvt_simhost_tsc_at(sim, t), (uint64_t)tsc);
		assert_int_equal(pvt_simhost_mono_at(sim, t), (uint64_t)mono);
	}
	pvt_simhost_free(sim);
}

static void inverses_are_first_instants(void **state)
{
	struct pvt_simhost *sim;
	struct pvt_simhost_config c = {
		.tsc_khz = 1234567, .start_true_ns = 1000000, .start_mono_ns = 999,
		.slew_ppt = -80000 * PVT_PPT_PER_PPM, .max_timers = 1,
	};
	uint64_t seed = 12;

	(void)state;
	assert_int_equal(pvt_simhost_new(&c, &sim), 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t m = pvt_simhost_mono(sim) + 1 + h_rand(&seed) % 100000000000ull;
		uint64_t k = pvt_simhost_tsc(sim) + 1 + h_rand(&seed) % 100000000000ull;
		uint64_t t = pvt_simhost_true_at_mono(sim, m);
		uint64_t u = pvt_simhost_true_at_tsc(sim, k);

		assert_true(pvt_simhost_mono_at(sim, t) >= m);
		assert_true(pvt_simhost_mono_at(sim, t - 1) < m);
		assert_true(pvt_simhost_tsc_at(sim, u) >= k);
		assert_true(pvt_simhost_tsc_at(sim, u - 1) < k);
	}
	/* At or before now: now. */
	assert_int_equal(pvt_simhost_true_at_mono(sim, 5), sim->true_ns);
	pvt_simhost_free(sim);
}

static void slew_change_is_continuous(void **state)
{
	struct pvt_simhost *sim;
	struct pvt_simhost_config c = { .tsc_khz = 3000000, .max_timers = 1 };
	uint64_t before;

	(void)state;
	assert_int_equal(pvt_simhost_new(&c, &sim), 0);
	pvt_simhost_skip(sim, 1000000007);
	before = pvt_simhost_mono(sim);
	assert_int_equal(pvt_simhost_set_slew(sim, 80000 * PVT_PPT_PER_PPM), 0);
	assert_int_equal(pvt_simhost_mono(sim), before);
	pvt_simhost_skip(sim, 1000000000);
	/* 8 % fast: 1.08 s of monotonic per true second. */
	assert_int_equal(pvt_simhost_mono(sim), before + 1080000000);
	assert_int_equal(pvt_simhost_set_slew(sim, PVT_PPT_ONE), -EINVAL);
	assert_int_equal(pvt_simhost_set_slew(sim, -PVT_PPT_ONE), -EINVAL);
	/* Realtime steps, monotonic does not. */
	before = pvt_simhost_mono(sim);
	pvt_simhost_step_realtime(sim, -5000000000ll);
	assert_int_equal(pvt_simhost_mono(sim), before);
	assert_int_equal(pvt_simhost_realtime(sim), before - 5000000000ull);
	pvt_simhost_free(sim);
}

struct order_ctx {
	struct pvt_simhost *sim;
	struct pvt_hosttimer **t;
	uint64_t *fired_mono;		/* deadline of each firing, in order */
	uint64_t *fired_true;
	uint32_t *fired_id;
	unsigned n;
};

static struct order_ctx octx;

static void order_fire(void *ctx)
{
	uint32_t id = (uint32_t)(uintptr_t)ctx;

	octx.fired_mono[octx.n] = octx.t[id]->deadline_ns;
	octx.fired_true[octx.n] = octx.sim->true_ns;
	octx.fired_id[octx.n] = id;
	octx.n++;
}

static void queue_order_and_latency(void **state)
{
	enum { N = 2000 };
	struct pvt_simhost *sim;
	struct pvt_simhost_config c = {
		.tsc_khz = 2000000, .max_timers = N, .wake_latency_ns = 7,
		.slew_ppt = 123 * PVT_PPT_PER_PPM,
	};
	static struct pvt_hosttimer *t[N];
	static uint64_t fm[N], ft[N];
	static uint32_t fid[N];
	uint64_t seed = 13, live = 0;

	(void)state;
	assert_int_equal(pvt_simhost_new(&c, &sim), 0);
	octx = (struct order_ctx){ sim, t, fm, ft, fid, 0 };
	for (int i = 0; i < N; i++) {
		assert_int_equal(pvt_simhost_timer_new(sim, &t[i]), 0);
		assert_int_equal(pvt_simhost_timer_set_notify(t[i], order_fire,
							      (void *)(uintptr_t)i), 0);
		/* Few distinct deadlines, so ties happen. */
		assert_int_equal(pvt_hosttimer_arm(t[i], 1 + h_rand(&seed) % 500), 0);
	}
	/* Re-arm some, disarm some. */
	for (int i = 0; i < N; i += 7)
		assert_int_equal(pvt_hosttimer_arm(t[i], 1000 + h_rand(&seed) % 500), 0);
	for (int i = 3; i < N; i += 11)
		assert_int_equal(pvt_hosttimer_disarm(t[i]), 0);
	for (int i = 0; i < N; i++)
		live += t[i]->armed;
	pvt_simhost_run_until(sim, 10000000);
	assert_int_equal(octx.n, live);
	for (unsigned i = 1; i < octx.n; i++) {
		assert_true(fm[i - 1] <= fm[i]);
		if (fm[i - 1] == fm[i])
			assert_true(t[fid[i - 1]]->seq < t[fid[i]]->seq);
		assert_true(ft[i - 1] <= ft[i]);
	}
	/* The first one ran at its first instant + 7 ns (time 0 start, mono 0). */
	assert_int_equal(ft[0], pvt_simhost_true_at_mono(&(struct pvt_simhost){
		.tsc_khz = 2000000, .slew_ppt = 123 * PVT_PPT_PER_PPM }, fm[0]) + 7);
	for (int i = 0; i < N; i++)
		pvt_hosttimer_free(t[i]);
	pvt_simhost_free(sim);
}

static void bad_config(void **state)
{
	struct pvt_simhost *sim;
	struct pvt_simhost_config c = { .tsc_khz = 0, .max_timers = 1 };

	(void)state;
	assert_int_equal(pvt_simhost_new(&c, &sim), -EINVAL);
	c.tsc_khz = 1;
	c.max_timers = 0;
	assert_int_equal(pvt_simhost_new(&c, &sim), -EINVAL);
	c.max_timers = 1;
	c.slew_ppt = PVT_PPT_ONE;
	assert_int_equal(pvt_simhost_new(&c, &sim), -EINVAL);
}

static void full_queue(void **state)
{
	struct pvt_simhost *sim;
	struct pvt_simhost_config c = { .tsc_khz = 1000000, .max_timers = 1 };
	struct pvt_hosttimer *a, *b;

	(void)state;
	assert_int_equal(pvt_simhost_new(&c, &sim), 0);
	assert_int_equal(pvt_simhost_timer_new(sim, &a), 0);
	assert_int_equal(pvt_simhost_timer_new(sim, &b), 0);
	assert_int_equal(pvt_hosttimer_arm(a, 10), 0);
	assert_int_equal(pvt_hosttimer_arm(a, 20), 0);	/* re-arm: same slot */
	assert_int_equal(pvt_hosttimer_arm(b, 10), -ENOSPC);
	assert_int_equal(pvt_simhost_run_until(sim, 100), 1);
	pvt_hosttimer_free(a);
	/* The host may go first: its timers turn inert, still freeable. */
	assert_int_equal(pvt_hosttimer_arm(b, 50), 0);
	pvt_simhost_free(sim);
	assert_int_equal(pvt_hosttimer_arm(b, 60), -ENODEV);
	assert_int_equal(pvt_hosttimer_disarm(b), 0);
	pvt_hosttimer_free(b);
}

/* What a realtime timer's notify hook saw. */
struct rt_seen {
	struct pvt_simhost *sim;
	unsigned n;
	uint64_t true_ns, realtime_ns;
};

static void rt_fire(void *ctx)
{
	struct rt_seen *s = ctx;

	s->n++;
	s->true_ns = pvt_simhost_now_ns(s->sim);
	s->realtime_ns = pvt_simhost_realtime(s->sim);
}

/* A host with 1 ms of slew-free mono per ms, realtime far ahead of mono. */
static struct pvt_simhost *rt_host(uint64_t wake_latency_ns)
{
	struct pvt_simhost *sim;
	struct pvt_simhost_config c = {
		.tsc_khz = 2000000, .start_true_ns = 1000000000, .start_mono_ns = 5000000000,
		.slew_ppt = 250 * PVT_PPT_PER_PPM, .wake_latency_ns = wake_latency_ns,
		.max_timers = 4,
	};

	assert_int_equal(pvt_simhost_new(&c, &sim), 0);
	sim->realtime_offset_ns = 1700000000000000000ll;
	return sim;
}

/* It fires at the first true instant realtime reaches the deadline, + wake latency. */
static void rt_timer_fires_at_deadline(void **state)
{
	struct pvt_simhost *sim = rt_host(5);
	struct pvt_hosttimer *t;
	struct rt_seen seen = { .sim = sim };
	uint64_t deadline = pvt_simhost_realtime(sim) + 123456789, at;

	(void)state;
	assert_int_equal(pvt_simhost_timer_new_realtime(sim, &t), 0);
	assert_int_equal(pvt_hosttimer_clockid(t), CLOCK_REALTIME);
	assert_int_equal(pvt_hosttimer_fd(t), -1);
	assert_int_equal(pvt_simhost_timer_set_notify(t, rt_fire, &seen), 0);
	assert_int_equal(pvt_hosttimer_arm(t, deadline), 0);
	at = pvt_simhost_next_fire(sim);
	assert_true(pvt_simhost_mono_at(sim, at) + (uint64_t)sim->realtime_offset_ns >= deadline);
	assert_true(pvt_simhost_mono_at(sim, at - 1) + (uint64_t)sim->realtime_offset_ns <
		    deadline);
	assert_int_equal(pvt_simhost_run_until(sim, at - 1), 0);
	assert_int_equal(pvt_simhost_run_until(sim, at), 1);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.true_ns, at + 5);
	assert_false(t->armed);
	/* A deadline realtime has passed: at once. UINT64_MAX: not in 500 years. */
	assert_int_equal(pvt_hosttimer_arm(t, deadline - 1000), 0);
	assert_int_equal(pvt_simhost_next_fire(sim), pvt_simhost_now_ns(sim));
	assert_int_equal(pvt_hosttimer_arm(t, UINT64_MAX), 0);
	assert_int_equal(pvt_simhost_run_until(sim, pvt_simhost_now_ns(sim) +
					       500ull * 365 * 86400 * 1000000000ull), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(pvt_hosttimer_disarm(t), 0);
	assert_false(t->armed);
	pvt_hosttimer_free(t);
	pvt_simhost_free(sim);
}

/*
 * A step of realtime cancels an armed timer, forwards or backwards: it
 * fires at once (now + wake latency), once; re-armed on the new realtime,
 * it fires when that reaches the deadline. A disarmed one, or a monotonic
 * one, is untouched.
 */
static void rt_timer_step(int64_t delta_ns)
{
	struct pvt_simhost *sim = rt_host(7);
	struct pvt_hosttimer *t, *idle, *mono;
	struct rt_seen seen = { .sim = sim }, seen_idle = { .sim = sim }, seen_mono = { .sim = sim };
	uint64_t deadline = pvt_simhost_realtime(sim) + 50000000, now, mono_at, at;

	assert_int_equal(pvt_simhost_timer_new_realtime(sim, &t), 0);
	assert_int_equal(pvt_simhost_timer_new_realtime(sim, &idle), 0);
	assert_int_equal(pvt_simhost_timer_new(sim, &mono), 0);
	assert_int_equal(pvt_simhost_timer_set_notify(t, rt_fire, &seen), 0);
	assert_int_equal(pvt_simhost_timer_set_notify(idle, rt_fire, &seen_idle), 0);
	assert_int_equal(pvt_simhost_timer_set_notify(mono, rt_fire, &seen_mono), 0);
	mono_at = pvt_simhost_mono(sim) + 80000000;
	assert_int_equal(pvt_hosttimer_arm(mono, mono_at), 0);
	assert_int_equal(pvt_hosttimer_arm(idle, deadline), 0);
	assert_int_equal(pvt_hosttimer_disarm(idle), 0);
	assert_int_equal(pvt_hosttimer_arm(t, deadline), 0);
	pvt_simhost_run_until(sim, pvt_simhost_now_ns(sim) + 1000000);
	assert_int_equal(seen.n, 0);

	pvt_simhost_step_realtime(sim, delta_ns);
	now = pvt_simhost_now_ns(sim);
	assert_int_equal(pvt_simhost_next_fire(sim), now);
	assert_int_equal(pvt_simhost_step(sim, now), 1);	/* the cancel, nothing else */
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.true_ns, now + 7);
	assert_false(t->armed);
	assert_int_equal(seen_idle.n + seen_mono.n, 0);

	/* The owner re-arms on the stepped clock. */
	assert_int_equal(pvt_hosttimer_arm(t, deadline), 0);
	at = pvt_simhost_true_at_mono(sim, t->deadline_ns);	/* the mono timer may come first */
	if (delta_ns > 0) {
		/* Realtime already passed the deadline: at once. */
		assert_int_equal(at, pvt_simhost_now_ns(sim));
	} else {
		assert_true(pvt_simhost_realtime(sim) < deadline);
		assert_true(pvt_simhost_mono_at(sim, at) + (uint64_t)sim->realtime_offset_ns >=
			    deadline);
		assert_true(pvt_simhost_mono_at(sim, at - 1) +
			    (uint64_t)sim->realtime_offset_ns < deadline);
	}
	pvt_simhost_run_until(sim, at + 7);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.true_ns, at + 7);
	assert_true(seen.realtime_ns >= deadline);
	/* The monotonic timer kept its instant. */
	pvt_simhost_run_until(sim, pvt_simhost_true_at_mono(sim, mono_at) + 7);
	assert_int_equal(seen_mono.n, 1);
	assert_int_equal(seen_idle.n, 0);
	assert_int_equal(seen.n, 2);
	/* A step with nothing armed wakes nothing. */
	pvt_simhost_step_realtime(sim, delta_ns);
	assert_int_equal(pvt_simhost_next_fire(sim), UINT64_MAX);
	pvt_hosttimer_free(t);
	pvt_hosttimer_free(idle);
	pvt_hosttimer_free(mono);
	pvt_simhost_free(sim);
}

static void rt_timer_step_forward(void **state)
{
	(void)state;
	rt_timer_step(3600ll * 1000000000ll);
}

static void rt_timer_step_backward(void **state)
{
	(void)state;
	rt_timer_step(-25000000ll);
	rt_timer_step(-86400ll * 1000000000ll);
}

/* A cancel wakes even a never-firing arming (a timerfd cancels whatever is armed). */
static void rt_timer_step_cancels_never(void **state)
{
	struct pvt_simhost *sim = rt_host(0);
	struct pvt_hosttimer *a, *b;
	struct rt_seen sa = { .sim = sim }, sb = { .sim = sim };

	(void)state;
	assert_int_equal(pvt_simhost_timer_new_realtime(sim, &a), 0);
	assert_int_equal(pvt_simhost_timer_new_realtime(sim, &b), 0);
	assert_int_equal(pvt_simhost_timer_set_notify(a, rt_fire, &sa), 0);
	assert_int_equal(pvt_simhost_timer_set_notify(b, rt_fire, &sb), 0);
	assert_int_equal(pvt_hosttimer_arm(a, UINT64_MAX), 0);
	assert_int_equal(pvt_hosttimer_arm(b, pvt_simhost_realtime(sim) + 1000000000), 0);
	pvt_simhost_step_realtime(sim, 1);
	/* Both at this instant, in the order they were made. */
	assert_int_equal(pvt_simhost_step(sim, pvt_simhost_now_ns(sim)), 1);
	assert_int_equal(sa.n, 1);
	assert_int_equal(sb.n, 0);
	assert_int_equal(pvt_simhost_step(sim, pvt_simhost_now_ns(sim)), 1);
	assert_int_equal(sb.n, 1);
	assert_int_equal(pvt_simhost_next_fire(sim), UINT64_MAX);
	pvt_hosttimer_free(a);
	pvt_hosttimer_free(b);
	pvt_simhost_free(sim);
}

/* A bring-your-own timer around a simulated one. */
static int ops_arm(void *ctx, uint64_t deadline_ns)
{
	return pvt_hosttimer_arm(ctx, deadline_ns);
}

static int ops_disarm(void *ctx)
{
	return pvt_hosttimer_disarm(ctx);
}

static void rt_timer_bad_args(void **state)
{
	struct pvt_simhost *sim = rt_host(0);
	struct pvt_hosttimer *t, *ops_t;
	static const struct pvt_hosttimer_ops ops = { .arm = ops_arm, .disarm = ops_disarm };

	(void)state;
	assert_int_equal(pvt_simhost_timer_new_realtime(NULL, &t), -EINVAL);
	assert_int_equal(pvt_simhost_timer_new_realtime(sim, NULL), -EINVAL);
	assert_int_equal(pvt_simhost_timer_new_realtime(sim, &t), 0);
	assert_int_equal(pvt_simhost_timer_set_notify(NULL, rt_fire, NULL), -EINVAL);
	/* Not a simulated timer: no notify hook to set. */
	assert_int_equal(pvt_hosttimer_new_ops(&ops, t, CLOCK_REALTIME, &ops_t), 0);
	assert_int_equal(pvt_simhost_timer_set_notify(ops_t, rt_fire, NULL), -EINVAL);
	pvt_hosttimer_free(ops_t);
	pvt_hosttimer_free(t);
	pvt_simhost_free(sim);
}

/* Freed while armed: it leaves the queue. The host may go first: the timer turns inert. */
static void rt_timer_free_armed(void **state)
{
	struct pvt_simhost *sim = rt_host(0);
	struct pvt_hosttimer *t, *u;
	struct rt_seen seen = { .sim = sim };

	(void)state;
	assert_int_equal(pvt_simhost_timer_new_realtime(sim, &t), 0);
	assert_int_equal(pvt_simhost_timer_new_realtime(sim, &u), 0);
	assert_int_equal(pvt_simhost_timer_set_notify(t, rt_fire, &seen), 0);
	assert_int_equal(pvt_hosttimer_arm(t, pvt_simhost_realtime(sim) + 1000), 0);
	assert_int_equal(pvt_hosttimer_arm(u, pvt_simhost_realtime(sim) + 2000), 0);
	pvt_hosttimer_free(t);
	assert_int_equal(pvt_simhost_run_until(sim, pvt_simhost_now_ns(sim) + 1500), 0);
	pvt_simhost_step_realtime(sim, -1000000);	/* walks the host's timers: t is gone */
	assert_int_equal(seen.n, 0);
	pvt_simhost_free(sim);
	assert_int_equal(pvt_hosttimer_arm(u, 1), -ENODEV);
	assert_int_equal(pvt_hosttimer_disarm(u), 0);
	pvt_hosttimer_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clocks_are_exact),
		cmocka_unit_test(inverses_are_first_instants),
		cmocka_unit_test(slew_change_is_continuous),
		cmocka_unit_test(queue_order_and_latency),
		cmocka_unit_test(bad_config),
		cmocka_unit_test(full_queue),
		cmocka_unit_test(rt_timer_fires_at_deadline),
		cmocka_unit_test(rt_timer_step_forward),
		cmocka_unit_test(rt_timer_step_backward),
		cmocka_unit_test(rt_timer_step_cancels_never),
		cmocka_unit_test(rt_timer_bad_args),
		cmocka_unit_test(rt_timer_free_armed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

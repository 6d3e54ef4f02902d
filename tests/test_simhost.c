// SPDX-License-Identifier: MIT
/*
 * The simulated host: its clocks are the exact integer functions it
 * documents (checked against independent big-number arithmetic), slew
 * changes keep CLOCK_MONOTONIC continuous, the inverses return the first
 * true instant, and the timer queue fires in deadline order (FIFO on ties)
 * at the first instant monotonic reaches the deadline + wake latency.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clocks_are_exact),
		cmocka_unit_test(inverses_are_first_instants),
		cmocka_unit_test(slew_change_is_continuous),
		cmocka_unit_test(queue_order_and_latency),
		cmocka_unit_test(bad_config),
		cmocka_unit_test(full_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

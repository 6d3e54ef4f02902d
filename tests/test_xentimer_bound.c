// SPDX-License-Identifier: MIT
/*
 * Host wake-ups are bounded in host time whatever the guest clock does.
 * A scribbled pvclock page makes the guest clock run 10^4 x fast or slow:
 *  - fast, 1 ms periodic timer: the exact guest grid would wake the host
 *    every 100 ns; the engine delivers at most PVT_XEN_PERIODIC_MAX_RATE_FACTOR
 *    times per period of host time, the passed ticks coalesced and counted
 *    (every grid tick accounted for exactly once, none early);
 *  - slow: a 1 ms tick is 10 s of host time away, reached through at most
 *    a few early stages (log of the distance), and still on the exact grid;
 *  - a singleshot storm (the guest re-arms at every expiry) costs at most
 *    (1 + stages) wakes per hypercall.
 * And the bound costs a sane guest nothing: with a wake latency of 80 % of
 * the period its ticks stay on the exact grid. Stages stay logarithmic in
 * the distance even with a slew bound near 100 %.
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

#define MS		1000000ull
#define S		1000000000ull
#define HOST_T		(10 * S)	/* host time each run covers */
#define MAX_STAGES	6		/* per deadline with the default slew bound / final stage */

/* What the VMM loop of these tests saw (its own notify hook, not the harness'). */
struct seen {
	struct harness *h;
	struct pvt_xen_vcpu *v;
	uint64_t wakes;			/* host timer fires served */
	uint64_t events, ticks;		/* periodic events and the ticks they carried */
	uint64_t first_tick, last_tick;	/* guest deadlines of the first and last tick */
	uint64_t singleshots, rearms;	/* singleshot expiries; storm hypercalls */
	uint64_t ss_deadline;		/* armed singleshot (storm) */
	bool storm;
	int err;
};

static void on_fire(void *ctx)
{
	struct seen *s = ctx;
	struct pvt_xen_events ev;
	uint64_t now_g = h_guest_now(s->h);
	int r = pvt_xen_vcpu_service(s->v, &ev);

	s->wakes++;
	if (r < 0)
		s->err = r;
	if (ev.fired & PVT_XEN_FIRED_PERIODIC) {
		/* Never early: the guest clock reached the last tick it carries. */
		if ((int64_t)(now_g - ev.periodic_deadline_ns) < 0)
			s->err = -EPROTO;
		if (!s->events)
			s->first_tick = ev.periodic_deadline_ns - (ev.periodic_ticks - 1) *
				       s->v->period_ns;
		s->events++;
		s->ticks += ev.periodic_ticks;
		s->last_tick = ev.periodic_deadline_ns;
	}
	if (ev.fired & PVT_XEN_FIRED_SINGLESHOT) {
		if (ev.singleshot_deadline_ns != s->ss_deadline ||
		    (int64_t)(now_g - s->ss_deadline) < 0)
			s->err = -EPROTO;
		s->singleshots++;
		if (s->storm) {
			int64_t g;

			s->ss_deadline = now_g + MS;
			s->rearms++;
			if (pvt_xen_set_timer_op(s->v, s->ss_deadline, &g) || g)
				s->err = -EIO;
		}
	}
}

/* A harness with its guest page replaced by one running scaled_hz / 10^9 x real time. */
static void init_scaled(struct harness *h, struct seen *s, uint64_t scaled_hz,
			uint64_t latency_ns)
{
	struct h_cfg c;
	struct pvt_guest_clock clk;
	uint64_t tsc;

	h_cfg_default(&c);
	c.wake_latency_ns = latency_ns;
	assert_int_equal(h_init(h, &c), 0);
	clk = h->clock;
	tsc = pvt_simhost_tsc(h->sim);
	/* Continuous at now, then another rate: what a scribbled page does. */
	clk.page.system_time = pvt_guest_clock_ns(&h->clock, tsc);
	clk.page.tsc_timestamp = pvt_guest_tsc(&clk.tsc, tsc);
	assert_int_equal(pvt_time_scale(scaled_hz, (uint64_t)c.guest_khz * 1000,
					&clk.page.tsc_to_system_mul, &clk.page.tsc_shift), 0);
	h->clock = clk;
	assert_int_equal(h_set_guest_clock(h, h->vcpus[0], &clk), 0);
	memset(s, 0, sizeof(*s));
	s->h = h;
	s->v = h->vcpus[0];
	assert_int_equal(pvt_simhost_timer_set_notify(h->timers[0], on_fire, s), 0);
}

/* Runs host time for ns, stopping early (and failing later) past max_wakes. */
static void run_for(struct harness *h, struct seen *s, uint64_t ns, uint64_t max_wakes)
{
	uint64_t end = h->sim->true_ns + ns;

	while (s->wakes <= max_wakes && pvt_simhost_step(h->sim, end))
		;
	if (s->wakes > max_wakes)
		fail_msg("more than %" PRIu64 " host wake-ups in %" PRIu64 " ns of host time",
			 max_wakes, ns);
	assert_int_equal(s->err, 0);
}

static void periodic_fast_page(void **state)
{
	struct harness h;
	struct seen s;
	struct pvt_xen_vcpu_stats st;
	/* Any T host ns hold at most T x factor / period + 2 deliveries. */
	uint64_t bound = HOST_T * PVT_XEN_PERIODIC_MAX_RATE_FACTOR / MS + 2;
	uint64_t g_end;

	(void)state;
	init_scaled(&h, &s, 10000 * S, 0);
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], MS), 0);
	run_for(&h, &s, HOST_T, bound);
	xt_snapshot(h.vcpus[0], NULL, NULL, NULL, NULL, &st);
	printf("# 10^4 x fast page, 1 ms period, %llu s of host time: %" PRIu64
	       " host wake-ups (bound %" PRIu64 "), %" PRIu64 " events carrying %" PRIu64
	       " ticks (%" PRIu64 " coalesced)\n", (unsigned long long)(HOST_T / S), s.wakes, bound, s.events,
	       s.ticks, st.coalesced);
	assert_true(s.wakes <= bound);
	/* The bound is a rate, not a stop: the timer went on being delivered. */
	assert_true(s.events >= bound - 3);
	assert_int_equal(st.host_fires, s.wakes);
	/* Every grid tick exactly once: first..last, none missing, none twice. */
	assert_int_equal(s.ticks, (s.last_tick - s.first_tick) / MS + 1);
	assert_int_equal(s.ticks, st.coalesced + s.events);
	/*
	 * ... and they are all the guest's ticks up to now (10^4 x 10 s / 1 ms
	 * of them) but those of the last gap (0.5 ms of host time, 5000 ticks).
	 */
	g_end = h_guest_now(&h);
	assert_true((g_end - s.first_tick) / MS >= s.ticks);
	assert_true((g_end - s.first_tick) / MS - s.ticks <= 5001);
	h_destroy(&h);
}

static void periodic_slow_page(void **state)
{
	struct harness h;
	struct seen s;
	struct pvt_xen_vcpu_stats st;
	uint64_t g0, t0, ticks = 3;

	(void)state;
	init_scaled(&h, &s, S / 10000, 0);
	g0 = h_guest_now(&h);
	t0 = h.sim->true_ns;
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], MS), 0);
	for (uint64_t k = 1; k <= ticks; k++) {
		uint64_t first = h_first_true_at(&h, h.sim->true_ns, g0 + k * MS);

		/* 1 ms of this guest is 10 s of host time. */
		assert_true(first - h.sim->true_ns > 9 * S);
		while (s.events < k && s.wakes <= k * (1 + MAX_STAGES))
			assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
		assert_int_equal(s.err, 0);
		assert_int_equal(s.events, k);
		/* Exactly at the grid instant, not one ns early or late. */
		if (h.sim->true_ns != first)
			fail_msg("tick %" PRIu64 " at %" PRIu64 ", grid instant %" PRIu64, k,
				 h.sim->true_ns, first);
	}
	xt_snapshot(h.vcpus[0], NULL, NULL, NULL, NULL, &st);
	printf("# 10^-4 x slow page, 1 ms period: %" PRIu64 " ticks in %" PRIu64
	       " s of host time, %" PRIu64 " host wake-ups (%" PRIu64 " stages)\n",
	       ticks, (uint64_t)((h.sim->true_ns - t0) / S), s.wakes, st.stages);
	assert_true(s.wakes <= ticks * (1 + MAX_STAGES));
	assert_int_equal(st.coalesced, 0);
	h_destroy(&h);
}

/* The guest re-arms a 1 ms singleshot at each expiry: one hypercall per expiry. */
static void singleshot_storm(uint64_t scaled_hz, uint64_t expiries)
{
	struct harness h;
	struct seen s;
	struct pvt_xen_vcpu_stats st;
	int64_t g;

	init_scaled(&h, &s, scaled_hz, 0);
	s.storm = true;
	s.ss_deadline = h_guest_now(&h) + MS;
	s.rearms = 1;
	assert_int_equal(pvt_xen_set_timer_op(h.vcpus[0], s.ss_deadline, &g), 0);
	while (s.singleshots < expiries && s.wakes <= expiries * (1 + MAX_STAGES))
		assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
	assert_int_equal(s.err, 0);
	xt_snapshot(h.vcpus[0], NULL, NULL, NULL, NULL, &st);
	printf("# singleshot storm, page x %g: %" PRIu64 " hypercalls, %" PRIu64
	       " expiries, %" PRIu64 " host wake-ups (%" PRIu64 " stages)\n",
	       (double)scaled_hz / S, s.rearms, s.singleshots, s.wakes, st.stages);
	assert_int_equal(s.singleshots, expiries);
	assert_true(s.wakes <= s.rearms * (1 + MAX_STAGES));
	h_destroy(&h);
}

static void singleshot_storm_fast(void **state)
{
	(void)state;
	singleshot_storm(10000 * S, 100000);
}

static void singleshot_storm_slow(void **state)
{
	(void)state;
	singleshot_storm(S / 10000, 20);
}

/*
 * The bound measures from the instant a tick was due, not from when it was
 * served: a sane clock whose wake-ups come 0.8 periods late keeps its grid.
 */
static void sane_clock_keeps_grid(void **state)
{
	struct harness h;
	struct seen s;
	struct pvt_xen_vcpu_stats st;
	uint64_t g0, lat = 800000;

	(void)state;
	init_scaled(&h, &s, S, lat);
	g0 = h_guest_now(&h);
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], MS), 0);
	for (uint64_t k = 1; k <= 500; k++) {
		uint64_t first = h_first_true_at(&h, h.sim->true_ns, g0 + k * MS);

		while (s.events < k)
			assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
		assert_int_equal(s.ticks, k);
		/* A two-stage wake may absorb part of the latency. */
		if (h.sim->true_ns < first || h.sim->true_ns > first + lat + 1)
			fail_msg("tick %" PRIu64 " served at %" PRIu64 ", grid instant %" PRIu64
				 " + latency %" PRIu64, k, h.sim->true_ns, first, lat);
	}
	xt_snapshot(h.vcpus[0], NULL, NULL, NULL, NULL, &st);
	assert_int_equal(st.coalesced, 0);
	h_destroy(&h);
}

/*
 * A slew bound near 100 % would stage a long timer almost forever (each
 * stage only 10^-6 closer): a stage at least halves what is left, so a
 * deadline 10^4 s away costs at most log2(10^13 ns / final stage) stages,
 * and it still fires at its exact instant.
 */
static void stages_halve_the_distance(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_xen_vcpu_stats st;
	uint64_t d, first;

	(void)state;
	h_cfg_default(&c);
	c.vm.slew_bound_ppm = 999999;
	assert_int_equal(h_init(&h, &c), 0);
	d = h_guest_now(&h) + 10000 * S;
	first = h_first_true_at(&h, h.sim->true_ns, d);
	assert_int_equal(h_set_timer_op(&h, h.vcpus[0], d), 0);
	for (int i = 0; i < 64 && !h.logs[0].singleshot; i++)
		assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
	xt_snapshot(h.vcpus[0], NULL, NULL, NULL, NULL, &st);
	printf("# slew bound 999999 ppm, deadline 10^4 s away: %" PRIu64 " stages, %" PRIu64
	       " host wake-ups\n", st.stages, st.host_fires);
	assert_int_equal(h.logs[0].singleshot, 1);
	assert_int_equal(h.logs[0].last_true_ns, first);
	assert_true(st.host_fires <= 44);	/* log2(10^13 / 1000) + 1 */
	h_destroy(&h);
}

/* A host that speeds up after every arm: each arm was made for a slower rate. */
struct speeder {
	struct harness *h;
	uint64_t wakes;
	int64_t slew_ppt;
};

static void speed_fire(void *ctx)
{
	struct speeder *f = ctx;

	f->wakes++;
	h_notify(&f->h->slots[0]);
	/* After the re-arm: half-way again towards 1.9 x. */
	f->slew_ppt += (900000 * PVT_PPT_PER_PPM - f->slew_ppt) / 2;
	(void)pvt_simhost_set_slew(f->h->sim, f->slew_ppt);
}

/*
 * Early wakes make progress: every wake re-pairs, so with a host clock
 * that speeds up after every arm (far beyond the slew bound, so each host
 * timer fires before the TSC gets there) each wake still covers a good part
 * of what is left: a 1 s timer takes a few wakes and is never early.
 */
static void early_wakes_make_progress(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct speeder f = { &h, 0, 0 };
	struct pvt_xen_vcpu_stats st;
	uint64_t d, first;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	assert_int_equal(pvt_simhost_timer_set_notify(h.timers[0], speed_fire, &f), 0);
	d = h_guest_now(&h) + S;
	first = h_first_true_at(&h, h.sim->true_ns, d);
	assert_int_equal(h_set_timer_op(&h, h.vcpus[0], d), 0);
	f.slew_ppt = 450000 * PVT_PPT_PER_PPM;
	(void)pvt_simhost_set_slew(h.sim, f.slew_ppt);
	while (!h.logs[0].singleshot && f.wakes < 100)
		assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
	xt_snapshot(h.vcpus[0], NULL, NULL, NULL, NULL, &st);
	printf("# host clock speeding up after every arm: 1 s timer in %" PRIu64
	       " wakes (%" PRIu64 " early), %" PRIu64 " ns late\n", f.wakes, st.early_wakes,
	       h.logs[0].last_true_ns - first);
	assert_int_equal(h.logs[0].singleshot, 1);
	assert_true(h.logs[0].last_true_ns >= first);
	assert_true(f.wakes <= 40);
	h_destroy(&h);
}

/*
 * The guest clock jumps 1 s forward right after a tick of its 10 ms
 * periodic timer (KVM_SET_CLOCK): the 100 ticks passed come as one event,
 * at the floor, one gap (5 ms of host time) after the last tick: not at
 * once (that would be a second delivery in no host time), not later.
 */
static void jump_waits_one_gap(void **state)
{
	struct harness h;
	struct seen s;
	struct pvt_guest_clock clk;
	uint64_t t1;

	(void)state;
	init_scaled(&h, &s, S, 0);
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], 10 * MS), 0);
	while (s.events < 1)
		assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
	t1 = h.sim->true_ns;
	pvt_simhost_skip(h.sim, 1000);
	clk = h.clock;
	clk.page.system_time += S;
	h.clock = clk;
	assert_int_equal(h_set_guest_clock(&h, h.vcpus[0], &clk), 0);
	assert_int_equal(h.logs[0].periodic, 0);	/* not at once */
	for (int i = 0; i < 1 + MAX_STAGES && s.events < 2; i++)
		assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
	assert_int_equal(s.events, 2);
	assert_int_equal(s.ticks, 1 + 100);
	if (h.sim->true_ns < t1 + 5 * MS || h.sim->true_ns > t1 + 5 * MS + 1)
		fail_msg("delivered %" PRIu64 " ns after the last tick, the gap is 5 ms",
			 h.sim->true_ns - t1);
	h_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(periodic_fast_page),
		cmocka_unit_test(periodic_slow_page),
		cmocka_unit_test(singleshot_storm_fast),
		cmocka_unit_test(singleshot_storm_slow),
		cmocka_unit_test(sane_clock_keeps_grid),
		cmocka_unit_test(stages_halve_the_distance),
		cmocka_unit_test(early_wakes_make_progress),
		cmocka_unit_test(jump_waits_one_gap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

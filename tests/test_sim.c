// SPDX-License-Identifier: MIT
/*
 * The simulator against the arithmetic: legacy reproduces the seed's error
 * as the model predicts it (computed here straight from the library's
 * conversions, not from the simulator), kvm and pvtime add nothing to short
 * sleeps, kvm drifts on long slewed timers and pvtime does not, preemption
 * hurts only legacy, and runs are deterministic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "pvtime/guestclock.h"
#include "sim.h"
#include "test_clock_helpers.h"

static struct sim_config config(enum pvt_timer_algo algo, uint32_t h, uint32_t g,
				unsigned frac, uint64_t uptime_s)
{
	struct sim_config cfg;

	sim_config_default(&cfg);
	cfg.algo = algo;
	cfg.host_khz = h;
	cfg.guest_khz = g;
	cfg.frac_bits = frac;
	cfg.uptime_s = uptime_s;
	cfg.loops = 200;
	return cfg;
}

/* Runs cfg into a fresh report (caller frees). */
static void run(const struct sim_config *cfg, struct timerlat_report *r)
{
	struct sim_result res;

	assert_int_equal(sim_config_check(cfg), 0);
	timerlat_report_init(r, "test", cfg->interval_ns, NULL, true);
	r->keep_order = true;	/* some tests look at single loops */
	assert_int_equal(sim_run(cfg, r, &res), 0);
	assert_int_equal(r->loops, cfg->loops * cfg->vcpus);
	assert_true(res.events >= r->loops);
}

static double mean_lateness(const struct sim_config *cfg)
{
	struct timerlat_report r;
	double mean;

	run(cfg, &r);
	mean = stats_mean(&r.lateness);
	timerlat_report_free(&r);
	return mean;
}

static void legacy_matches_tsdrift(void **state)
{
	static const struct {
		uint32_t h, g;
		unsigned frac;
		uint64_t uptime_s;
		double pinned_latency;	/* from the issue; 0 = none */
	} v[] = {
		{ 2596136, 3000000, 48, 10, 103333 },
		{ 2893202, 2500000, 32, 60, 123984 },
		{ 2596136, 3000000, 48, 3600, 0 },
		{ 2596136, 1298068, 48, 86400, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sim_config cfg = config(PVT_ALGO_LEGACY, v[i].h, v[i].g, v[i].frac,
					       v[i].uptime_s);
		double expected = (double)cfg.interval_ns -
				  (double)onestep_error_ns(v[i].h, v[i].g, v[i].frac, v[i].uptime_s);
		struct timerlat_report r;
		double seen;

		/* Few loops: the drift accumulated during the run stays under 2 ns. */
		cfg.loops = 5;
		run(&cfg, &r);
		seen = stats_mean(&r.lateness) + (double)cfg.interval_ns;
		expect_near(seen, expected, 3.0);
		expect_near(r.order[0] + (double)cfg.interval_ns, expected, 1.0);
		timerlat_report_free(&r);
		if (v[i].pinned_latency)
			expect_near(seen, v[i].pinned_latency, 3.0);
	}
}

static void legacy_grows_with_uptime(void **state)
{
	static const uint64_t uptimes[] = { 1, 10, 3600, 86400 };
	double prev = -1e18;

	(void)state;
	for (size_t i = 0; i < sizeof(uptimes) / sizeof(uptimes[0]); i++) {
		struct sim_config cfg = config(PVT_ALGO_LEGACY, 2596136, 3000000, 48, uptimes[i]);
		double mean = mean_lateness(&cfg);

		if (mean <= prev) {
			print_error("uptime %llu s: lateness %.1f ns, not above %.1f\n",
				    (unsigned long long)uptimes[i], mean, prev);
			fail();
		}
		prev = mean;
	}
}

/*
 * kvm and pvtime add nothing to 100 us sleeps at any uptime, scaled or exact.
 * The simulated host's true time has 1 ns steps (2.6 TSC ticks here), so a
 * wake-up lands up to 1 ns after the instant asked for; pvtime is never
 * early, kvm (a delta on CLOCK_MONOTONIC) can be by a rounding ns.
 */
static void fixed_algos_are_exact(void **state)
{
	static const uint64_t uptimes[] = { 0, 10, 3600, 86400, 30 * 86400, 365 * 86400 };
	static const uint32_t guests[] = { 3000000, 1298068, 2596136 };

	(void)state;
	for (int algo = PVT_ALGO_KVM; algo <= PVT_ALGO_PVTIME; algo++)
		for (size_t g = 0; g < 3; g++)
			for (size_t u = 0; u < sizeof(uptimes) / sizeof(uptimes[0]); u++) {
				struct sim_config cfg = config((enum pvt_timer_algo)algo, 2596136,
							       guests[g], 48, uptimes[u]);
				struct timerlat_report r;

				run(&cfg, &r);
				if (algo == PVT_ALGO_KVM) {
					assert_true(stats_min(&r.lateness) >= -1);
					assert_true(stats_max(&r.lateness) <= 1);
				} else {
					assert_in_range(stats_min(&r.lateness), 0, 1);
					assert_in_range(stats_max(&r.lateness), 0, 1);
				}
				expect_near(stats_mean(&r.lateness), 0.0, 1.0);
				timerlat_report_free(&r);
			}
}

/* Guest clock rate against true time: actual guest TSC rate / advertised rate - 1. */
static double guest_rate_error(uint32_t h, uint32_t g, unsigned frac)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock gc;
	uint64_t t0 = 1000ull * h, t1 = 101000ull * h;	/* 1 s .. 101 s */

	assert_int_equal(pvt_kvm_clock_init(&kvm, h, frac), 0);
	assert_int_equal(pvt_kvm_tsc_scaling(&kvm, g, 0, &tsc), 0);
	assert_int_equal(pvt_kvm_guest_clock(&kvm, &tsc, &gc), 0);
	return (double)(pvt_guest_clock_ns(&gc, t1) - pvt_guest_clock_ns(&gc, t0)) / 1e11 - 1.0;
}

/* On 10 s timers kvm lands off by interval x (guest rate error - slew); pvtime does not. */
static void long_timers_under_slew(void **state)
{
	static const int64_t ppm[] = { 0, 100, -100, 500 };
	double rate_err = guest_rate_error(2596136, 3000000, 48);

	(void)state;
	assert_true(rate_err > 0.3e-6 && rate_err < 0.4e-6);	/* ~1/guest_khz fast */
	for (size_t i = 0; i < sizeof(ppm) / sizeof(ppm[0]); i++) {
		struct sim_config cfg = config(PVT_ALGO_KVM, 2596136, 3000000, 48, 10);
		double slew = (double)ppm[i] * 1e-6, expected;
		struct timerlat_report r;

		cfg.interval_ns = 10000000000ull;
		cfg.loops = 3;
		cfg.ntp_ppt = ppm[i] * 1000000;
		expected = (double)cfg.interval_ns * ((1.0 + rate_err) / (1.0 + slew) - 1.0);
		expect_near(mean_lateness(&cfg), expected, 5.0);

		cfg.algo = PVT_ALGO_PVTIME;
		run(&cfg, &r);
		assert_in_range(stats_min(&r.lateness), 0, 1);
		assert_in_range(stats_max(&r.lateness), 0, 1);
		timerlat_report_free(&r);
	}
}

/* Time between legacy's two clock reads makes its timers late by that much; others don't care. */
static void preempt_hurts_only_legacy(void **state)
{
	(void)state;
	for (int algo = 0; algo < SIM_ALGOS; algo++) {
		struct sim_config cfg = config((enum pvt_timer_algo)algo, 2596136, 3000000, 48, 10);
		double calm = mean_lateness(&cfg), preempted;

		cfg.preempt_ns = 5000;
		preempted = mean_lateness(&cfg);
		expect_near(preempted - calm, algo == PVT_ALGO_LEGACY ? 5000.0 : 0.0, 2.0);
	}
}

static void wake_latency_adds_exactly(void **state)
{
	struct sim_config cfg = config(PVT_ALGO_PVTIME, 2596136, 3000000, 48, 10);
	struct timerlat_report r;

	(void)state;
	cfg.wake_latency_ns = 7000;
	run(&cfg, &r);
	/* 7000 true ns are 18172.95 TSC ticks: the guest sees 7000 +- 1 ns of them. */
	assert_in_range(stats_min(&r.lateness), 6999, 7001);
	assert_in_range(stats_max(&r.lateness), 6999, 7001);
	expect_near(stats_mean(&r.lateness), 7000.0, 1.0);
	timerlat_report_free(&r);
}

/* Lateness samples of a run in loop order. */
static void samples(const struct sim_config *cfg, int64_t *out, size_t n)
{
	struct timerlat_report r;

	run(cfg, &r);
	assert_int_equal(r.ordered, n);
	memcpy(out, r.order, n * sizeof(*out));
	timerlat_report_free(&r);
}

static void deterministic_by_seed(void **state)
{
	struct sim_config cfg = config(PVT_ALGO_KVM, 2596136, 3000000, 48, 10);
	int64_t a[400], b[400], c[400];

	(void)state;
	cfg.loops = 100;
	cfg.vcpus = 4;
	cfg.wake_jitter_ns = 20000;
	cfg.seed = 1;
	samples(&cfg, a, 400);
	samples(&cfg, b, 400);
	assert_memory_equal(a, b, sizeof(a));
	cfg.seed = 2;
	samples(&cfg, c, 400);
	assert_memory_not_equal(a, c, sizeof(a));
	for (size_t i = 0; i < 400; i++)
		assert_in_range(c[i], 0, 20001);

	/* Without random parts the seed changes nothing. */
	cfg.wake_jitter_ns = 0;
	cfg.vcpus = 1;
	cfg.seed = 1;
	samples(&cfg, a, 100);
	cfg.seed = 99;
	samples(&cfg, b, 100);
	assert_memory_equal(a, b, 100 * sizeof(*a));
}

static void vcpus_and_hypercalls_agree(void **state)
{
	(void)state;
	for (int algo = 0; algo < SIM_ALGOS; algo++) {
		struct sim_config cfg = config((enum pvt_timer_algo)algo, 2596136, 3000000, 48, 3600);
		double one = mean_lateness(&cfg);

		cfg.hypercall = SIM_HC_SINGLESHOT;
		expect_near(mean_lateness(&cfg), one, 1.0);
		cfg.vcpus = 8;
		cfg.seed = 7;
		/* Other vCPUs start later, so legacy's error is a little larger there. */
		expect_near(mean_lateness(&cfg), one, algo == PVT_ALGO_LEGACY ? 5.0 : 1.0);
	}
}

/* A master clock re-snapshot resets legacy's accumulated error. */
static void resnapshot_resets_legacy(void **state)
{
	struct sim_config cfg = config(PVT_ALGO_LEGACY, 2596136, 3000000, 48, 3600);
	struct timerlat_report r;
	struct sim_result res;

	(void)state;
	cfg.loops = 20000;	/* 2 s of 100 us sleeps */
	cfg.resnapshot_s = 1;
	timerlat_report_init(&r, "test", cfg.interval_ns, NULL, true);
	r.keep_order = true;
	assert_int_equal(sim_run(&cfg, &r, &res), 0);
	assert_true(res.resnapshots >= 1);
	/* First loop: ~1.2 ms late (an hour of drift); last: under a second's worth. */
	assert_int_equal(r.ordered, r.loops);
	assert_true(r.order[0] > 1000000);
	assert_in_range(r.order[r.ordered - 1], 0, 400);
	timerlat_report_free(&r);
}

static void bad_configs_rejected(void **state)
{
	struct sim_config cfg = config(PVT_ALGO_KVM, 2596136, 3000000, 48, 10);
	struct sim_config bad;

	(void)state;
	assert_int_equal(sim_config_check(&cfg), 0);
	bad = cfg;
	bad.host_khz = 0;
	assert_int_equal(sim_config_check(&bad), 2);
	bad = cfg;
	bad.guest_khz = 0;
	assert_int_equal(sim_config_check(&bad), 2);
	bad = cfg;
	bad.interval_ns = 0;
	assert_int_equal(sim_config_check(&bad), 2);
	bad = cfg;
	bad.frac_bits = 40;
	assert_int_equal(sim_config_check(&bad), 2);
	bad = cfg;
	bad.uptime_s = 10000000000ull;	/* host TSC past 2^64 */
	assert_int_equal(sim_config_check(&bad), 2);
	bad = cfg;
	bad.uptime_s = 6500000000ull;	/* host TSC fits, guest TSC does not */
	assert_int_equal(sim_config_check(&bad), 2);
	bad = cfg;
	bad.uptime_s = 365ull * 86400 * 100;	/* a century is fine */
	assert_int_equal(sim_config_check(&bad), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(legacy_matches_tsdrift),
		cmocka_unit_test(legacy_grows_with_uptime),
		cmocka_unit_test(fixed_algos_are_exact),
		cmocka_unit_test(long_timers_under_slew),
		cmocka_unit_test(preempt_hurts_only_legacy),
		cmocka_unit_test(wake_latency_adds_exactly),
		cmocka_unit_test(deterministic_by_seed),
		cmocka_unit_test(vcpus_and_hypercalls_agree),
		cmocka_unit_test(resnapshot_resets_legacy),
		cmocka_unit_test(bad_configs_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * Rate tracking from pairings alone (no backend rate, as on a real host):
 * a backend over the simulated host whose pairs carry a +-20 ns error
 * inside their stated bound. The tracked rate sharpens over the first
 * window, follows an NTP frequency change within two windows, ignores a
 * clock step instead of learning a garbage rate, and arming-time
 * conversions reuse the published pairing until it is refresh_ns old.
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

struct noisy {
	struct pvt_simhost *sim;
	uint64_t seed;
	uint64_t pairs;
};

static int noisy_pair(void *ctx, struct pvt_clock_pair *out)
{
	struct noisy *n = ctx;
	int64_t e = (int64_t)(h_rand(&n->seed) % 41) - 20;

	out->tsc = pvt_simhost_tsc(n->sim);
	out->mono_ns = pvt_simhost_realtime(n->sim) + (uint64_t)e;
	out->uncertainty_ns = 21;
	n->pairs++;
	return 0;
}

static uint64_t noisy_tsc(void *ctx)
{
	return pvt_simhost_tsc(((struct noisy *)ctx)->sim);
}

static uint64_t noisy_mono(void *ctx)
{
	return pvt_simhost_realtime(((struct noisy *)ctx)->sim);
}

static const struct pvt_hostclock_ops noisy_ops = {
	.name = "noisy", .pair = noisy_pair, .read_tsc = noisy_tsc, .read_mono = noisy_mono,
};

/* What read-only adjtimex reports: the kernel's frequency correction. */
static int sim_freq_ppb(void *ctx, int64_t *ppb)
{
	*ppb = ((struct noisy *)ctx)->sim->slew_ppt / 1000;
	return 0;
}

static const struct pvt_hostclock_ops noisy_adjtimex_ops = {
	.name = "noisy+adjtimex", .pair = noisy_pair, .read_tsc = noisy_tsc,
	.read_mono = noisy_mono, .freq_ppb = sim_freq_ppb,
};

static uint64_t rate_error_ppb(struct pvt_hostclock *hc, struct pvt_simhost *sim)
{
	struct pvt_clock_pair p;
	struct pvt_rate r, truth;

	pvt_hostclock_current(hc, &p, &r, NULL);
	assert_int_equal(pvt_rate_from_khz(sim->tsc_khz, sim->slew_ppt, &truth), 0);
	return pvt_rate_diff_ppb(&r, &truth);
}

/* Refreshes every 10 ms of true time for dt_ns. */
static void run(struct pvt_hostclock *hc, struct pvt_simhost *sim, uint64_t dt_ns)
{
	for (uint64_t t = 0; t < dt_ns; t += 10000000) {
		pvt_simhost_skip(sim, 10000000);
		assert_int_equal(pvt_hostclock_refresh(hc), 0);
	}
}

static void tracks_rate(void **state)
{
	struct pvt_simhost *sim;
	struct pvt_simhost_config c = { .tsc_khz = 2596136, .max_timers = 1,
					.start_true_ns = 1000000000ull };
	struct noisy n = { NULL, 99, 0 };
	struct pvt_hostclock *hc;
	struct pvt_rate guess;
	uint64_t e;

	(void)state;
	assert_int_equal(pvt_simhost_new(&c, &sim), 0);
	n.sim = sim;
	/* A calibration 30 ppm off, as a short calibration may leave it. */
	assert_int_equal(pvt_rate_from_khz(2596136, 30 * PVT_PPT_PER_PPM, &guess), 0);
	assert_int_equal(pvt_hostclock_new_ops(&noisy_ops, &n, CLOCK_REALTIME, 0, &guess, &hc), 0);
	assert_in_range(rate_error_ppb(hc, sim), 29000, 31000);
	run(hc, sim, 20000000);
	e = rate_error_ppb(hc, sim);
	printf("# after 20 ms: %" PRIu64 " ppb\n", e);
	assert_true(e <= 2 * 41 * 1000000000ull / 16000000);	/* window bound */
	run(hc, sim, 1000000000ull);
	e = rate_error_ppb(hc, sim);
	printf("# after 1 s: %" PRIu64 " ppb\n", e);
	assert_true(e <= 50);
	/* NTP changes the frequency by +100 ppm: followed within two windows. */
	assert_int_equal(pvt_simhost_set_slew(sim, 100 * PVT_PPT_PER_PPM), 0);
	run(hc, sim, 4100000000ull);
	e = rate_error_ppb(hc, sim);
	printf("# 4 s after a +100 ppm change: %" PRIu64 " ppb\n", e);
	assert_true(e <= 100);
	/* A step of realtime is not a rate. */
	pvt_simhost_step_realtime(sim, -3600ll * 1000000000ll);
	run(hc, sim, 30000000);
	e = rate_error_ppb(hc, sim);
	printf("# 30 ms after a -1 h step: %" PRIu64 " ppb\n", e);
	assert_true(e <= 10000);
	pvt_hostclock_free(hc);
	pvt_simhost_free(sim);
}

static void arming_reuses_pairing(void **state)
{
	struct pvt_simhost *sim;
	struct pvt_simhost_config c = { .tsc_khz = 2596136, .max_timers = 1 };
	struct noisy n = { NULL, 7, 0 };
	struct pvt_hostclock *hc;
	struct pvt_rate guess;
	uint64_t before;

	(void)state;
	assert_int_equal(pvt_simhost_new(&c, &sim), 0);
	n.sim = sim;
	assert_int_equal(pvt_rate_from_khz(2596136, 0, &guess), 0);
	assert_int_equal(pvt_hostclock_new_ops(&noisy_ops, &n, CLOCK_REALTIME, 0, &guess, &hc), 0);
	before = n.pairs;
	for (int i = 0; i < 1000; i++) {
		pvt_simhost_skip(sim, 1000);	/* 1 ms in all */
		hc_maybe_refresh(hc, pvt_simhost_tsc(sim));
		(void)pvt_hostclock_tsc_to_mono(hc, pvt_simhost_tsc(sim) + 1000);
	}
	assert_int_equal(n.pairs, before);	/* younger than refresh_ns: no pairing */
	pvt_simhost_skip(sim, hc->refresh_ns);
	hc_maybe_refresh(hc, pvt_simhost_tsc(sim));
	assert_int_equal(n.pairs, before + 1);
	pvt_hostclock_free(hc);
	pvt_simhost_free(sim);
}

static void adjtimex_frequency_changes(void **state)
{
	struct pvt_simhost *sim;
	struct pvt_simhost_config c = { .tsc_khz = 2596136, .max_timers = 1,
					.start_true_ns = 1000000000ull };
	struct noisy n = { NULL, 5, 0 };
	struct pvt_hostclock *hc;
	struct pvt_rate guess;
	uint64_t e;

	(void)state;
	assert_int_equal(pvt_simhost_new(&c, &sim), 0);
	n.sim = sim;
	assert_int_equal(pvt_rate_from_khz(2596136, 0, &guess), 0);
	assert_int_equal(pvt_hostclock_new_ops(&noisy_adjtimex_ops, &n, CLOCK_REALTIME,
					       0, &guess, &hc), 0);
	run(hc, sim, 1500000000ull);
	/* chrony's 8 % transient: followed at the next refresh, not a window later. */
	assert_int_equal(pvt_simhost_set_slew(sim, 80000 * PVT_PPT_PER_PPM), 0);
	run(hc, sim, 10000000);
	e = rate_error_ppb(hc, sim);
	printf("# one refresh after an 8 %% frequency change: %" PRIu64 " ppb\n", e);
	assert_true(e <= 100);
	assert_int_equal(pvt_simhost_set_slew(sim, -500 * PVT_PPT_PER_PPM), 0);
	run(hc, sim, 3000000000ull);
	e = rate_error_ppb(hc, sim);
	printf("# 3 s after -500 ppm: %" PRIu64 " ppb\n", e);
	assert_true(e <= 100);
	pvt_hostclock_free(hc);
	pvt_simhost_free(sim);
}

static void kernel_freq_reads(void **state)
{
	int64_t ppb;

	(void)state;
	assert_int_equal(pvt_hostclock_kernel_freq_ppb(&ppb), 0);
	printf("# this host's kernel frequency correction: %" PRId64 " ppb\n", ppb);
	/* Linux bounds freq to +-500 ppm and tick to +-10 %. */
	assert_true(ppb > -110000000 && ppb < 110000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tracks_rate),
		cmocka_unit_test(arming_reuses_pairing),
		cmocka_unit_test(adjtimex_frequency_changes),
		cmocka_unit_test(kernel_freq_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

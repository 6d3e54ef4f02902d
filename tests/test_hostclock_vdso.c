// SPDX-License-Identifier: MIT
/*
 * The vDSO backend's calibration and pairing against scripted reads: this
 * file includes lib/hostclock-vdso.c with PVT_VDSO_SCRIPTED_READS and its own
 * tsc_open()/tsc_ordered()/mono_now(). A TSC that goes backwards inside
 * every sandwich used to leave the calibration's TSC/clock values
 * uninitialised (and the rate computed from them); now it is -EAGAIN.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define PVT_VDSO_SCRIPTED_READS

/* The scripted host: the TSC runs 3 ticks per ns of the clock. */
static struct {
	uint64_t ns;		/* the clock */
	int backwards;		/* sandwiches whose closing TSC read is below the opening one */
	int backwards_after;	/* ... starting after this many good sandwiches (-1: never) */
	int sandwiches;		/* opening reads so far */
	int jump_back_at;	/* sandwich at which the TSC steps back 1 s (0: never) */
} host;

static uint64_t tsc_of(uint64_t ns)
{
	uint64_t t = ns * 3;

	if (host.jump_back_at && host.sandwiches >= host.jump_back_at)
		t -= 3000000000ull;
	return t;
}

static uint64_t tsc_open(void)
{
	host.sandwiches++;
	host.ns += 7;
	return tsc_of(host.ns);
}

static uint64_t mono_now(void)
{
	host.ns += 10;
	return host.ns;
}

static uint64_t tsc_ordered(void)
{
	bool back = host.backwards_after >= 0 && host.sandwiches > host.backwards_after &&
		    host.backwards;

	host.ns += 7;
	/* Backwards: below the opening read (a TSC that is not monotonic across CPUs). */
	return back ? tsc_of(host.ns) - 1000 : tsc_of(host.ns);
}

#include "hostclock-vdso.c"

static void script(int backwards, int backwards_after, int jump_back_at)
{
	host.ns = 1000000000ull;
	host.backwards = backwards;
	host.backwards_after = backwards_after;
	host.sandwiches = 0;
	host.jump_back_at = jump_back_at;
}

static void calibration_is_exact_on_a_steady_tsc(void **state)
{
	struct pvt_rate rate = { 0, 0 };

	(void)state;
	script(0, -1, 0);
	assert_int_equal(calibrate(1000000, &rate), 0);
	/* 1/3 ns per tick: 0 + 2^64/3 (floor), within the 64.64 rounding. */
	assert_int_equal(rate.ns_int, 0);
	assert_true(rate.ns_frac >= 6148914691236517200ull && rate.ns_frac <= 6148914691236517210ull);
}

static void calibration_fails_when_every_sandwich_goes_backwards(void **state)
{
	struct pvt_rate rate = { 12345, 678 };

	(void)state;
	script(1, 0, 0);
	assert_int_equal(calibrate(1000000, &rate), -EAGAIN);
	assert_int_equal(rate.ns_int, 12345);	/* untouched */
	assert_int_equal(rate.ns_frac, 678);
	/* Bounded: CALIB_TRIES rounds of SANDWICH_TRIES reads, then it gives up. */
	assert_true(host.sandwiches <= CALIB_TRIES * SANDWICH_TRIES);
}

static void calibration_fails_when_the_second_end_goes_backwards(void **state)
{
	struct pvt_rate rate;

	(void)state;
	/* The first pairing is good, every later one sees the TSC go backwards. */
	script(1, SANDWICH_TRIES, 0);
	assert_int_equal(calibrate(1000000, &rate), -EAGAIN);
}

static void calibration_fails_when_the_tsc_steps_back(void **state)
{
	struct pvt_rate rate;

	(void)state;
	/* Each sandwich is fine, but the TSC at the second end is below the first. */
	script(0, -1, SANDWICH_TRIES + 1);
	assert_int_equal(calibrate(1000000, &rate), -EAGAIN);
}

static void init_reports_a_backwards_tsc(void **state)
{
	struct pvt_hostclock *hc = NULL;

	(void)state;
	script(1, 0, 0);
	assert_int_equal(pvt_hostclock_new_vdso(1000000, &hc), -EAGAIN);
	assert_null(hc);
}

static void pairing_reports_a_backwards_tsc(void **state)
{
	struct vdso_ctx v = { .rate = { 0, 6148914691236517205ull } };
	struct pvt_clock_pair pair = { 1, 2, 3 };

	(void)state;
	script(1, 0, 0);
	assert_int_equal(vdso_pair(&v, &pair), -EAGAIN);
	assert_int_equal(pair.tsc, 1);
	assert_int_equal(pair.mono_ns, 2);
	/* A steady TSC pairs the clock value with its TSC within the bound. */
	script(0, -1, 0);
	assert_int_equal(vdso_pair(&v, &pair), 0);
	assert_true(pair.mono_ns * 3 + pair.uncertainty_ns * 3 >= pair.tsc);
	assert_true(pair.mono_ns * 3 <= pair.tsc + pair.uncertainty_ns * 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(calibration_is_exact_on_a_steady_tsc),
		cmocka_unit_test(calibration_fails_when_every_sandwich_goes_backwards),
		cmocka_unit_test(calibration_fails_when_the_second_end_goes_backwards),
		cmocka_unit_test(calibration_fails_when_the_tsc_steps_back),
		cmocka_unit_test(init_reports_a_backwards_tsc),
		cmocka_unit_test(pairing_reports_a_backwards_tsc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * Host clock pairing: the 64.64 rate converts 10 s of TSC to within 1 ns of
 * the exact rational value; the vDSO sandwich's pairs lie between clock
 * reads taken around them; conversions are never before the clock read
 * preceding the TSC; the simulated backend is exact under slew; and the
 * KVM_GET_CLOCK backend (skipped without /dev/kvm) pairs with CLOCK_REALTIME.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "pvtime/hostclock.h"
#include "pvtime/simhost.h"
#include "clockns.h"
#include "test_engine_harness.h"
#include "test_skip.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void rate_is_exact_over_10s(void **state)
{
	uint64_t seed = 21;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint32_t khz = 100000 + (uint32_t)(h_rand(&seed) % 5000000);
		int64_t ppt = (int64_t)(h_rand(&seed) % 200000000000ull) - 100000000000ll;
		uint64_t dt = (uint64_t)khz * 10000 + h_rand(&seed) % 1000000; /* ~10 s */
		unsigned __int128 num = (unsigned __int128)dt * (uint64_t)(PVT_PPT_ONE + ppt);
		unsigned __int128 den = (unsigned __int128)khz * 1000000u;
		uint64_t exact_floor = (uint64_t)(num / den);
		uint64_t exact_ceil = exact_floor + (num % den != 0);
		struct pvt_rate r;
		uint64_t lo, hi;

		assert_int_equal(pvt_rate_from_khz(khz, ppt, &r), 0);
		lo = pvt_rate_apply(&r, dt, false);
		hi = pvt_rate_apply(&r, dt, true);
		if (lo > exact_floor || exact_floor - lo > 1 || hi > exact_ceil ||
		    exact_ceil - hi > 1)
			fail_msg("khz %u ppt %" PRId64 " dt %" PRIu64 ": floor %" PRIu64
				 " (exact %" PRIu64 "), ceil %" PRIu64 " (exact %" PRIu64 ")",
				 khz, ppt, dt, lo, exact_floor, hi, exact_ceil);
	}
}

static void rate_from_delta_and_diff(void **state)
{
	struct pvt_rate a, b;

	(void)state;
	assert_int_equal(pvt_rate_from_delta(1000000000ull, 2596136000ull, &a), 0);
	assert_int_equal(pvt_rate_from_khz(2596136, 0, &b), 0);
	assert_true(pvt_rate_diff_ppb(&a, &b) <= 1);
	assert_int_equal(pvt_rate_from_khz(2596136, 100 * PVT_PPT_PER_PPM, &a), 0);
	/* 100 ppm = 100000 ppb, give or take the rounding. */
	assert_in_range(pvt_rate_diff_ppb(&a, &b), 99999, 100001);
	assert_int_equal(pvt_rate_from_delta(1, 0, &a), -EINVAL);
	assert_int_equal(pvt_rate_from_khz(0, 0, &a), -EINVAL);
	/* Slow TSC: several ns per tick. */
	assert_int_equal(pvt_rate_from_delta(7000, 1000, &a), 0);
	assert_int_equal(a.ns_int, 7);
	assert_int_equal(pvt_rate_apply(&a, 3, false), 21);
}

/* The vDSO backend, or a skip where the host has no usable TSC clocksource. */
static void init_vdso_or_skip(struct pvt_hostclock **hc)
{
	int ret = pvt_hostclock_new_vdso(0, hc);

	if (ret == -ENOTSUP)
		pvt_test_skip("the host clocksource is not the TSC: no vDSO pairing");
	assert_int_equal(ret, 0);
}

static void vdso_pairs_bracket(void **state)
{
	struct pvt_hostclock *hc;
	enum { N = 2000 };
	static uint64_t unc[N];
	char cs[64];

	(void)state;
	init_vdso_or_skip(&hc);
	assert_int_equal(pvt_hostclock_clocksource(cs, sizeof(cs)), 0);
	printf("# clocksource %s, flags %#x\n", cs, hc->flags);
	for (int i = 0; i < N; i++) {
		struct pvt_clock_pair p;
		uint64_t before = clock_now_ns(CLOCK_MONOTONIC), after;

		assert_int_equal(pvt_hostclock_pair(hc, &p), 0);
		after = clock_now_ns(CLOCK_MONOTONIC);
		/* The clock at p.tsc is within the bound, and between the reads. */
		if (p.mono_ns + p.uncertainty_ns < before || p.mono_ns > after + p.uncertainty_ns)
			fail_msg("pair %" PRIu64 " +- %" PRIu64 " outside [%" PRIu64 ", %" PRIu64 "]",
				 p.mono_ns, p.uncertainty_ns, before, after);
		assert_true(p.uncertainty_ns >= 1);
		unc[i] = p.uncertainty_ns;
	}
	qsort(unc, N, sizeof(unc[0]), cmp_u64);
	printf("# vdso pairing uncertainty: p50 %" PRIu64 " ns, p99 %" PRIu64 " ns, max %" PRIu64 " ns\n",
	       unc[N / 2 - 1], unc[N * 99 / 100 - 1], unc[N - 1]);
	pvt_hostclock_free(hc);
}

static void vdso_convert_not_before_clock(void **state)
{
	struct pvt_hostclock *hc;

	(void)state;
	init_vdso_or_skip(&hc);
	for (int i = 0; i < 20000; i++) {
		uint64_t before = clock_now_ns(CLOCK_MONOTONIC);
		uint64_t tsc = pvt_hostclock_read_tsc(hc);
		uint64_t after = clock_now_ns(CLOCK_MONOTONIC);
		uint64_t late = pvt_hostclock_tsc_to_mono(hc, tsc);
		uint64_t est = pvt_hostclock_tsc_to_mono_est(hc, tsc);

		hc_maybe_refresh(hc, tsc);
		/* The clock at tsc is >= before: the never-early value must be too. */
		if (late < before)
			fail_msg("converted %" PRIu64 " < clock read before the TSC %" PRIu64, late, before);
		assert_true(est <= late);
		/* Sanity, generous: within 100 us of the read after. */
		assert_true(est <= after + 100000);
	}
	assert_true(hc->pairings > 0 || hc->refresh_ns > 0);
	pvt_hostclock_free(hc);
}

static void sim_backend_is_exact(void **state)
{
	struct pvt_simhost *sim;
	struct pvt_simhost_config c = {
		.tsc_khz = 2596136, .start_true_ns = 5000000000ull,
		.start_mono_ns = 7, .slew_ppt = -300 * PVT_PPT_PER_PPM, .max_timers = 1,
	};
	struct pvt_hostclock *hc;
	struct pvt_clock_pair p;
	uint64_t seed = 22;

	(void)state;
	assert_int_equal(pvt_simhost_new(&c, &sim), 0);
	assert_int_equal(pvt_simhost_hostclock_new(sim, &hc), 0);
	assert_int_equal(pvt_hostclock_pair(hc, &p), 0);
	assert_int_equal(p.tsc, pvt_simhost_tsc(sim));
	assert_int_equal(p.mono_ns, 7);
	assert_int_equal(p.uncertainty_ns, 0);
	for (int i = 0; i < 10000; i++) {
		uint64_t t = sim->true_ns + h_rand(&seed) % 10000000000ull;
		uint64_t tsc = pvt_simhost_tsc_at(sim, t);
		uint64_t conv = pvt_hostclock_tsc_to_mono(hc, tsc);
		uint64_t truth = pvt_simhost_mono_at(sim, t);

		/* TSC and mono are each floored from the same instant: <= 1 ns apart. */
		assert_true(conv + 1 >= truth && conv <= truth + 1);
	}
	/* A slew change reaches the published rate at the next refresh. */
	assert_int_equal(pvt_simhost_set_slew(sim, 80000 * PVT_PPT_PER_PPM), 0);
	assert_int_equal(pvt_hostclock_refresh(hc), 0);
	{
		uint64_t t = sim->true_ns + 10000000000ull;
		uint64_t conv = pvt_hostclock_tsc_to_mono(hc, pvt_simhost_tsc_at(sim, t));

		assert_true(conv + 1 >= pvt_simhost_mono_at(sim, t));
		assert_true(conv <= pvt_simhost_mono_at(sim, t) + 1);
	}
	pvt_hostclock_free(hc);
	pvt_simhost_free(sim);
}

#if __has_include(<linux/kvm.h>)
#include <linux/kvm.h>
static void kvm_backend(void **state)
{
	struct pvt_hostclock *hc;
	int kvm, vm, ret;

	(void)state;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		pvt_test_skip("/dev/kvm unavailable: %s", strerror(errno));
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		close(kvm);
		pvt_test_skip("KVM_CREATE_VM failed: %s", strerror(errno));
	}
	/* KVM reports HOST_TSC only with its master clock: a vCPU + SET_CLOCK. */
	{
		struct kvm_clock_data d;

		memset(&d, 0, sizeof(d));
		if (ioctl(vm, KVM_CREATE_VCPU, 0) >= 0 && !ioctl(vm, KVM_GET_CLOCK, &d)) {
			d.flags = 0;
			(void)ioctl(vm, KVM_SET_CLOCK, &d);
		}
	}
	ret = pvt_hostclock_new_kvm(vm, 0, &hc);
	if (ret == -EOPNOTSUPP) {
		close(vm);
		close(kvm);
		pvt_test_skip("KVM_GET_CLOCK gives no HOST_TSC|REALTIME here (no master clock)");
	}
	assert_int_equal(ret, 0);
	assert_int_equal(hc->clockid, CLOCK_REALTIME);
	for (int i = 0; i < 1000; i++) {
		struct pvt_clock_pair p;
		uint64_t before = clock_now_ns(CLOCK_REALTIME), after;

		assert_int_equal(pvt_hostclock_pair(hc, &p), 0);
		after = clock_now_ns(CLOCK_REALTIME);
		assert_true(p.mono_ns >= before && p.mono_ns <= after);
		assert_int_equal(p.uncertainty_ns, 1);
	}
	pvt_hostclock_free(hc);
	close(vm);
	close(kvm);
}
#endif

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rate_is_exact_over_10s),
		cmocka_unit_test(rate_from_delta_and_diff),
		cmocka_unit_test(sim_backend_is_exact),
	};
	/* Their own CTest tests (tests/engine.cmake): they skip on some hosts. */
	const struct CMUnitTest host_tests[] = {
		cmocka_unit_test(vdso_pairs_bracket),
		cmocka_unit_test(vdso_convert_not_before_clock),
#if __has_include(<linux/kvm.h>)
		cmocka_unit_test(kvm_backend),
#endif
	};

	return pvt_test_main(argc, argv, "test_hostclock", tests, PVT_ARRAY_LEN(tests),
			     host_tests, PVT_ARRAY_LEN(host_tests));
}

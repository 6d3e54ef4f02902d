/* SPDX-License-Identifier: MIT */
/* Helpers shared by the cmocka tests of the clock model, the simulator and its reports. */
#ifndef PVTIME_TEST_CLOCK_HELPERS_H
#define PVTIME_TEST_CLOCK_HELPERS_H

#include <stdint.h>

#include "pvtime/guestclock.h"

/* Fails the test, printing both values, unless seen is within tol of expected. */
#define expect_near(seen, expected, tol)                                          \
	do {                                                                      \
		double s_ = (double)(seen), e_ = (double)(expected);              \
		if (!(s_ >= e_ - (tol) && s_ <= e_ + (tol))) {                    \
			print_error("%s = %.3f, expected %.3f +- %.3f\n", #seen, s_, \
				    e_, (double)(tol));                           \
			fail();                                                   \
		}                                                                 \
	} while (0)

/*
 * tsdrift's error_ns: KVM's legacy one-step clock minus the guest's exact
 * two-step clock, uptime_s after a master clock reference at host TSC 0.
 */
static inline int64_t onestep_error_ns(uint32_t host_khz, uint32_t guest_khz,
				       unsigned frac_bits, uint64_t uptime_s)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;
	uint64_t host_tsc = uptime_s * host_khz * 1000;

	assert_int_equal(pvt_kvm_clock_init(&kvm, host_khz, frac_bits), 0);
	assert_int_equal(pvt_kvm_tsc_scaling(&kvm, guest_khz, 0, &tsc), 0);
	assert_int_equal(pvt_kvm_guest_clock(&kvm, &tsc, &clock), 0);
	return (int64_t)(pvt_kvm_clock_legacy_ns(&kvm, host_tsc) -
			 pvt_guest_clock_ns(&clock, host_tsc));
}

#endif

// SPDX-License-Identifier: MIT
/*
 * Host facts without KVM: the TSC calibration agrees with itself and with
 * KVM where KVM answers, the source names are distinct, and the TSC ratio
 * width follows the CPU vendor that /proc/cpuinfo reports.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "pvtime/hostinfo.h"

/* |a - b| <= b * ppm / 10^6 */
static int within_ppm(uint32_t a, uint32_t b, uint32_t ppm)
{
	uint64_t d = a > b ? a - b : b - a;

	return d * 1000000u <= (uint64_t)b * ppm;
}

static void source_names(void **state)
{
	const char *kvm = pvt_tsc_khz_source_name(PVT_TSC_KHZ_KVM);
	const char *cal = pvt_tsc_khz_source_name(PVT_TSC_KHZ_CALIBRATED);
	const char *cpu = pvt_tsc_khz_source_name(PVT_TSC_KHZ_CPUINFO);

	(void)state;
	assert_string_equal(kvm, "KVM_GET_TSC_KHZ");
	assert_true(strcmp(cal, kvm) && strcmp(cal, cpu) && strcmp(kvm, cpu));
	assert_string_equal(pvt_tsc_khz_source_name((enum pvt_tsc_khz_source)0), "?");
}

static void calibration_is_consistent(void **state)
{
	uint32_t a, b, kvm;

	(void)state;
	assert_int_equal(pvt_host_tsc_khz_calibrate(10000000001ull, &a), -EINVAL);
	assert_int_equal(pvt_host_tsc_khz_calibrate(20000000, &a), 0);
	assert_int_equal(pvt_host_tsc_khz_calibrate(20000000, &b), 0);
	print_message("calibrated: %u kHz, %u kHz\n", a, b);
	/* 100 MHz .. 10 GHz, and two 20 ms runs within 0.2 % of each other. */
	assert_true(a > 100000 && a < 10000000);
	assert_true(within_ppm(a, b, 2000));
	if (!pvt_host_tsc_khz_kvm(&kvm)) {
		print_message("KVM_GET_TSC_KHZ: %u kHz\n", kvm);
		assert_true(within_ppm(a, kvm, 2000));
	}
}

static void host_tsc_khz_prefers_kvm(void **state)
{
	enum pvt_tsc_khz_source src = 0;
	uint32_t khz = 0, kvm;

	(void)state;
	assert_int_equal(pvt_host_tsc_khz(&khz, &src), 0);
	assert_true(khz > 0);
	if (!pvt_host_tsc_khz_kvm(&kvm)) {
		assert_int_equal(src, PVT_TSC_KHZ_KVM);
		assert_int_equal(khz, kvm);
	} else {
		assert_true(src == PVT_TSC_KHZ_CALIBRATED || src == PVT_TSC_KHZ_CPUINFO);
	}
	assert_int_equal(pvt_host_tsc_khz(&khz, NULL), 0);
}

static void frac_bits_follow_the_vendor(void **state)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256], vendor[64] = "";
	unsigned bits = 0;
	int ret = pvt_host_frac_bits(&bits);

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "vendor_id : %63s", vendor) == 1)
			break;
	fclose(f);
	print_message("vendor %s: %d, %u bits\n", vendor, ret, bits);
	if (!strcmp(vendor, "GenuineIntel")) {
		assert_int_equal(ret, 0);
		assert_int_equal(bits, PVT_FRAC_BITS_VMX);
	} else if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine")) {
		assert_int_equal(ret, 0);
		assert_int_equal(bits, PVT_FRAC_BITS_SVM);
	} else {
		assert_int_equal(ret, -ENODEV);
	}
}

static void bad_vcpu_fd(void **state)
{
	struct pvt_kvm_vcpu_tsc t;
	struct pvt_guest_clock clock;
	struct pvt_pvclock_page page = { .tsc_to_system_mul = 1u << 31, .tsc_shift = 1 };

	(void)state;
	assert_int_equal(pvt_kvm_vcpu_tsc(-1, 1000000, 48, &t), -EBADF);
	assert_int_equal(pvt_kvm_vcpu_guest_clock(-1, 1000000, 48, &page, &clock), -EBADF);
	page.tsc_shift = 100;	/* garbage page: rejected before any ioctl */
	assert_int_equal(pvt_kvm_vcpu_guest_clock(-1, 1000000, 48, &page, &clock), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(source_names),
		cmocka_unit_test(calibration_is_consistent),
		cmocka_unit_test(host_tsc_khz_prefers_kvm),
		cmocka_unit_test(frac_bits_follow_the_vendor),
		cmocka_unit_test(bad_vcpu_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

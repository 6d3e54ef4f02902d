// SPDX-License-Identifier: MIT
/*
 * A live vCPU's TSC as the library reads it: its kHz and offset match what
 * KVM says, the ratio and advertised kHz follow KVM's +-250 ppm rule for a
 * vCPU set just inside the tolerance, and the guest clock built from the
 * vCPU converts like the page it was given. Skipped (77) without /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cmocka.h>

#include "pvtime/hostinfo.h"

static int kvm_fd = -1, vm_fd = -1;

static int new_vcpu(int id)
{
	int fd = ioctl(vm_fd, KVM_CREATE_VCPU, id);

	if (fd < 0)
		fail_msg("KVM_CREATE_VCPU: %s", strerror(errno));
	return fd;
}

static void vcpu_tsc_matches_kvm(void **state)
{
	struct pvt_kvm_vcpu_tsc t;
	uint32_t host_khz;
	unsigned bits;
	int vcpu = new_vcpu(0);

	(void)state;
	assert_int_equal(pvt_host_tsc_khz_kvm(&host_khz), 0);
	assert_int_equal(pvt_kvm_vcpu_tsc(vcpu, 0, 0, &t), 0);
	assert_int_equal(pvt_host_frac_bits(&bits), 0);
	print_message("host %u kHz, vCPU %u kHz, ratio %llu / 2^%u, offset %llu, advertised %llu kHz\n",
		      t.host_khz, t.guest_khz, (unsigned long long)t.tsc.ratio, t.tsc.frac_bits,
		      (unsigned long long)t.tsc.offset, (unsigned long long)t.advertised_khz);
	assert_int_equal(t.host_khz, host_khz);
	assert_int_equal(t.tsc.frac_bits, bits);
	assert_int_equal(t.guest_khz, (uint32_t)ioctl(vcpu, KVM_GET_TSC_KHZ, 0));
	/* A fresh vCPU runs at the host's rate: no scaling, advertised = host. */
	assert_int_equal(t.guest_khz, host_khz);
	assert_int_equal(t.tsc.ratio, pvt_tsc_ratio_one(bits));
	assert_int_equal(t.advertised_khz, host_khz);
	close(vcpu);
}

static void vcpu_inside_tolerance_is_unscaled(void **state)
{
	struct pvt_kvm_vcpu_tsc t;
	uint32_t host_khz, want;
	uint64_t ratio;
	int vcpu = new_vcpu(1);

	(void)state;
	assert_int_equal(pvt_host_tsc_khz_kvm(&host_khz), 0);
	/* 200 ppm above the host: KVM accepts it without scaling hardware. */
	want = host_khz + (uint32_t)((uint64_t)host_khz * 200 / 1000000);
	if (ioctl(vcpu, KVM_SET_TSC_KHZ, want)) {
		print_message("KVM_SET_TSC_KHZ %u: %s (not checked)\n", want, strerror(errno));
		close(vcpu);
		return;
	}
	assert_int_equal(pvt_kvm_vcpu_tsc(vcpu, 0, 0, &t), 0);
	assert_int_equal(t.guest_khz, want);
	assert_int_equal(t.tsc.ratio, pvt_tsc_ratio_one(t.tsc.frac_bits));
	assert_int_equal(t.advertised_khz, host_khz);
	/* The same vCPU modelled on a host at half its rate: KVM would scale by ~2. */
	assert_int_equal(pvt_kvm_vcpu_tsc(vcpu, want / 2, PVT_FRAC_BITS_VMX, &t), 0);
	assert_int_equal(pvt_tsc_ratio(want / 2, want, PVT_FRAC_BITS_VMX, &ratio), 0);
	assert_int_equal(t.tsc.ratio, ratio);
	assert_true(ratio >= 2 * pvt_tsc_ratio_one(PVT_FRAC_BITS_VMX));
	close(vcpu);
}

static void vcpu_offset_is_read(void **state)
{
	struct pvt_kvm_vcpu_tsc t;
	uint64_t want = 123456789000ull, got = 0;
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET, .addr = (uintptr_t)&want,
	};
	int vcpu = new_vcpu(2);

	(void)state;
	if (ioctl(vcpu, KVM_SET_DEVICE_ATTR, &attr)) {
		print_message("KVM_VCPU_TSC_OFFSET: %s (not checked)\n", strerror(errno));
		close(vcpu);
		return;
	}
	attr.addr = (uintptr_t)&got;
	assert_int_equal(ioctl(vcpu, KVM_GET_DEVICE_ATTR, &attr), 0);
	assert_int_equal(pvt_kvm_vcpu_tsc(vcpu, 0, 0, &t), 0);
	/* Whatever KVM keeps (kvm_pvm keeps 0): the library reports the same. */
	assert_int_equal(t.tsc.offset, got);
	close(vcpu);
}

static void guest_clock_from_vcpu(void **state)
{
	struct pvt_pvclock_page page = { .version = 2, .tsc_timestamp = 1000, .system_time = 5000 };
	struct pvt_guest_clock clock;
	struct pvt_kvm_vcpu_tsc t;
	uint32_t mul;
	int8_t shift;
	int vcpu = new_vcpu(3);

	(void)state;
	assert_int_equal(pvt_kvm_vcpu_tsc(vcpu, 0, 0, &t), 0);
	assert_int_equal(pvt_time_scale(PVT_NSEC_PER_SEC, t.advertised_khz * 1000, &mul, &shift), 0);
	page.tsc_to_system_mul = mul;
	page.tsc_shift = shift;
	assert_int_equal(pvt_kvm_vcpu_guest_clock(vcpu, 0, 0, &page, &clock), 0);
	assert_int_equal(clock.tsc.ratio, t.tsc.ratio);
	assert_int_equal(clock.tsc.offset, t.tsc.offset);
	assert_int_equal(clock.tsc.frac_bits, t.tsc.frac_bits);
	assert_memory_equal(&clock.page, &page, sizeof(page));
	/* One second of guest TSC after the page's timestamp reads 1 s later. */
	{
		uint64_t host = (1000 + (uint64_t)t.advertised_khz * 1000 - t.tsc.offset);
		uint64_t ns = pvt_guest_clock_ns(&clock, host);

		assert_true(ns >= 5000 + PVT_NSEC_PER_SEC - 1 && ns <= 5000 + PVT_NSEC_PER_SEC + 1);
	}
	page.tsc_shift = -64;
	assert_int_equal(pvt_kvm_vcpu_guest_clock(vcpu, 0, 0, &page, &clock), -EINVAL);
	close(vcpu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vcpu_tsc_matches_kvm),
		cmocka_unit_test(vcpu_inside_tolerance_is_unscaled),
		cmocka_unit_test(vcpu_offset_is_read),
		cmocka_unit_test(guest_clock_from_vcpu),
	};
	int ret;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		printf("SKIP test_hostinfo_kvm: /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0) {
		printf("SKIP test_hostinfo_kvm: KVM_CREATE_VM: %s\n", strerror(errno));
		return 77;
	}
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	close(vm_fd);
	close(kvm_fd);
	return ret;
}

// SPDX-License-Identifier: MIT
/*
 * Bad guest behaviour never crashes or hangs the VMM: each bad request
 * gets a Xen error code the guest checks, or a clean VM stop with a
 * message; a guest that never finishes is stopped by the watchdog.
 */
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clockns.h"
#include "vmm_harness.h"

/* Cases whose expected error the guest asserts itself (see guest/tests.c). */
static void test_bad_requests_get_errors(void **state)
{
	static const enum pvt_guest_bad_case cases[] = {
		PVT_BAD_UNKNOWN_HC, PVT_BAD_UNKNOWN_VCPUOP, PVT_BAD_ARG_GPA,
		PVT_BAD_PERIOD_ZERO, PVT_BAD_BLOCK_NO_TIMER, PVT_BAD_OTHER_VCPU,
		PVT_BAD_SCHEDOP, PVT_BAD_TIMER_NO_CLOCK,
	};
	struct vmm_config cfg;
	struct vmm vm;

	(void)state;
	for (unsigned vcpus = 1; vcpus <= 2; vcpus++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			vmm_config_default(&cfg);
			cfg.nr_vcpus = vcpus;
			cfg.scenario = PVT_SCN_BAD;
			cfg.bad_case = cases[i];
			cfg.watchdog_ms = 10000;
			print_message("bad case %d, %u vCPUs\n", cases[i], vcpus);
			assert_int_equal(vmm_test_run(&vm, &cfg), 0);
			for (unsigned c = 0; c < vcpus; c++)
				assert_int_equal(vm.vcpus[c].res.status, 0);
			vmm_destroy(&vm);
		}
	}
}

/* A bad case that must stop the VM (not get an error code): err and a message saying why. */
static void bad_case_stops_vm(enum pvt_guest_bad_case bad, unsigned vcpus, int err,
			      const char *why)
{
	struct vmm_config cfg;
	struct vmm vm;

	vmm_config_default(&cfg);
	cfg.nr_vcpus = vcpus;
	cfg.scenario = PVT_SCN_BAD;
	cfg.bad_case = bad;
	assert_int_equal(vmm_create(&vm, &cfg), 0);
	vmm_test_expect_stop(&vm, err, why);
	vmm_destroy(&vm);
}

/* A kvmclock page outside RAM: the VMM stops the VM and says why. */
static void test_pvclock_outside_memory(void **state)
{
	(void)state;
	bad_case_stops_vm(PVT_BAD_KVMCLOCK_GPA, 1, -EFAULT, "outside its");
}

/* A guest that crashes (HLT at CPL 3, no IDT: triple fault) stops the VM with a message. */
static void test_guest_fault_stops_vm(void **state)
{
	(void)state;
	bad_case_stops_vm(PVT_BAD_FAULT, 2, -EFAULT, "triple-faulted");
}

/*
 * The host side fails: vCPU 1's timerfd is swapped for an eventfd, so
 * timerfd_settime fails with EINVAL when its first timer is armed. That is
 * not the guest's error: the VM stops with a message naming the host timer,
 * and the guest never sees a result for the call (it made no progress and
 * did not abort on a strange return code).
 */
static void test_host_timer_failure_stops_vm(void **state)
{
	struct vmm_config cfg;
	struct vmm vm;

	(void)state;
	for (int api = PVT_API_SET_TIMER_OP; api <= PVT_API_SINGLESHOT; api++) {
		vmm_config_default(&cfg);
		cfg.nr_vcpus = 2;
		cfg.loops = 20;
		cfg.timer_api = (enum pvt_guest_timer_api)api;
		/* Far enough that no deadline is already past (delivered with no arming). */
		cfg.interval_ns = 50000000;
		cfg.watchdog_ms = 10000;
		assert_int_equal(vmm_create(&vm, &cfg), 0);
		{
			int tfd = pvt_hosttimer_fd(vm.vcpus[1].timer);
			int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

			assert_true(tfd >= 0 && efd >= 0);
			assert_int_equal(dup2(efd, tfd), tfd);	/* same fd number, now an eventfd */
			close(efd);
		}
		vmm_test_expect_stop(&vm, -EINVAL,
				     "vCPU 1: the host timer of vCPU 1 could not be armed");
		assert_int_equal(vm.vcpus[1].res.status, -EINVAL);
		assert_int_equal(vm.vcpus[1].res.loops_done, 0);
		assert_int_equal(vm.vcpus[1].res.singleshot_fired, 0);
		vmm_destroy(&vm);
	}
}

/* A guest that would sleep 30 s is stopped by a 300 ms watchdog, promptly. */
static void test_watchdog_stops_hung_guest(void **state)
{
	struct vmm_config cfg;
	struct vmm vm;
	uint64_t t0;

	(void)state;
	vmm_config_default(&cfg);
	cfg.nr_vcpus = 2;
	cfg.loops = 1;
	cfg.interval_ns = 30000000000ull;
	cfg.watchdog_ms = 300;
	assert_int_equal(vmm_create(&vm, &cfg), 0);
	t0 = clock_now_ns(CLOCK_MONOTONIC) / 1000000;
	vmm_test_expect_stop(&vm, -ETIMEDOUT, "watchdog");
	assert_true(clock_now_ns(CLOCK_MONOTONIC) / 1000000 - t0 < 5000);
	vmm_destroy(&vm);
}

/* Out-of-range configurations are refused before any KVM call. */
static void test_bad_config(void **state)
{
	struct vmm_config cfg;
	struct vmm vm;

	(void)state;
	vmm_config_default(&cfg);
	cfg.nr_vcpus = 0;
	assert_int_equal(vmm_create(&vm, &cfg), -EINVAL);
	vmm_destroy(&vm);
	cfg.nr_vcpus = PVT_GUEST_MAX_VCPUS + 1;
	assert_int_equal(vmm_create(&vm, &cfg), -EINVAL);
	vmm_destroy(&vm);
	vmm_config_default(&cfg);
	cfg.clock_src = PVT_CLK_XEN;
	cfg.uptime_s = UINT64_MAX / 1000;	/* reference point before TSC 0 by > 2^64 ticks */
	assert_int_equal(vmm_create(&vm, &cfg), -ERANGE);
	vmm_destroy(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_bad_requests_get_errors),
		cmocka_unit_test(test_pvclock_outside_memory),
		cmocka_unit_test(test_guest_fault_stops_vm),
		cmocka_unit_test(test_host_timer_failure_stops_vm),
		cmocka_unit_test(test_watchdog_stops_hung_guest),
	};
	return vmm_test_main("test_vmm_bad", tests, sizeof(tests) / sizeof(tests[0]));
}

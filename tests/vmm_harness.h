/* SPDX-License-Identifier: MIT */
/* Shared by the real-KVM tests: skip loudly without /dev/kvm, run a VM, report its error. */
#ifndef PVT_TESTS_VMM_HARNESS_H
#define PVT_TESTS_VMM_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_skip.h"
#include "vmm-internal.h"

/* Exit code that tells CTest the test was skipped. */
#define VMM_TEST_SKIP	77

/* 0 when /dev/kvm is usable, else prints why and returns VMM_TEST_SKIP. */
/* Whether KVM has an in-kernel irqchip; says SKIP and why when it has none. */
static inline bool vmm_test_have_irqchip(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int r = fd < 0 ? 0 : ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP);

	if (fd >= 0)
		close(fd);
	if (r <= 0)
		print_message("SKIP: this KVM has no in-kernel irqchip (KVM_CAP_IRQCHIP)\n");
	return r > 0;
}

static inline int vmm_test_require_kvm(const char *test)
{
	char msg[256];

	if (vmm_probe(msg, sizeof(msg))) {
		printf("SKIP %s: /dev/kvm is not usable here: %s\n", test, msg);
		return VMM_TEST_SKIP;
	}
	return 0;
}

/* main(): skips (with why) without a usable /dev/kvm, else runs the n tests. */
static inline int vmm_test_main(const char *test, const struct CMUnitTest *tests, size_t n)
{
	int skip = vmm_test_require_kvm(test);

	if (skip)
		return skip;
	return _cmocka_run_group_tests(test, tests, n, NULL, NULL);
}

/*
 * The same with host-dependent cases, each its own CTest test run by name
 * (pvt_test_main in test_skip.h), which may skip with pvt_test_skip().
 */
static inline int vmm_test_main_host(int argc, char **argv, const char *test,
				     const struct CMUnitTest *tests, size_t n,
				     const struct CMUnitTest *host_tests, size_t m)
{
	int skip = vmm_test_require_kvm(test);

	if (skip)
		return skip;
	return pvt_test_main(argc, argv, test, tests, n, host_tests, m);
}

/* Runs a created VM that must stop: vmm_run() returns err and the VM's error says why. */
static inline void vmm_test_expect_stop(struct vmm *vm, int err, const char *why)
{
	int ret = vmm_run(vm);

	print_message("expected stop: %s\n", vm->error);
	assert_int_equal(ret, err);
	if (!strstr(vm->error, why))
		fail_msg("the VM's error \"%s\" does not say \"%s\"", vm->error, why);
}

/* Creates and runs; prints the VM's error when it fails. Returns vmm_run()'s result. */
static inline int vmm_test_run(struct vmm *vm, const struct vmm_config *cfg)
{
	int ret = vmm_create(vm, cfg);

	if (!ret)
		ret = vmm_run(vm);
	if (ret)
		print_message("vmm: %s (%d)\n", vm->error, ret);
	return ret;
}

/* Fails with both values when a vCPU's oracles saw a mismatch. */
static inline void vmm_test_assert_exact(const struct vmm *vm)
{
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		/* Voided oracle (a) checks are no failure, but say so with both pages. */
		if (r->resnapshots)
			print_message("vCPU %u: %llu oracle (a) check(s) voided by a KVM master-clock "
				      "re-snapshot, first: %s\n", c,
				      (unsigned long long)r->resnapshots, r->resnapshot);
		if (r->page_mismatches || r->sample_mismatches)
			print_message("vCPU %u: %s\n", c, r->mismatch);
		assert_int_equal(r->page_mismatches, 0);
		assert_int_equal(r->sample_mismatches, 0);
	}
}

#endif

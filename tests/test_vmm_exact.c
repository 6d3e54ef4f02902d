// SPDX-License-Identifier: MIT
/*
 * Exactness on real KVM, against oracles independent of the guest's code:
 * (a) KVM's pvclock page == the model from KVM_GET_TSC_KHZ, KVM_GET_CLOCK
 * and the TSC offset; (b) every guest (TSC, ns) sample lies inside the host
 * TSC bracket of its KVM_RUN and its ns equals the model's to the ns.
 * >= 10 000 samples over 2 vCPUs, with a kvmclock re-registration halfway.
 */
#include "vmm_harness.h"

#define LOOPS	80	/* bursts per vCPU */
#define BURST	64	/* samples per burst: 2 x 80 x 64 = 10 240 */

static void clockcheck_config(struct vmm_config *cfg)
{
	vmm_config_default(cfg);
	cfg->nr_vcpus = 2;
	cfg->scenario = PVT_SCN_CLOCKCHECK;
	cfg->loops = LOOPS;
	cfg->burst = BURST;
	cfg->watchdog_ms = 50000;
}

static void assert_samples(const struct vmm *vm)
{
	uint64_t total = 0;

	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		assert_int_equal(r->status, 0);
		assert_int_equal(r->loops_done, LOOPS);
		assert_int_equal(r->sample_checks, LOOPS * BURST);
		total += r->sample_checks;
	}
	assert_true(total >= 10000);
	vmm_test_assert_exact(vm);
}

/* The guest's own kvmclock, KVM's TSC offset, and a re-registration halfway. */
static void test_kvmclock_exact(void **state)
{
	struct vmm_config cfg;
	struct vmm vm;

	(void)state;
	clockcheck_config(&cfg);
	assert_int_equal(vmm_test_run(&vm, &cfg), 0);
	assert_samples(&vm);
	for (unsigned c = 0; c < vm.nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm.vcpus[c].res;

		/* Registration and re-registration, each checked against the model. */
		assert_true(r->page_checks >= 2);
		assert_int_equal(vm.vcpus[c].clock_gpa, PVT_GPA_KVMCLOCK_ALT(c));
		/* Same offset on all vCPUs: KVM keeps its master clock. */
		assert_true(r->master_clock);
		assert_int_equal(r->kvm_page.flags & PVT_PVCLOCK_TSC_STABLE,
				 PVT_PVCLOCK_TSC_STABLE);
	}
	vmm_destroy(&vm);
}

/* The same with the guest at CPL 0: both registrations are the guest's own WRMSR. */
static void test_kvmclock_exact_kernel_mode(void **state)
{
	struct vmm_config cfg;
	struct vmm vm;

	(void)state;
	clockcheck_config(&cfg);
	cfg.kernel_mode = true;
	assert_int_equal(vmm_test_run(&vm, &cfg), 0);
	assert_samples(&vm);
	for (unsigned c = 0; c < vm.nr_vcpus; c++) {
		assert_true(vm.vcpus[c].res.page_checks >= 2);
		assert_int_equal(vm.vcpus[c].clock_gpa, PVT_GPA_KVMCLOCK_ALT(c));
	}
	vmm_destroy(&vm);
}

/* The VMM's own Xen vcpu_time_info, a day of uptime and a kHz off the TSC's. */
static void test_xen_page_exact(void **state)
{
	struct vmm_config cfg;
	struct vmm vm;

	(void)state;
	clockcheck_config(&cfg);
	cfg.clock_src = PVT_CLK_XEN;
	cfg.uptime_s = 86400;
	cfg.advertise_khz = 0;	/* replaced below once the TSC rate is known */
	assert_int_equal(vmm_create(&vm, &cfg), 0);
	vmm_destroy(&vm);
	cfg.advertise_khz = vm.tsc_khz - 1;
	assert_int_equal(vmm_test_run(&vm, &cfg), 0);
	assert_samples(&vm);
	vmm_destroy(&vm);
}

/* Non-zero TSC offsets: the same offset everywhere, then a different one per vCPU. */
static void run_offsets(uint64_t offset, uint64_t step)
{
	struct vmm_config cfg;
	struct vmm vm;
	int ret;

	clockcheck_config(&cfg);
	cfg.set_tsc_offset = true;
	cfg.tsc_offset = offset;
	cfg.tsc_offset_step = step;
	ret = vmm_create(&vm, &cfg);
	if (ret == -ENOTSUP) {
		/* kvm_pvm and the like keep the guest on the host TSC. */
		char why[sizeof(vm.error)];

		memcpy(why, vm.error, sizeof(why));
		vmm_destroy(&vm);
		pvt_test_skip("%s", why);
	}
	assert_int_equal(ret, 0);
	ret = vmm_run(&vm);
	if (ret)
		print_message("vmm: %s\n", vm.error);
	assert_int_equal(ret, 0);
	assert_samples(&vm);
	for (unsigned c = 0; c < vm.nr_vcpus; c++)
		assert_int_equal(vm.vcpus[c].res.tsc_offset, offset + c * step);
	vmm_destroy(&vm);
}

static void test_nonzero_offset(void **state)
{
	(void)state;
	run_offsets(1000000000000ull, 0);
}

static void test_per_vcpu_offsets(void **state)
{
	(void)state;
	run_offsets(1000000000000ull, 777777777ull);
}

/* The independent ns formula agrees with the library on awkward pages. */
static void test_oracle_formula(void **state)
{
	struct pvt_pvclock_page p = {
		.tsc_timestamp = UINT64_MAX - 5, .system_time = 123456789,
		.tsc_to_system_mul = 0xffffffffu, .tsc_shift = -1,
	};
	uint64_t tscs[] = { 0, 1, UINT64_MAX, 1ull << 40, 0x123456789abcdefull };

	(void)state;
	for (int shift = -5; shift <= 5; shift++) {
		p.tsc_shift = (int8_t)shift;
		for (size_t i = 0; i < sizeof(tscs) / sizeof(tscs[0]); i++)
			assert_int_equal(vmm__oracle_ns(&p, tscs[i]), pvt_pvclock_ns(&p, tscs[i]));
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oracle_formula),
		cmocka_unit_test(test_kvmclock_exact),
		cmocka_unit_test(test_kvmclock_exact_kernel_mode),
		cmocka_unit_test(test_xen_page_exact),
	};
	/* Their own CTest tests (tests/vmm.cmake): skipped where KVM cannot offset the TSC. */
	const struct CMUnitTest host_tests[] = {
		cmocka_unit_test(test_nonzero_offset),
		cmocka_unit_test(test_per_vcpu_offsets),
	};

	return vmm_test_main_host(argc, argv, "test_vmm_exact", tests, PVT_ARRAY_LEN(tests),
				  host_tests, PVT_ARRAY_LEN(host_tests));
}

// SPDX-License-Identifier: MIT
/*
 * Timers on real KVM: a guest never wakes before its deadline on its own
 * clock, no expiry is lost or doubled (stop-before-fire, re-arm while armed
 * and while pending, periodic, past deadlines: checked inside the guest),
 * and Bug 1 shows on the VMM's Xen page for legacy but not for pvtime.
 */
#include <stdlib.h>

#include "vmm_harness.h"

#define LOOPS		100
#define INTERVAL_NS	100000

static void timerlat_config(struct vmm_config *cfg, enum pvt_timer_algo algo)
{
	vmm_config_default(cfg);
	cfg->nr_vcpus = 2;
	cfg->scenario = PVT_SCN_TIMERLAT;
	cfg->algo = algo;
	cfg->loops = LOOPS;
	cfg->interval_ns = INTERVAL_NS;
}

/* Every loop: exactly one expiry, woken at or after its deadline. */
static void assert_on_time(const struct vmm *vm, uint64_t loops, uint64_t interval)
{
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		assert_int_equal(r->status, 0);
		assert_int_equal(r->loops_done, loops);
		assert_int_equal(r->singleshot_fired, loops);
		assert_int_equal(r->early_wakeups, 0);
		assert_int_equal(r->nr_samples, 2 * loops);
		for (uint64_t i = 0; i < loops; i++) {
			uint64_t slept = r->samples[2 * i + 1].ns - r->samples[2 * i].ns;

			if (slept < interval)
				print_message("vCPU %u loop %llu slept %llu < %llu ns\n", c,
					      (unsigned long long)i, (unsigned long long)slept,
					      (unsigned long long)interval);
			assert_true(slept >= interval);
		}
	}
	vmm_test_assert_exact(vm);
}

static void run_timerlat(enum pvt_timer_algo algo, enum pvt_guest_timer_api api)
{
	struct vmm_config cfg;
	struct vmm vm;

	timerlat_config(&cfg, algo);
	cfg.timer_api = api;
	assert_int_equal(vmm_test_run(&vm, &cfg), 0);
	assert_on_time(&vm, LOOPS, INTERVAL_NS);
	vmm_destroy(&vm);
}

static void test_never_early_legacy(void **state)
{
	(void)state;
	run_timerlat(PVT_ALGO_LEGACY, PVT_API_SET_TIMER_OP);
}

static void test_never_early_kvm(void **state)
{
	(void)state;
	run_timerlat(PVT_ALGO_KVM, PVT_API_SET_TIMER_OP);
}

static void test_never_early_pvtime(void **state)
{
	(void)state;
	run_timerlat(PVT_ALGO_PVTIME, PVT_API_SET_TIMER_OP);
	run_timerlat(PVT_ALGO_PVTIME, PVT_API_SINGLESHOT);
}

/* Runs a guest scenario on 2 vCPUs with each algorithm; check() asserts on the results. */
static void run_each_algo(enum pvt_guest_scenario scenario, void (*check)(const struct vmm *vm))
{
	struct vmm_config cfg;
	struct vmm vm;

	for (int algo = PVT_ALGO_LEGACY; algo <= PVT_ALGO_PVTIME; algo++) {
		vmm_config_default(&cfg);
		cfg.nr_vcpus = 2;
		cfg.scenario = scenario;
		cfg.algo = (enum pvt_timer_algo)algo;
		assert_int_equal(vmm_test_run(&vm, &cfg), 0);
		for (unsigned c = 0; c < vm.nr_vcpus; c++) {
			assert_int_equal(vm.vcpus[c].res.status, 0);
			assert_int_equal(vm.vcpus[c].res.loops_done, 1);
			assert_int_equal(vm.vcpus[c].res.early_wakeups, 0);
		}
		check(&vm);
		vmm_test_assert_exact(&vm);
		vmm_destroy(&vm);
	}
}

static void check_semantics(const struct vmm *vm)
{
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		/* 1 + 2 + 2 + 1 + 1 singleshots, 1 during the periodic check. */
		assert_int_equal(vm->vcpus[c].res.singleshot_fired, 8);
		assert_true(vm->vcpus[c].res.periodic_fired >= 5);
	}
}

/* Stop-before-fire, re-arm while armed / pending, past deadline, polling, periodic. */
static void test_timer_semantics(void **state)
{
	(void)state;
	run_each_algo(PVT_SCN_TIMERS, check_semantics);
}

static void check_cross(const struct vmm *vm)
{
	assert_int_equal(vm->vcpus[0].res.periodic_fired, 0);
	assert_int_equal(vm->vcpus[0].res.singleshot_fired, 0);
	assert_true(vm->vcpus[1].res.periodic_fired >= 5);
	assert_int_equal(vm->vcpus[1].res.singleshot_fired, 1);
}

/*
 * vCPU 0 programs vCPU 1's periodic timer (allowed by Xen's do_vcpu_op)
 * and is refused vCPU 1's singleshot ops: the ticks arrive on vCPU 1 only,
 * never early, and stop when vCPU 0 stops them (checked in the guest).
 */
static void test_periodic_on_other_vcpu(void **state)
{
	(void)state;
	run_each_algo(PVT_SCN_CROSS, check_cross);
}

/*
 * Bug 1 on real KVM: the guest reads the VMM's Xen page, advertised one kHz
 * below the TSC with its reference 10 hours back. Legacy's one-step "now"
 * trails the guest's clock by E, so every sleep is E late; pvtime is not.
 */
static void run_bug1(enum pvt_timer_algo algo, int khz_delta, uint64_t loops,
		     uint64_t interval_ns, struct vmm *vm, int64_t *error_ns)
{
	struct vmm_config cfg;
	struct pvt_guest_clock clock;
	uint64_t now;

	timerlat_config(&cfg, algo);
	cfg.nr_vcpus = 1;
	cfg.loops = loops;
	cfg.interval_ns = interval_ns;
	cfg.clock_src = PVT_CLK_XEN;
	cfg.uptime_s = 36000;
	assert_int_equal(vmm_create(vm, &cfg), 0);
	cfg.advertise_khz = (uint32_t)((int)vm->tsc_khz + khz_delta);
	vmm_destroy(vm);
	assert_int_equal(vmm_test_run(vm, &cfg), 0);
	clock.tsc = (struct pvt_tsc_scaling){
		.ratio = pvt_tsc_ratio_one(PVT_FRAC_BITS_SVM), .offset = vm->vcpus[0].tsc_offset,
		.frac_bits = PVT_FRAC_BITS_SVM,
	};
	clock.page = vm->xen_page[0];
	now = vmm__rdtsc();
	*error_ns = (int64_t)(pvt_guest_clock_ns(&clock, now) -
			      pvt_kvm_clock_legacy_ns(&vm->legacy_model, now));
}

static void test_bug1_legacy_late_pvtime_not(void **state)
{
	struct vmm vm;
	int64_t e;

	(void)state;
	run_bug1(PVT_ALGO_LEGACY, -4, 20, INTERVAL_NS, &vm, &e);
	print_message("legacy: guest clock leads the one-step clock by %lld ns\n", (long long)e);
	assert_true(e > 40000000);	/* ~55 ms after 10 h, 4 kHz off at ~2.6 GHz: far above host scheduling noise */
	for (uint64_t i = 0; i < 20; i++) {
		const struct pvt_guest_sample *s = &vm.vcpus[0].res.samples[2 * i];
		int64_t late = (int64_t)(s[1].ns - s[0].ns) - INTERVAL_NS;

		/* At least E late (E shrinks by < 1 us over the run). */
		assert_true(late >= e - 1000);
	}
	vmm_destroy(&vm);

	run_bug1(PVT_ALGO_PVTIME, -4, 20, INTERVAL_NS, &vm, &e);
	assert_on_time(&vm, 20, INTERVAL_NS);
	for (uint64_t i = 0; i < 20; i++) {
		const struct pvt_guest_sample *s = &vm.vcpus[0].res.samples[2 * i];
		int64_t late = (int64_t)(s[1].ns - s[0].ns) - INTERVAL_NS;

		assert_true(late < e / 2);
	}
	vmm_destroy(&vm);
}

/*
 * A page advertised 4 kHz above the TSC rate: legacy's one-step clock leads
 * the guest's by ~55 ms (10 h x 4 / 2.6e6), so a 100 ms sleep wakes ~55 ms
 * early; a margin no host scheduling delay on a loaded CI machine hides
 * (1 kHz, ~13.9 ms, sometimes was). pvtime never wakes early.
 */
static void test_bug1_early_detected(void **state)
{
	struct vmm vm;
	int64_t e;

	(void)state;
	run_bug1(PVT_ALGO_LEGACY, +4, 10, 100000000, &vm, &e);
	assert_true(e < -40000000);
	assert_int_equal(vm.vcpus[0].res.early_wakeups, 10);
	vmm_destroy(&vm);
	run_bug1(PVT_ALGO_PVTIME, +4, 10, 100000000, &vm, &e);
	assert_on_time(&vm, 10, 100000000);
	vmm_destroy(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_early_legacy),
		cmocka_unit_test(test_never_early_kvm),
		cmocka_unit_test(test_never_early_pvtime),
		cmocka_unit_test(test_timer_semantics),
		cmocka_unit_test(test_periodic_on_other_vcpu),
		cmocka_unit_test(test_bug1_legacy_late_pvtime_not),
		cmocka_unit_test(test_bug1_early_detected),
	};
	return vmm_test_main("test_vmm_timers", tests, sizeof(tests) / sizeof(tests[0]));
}

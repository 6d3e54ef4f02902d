// SPDX-License-Identifier: MIT
/*
 * Timer advance on real KVM: with the host timer armed early and the VMM
 * spinning on the TSC to the exact deadline, no expiry is ever early, on
 * the engine's guest clock when the VMM delivers it (every one, signed) and
 * on the guest's own clock when it wakes; none is lost or doubled when it
 * races the guest re-programming or cancelling it or a kick in flight
 * (busy/mixed, both upcall paths); a spin that is preempted (a test hook
 * sleeps inside it; a competing SCHED_OTHER load on every CPU) only ends late. Fixed advances are used as
 * given, adaptive ones stay within the cap, legacy and kvm never advance.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm_harness.h"

#define LOOPS		300
#define INTERVAL_NS	100000
#define CAP_NS		30000

static void config(struct vmm_config *cfg, enum pvt_guest_scenario scn, unsigned vcpus,
		   enum vmm_advance_mode mode, uint64_t adv_ns)
{
	vmm_config_default(cfg);
	cfg->nr_vcpus = vcpus;
	cfg->scenario = scn;
	cfg->loops = LOOPS;
	cfg->interval_ns = INTERVAL_NS;
	cfg->advance_mode = mode;
	cfg->advance_ns = adv_ns;
}


/* Never early anywhere; the advance was used; what it was armed with is in range. */
static void assert_never_early(const struct vmm *vm, enum vmm_advance_mode mode, uint64_t adv_ns)
{
	uint64_t advanced = 0;

	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;
		uint64_t spin_max = 0;
		int64_t late_min = INT64_MAX;

		for (uint64_t i = 0; i < r->cost.n_wake_late; i++)
			if (r->cost.wake_late[i] < late_min)
				late_min = r->cost.wake_late[i];
		for (uint64_t i = 0; i < r->n_spin; i++)
			if (r->spin_ns[i] > spin_max)
				spin_max = r->spin_ns[i];
		print_message("vCPU %u: %llu expiries with an advance, %llu spun (max %llu ns, "
			      "mean %llu ns), %llu held; earliest delivery %lld ns after its deadline\n", c,
			      (unsigned long long)r->advanced_expiries, (unsigned long long)r->spins,
			      (unsigned long long)spin_max,
			      (unsigned long long)(r->advanced_expiries ?
						   r->spin_total_ns / r->advanced_expiries : 0),
			      (unsigned long long)r->holds, (long long)late_min);
		assert_int_equal(r->status, 0);
		assert_int_equal(r->early_wakeups, 0);
		assert_true(r->loops_done >= vm->cfg.loops);
		/* The VMM's own check: each delivery at or after its deadline on the guest clock. */
		assert_true(r->cost.n_wake_late > 0);
		for (uint64_t i = 0; i < r->cost.n_wake_late; i++)
			assert_true(r->cost.wake_late[i] >= 0);
		for (uint64_t i = 0; i < r->nr_irq_recs; i++)
			assert_true(r->irq_recs[i].late_ns >= 0);
		if (mode == VMM_ADV_OFF) {
			assert_int_equal(r->advanced_expiries, 0);
			continue;
		}
		/*
		 * Served by the VMM with the advance on (not all: on a loaded host
		 * the guest's next hypercall may come after the deadline, which
		 * records the expiry at once).
		 */
		advanced += r->advanced_expiries;
		assert_int_equal(r->n_spin, r->advanced_expiries);
		for (uint64_t i = 0; i < r->n_spin; i++) {
			if (mode == VMM_ADV_FIXED)
				assert_int_equal(r->advance_ns[i], adv_ns);
			else
				assert_true(r->advance_ns[i] <= CAP_NS);
		}
	}
	if (mode != VMM_ADV_OFF)
		assert_true(advanced > 0);
	vmm_test_assert_exact(vm);
}

static void run(enum pvt_guest_scenario scn, unsigned vcpus, enum vmm_advance_mode mode,
		uint64_t adv_ns, enum vmm_irq_pref pref, uint64_t interval_ns, uint64_t spin_sleep_us)
{
	struct vmm_config cfg;
	struct vmm vm;

	if (pref == VMM_IRQ_CHIP && !vmm_test_have_irqchip())
		return;
	config(&cfg, scn, vcpus, mode, adv_ns);
	cfg.irq_pref = pref;
	cfg.interval_ns = interval_ns;
	cfg.test_spin_sleep_us = spin_sleep_us;
	assert_int_equal(vmm_test_run(&vm, &cfg), 0);
	assert_never_early(&vm, mode, adv_ns);
	/*
	 * A computing vCPU is kicked at the advanced time and held out (the irq
	 * thread woke in the window), on the userspace path.
	 */
	if (scn == PVT_SCN_BUSY && vm.irq_mode == PVT_IRQ_USER) {
		uint64_t holds = 0;

		for (unsigned c = 0; c < vm.nr_vcpus; c++)
			holds += vm.vcpus[c].res.holds;
		assert_true(holds > 0);
	}
	vmm_destroy(&vm);
}

static void test_idle_adaptive(void **state)
{
	(void)state;
	run(PVT_SCN_TIMERLAT, 1, VMM_ADV_ADAPTIVE, 0, VMM_IRQ_AUTO, INTERVAL_NS, 0);
}

/* Larger than any wake-up here: every expiry spins, the longest spins. */
static void test_idle_fixed_large(void **state)
{
	(void)state;
	run(PVT_SCN_TIMERLAT, 2, VMM_ADV_FIXED, 60000, VMM_IRQ_AUTO, INTERVAL_NS, 0);
}

static void test_idle_fixed_small(void **state)
{
	(void)state;
	run(PVT_SCN_TIMERLAT, 1, VMM_ADV_FIXED, 2000, VMM_IRQ_AUTO, INTERVAL_NS, 0);
}

/* A spin preempted half-way (slept in): late, never early. */
static void test_idle_spin_preempted(void **state)
{
	(void)state;
	run(PVT_SCN_TIMERLAT, 1, VMM_ADV_FIXED, 60000, VMM_IRQ_AUTO, INTERVAL_NS, 20);
}

static void test_idle_adaptive_preempted(void **state)
{
	(void)state;
	run(PVT_SCN_TIMERLAT, 2, VMM_ADV_ADAPTIVE, 0, VMM_IRQ_AUTO, INTERVAL_NS, 20);
}

/* A SCHED_OTHER thread per CPU that only computes: it preempts spins for real. */
static int load_stop;
static pthread_t load_threads[8];
static int load_started;

static void *load(void *arg)
{
	volatile uint64_t x = 0;

	(void)arg;
	while (!__atomic_load_n(&load_stop, __ATOMIC_RELAXED))
		x++;
	return NULL;
}

/* Also after a failed assertion (cmocka leaves the test by longjmp). */
static int load_teardown(void **state)
{
	(void)state;
	__atomic_store_n(&load_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < load_started; i++)
		pthread_join(load_threads[i], NULL);
	load_started = 0;
	return 0;
}

static void test_idle_competing_load(void **state)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	(void)state;
	if (n < 1 || n > 8)
		n = n < 1 ? 1 : 8;
	__atomic_store_n(&load_stop, 0, __ATOMIC_RELAXED);
	for (long i = 0; i < n; i++)
		if (!pthread_create(&load_threads[load_started], NULL, load, NULL))
			load_started++;
	/* vCPU threads under SCHED_OTHER too (the default config): they compete. */
	run(PVT_SCN_TIMERLAT, 2, VMM_ADV_FIXED, 60000, VMM_IRQ_AUTO, INTERVAL_NS, 0);
}

/* The irq thread spins while the guest computes; expiries race the arming and the kick. */
static void test_busy_chip(void **state)
{
	(void)state;
	run(PVT_SCN_BUSY, 2, VMM_ADV_ADAPTIVE, 0, VMM_IRQ_CHIP, INTERVAL_NS, 0);
}

static void test_busy_user(void **state)
{
	(void)state;
	run(PVT_SCN_BUSY, 2, VMM_ADV_FIXED, 40000, VMM_IRQ_USER, INTERVAL_NS, 0);
}

/*
 * Deadlines about one exit long, re-programmed and cancelled under
 * expiries in flight (the guest checks none is lost, doubled or early);
 * the advance window now spans several of them.
 */
static void test_mixed_chip_short(void **state)
{
	(void)state;
	run(PVT_SCN_MIXED, 2, VMM_ADV_ADAPTIVE, 0, VMM_IRQ_CHIP, 25000, 0);
}

static void test_mixed_user_short(void **state)
{
	(void)state;
	run(PVT_SCN_MIXED, 2, VMM_ADV_FIXED, 40000, VMM_IRQ_USER, 25000, 0);
}

static void test_mixed_user_preempted(void **state)
{
	(void)state;
	run(PVT_SCN_MIXED, 2, VMM_ADV_FIXED, 40000, VMM_IRQ_USER, INTERVAL_NS, 20);
}

/* legacy and kvm model in-kernel KVM's Xen timers: asked for, the advance is never used. */
static void test_legacy_kvm_never(void **state)
{
	(void)state;
	for (int a = PVT_ALGO_LEGACY; a <= PVT_ALGO_KVM; a++) {
		struct vmm_config cfg;
		struct vmm vm;

		config(&cfg, PVT_SCN_TIMERLAT, 1, VMM_ADV_FIXED, 20000);
		cfg.algo = (enum pvt_timer_algo)a;
		cfg.loops = 50;
		assert_int_equal(vmm_test_run(&vm, &cfg), 0);
		assert_int_equal(vm.vcpus[0].adv.mode, VMM_ADV_OFF);
		assert_never_early(&vm, VMM_ADV_OFF, 0);
		vmm_destroy(&vm);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_adaptive),
		cmocka_unit_test(test_idle_fixed_large),
		cmocka_unit_test(test_idle_fixed_small),
		cmocka_unit_test(test_idle_spin_preempted),
		cmocka_unit_test(test_idle_adaptive_preempted),
		cmocka_unit_test_teardown(test_idle_competing_load, load_teardown),
		cmocka_unit_test(test_busy_chip),
		cmocka_unit_test(test_busy_user),
		cmocka_unit_test(test_mixed_chip_short),
		cmocka_unit_test(test_mixed_user_short),
		cmocka_unit_test(test_mixed_user_preempted),
		cmocka_unit_test(test_legacy_kvm_never),
	};

	return vmm_test_main("test_vmm_advance", tests, sizeof(tests) / sizeof(tests[0]));
}

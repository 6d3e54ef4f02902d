// SPDX-License-Identifier: MIT
/*
 * Upcalls on real KVM: a guest that never exits on its own (busy) gets
 * every timer through the interrupt, on 1 and 2 vCPUs, by the in-kernel
 * irqchip (MSI) and by the userspace fallback (KVM_INTERRUPT + kick), the
 * latter also when the irqchip is refused; several timers per vCPU that
 * are re-programmed and cancelled under in-flight expiries (mixed) are
 * never lost, doubled or early (checked inside the guest as well).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm_harness.h"

#define LOOPS		200
#define INTERVAL_NS	100000

static void irq_config(struct vmm_config *cfg, enum pvt_guest_scenario scn, unsigned vcpus,
		       enum vmm_irq_pref pref)
{
	vmm_config_default(cfg);
	cfg->nr_vcpus = vcpus;
	cfg->scenario = scn;
	cfg->loops = LOOPS;
	cfg->interval_ns = INTERVAL_NS;
	cfg->irq_pref = pref;
}


static void assert_timers_fired(const struct vmm *vm, enum pvt_guest_scenario scn)
{
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		print_message("vCPU %u: upcalls %llu by interrupt, %llu on unmask; kicks %llu, "
			      "KVM_INTERRUPT %llu, MSIs %llu, blocks %llu, exits %llu, hypercalls %llu\n",
			      c, (unsigned long long)r->upcalls, (unsigned long long)r->upcalls_direct,
			      (unsigned long long)r->kicks, (unsigned long long)r->injections,
			      (unsigned long long)r->msis, (unsigned long long)r->blocks,
			      (unsigned long long)r->exits, (unsigned long long)r->hypercalls);
		assert_int_equal(r->status, 0);
		assert_int_equal(r->early_wakeups, 0);
		assert_true(r->loops_done >= vm->cfg.loops);
		/* Each software timer fired once per arming at most, none early. */
		assert_true(r->timers_fired <= r->timers_armed);
		for (uint64_t i = 0; i < r->nr_irq_recs; i++)
			assert_true(r->irq_recs[i].late_ns >= 0);
		if (scn == PVT_SCN_BUSY) {
			/* One timer per loop, all fired; the guest never blocked. */
			assert_int_equal(r->timers_armed, LOOPS);
			assert_int_equal(r->timers_fired, LOOPS);
			assert_int_equal(r->nr_irq_recs, LOOPS);
			assert_int_equal(r->blocks, 0);
			/* Its only exits: the arming hypercalls and a few ucalls, no polling. */
			assert_true(r->exits <= r->hypercalls + 4);
			/*
			 * It computes until its timer fired: expiries land there,
			 * by interrupt, unless arming took longer than the
			 * interval (a loaded host), then it finds them on unmask.
			 */
			assert_true(r->upcalls > 0);
			assert_true(r->upcalls + r->upcalls_direct >= LOOPS);
		}
		if (vm->irq_mode == PVT_IRQ_USER)
			assert_int_equal(r->msis, 0);
		else
			assert_int_equal(r->injections, 0);
	}
	vmm_test_assert_exact(vm);
}

static void run(enum pvt_guest_scenario scn, unsigned vcpus, enum vmm_irq_pref pref,
		int expect_mode)
{
	struct vmm_config cfg;
	struct vmm vm;

	irq_config(&cfg, scn, vcpus, pref);
	/* mixed: more rounds, more expiries racing the re-programming and the cancel. */
	if (scn == PVT_SCN_MIXED)
		cfg.loops = 5 * LOOPS;
	assert_int_equal(vmm_test_run(&vm, &cfg), 0);
	assert_int_equal(vm.irq_mode, expect_mode);
	assert_timers_fired(&vm, scn);
	vmm_destroy(&vm);
}

static void test_busy_chip_1(void **state)
{
	(void)state;
	if (vmm_test_have_irqchip())
		run(PVT_SCN_BUSY, 1, VMM_IRQ_CHIP, PVT_IRQ_CHIP);
}

static void test_busy_chip_2(void **state)
{
	(void)state;
	if (vmm_test_have_irqchip())
		run(PVT_SCN_BUSY, 2, VMM_IRQ_CHIP, PVT_IRQ_CHIP);
}

static void test_busy_user_1(void **state)
{
	(void)state;
	run(PVT_SCN_BUSY, 1, VMM_IRQ_USER, PVT_IRQ_USER);
}

static void test_busy_user_2(void **state)
{
	(void)state;
	run(PVT_SCN_BUSY, 2, VMM_IRQ_USER, PVT_IRQ_USER);
}

static void test_mixed_chip(void **state)
{
	(void)state;
	if (vmm_test_have_irqchip())
		run(PVT_SCN_MIXED, 2, VMM_IRQ_CHIP, PVT_IRQ_CHIP);
}

static void test_mixed_user(void **state)
{
	(void)state;
	run(PVT_SCN_MIXED, 2, VMM_IRQ_USER, PVT_IRQ_USER);
}

/*
 * Deadlines about as long as an exit: many expiries land while the guest is in
 * its arming hypercall or the entry stub, or while a kick is in flight.
 * Still every timer exactly once, none early.
 */
static void run_short(enum pvt_guest_scenario scn, enum vmm_irq_pref pref, int mode)
{
	struct vmm_config cfg;
	struct vmm vm;

	if (pref == VMM_IRQ_CHIP && !vmm_test_have_irqchip())
		return;
	irq_config(&cfg, scn, 2, pref);
	cfg.interval_ns = 25000;	/* about one exit: a mix of interrupts and unmasks */
	cfg.loops = 5 * LOOPS;
	assert_int_equal(vmm_test_run(&vm, &cfg), 0);
	assert_int_equal(vm.irq_mode, mode);
	for (unsigned c = 0; c < vm.nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm.vcpus[c].res;

		print_message("vCPU %u: upcalls %llu by interrupt, %llu on unmask, kicks %llu, windows %llu\n",
			      c, (unsigned long long)r->upcalls, (unsigned long long)r->upcalls_direct,
			      (unsigned long long)r->kicks, (unsigned long long)r->windows);
		assert_int_equal(r->status, 0);
		assert_int_equal(r->early_wakeups, 0);
		assert_true(r->loops_done >= cfg.loops);
		if (scn == PVT_SCN_BUSY)
			assert_int_equal(r->timers_fired, cfg.loops);
		for (uint64_t i = 0; i < r->nr_irq_recs; i++)
			assert_true(r->irq_recs[i].late_ns >= 0);
	}
	vmm_test_assert_exact(&vm);
	vmm_destroy(&vm);
}

static void test_short_busy_user(void **state)
{
	(void)state;
	run_short(PVT_SCN_BUSY, VMM_IRQ_USER, PVT_IRQ_USER);
}

static void test_short_busy_chip(void **state)
{
	(void)state;
	run_short(PVT_SCN_BUSY, VMM_IRQ_CHIP, PVT_IRQ_CHIP);
}

static void test_short_mixed_user(void **state)
{
	(void)state;
	run_short(PVT_SCN_MIXED, VMM_IRQ_USER, PVT_IRQ_USER);
}

static void test_short_mixed_chip(void **state)
{
	(void)state;
	run_short(PVT_SCN_MIXED, VMM_IRQ_CHIP, PVT_IRQ_CHIP);
}

/*
 * At CPL 0 the busy guest turns interrupts off past some deadlines: the
 * userspace path must wait for the interrupt window (request_interrupt_window),
 * the irqchip keep the MSI pending; every timer still fires, none early.
 */
static void run_window(enum vmm_irq_pref pref, int mode)
{
	struct vmm_config cfg;
	struct vmm vm;

	if (pref == VMM_IRQ_CHIP && !vmm_test_have_irqchip())
		return;
	irq_config(&cfg, PVT_SCN_BUSY, 1, pref);
	cfg.kernel_mode = true;		/* emulated: slow, so few loops */
	cfg.loops = 24;
	cfg.interval_ns = 5000000;	/* emulated CPL 0 arms slowly: keep expiries out of the arming */
	assert_int_equal(vmm_test_run(&vm, &cfg), 0);
	assert_int_equal(vm.irq_mode, mode);
	{
		const struct vmm_vcpu_result *r = &vm.vcpus[0].res;

		print_message("upcalls %llu by interrupt, %llu on unmask, kicks %llu, windows %llu, "
			      "KVM_INTERRUPT %llu, MSIs %llu\n",
			      (unsigned long long)r->upcalls, (unsigned long long)r->upcalls_direct,
			      (unsigned long long)r->kicks, (unsigned long long)r->windows,
			      (unsigned long long)r->injections, (unsigned long long)r->msis);
		assert_int_equal(r->status, 0);
		assert_int_equal(r->early_wakeups, 0);
		assert_int_equal(r->timers_fired, cfg.loops);
		if (mode == PVT_IRQ_USER)
			assert_true(r->windows > 0);
	}
	vmm_destroy(&vm);
}

static void test_window_user(void **state)
{
	(void)state;
	run_window(VMM_IRQ_USER, PVT_IRQ_USER);
}

static void test_window_chip(void **state)
{
	(void)state;
	run_window(VMM_IRQ_CHIP, PVT_IRQ_CHIP);
}

/* auto with the irqchip refused: the userspace path, and the VM says why. */
static void test_refused_irqchip_falls_back(void **state)
{
	struct vmm_config cfg;
	struct vmm vm;

	(void)state;
	irq_config(&cfg, PVT_SCN_BUSY, 2, VMM_IRQ_AUTO);
	cfg.refuse_irqchip = true;
	assert_int_equal(vmm_test_run(&vm, &cfg), 0);
	assert_int_equal(vm.irq_mode, PVT_IRQ_USER);
	assert_non_null(strstr(vm.irq_why, "KVM_CREATE_IRQCHIP"));
	assert_timers_fired(&vm, PVT_SCN_BUSY);
	vmm_destroy(&vm);
}

/* Asking for the irqchip where there is none is an error with a message, not a fallback. */
static void test_refused_irqchip_required(void **state)
{
	struct vmm_config cfg;
	struct vmm vm;

	(void)state;
	irq_config(&cfg, PVT_SCN_BUSY, 1, VMM_IRQ_CHIP);
	cfg.refuse_irqchip = true;
	assert_int_not_equal(vmm_create(&vm, &cfg), 0);
	print_message("expected: %s\n", vm.error);
	assert_non_null(strstr(vm.error, "irqchip"));
	vmm_destroy(&vm);
}

/*
 * The window between the irq thread taking an expiry from the engine and
 * raising it, widened to 300 us by a test hook: a vCPU that blocks in it
 * sees its timer gone from the engine and nothing pending yet. It must wait
 * for the raise (no -EDEADLK, which the mixed guest asserts against, and no
 * lost wake-up: every loop completes).
 */
static void run_block_race(enum vmm_irq_pref pref, int mode)
{
	struct vmm_config cfg;
	struct vmm vm;
	uint64_t blocks = 0;

	if (pref == VMM_IRQ_CHIP && !vmm_test_have_irqchip())
		return;
	irq_config(&cfg, PVT_SCN_MIXED, 1, pref);
	cfg.loops = 2 * LOOPS;
	cfg.test_raise_delay_us = 300;
	assert_int_equal(vmm_test_run(&vm, &cfg), 0);
	assert_int_equal(vm.irq_mode, mode);
	for (unsigned c = 0; c < vm.nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm.vcpus[c].res;

		print_message("vCPU %u: blocks %llu, waited for a raise in flight %llu, upcalls %llu + %llu on unmask\n",
			      c, (unsigned long long)r->blocks, (unsigned long long)r->inflight_waits,
			      (unsigned long long)r->upcalls, (unsigned long long)r->upcalls_direct);
		assert_int_equal(r->status, 0);
		assert_int_equal(r->early_wakeups, 0);
		assert_true(r->loops_done >= cfg.loops);
		assert_true(r->timers_fired <= r->timers_armed);
		blocks += r->inflight_waits;
	}
	/* The window was hit: the test exercised what it is about. */
	assert_true(blocks > 0);
	vmm_destroy(&vm);
}

static void test_block_race_user(void **state)
{
	(void)state;
	run_block_race(VMM_IRQ_USER, PVT_IRQ_USER);
}

static void test_block_race_chip(void **state)
{
	(void)state;
	run_block_race(VMM_IRQ_CHIP, PVT_IRQ_CHIP);
}

/* The idle scenario is untouched: no upcall, no irq thread, no interrupt. */
static void test_idle_has_no_upcall(void **state)
{
	struct vmm_config cfg;
	struct vmm vm;

	(void)state;
	irq_config(&cfg, PVT_SCN_TIMERLAT, 1, VMM_IRQ_AUTO);
	cfg.loops = 20;
	assert_int_equal(vmm_test_run(&vm, &cfg), 0);
	assert_int_equal(vm.irq_mode, PVT_IRQ_NONE);
	assert_int_equal(vm.vcpus[0].res.raises, 0);
	assert_int_equal(vm.vcpus[0].res.early_wakeups, 0);
	vmm_destroy(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busy_user_1),
		cmocka_unit_test(test_busy_user_2),
		cmocka_unit_test(test_busy_chip_1),
		cmocka_unit_test(test_busy_chip_2),
		cmocka_unit_test(test_mixed_user),
		cmocka_unit_test(test_mixed_chip),
		cmocka_unit_test(test_short_busy_user),
		cmocka_unit_test(test_short_busy_chip),
		cmocka_unit_test(test_short_mixed_user),
		cmocka_unit_test(test_short_mixed_chip),
		cmocka_unit_test(test_window_user),
		cmocka_unit_test(test_window_chip),
		cmocka_unit_test(test_block_race_user),
		cmocka_unit_test(test_block_race_chip),
		cmocka_unit_test(test_refused_irqchip_falls_back),
		cmocka_unit_test(test_refused_irqchip_required),
		cmocka_unit_test(test_idle_has_no_upcall),
	};

	return vmm_test_main("test_vmm_irq", tests, sizeof(tests) / sizeof(tests[0]));
}

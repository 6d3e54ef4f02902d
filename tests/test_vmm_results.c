// SPDX-License-Identifier: MIT
/*
 * The VMM's results API (vmm/results.c) on a hand-made finished VM, without
 * KVM: totals and lost timers over vCPUs, the timerlat report (only the
 * loops a vCPU finished), costs in ns at the VM's TSC rate, the timer
 * advance summary, the upcall breakdown (interrupt upcalls with a
 * consistent path only) and the names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "results.h"

struct fake {
	struct vmm vm;
	struct vmm_vcpu vcpus[2];
	struct pvt_guest_sample s0[6], s1[4];
	uint64_t timer0[2], timer1[1];
	int64_t late0[2];
	uint64_t spin0[2], adv0[2];
	struct pvt_guest_irq_rec irq0[3];
};

/* 2 GHz: 2 ticks a ns. vCPU 0 did its 3 loops, vCPU 1 one of them when the watchdog fired. */
static void make(struct fake *f)
{
	static const struct pvt_guest_sample s0[6] = {
		{ 0, 100 }, { 0, 250 }, { 0, 300 }, { 0, 420 }, { 0, 500 }, { 0, 700 },
	};
	static const struct pvt_guest_sample s1[4] = {
		{ 0, 1000 }, { 0, 1100 }, { 0, 2000 }, { 0, 9000 },
	};
	struct vmm_vcpu_result *r0 = &f->vcpus[0].res, *r1 = &f->vcpus[1].res;

	memset(f, 0, sizeof(*f));
	vmm_config_default(&f->vm.cfg);
	f->vm.cfg.scenario = PVT_SCN_TIMERLAT;
	f->vm.cfg.loops = 3;
	f->vm.tsc_khz = 2000000;
	f->vm.vcpus = f->vcpus;
	f->vm.nr_vcpus = 2;
	f->vm.watchdog_fired = true;
	memcpy(f->s0, s0, sizeof(s0));
	memcpy(f->s1, s1, sizeof(s1));
	r0->samples = f->s0;
	r0->nr_samples = 6;
	r0->loops_done = 3;
	r0->early_wakeups = 1;
	r0->exits = 10;
	r0->hypercalls = 5;
	r1->samples = f->s1;
	r1->nr_samples = 4;	/* the second pair is past loops_done: not a loop */
	r1->loops_done = 1;
	r1->exits = 7;
	r1->sample_checks = 4;
	r1->sample_mismatches = 1;
	strcpy(r1->mismatch, "vcpu 1 sample 2");
	f->timer0[0] = 2000;
	f->timer0[1] = 4000;
	f->timer1[0] = 6000;
	r0->cost.ticks[VMM_COST_TIMER] = f->timer0;
	r0->cost.n[VMM_COST_TIMER] = 2;
	r1->cost.ticks[VMM_COST_TIMER] = f->timer1;
	r1->cost.n[VMM_COST_TIMER] = 1;
	f->late0[0] = -5;
	f->late0[1] = 7;
	r0->cost.wake_late = f->late0;
	r0->cost.n_wake_late = 2;
}

static void test_totals(void **state)
{
	struct fake f;
	struct vmm_totals t;

	(void)state;
	make(&f);
	vmm_totals(&f.vm, &t);
	assert_int_equal(t.loops, 4);
	assert_int_equal(t.early_wakeups, 1);
	assert_int_equal(t.exits, 17);
	assert_int_equal(t.hypercalls, 5);
	assert_int_equal(t.sample_mismatches, 1);
	assert_int_equal(t.lost_timers, 1);
	assert_non_null(t.first_mismatch);
	assert_string_equal(t.first_mismatch, "vcpu 1 sample 2");
	assert_int_equal(vmm_vcpu_lost(&f.vm, 0), 0);
	assert_int_equal(vmm_vcpu_lost(&f.vm, 1), 1);
	/* Not a sleeping scenario, or no watchdog: nothing is lost. */
	f.vm.cfg.scenario = PVT_SCN_NULLCALL;
	assert_int_equal(vmm_vcpu_lost(&f.vm, 1), 0);
	f.vm.cfg.scenario = PVT_SCN_BUSY;
	f.vm.watchdog_fired = false;
	assert_int_equal(vmm_vcpu_lost(&f.vm, 1), 0);
}

static void test_timerlat_report(void **state)
{
	struct timerlat_report r;
	struct fake f;

	(void)state;
	make(&f);
	timerlat_report_init(&r, "pvtime", 100, NULL, true);
	assert_int_equal(vmm_timerlat_report(&f.vm, &r), 0);
	/* 150, 120, 200 from vCPU 0 and 100 from vCPU 1; 7000 is past its loops. */
	assert_int_equal(r.loops, 4);
	assert_int_equal(stats_max(&r.lateness), 100);
	assert_int_equal(stats_min(&r.lateness), 0);
	timerlat_report_free(&r);
}

static void test_cost(void **state)
{
	struct fake f;
	struct stats s;

	(void)state;
	make(&f);
	assert_int_equal(vmm_tsc_to_ns(&f.vm, 3), 1);
	assert_true(vmm_tsc_to_ns(&f.vm, UINT64_MAX) == UINT64_MAX / 2);
	assert_int_equal(vmm_cost(&f.vm, VMM_COST_TIMER, &s), 0);
	assert_int_equal(s.count, 3);
	assert_int_equal(stats_min(&s), 1000);
	assert_int_equal(stats_percentile(&s, 50, 100), 2000);
	assert_int_equal(stats_max(&s), 3000);
	stats_free(&s);
	assert_int_equal(vmm_cost(&f.vm, VMM_COST_BLOCK, &s), 0);
	assert_int_equal(s.count, 0);
	stats_free(&s);
	assert_int_equal(vmm_cost(&f.vm, VMM_COST_DELIVERY, &s), 0);
	assert_int_equal(s.count, 2);
	assert_int_equal(stats_min(&s), -5);	/* signed: delivered before the deadline */
	stats_free(&s);
	assert_int_equal(vmm_cost(&f.vm, (enum vmm_cost_kind)7, &s), -EINVAL);
	stats_free(&s);
}

static void test_advance(void **state)
{
	struct vmm_advance_summary a;
	struct vmm_config cfg;
	struct fake f;
	char buf[24];

	(void)state;
	make(&f);
	assert_int_equal(vmm_advance_summary(&f.vm, &a), 0);
	assert_false(a.on);
	assert_int_equal(a.advance_p50, -1);
	f.spin0[0] = 100;
	f.spin0[1] = 200;
	f.adv0[0] = 1000;
	f.adv0[1] = 3000;
	f.vcpus[0].res.spin_ns = f.spin0;
	f.vcpus[0].res.advance_ns = f.adv0;
	f.vcpus[0].res.n_spin = 2;
	f.vcpus[0].res.advanced_expiries = 2;
	f.vcpus[0].res.spins = 1;
	f.vcpus[0].res.spin_total_ns = 300;
	assert_int_equal(vmm_advance_summary(&f.vm, &a), 0);
	assert_true(a.on);
	assert_int_equal(a.expiries, 2);
	assert_int_equal(a.spins, 1);
	assert_int_equal(a.advance_p50, 1000);
	assert_int_equal(a.advance_p99, 3000);
	assert_int_equal(a.spin_p99, 200);
	assert_true(a.spin_mean == 150.0);

	vmm_config_default(&cfg);
	cfg.algo = PVT_ALGO_PVTIME;
	cfg.advance_mode = VMM_ADV_FIXED;
	cfg.advance_ns = 5000;
	assert_string_equal(vmm_advance_name(&cfg, buf, sizeof(buf)), "5000");
	cfg.advance_mode = VMM_ADV_ADAPTIVE;
	assert_string_equal(vmm_advance_name(&cfg, buf, sizeof(buf)), "adaptive");
	cfg.algo = PVT_ALGO_LEGACY;	/* only pvtime advances */
	assert_string_equal(vmm_advance_name(&cfg, buf, sizeof(buf)), "off");
}

static void test_irq(void **state)
{
	struct vmm_irq_breakdown b;
	struct vmm_irq_totals t;
	struct timerlat_report r;
	struct fake f;
	struct stats s;

	(void)state;
	make(&f);
	assert_string_equal(vmm_irq_name(&f.vm), "none");
	f.vm.irq_mode = PVT_IRQ_USER;
	assert_non_null(strstr(vmm_irq_name(&f.vm), "userspace"));
	/* One interrupt upcall: 100 ns to the kick, then 200 ns per stage. */
	f.irq0[0] = (struct pvt_guest_irq_rec){
		.late_ns = 30, .raise_tsc = 1000, .kick_tsc = 1200, .inject_tsc = 1600,
		.entry_tsc = 2000, .fire_tsc = 2400,
	};
	f.irq0[1] = f.irq0[0];
	f.irq0[1].direct = 1;		/* on unmask: no path */
	f.irq0[1].late_ns = 10;
	f.irq0[2] = f.irq0[0];
	f.irq0[2].kick_tsc = 900;	/* kicked before it was raised: inconsistent */
	f.irq0[2].late_ns = 20;
	f.vcpus[0].res.irq_recs = f.irq0;
	f.vcpus[0].res.nr_irq_recs = 3;
	f.vcpus[0].res.upcalls = 2;
	f.vcpus[0].res.upcalls_direct = 1;
	f.vcpus[1].res.upcalls = 5;
	f.vcpus[0].res.raises = 3;
	assert_int_equal(vmm_irq_breakdown(&f.vm, &b), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.kick_ns, 100);
	assert_int_equal(b.inject_ns, 200);
	assert_int_equal(b.entry_ns, 200);
	assert_int_equal(b.handler_ns, 200);
	assert_int_equal(b.raise_to_fire_ns, 700);
	assert_int_equal(b.wake_ns, -5);	/* p50 of the delivery lateness */
	vmm_irq_totals(&f.vm, &t);
	assert_int_equal(t.upcalls, 7);
	assert_int_equal(t.upcalls_direct, 1);
	assert_int_equal(t.raises, 3);
	assert_int_equal(vmm_irq_lateness(&f.vm, &s), 0);
	assert_int_equal(s.count, 3);
	assert_int_equal(stats_max(&s), 30);
	stats_free(&s);
	/* With upcalls, the report is each software timer's lateness, as a sleep of one interval. */
	timerlat_report_init(&r, "pvtime", 100, NULL, true);
	assert_int_equal(vmm_timerlat_report(&f.vm, &r), 0);
	assert_int_equal(r.loops, 3);
	assert_int_equal(stats_max(&r.lateness), 30);
	timerlat_report_free(&r);
}

static void test_guest_name(void **state)
{
	struct vmm_config cfg;

	(void)state;
	vmm_config_default(&cfg);
	cfg.scenario = PVT_SCN_TIMERLAT;
	assert_string_equal(vmm_guest_name(&cfg), "idle");
	cfg.scenario = PVT_SCN_BUSY;
	assert_string_equal(vmm_guest_name(&cfg), "busy");
	cfg.scenario = PVT_SCN_MIXED;
	assert_string_equal(vmm_guest_name(&cfg), "mixed");
	cfg.scenario = PVT_SCN_SOAK;
	assert_string_equal(vmm_guest_name(&cfg), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totals),
		cmocka_unit_test(test_timerlat_report),
		cmocka_unit_test(test_cost),
		cmocka_unit_test(test_advance),
		cmocka_unit_test(test_irq),
		cmocka_unit_test(test_guest_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

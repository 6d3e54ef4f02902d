// SPDX-License-Identifier: MIT
/*
 * The runs behind `pvtime bench vmm`: a bare port-I/O exit, then repeated
 * rounds of legacy, kvm and pvtime guests next to the host baseline, then
 * cyclictest, and the conclusions drawn from all of them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench-vmm.h"
#include "runctl.h"

static void spread(const struct bench_run *r, unsigned n, struct spread *s)
{
	s->lo = s->hi = r[0].p50;
	s->mean = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!r[i].loops && n > 1)
			continue;	/* an interrupted repetition that never ran this algo */
		if (r[i].p50 < s->lo)
			s->lo = r[i].p50;
		if (r[i].p50 > s->hi)
			s->hi = r[i].p50;
		s->mean += (double)r[i].p50 / n;
	}
}

/* Bare exits: the guest times an OUT to a port whose handler does nothing. */
static int measure_bare(const struct bench_vmm_config *cfg, struct bench_vmm_result *res)
{
	struct vmm_config vc;
	struct stats rt, h;
	struct vmm vm;
	int ret;

	vmm_config_default(&vc);
	vc.nr_vcpus = 1;
	vc.scenario = PVT_SCN_NULLCALL;
	vc.loops = cfg->loops < 2000 ? cfg->loops : 2000;
	vc.check_samples = false;
	vc.fifo_priority = cfg->fifo;
	ret = vmm_create(&vm, &vc);
	if (!ret)
		ret = vmm_run(&vm);
	if (ret) {
		snprintf(res->error, sizeof(res->error), "bench vmm: %s", vm.error);
		vmm_destroy(&vm);
		return ret;
	}
	stats_init(&rt);
	for (uint64_t i = 0; i + 1 < vm.vcpus[0].res.nr_samples; i += 2)
		stats_add(&rt, (int64_t)(vm.vcpus[0].res.samples[i + 1].ns -
					 vm.vcpus[0].res.samples[i].ns));
	res->bare_rt_p50 = rt.count ? stats_percentile(&rt, 50, 100) : -1;
	res->bare_rt_p99 = rt.count ? stats_percentile(&rt, 99, 100) : -1;
	res->null_handling_p50 = -1;
	if (!vmm_cost(&vm, VMM_COST_NULL, &h) && h.count)
		res->null_handling_p50 = stats_percentile(&h, 50, 100);
	stats_free(&h);
	stats_free(&rt);
	vmm_destroy(&vm);
	return 0;
}

/*
 * What this platform costs on top of the host's own wake-up whatever the
 * timer algorithm: idle, the resume into the guest (half the bare exit
 * round trip); busy, the interrupt path after the raise (kick, inject,
 * entry, handler p50s, mean over pvtime's runs). Mixed takes most of its
 * expiries on unmask, not by interrupt: no floor (-1), busy gives it.
 */
static double floor_extra_ns(const struct bench_vmm_config *cfg,
			     const struct bench_vmm_result *res)
{
	double extra = 0;

	if (cfg->scenario == PVT_SCN_MIXED)
		return -1;
	if (cfg->scenario == PVT_SCN_TIMERLAT)
		return res->bare_rt_p50 > 0 ? (double)res->bare_rt_p50 / 2 : 0;
	for (unsigned i = 0; i < res->repeat; i++) {
		const struct vmm_irq_breakdown *x = &res->runs[PVT_ALGO_PVTIME][i].irq;

		extra += (double)(x->kick_ns + x->inject_ns + x->entry_ns + x->handler_ns) / res->repeat;
	}
	return extra;
}

static void figures(const struct bench_vmm_config *cfg, struct bench_vmm_result *res)
{
	struct figures *f = &res->f;

	memset(f, 0, sizeof(*f));
	for (enum pvt_timer_algo a = PVT_ALGO_LEGACY; a < BENCH_ALGOS; a++)
		spread(res->runs[a], res->repeat, &f->algo[a]);
	spread(res->host, res->repeat, &f->host);
	/* The target: idle within 5 us of the host, an interrupted guest within 10 us. */
	f->budget_ns = cfg->scenario == PVT_SCN_TIMERLAT ? 5000 : 10000;
	f->met = f->algo[PVT_ALGO_PVTIME].mean <= f->host.mean + (double)f->budget_ns;
	f->advance_on = cfg->adv.advance_mode != VMM_ADV_OFF;
	/*
	 * The host's own wake-up is part of the floor unless pvtime's advance
	 * hides it (armed early by up to the cap, spun to the deadline): then
	 * only what follows the deadline remains.
	 */
	f->floor_has_host = !f->advance_on;
	f->floor_extra_ns = floor_extra_ns(cfg, res);
	f->floor_p50_ns = (f->floor_has_host ? f->host.mean : 0) + f->floor_extra_ns;
	for (unsigned i = 0; i < res->repeat; i++) {
		const struct bench_run *r = &res->runs[PVT_ALGO_PVTIME][i];

		f->delivery_mean += (double)r->delivery / res->repeat;
		f->spin_mean += r->adv.spin_mean / res->repeat;
		f->advance_p50_mean += (double)r->adv.advance_p50 / res->repeat;
	}
	f->delivery_met = f->delivery_mean <= DELIVERY_BUDGET_NS;
	f->spin_met = f->spin_mean <= f->advance_p50_mean + SPIN_SLACK_NS;
}

static void fill(struct bench_run *r, struct stats *s)
{
	r->loops = s->count;
	if (!s->count)
		return;	/* stopped before its first loop */
	r->p50 = stats_percentile(s, 50, 100);
	r->p99 = stats_percentile(s, 99, 100);
	r->max = stats_max(s);
}

/* One algorithm's run (and, for pvtime, the host baseline) as repetition rep. */
static int run_one(const struct bench_vmm_config *cfg, struct bench_vmm_result *res,
		   unsigned rep, enum pvt_timer_algo a)
{
	struct bench_run *r = &res->runs[a][rep];
	struct vmm_config vc;
	struct vmm_vs_host m;
	int ret;

	vmm_config_default(&vc);
	vc.nr_vcpus = cfg->vcpus;
	vc.scenario = cfg->scenario;
	vc.irq_pref = cfg->irq_pref;
	vc.algo = a;
	vc.advance_mode = cfg->adv.advance_mode;
	vc.advance_ns = cfg->adv.advance_ns;
	vc.loops = cfg->loops;
	vc.interval_ns = cfg->interval_ns;
	vc.check_samples = false;	/* the oracles run in the tests, not here */
	vc.fifo_priority = cfg->fifo;
	vc.watchdog_ms = 600000 + cfg->duration_ns / 1000000;
	ret = vmm_vs_host_run("bench vmm", &vc, &m, NULL, true, a == PVT_ALGO_PVTIME, cfg->duration_ns, false);
	if (m.watchdog && !res->watchdog_error[0])
		snprintf(res->watchdog_error, sizeof(res->watchdog_error), "%s", m.watchdog_error);
	if (ret) {
		snprintf(res->error, sizeof(res->error), "%s", m.error);
		vmm_vs_host_free(&m);
		return ret;
	}
	fill(r, &m.guest.lateness);
	r->cost_timer = m.cost_timer_p50;
	r->cost_block = m.cost_block_p50;
	r->delivery = m.delivery_p50;
	r->adv = m.adv;
	r->early = m.totals.early_wakeups;
	r->irq = m.irq;
	r->irq_totals = m.irq_totals;
	res->irq_mode = m.irq_mode;
	snprintf(res->irq_name, sizeof(res->irq_name), "%s", m.irq_name);
	res->dma_held = m.env.dma_latency_held;
	if (a == PVT_ALGO_PVTIME)
		fill(&res->host[rep], &m.host.lateness);
	res->repeat = rep + 1;
	if (res->have_last[a])
		vmm_vs_host_free(&res->last[a]);
	res->last[a] = m;	/* owned now */
	res->have_last[a] = true;
	return 0;
}

void bench_vmm_result_free(struct bench_vmm_result *res)
{
	for (enum pvt_timer_algo a = PVT_ALGO_LEGACY; a < BENCH_ALGOS; a++)
		if (res->have_last[a])
			vmm_vs_host_free(&res->last[a]);
}

int bench_vmm_measure(const struct bench_vmm_config *cfg, struct bench_vmm_result *res)
{
	int ret = measure_bare(cfg, res);

	for (unsigned rep = 0; !ret && !res->stopped && rep < cfg->repeat; rep++) {
		for (enum pvt_timer_algo a = PVT_ALGO_LEGACY; !ret && !res->stopped && a < BENCH_ALGOS; a++) {
			ret = run_one(cfg, res, rep, a);
			res->stopped = runctl_signal() != 0;
		}
	}
	if (ret || !res->repeat)
		return ret;
	if (!res->stopped)
		res->cyclic_ok = !cyclictest_run(cfg->fifo, cfg->interval_ns, cfg->loops, &res->cyclic);
	figures(cfg, res);
	return 0;
}

/* "lateness_ns": the last run's p50/p99/max and the p50 spread over all runs. */
static void json_lateness(struct json *j, const struct bench_run *r, const struct spread *s)
{
	json_object_begin(j, "lateness_ns");
	json_i64(j, "p50", r->p50);
	json_i64(j, "p99", r->p99);
	json_i64(j, "max", r->max);
	json_double(j, "p50_mean", s->mean);
	json_i64(j, "p50_min", s->lo);
	json_i64(j, "p50_max", s->hi);
	json_object_end(j);
}

void bench_vmm_json(struct json *j, const struct bench_vmm_config *cfg, const struct bench_vmm_result *res)
{
	char advbuf[24];
	const struct figures *f = &res->f;
	json_u64(j, "loops", cfg->loops);
	json_u64(j, "interval_ns", cfg->interval_ns);
	json_u64(j, "repeat", res->repeat);
	json_string(j, "guest", cfg->scenario == PVT_SCN_TIMERLAT ? "idle" :
				 cfg->scenario == PVT_SCN_BUSY ? "busy" : "mixed");
	json_u64(j, "vcpus", cfg->vcpus);
	if (res->irq_mode)
		json_string(j, "upcall_delivery", res->irq_mode == PVT_IRQ_CHIP ? "irqchip" : "userspace");
	json_string(j, "scheduler", cfg->fifo ? "SCHED_FIFO" : "SCHED_OTHER");
	json_string(j, "advance", vmm_advance_name(&cfg->adv, advbuf, sizeof(advbuf)));
	json_bool(j, "cpu_dma_latency_held", res->dma_held);
	json_object_begin(j, "bare_exit_round_trip_ns");
	json_i64(j, "p50", res->bare_rt_p50);
	json_i64(j, "p99", res->bare_rt_p99);
	json_object_end(j);
	json_i64(j, "bare_exit_handling_p50_ns", res->null_handling_p50);
	json_array_begin(j, "runs");
	for (enum pvt_timer_algo a = PVT_ALGO_LEGACY; a < BENCH_ALGOS; a++) {
		const struct bench_run *r = &res->runs[a][res->repeat - 1];

		json_object_begin(j, NULL);
		json_string(j, "algo", pvt_timer_algo_name(a));
		json_lateness(j, r, &f->algo[a]);
		json_object_begin(j, "hypercall_handling_ns");
		json_i64(j, "p50", r->cost_timer);
		json_object_end(j);
		json_i64(j, "block_wake_to_resume_p50_ns", r->cost_block);
		json_i64(j, "delivery_lateness_p50_ns", r->delivery);
		json_u64(j, "early_wakeups", r->early);
		if (res->irq_mode) {
			vmm_irq_breakdown_json(j, &r->irq);
			json_u64(j, "upcalls_by_interrupt", r->irq_totals.upcalls);
			json_u64(j, "upcalls_on_unmask", r->irq_totals.upcalls_direct);
		}
		json_u64(j, "loops", r->loops);
		json_string(j, "advance", a == PVT_ALGO_PVTIME ? vmm_advance_name(&cfg->adv, advbuf, sizeof(advbuf)) : "off");
		if (r->adv.on) {
			vmm_advance_summary_json(j, &r->adv);
			json_double(j, "spin_cpu_ms_per_1000_timers_per_s", r->adv.spin_mean / 1000);
		} else {
			json_i64(j, "advance_ns", 0);
		}
		json_object_end(j);
	}
	json_array_end(j);
	json_object_begin(j, "host");
	json_lateness(j, &res->host[res->repeat - 1], &f->host);
	json_object_end(j);
	json_object_begin(j, "target");
	json_i64(j, "budget_ns", f->budget_ns);
	json_bool(j, "met", f->met);
	json_double(j, "pvtime_minus_host_p50_ns", f->algo[PVT_ALGO_PVTIME].mean - f->host.mean);
	if (f->floor_extra_ns >= 0) {
		json_double(j, "floor_extra_ns", f->floor_extra_ns);
		json_double(j, "floor_p50_ns", f->floor_p50_ns);
		json_bool(j, "floor_includes_host_wake", f->floor_has_host);
	}
	if (f->advance_on) {
		json_i64(j, "delivery_budget_ns", DELIVERY_BUDGET_NS);
		json_double(j, "delivery_p50_mean_ns", f->delivery_mean);
		json_bool(j, "delivery_met", f->delivery_met);
		json_double(j, "spin_mean_ns", f->spin_mean);
		json_double(j, "spin_budget_ns", f->advance_p50_mean + SPIN_SLACK_NS);
		json_bool(j, "spin_met", f->spin_met);
	}
	json_object_end(j);
	if (res->cyclic_ok) {
		json_object_begin(j, "cyclictest_us");
		json_double(j, "min", res->cyclic.min_us);
		json_double(j, "avg", res->cyclic.avg_us);
		json_double(j, "max", res->cyclic.max_us);
		json_object_end(j);
	}
}


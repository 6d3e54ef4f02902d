// SPDX-License-Identifier: MIT
/*
 * pvtime bench vmm: what a timer hypercall costs the VMM (exit to resume,
 * sleep excluded) next to a bare port-I/O exit measured in the same run,
 * and the guest's lateness for 100 us sleeps per algorithm next to the
 * host baseline (and cyclictest when installed), over repeated runs.
 *
 * The runs are bench_vmm_measure(): a config in, a result out. They stay
 * here while vmm_vs_host_measure() and vmm_cli_run() live in cli/ (they
 * print their own errors); the section moves to measure/ with them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmdline.h"
#include "commands.h"
#include "cyclictest.h"
#include "openmetrics.h"
#include "options.h"
#include "runctl.h"
#include "vmm-timerlat.h"

#define BENCH_MAX_REPEAT	20
/* runs[], last[]: one per algorithm, indexed by enum pvt_timer_algo (pvtime last). */
#define BENCH_ALGOS		(PVT_ALGO_PVTIME + 1)
/* One run's --duration ceiling: an hour; the loops it may take size the guest. */
#define BENCH_MAX_DURATION_S	3600
#define BENCH_DURATION_MAX_LOOPS	1000000ull

/* What the runs are: the parsed options. */
struct bench_vmm_config {
	uint64_t loops, interval_ns;
	unsigned repeat, vcpus;
	int fifo;
	enum pvt_guest_scenario scenario;	/* idle (timerlat), busy, mixed */
	enum vmm_irq_pref irq_pref;
	struct vmm_config adv;			/* --advance: advance_mode/advance_ns only */
	uint64_t duration_ns;			/* --duration: per run, instead of -n */
};

/* One algorithm's figures from one run. */
struct bench_run {
	int64_t p50, p99, max;		/* guest lateness, ns */
	int64_t cost_timer, cost_block;	/* handling p50, ns */
	int64_t delivery;		/* VMM expiry delivery lateness p50, ns */
	uint64_t early;
	struct vmm_irq_breakdown irq;	/* busy/mixed */
	struct vmm_irq_totals irq_totals;
	uint64_t loops;			/* guest loops measured (fewer when interrupted) */
	struct vmm_advance_summary adv;	/* pvtime's timer advance (adv.on) */
};

/* The mean, lowest and highest p50 of one algorithm (or the host) over the runs. */
struct spread {
	int64_t lo, hi;
	double mean;
};

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

/* The advance targets: delivery within 1 us, mean spin within the advance's p50 + 2 us. */
#define DELIVERY_BUDGET_NS	1000
#define SPIN_SLACK_NS		2000

/* What the outputs conclude from all runs; computed once, printed as text or JSON. */
struct figures {
	struct spread algo[BENCH_ALGOS], host;
	int64_t budget_ns;	/* pvtime p50 within host p50 + this */
	bool met;
	/* The platform floor: < 0 when there is none (mixed). */
	double floor_extra_ns, floor_p50_ns;
	bool floor_has_host;	/* the host's wake-up is part of it (no advance) */
	bool advance_on;
	/* pvtime's means over the runs of each run's p50 (delivery, advance) or mean (spin). */
	double delivery_mean, spin_mean, advance_p50_mean;
	bool delivery_met, spin_met;
};

/* What the runs measured. */
struct bench_vmm_result {
	unsigned repeat;		/* repetitions with data (the last may be partial) */
	bool stopped;			/* SIGINT/SIGTERM ended the runs */
	int irq_mode;			/* what the runs used */
	char irq_name[96];
	bool dma_held;
	struct vmm_vs_host last[BENCH_ALGOS];	/* the last run of each algo, for OpenMetrics */
	bool have_last[BENCH_ALGOS];
	struct bench_run runs[BENCH_ALGOS][BENCH_MAX_REPEAT];
	struct bench_run host[BENCH_MAX_REPEAT];
	int64_t bare_rt_p50, bare_rt_p99, null_handling_p50;	/* ns, -1: no sample */
	bool cyclic_ok;			/* cyclictest ran: its figures */
	struct cyclictest_result cyclic;
	struct figures f;		/* the conclusions over all runs */
};

static const char usage_text[] =
	"pvtime bench vmm [-n LOOPS | --duration S] [-i NS] [--repeat R] [--fifo PRIO|0]\n"
	"       [--vcpus N] [--guest idle|busy|mixed] [--irq auto|chip|user]\n"
	"       [--advance off|adaptive|NS]\n"
	"       [--json | --format text|json|openmetrics] [--metrics FILE]\n"
	"Defaults: 10000 loops of 100 us, 3 repeats, SCHED_FIFO 1, 1 vCPU (mixed: 2),\n"
	"guest idle (sleeps, the vCPU blocks). busy: the vCPU computes and only the\n"
	"timer interrupt tells it its timer fired; mixed: several timers per vCPU.\n"
	"--advance: pvtime's timer advance (default adaptive; legacy and kvm never).\n"
	"--duration: each run lasts S seconds. SIGINT/SIGTERM: the runs so far\n"
	"are reported (exit 130/143).";

static int parse(int argc, char **argv, struct bench_vmm_config *b, struct cli_output *out)
{
	bool vcpus_set = false, irq_set = false;
	struct opt o[] = {
		{ OPT_LOOPS(b->loops) },
		{ OPT_INTERVAL(b->interval_ns) },
		{ .name = "repeat", .kind = OPT_UINT, OPT_FIELD(b->repeat), .min = 1, .max = BENCH_MAX_REPEAT },
		{ OPT_FIFO(b->fifo) },
		{ .name = "vcpus", .kind = OPT_UINT, OPT_FIELD(b->vcpus), .min = 1, .max = PVT_GUEST_MAX_VCPUS,
		  .seen = &vcpus_set },
		{ .name = "guest", .kind = OPT_CHOICE, OPT_FIELD(b->scenario), .choices = vmm_cli_guest_choices },
		{ .name = "irq", .kind = OPT_CHOICE, OPT_FIELD(b->irq_pref), .choices = vmm_cli_irq_choices,
		  .seen = &irq_set },
		{ .name = "advance", .kind = OPT_CUSTOM, .field = &b->adv, .parse = vmm_cli_parse_advance },
		{ OPT_DURATION(b->duration_ns, BENCH_MAX_DURATION_S) },
		OPT_OUTPUT(*out),
		OPT_TABLE_END,
	};
	int ret;

	*b = (struct bench_vmm_config){ .loops = 10000, .interval_ns = 100000, .repeat = 3,
					.vcpus = 1, .fifo = 1, .scenario = PVT_SCN_TIMERLAT };
	b->adv.algo = PVT_ALGO_PVTIME;
	b->adv.advance_mode = VMM_ADV_ADAPTIVE;
	if ((ret = opts_parse("bench vmm", usage_text, o, argc, argv)))
		return ret;
	if (irq_set && b->scenario == PVT_SCN_TIMERLAT)
		return usage_error("bench vmm: --irq: only with --guest busy|mixed");
	if (b->scenario == PVT_SCN_MIXED && !vcpus_set)
		b->vcpus = 2;
	if (b->duration_ns) {
		/* An upper bound: each loop sleeps at least the interval. */
		uint64_t bound = b->duration_ns / b->interval_ns + 1;

		b->loops = bound < BENCH_DURATION_MAX_LOOPS ? bound : BENCH_DURATION_MAX_LOOPS;
	}
	return 0;
}

/* ---- the runs ---- */

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
	ret = vmm_cli_run("bench vmm", &vm, &vc);
	if (ret) {
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
	ret = vmm_vs_host_measure("bench vmm", &vc, &m, NULL, true, a == PVT_ALGO_PVTIME, cfg->duration_ns, false);
	if (ret) {
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

static void bench_vmm_result_free(struct bench_vmm_result *res)
{
	for (enum pvt_timer_algo a = PVT_ALGO_LEGACY; a < BENCH_ALGOS; a++)
		if (res->have_last[a])
			vmm_vs_host_free(&res->last[a]);
}

/*
 * The bare exit, then cfg->repeat rounds of the three algorithms, then
 * cyclictest (unless a signal stopped the runs). 0, or an exit code after
 * a message; res->repeat 0: nothing measured. bench_vmm_result_free().
 */
static int bench_vmm_measure(const struct bench_vmm_config *cfg, struct bench_vmm_result *res)
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

/* ---- output ---- */


static void print_text(const struct bench_vmm_config *cfg, const struct bench_vmm_result *res)
{
	const struct bench_run *last;
	const struct figures *f = &res->f;
	char buf[24];

	runctl_text(stdout, res->runs[PVT_ALGO_LEGACY][0].loops + res->runs[PVT_ALGO_KVM][0].loops +
			    res->runs[PVT_ALGO_PVTIME][0].loops);
	printf("# bench vmm: %llu x %llu ns sleeps per run, %u run(s), %u vCPU, %s, cpu_dma_latency %s\n",
	       (unsigned long long)cfg->loops, (unsigned long long)cfg->interval_ns, res->repeat, cfg->vcpus,
	       cfg->fifo ? "SCHED_FIFO" : "SCHED_OTHER (slack 1 ns)", res->dma_held ? "held at 0" : "NOT held");
	printf("# guest clock: its own kvmclock; figures are the last run's, p50 spread over all runs\n");
	printf("# guest: %s%s%s\n", cfg->scenario == PVT_SCN_TIMERLAT ? "idle (the task sleeps, the vCPU blocks)" :
	       cfg->scenario == PVT_SCN_BUSY ? "busy (the vCPU computes; only the timer interrupt tells it)" :
	       "mixed (3 timers per vCPU, computing and blocking)",
	       res->irq_mode ? "; upcall delivery: " : "", res->irq_mode ? res->irq_name : "");
	printf("# lateness = guest-observed sleep - interval; delivery = when the expiry reached the\n"
	       "# guest's event word, on the guest's clock, minus the deadline (the VMM's share)\n");
	printf("bare port-I/O exit round trip (guest-observed, incl. one clock read): p50 %lld ns, p99 %lld ns\n",
	       (long long)res->bare_rt_p50, (long long)res->bare_rt_p99);
	printf("VMM handling of that bare exit (exit to resume): p50 %lld ns\n",
	       (long long)res->null_handling_p50);
	printf("%-8s %10s %10s %10s %22s %14s %16s %14s %6s\n", "algo", "p50", "p99", "max",
	       "p50 mean [min..max]", "hcall p50 ns", "block wake->run", "delivery p50", "early");
	for (enum pvt_timer_algo a = PVT_ALGO_LEGACY; a < BENCH_ALGOS; a++) {
		const struct bench_run *r = &res->runs[a][res->repeat - 1];

		printf("%-8s %10lld %10lld %10lld %10.0f [%lld..%lld] %14lld %16lld %14lld %6llu\n",
		       pvt_timer_algo_name(a), (long long)r->p50, (long long)r->p99, (long long)r->max,
		       f->algo[a].mean, (long long)f->algo[a].lo, (long long)f->algo[a].hi,
		       (long long)r->cost_timer, (long long)r->cost_block, (long long)r->delivery,
		       (unsigned long long)r->early);
	}
	if (res->irq_mode) {
		printf("interrupt path p50 (ns)     wake      kick    inject     entry   handler  by irq  on unmask\n");
		for (enum pvt_timer_algo a = PVT_ALGO_LEGACY; a < BENCH_ALGOS; a++) {
			const struct bench_run *r = &res->runs[a][res->repeat - 1];

			printf("%-8s %18lld %9lld %9lld %9lld %9lld %7llu %10llu\n", pvt_timer_algo_name(a),
			       (long long)r->irq.wake_ns, (long long)r->irq.kick_ns,
			       (long long)r->irq.inject_ns, (long long)r->irq.entry_ns,
			       (long long)r->irq.handler_ns, (unsigned long long)r->irq_totals.upcalls,
			       (unsigned long long)r->irq_totals.upcalls_direct);
		}
		printf("# wake = deadline -> the VMM raised the upcall (guest clock); kick = -> vCPU out of\n"
		       "# guest mode; inject = -> KVM_INTERRUPT/KVM_SIGNAL_MSI done; entry = -> guest handler\n"
		       "# runs (emulated CPL 0 entry stub + resume); handler = -> the timer fired\n");
	}
	last = &res->runs[PVT_ALGO_PVTIME][res->repeat - 1];
	printf("# timer advance (pvtime only): %s", vmm_advance_name(&cfg->adv, buf, sizeof(buf)));
	if (last->adv.on)
		printf("; last run: advance p50 %lld ns p99 %lld ns, spin p50 %lld ns p99 %lld ns "
		       "mean %.0f ns (%llu of %llu expiries spun)",
		       (long long)last->adv.advance_p50, (long long)last->adv.advance_p99,
		       (long long)last->adv.spin_p50, (long long)last->adv.spin_p99, last->adv.spin_mean,
		       (unsigned long long)last->adv.spins, (unsigned long long)last->adv.expiries);
	printf("\n");
	last = &res->host[res->repeat - 1];
	printf("%-8s %10lld %10lld %10lld %10.0f [%lld..%lld]\n", "host", (long long)last->p50,
	       (long long)last->p99, (long long)last->max, f->host.mean, (long long)f->host.lo,
	       (long long)f->host.hi);
	if (res->cyclic_ok)
		printf("cyclictest (same interval/loops/policy): min %.0f us, avg %.0f us, max %.0f us\n",
		       res->cyclic.min_us, res->cyclic.avg_us, res->cyclic.max_us);
	else
		printf("cyclictest: not run (not installed or failed)\n");
	printf("target pvtime p50 <= host p50 + %lld ns: %s (pvtime %.0f, host %.0f, difference %.0f ns)\n",
	       (long long)f->budget_ns, f->met ? "met" : "NOT met", f->algo[PVT_ALGO_PVTIME].mean, f->host.mean,
	       f->algo[PVT_ALGO_PVTIME].mean - f->host.mean);
	if (f->floor_extra_ns >= 0)
		printf("platform floor: %s%s %.0f ns = %.0f ns (target %.0f ns)\n",
		       f->floor_has_host ? "host p50 + " : "(the advance hides the host wake-up) ",
		       cfg->scenario == PVT_SCN_TIMERLAT ? "resume into the guest (half the bare round trip)" :
		       "interrupt path after the raise (kick + inject + entry + handler)",
		       f->floor_extra_ns, f->floor_p50_ns, f->host.mean + (double)f->budget_ns);
	else
		printf("platform floor: see --guest busy (most of mixed's expiries are taken on unmask)\n");
	if (cfg->scenario == PVT_SCN_TIMERLAT)
		printf("VMM share: pvtime expiry delivery p50 %.0f ns vs host p50 %.0f ns: %s 5000 ns;\n"
		       "the rest of the guest's lateness is the resume into the guest (half the bare round trip)\n",
		       f->delivery_mean, f->host.mean,
		       f->delivery_mean <= f->host.mean + 5000 ? "within" : "NOT within");
	if (f->advance_on) {
		printf("target VMM delivery p50 <= %d ns after the deadline with the advance: %s (%.0f ns)\n",
		       DELIVERY_BUDGET_NS, f->delivery_met ? "met" : "NOT met", f->delivery_mean);
		printf("target mean spin per expiry <= advance p50 + %d ns: %s (spin mean %.0f ns, "
		       "advance p50 %.0f ns)\n", SPIN_SLACK_NS, f->spin_met ? "met" : "NOT met",
		       f->spin_mean, f->advance_p50_mean);
		printf("spin cost: %.2f ms of host CPU per second per 1000 timers/s (%.2f %% of a CPU)\n",
		       f->spin_mean / 1000, f->spin_mean / 1e4);
	}
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

static void print_json(const struct bench_vmm_config *cfg, const struct bench_vmm_result *res)
{
	char advbuf[24];
	const struct figures *f = &res->f;
	struct json j;

	json_begin(&j, stdout);
	cmdline_json_header(&j);
	runctl_json(&j);
	json_u64(&j, "loops", cfg->loops);
	json_u64(&j, "interval_ns", cfg->interval_ns);
	json_u64(&j, "repeat", res->repeat);
	json_string(&j, "guest", cfg->scenario == PVT_SCN_TIMERLAT ? "idle" :
				 cfg->scenario == PVT_SCN_BUSY ? "busy" : "mixed");
	json_u64(&j, "vcpus", cfg->vcpus);
	if (res->irq_mode)
		json_string(&j, "upcall_delivery", res->irq_mode == PVT_IRQ_CHIP ? "irqchip" : "userspace");
	json_string(&j, "scheduler", cfg->fifo ? "SCHED_FIFO" : "SCHED_OTHER");
	json_string(&j, "advance", vmm_advance_name(&cfg->adv, advbuf, sizeof(advbuf)));
	json_bool(&j, "cpu_dma_latency_held", res->dma_held);
	json_object_begin(&j, "bare_exit_round_trip_ns");
	json_i64(&j, "p50", res->bare_rt_p50);
	json_i64(&j, "p99", res->bare_rt_p99);
	json_object_end(&j);
	json_i64(&j, "bare_exit_handling_p50_ns", res->null_handling_p50);
	json_array_begin(&j, "runs");
	for (enum pvt_timer_algo a = PVT_ALGO_LEGACY; a < BENCH_ALGOS; a++) {
		const struct bench_run *r = &res->runs[a][res->repeat - 1];

		json_object_begin(&j, NULL);
		json_string(&j, "algo", pvt_timer_algo_name(a));
		json_lateness(&j, r, &f->algo[a]);
		json_object_begin(&j, "hypercall_handling_ns");
		json_i64(&j, "p50", r->cost_timer);
		json_object_end(&j);
		json_i64(&j, "block_wake_to_resume_p50_ns", r->cost_block);
		json_i64(&j, "delivery_lateness_p50_ns", r->delivery);
		json_u64(&j, "early_wakeups", r->early);
		if (res->irq_mode) {
			vmm_irq_breakdown_json(&j, &r->irq);
			json_u64(&j, "upcalls_by_interrupt", r->irq_totals.upcalls);
			json_u64(&j, "upcalls_on_unmask", r->irq_totals.upcalls_direct);
		}
		json_u64(&j, "loops", r->loops);
		json_string(&j, "advance", a == PVT_ALGO_PVTIME ? vmm_advance_name(&cfg->adv, advbuf, sizeof(advbuf)) : "off");
		if (r->adv.on) {
			vmm_advance_summary_json(&j, &r->adv);
			json_double(&j, "spin_cpu_ms_per_1000_timers_per_s", r->adv.spin_mean / 1000);
		} else {
			json_i64(&j, "advance_ns", 0);
		}
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_begin(&j, "host");
	json_lateness(&j, &res->host[res->repeat - 1], &f->host);
	json_object_end(&j);
	json_object_begin(&j, "target");
	json_i64(&j, "budget_ns", f->budget_ns);
	json_bool(&j, "met", f->met);
	json_double(&j, "pvtime_minus_host_p50_ns", f->algo[PVT_ALGO_PVTIME].mean - f->host.mean);
	if (f->floor_extra_ns >= 0) {
		json_double(&j, "floor_extra_ns", f->floor_extra_ns);
		json_double(&j, "floor_p50_ns", f->floor_p50_ns);
		json_bool(&j, "floor_includes_host_wake", f->floor_has_host);
	}
	if (f->advance_on) {
		json_i64(&j, "delivery_budget_ns", DELIVERY_BUDGET_NS);
		json_double(&j, "delivery_p50_mean_ns", f->delivery_mean);
		json_bool(&j, "delivery_met", f->delivery_met);
		json_double(&j, "spin_mean_ns", f->spin_mean);
		json_double(&j, "spin_budget_ns", f->advance_p50_mean + SPIN_SLACK_NS);
		json_bool(&j, "spin_met", f->spin_met);
	}
	json_object_end(&j);
	if (res->cyclic_ok) {
		json_object_begin(&j, "cyclictest_us");
		json_double(&j, "min", res->cyclic.min_us);
		json_double(&j, "avg", res->cyclic.avg_us);
		json_double(&j, "max", res->cyclic.max_us);
		json_object_end(&j);
	}
	json_end(&j);
}

/* OpenMetrics: each algo's last run (target vmm) and the host baseline, plus handling costs. */
static int write_metrics(struct bench_vmm_result *res, const char *path)
{
	struct om_timerlat s[4];
	unsigned n = 0;
	struct om om;
	int err;

	for (enum pvt_timer_algo a = PVT_ALGO_LEGACY; a < BENCH_ALGOS; a++)
		if (res->have_last[a])
			s[n++] = (struct om_timerlat){
				.target = "vmm", .algo = pvt_timer_algo_name(a), .vcpu = "all", .guest_clock = "kvm",
				.r = &res->last[a].guest, .early_wakeups = res->last[a].totals.early_wakeups,
			};
	if (res->have_last[PVT_ALGO_PVTIME] && res->last[PVT_ALGO_PVTIME].host.loops)
		s[n++] = (struct om_timerlat){
			.target = "host", .algo = "none", .vcpu = "all", .guest_clock = "none",
			.r = &res->last[PVT_ALGO_PVTIME].host, .early_wakeups = om_count_early(&res->last[PVT_ALGO_PVTIME].host),
		};
	err = om_open(&om);
	if (err)
		return err;
	om.interrupted = runctl_signal() != 0;
	om_timerlat(&om, s, n);
	om_family(&om, "pvtime_bench_vmm_hypercall_handling_seconds", "gauge", "seconds",
		  "median VMM handling of a timer hypercall (exit to resume), last run");
	for (enum pvt_timer_algo a = PVT_ALGO_LEGACY; a < BENCH_ALGOS; a++)
		if (res->have_last[a] && res->runs[a][res->repeat - 1].cost_timer >= 0) {
			fprintf(om.f, "pvtime_bench_vmm_hypercall_handling_seconds{target=\"vmm\",algo=\"%s\","
				"vcpu=\"all\",guest_clock=\"kvm\"} ", pvt_timer_algo_name(a));
			om_seconds(om.f, res->runs[a][res->repeat - 1].cost_timer);
			fputc('\n', om.f);
		}
	om_family(&om, "pvtime_bench_vmm_bare_exit_round_trip_seconds", "gauge", "seconds",
		  "median guest-observed round trip of a bare port-I/O exit");
	if (res->bare_rt_p50 >= 0) {
		fputs("pvtime_bench_vmm_bare_exit_round_trip_seconds{target=\"vmm\",algo=\"none\","
		      "vcpu=\"0\",guest_clock=\"kvm\"} ", om.f);
		om_seconds(om.f, res->bare_rt_p50);
		fputc('\n', om.f);
	}
	return om_finish(&om, path);
}

int bench_vmm(int argc, char **argv)
{
	struct bench_vmm_result *res = calloc(1, sizeof(*res));
	struct bench_vmm_config cfg;
	struct cli_output out;
	int ret;

	if (!res)
		return runtime_error("bench vmm: out of memory");
	memset(&out, 0, sizeof(out));
	ret = parse(argc, argv, &cfg, &out);
	if (ret) {
		free(res);
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	}
	runctl_install();
	ret = vmm_cli_require_kvm("bench vmm");
	if (!ret)
		ret = bench_vmm_measure(&cfg, res);
	if (!ret && res->repeat) {
		if (out.json)
			print_json(&cfg, res);
		else if (!out.openmetrics)
			print_text(&cfg, res);
		if (out.openmetrics && (ret = write_metrics(res, NULL)))
			ret = runtime_error("bench vmm: --format openmetrics: %s", strerror(-ret));
		if (!ret && out.metrics && (ret = write_metrics(res, out.metrics)))
			ret = runtime_error("bench vmm: --metrics %s: %s", out.metrics, strerror(-ret));
	}
	bench_vmm_result_free(res);
	free(res);
	return runctl_final(ret);
}

// SPDX-License-Identifier: MIT
/*
 * pvtime bench vmm: what a timer hypercall costs the VMM (exit to resume,
 * sleep excluded) next to a bare port-I/O exit measured in the same run,
 * and the guest's lateness for 100 us sleeps per algorithm next to the
 * host baseline (and cyclictest when installed), over repeated runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmdline.h"
#include "commands.h"
#include "openmetrics.h"
#include "options.h"
#include "runctl.h"
#include "vmm-timerlat.h"

#define BENCH_MAX_REPEAT	20

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

struct bench_vmm {
	uint64_t loops, interval_ns;
	unsigned repeat, vcpus;
	int fifo;
	enum pvt_guest_scenario scenario;	/* idle (timerlat), busy, mixed */
	enum vmm_irq_pref irq_pref;
	struct vmm_config adv;			/* --advance: advance_mode/advance_ns only */
	int irq_mode;				/* what the runs used */
	char irq_name[96];
	struct cli_output out;		/* --json, --format, --metrics */
	uint64_t duration_ns;		/* --duration: per run, instead of -n */
	unsigned reps_done;		/* repetitions with data (the last may be partial) */
	struct vmm_vs_host last[3];	/* the last run of each algo, for OpenMetrics */
	bool have_last[3];
	struct bench_run runs[3][BENCH_MAX_REPEAT];
	struct bench_run host[BENCH_MAX_REPEAT];
	bool dma_held;
	int64_t bare_rt_p50, bare_rt_p99, null_handling_p50;
	bool cyclic_ok;
	double cyclic_min_us, cyclic_avg_us, cyclic_max_us;
};

/* One run's --duration ceiling: an hour; the loops it may take size the guest. */
#define BENCH_MAX_DURATION_S	3600
#define BENCH_DURATION_MAX_LOOPS	1000000ull

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

static int parse(int argc, char **argv, struct bench_vmm *b)
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
		OPT_OUTPUT(b->out),
		OPT_TABLE_END,
	};
	int ret;

	*b = (struct bench_vmm){ .loops = 10000, .interval_ns = 100000, .repeat = 3,
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

/* Bare exits: the guest times an OUT to a port whose handler does nothing. */
static int measure_bare(struct bench_vmm *b)
{
	struct vmm_config cfg;
	struct stats rt, h;
	struct vmm vm;
	int ret;

	vmm_config_default(&cfg);
	cfg.nr_vcpus = 1;
	cfg.scenario = PVT_SCN_NULLCALL;
	cfg.loops = b->loops < 2000 ? b->loops : 2000;
	cfg.check_samples = false;
	cfg.fifo_priority = b->fifo;
	ret = vmm_cli_run("bench vmm", &vm, &cfg);
	if (ret) {
		vmm_destroy(&vm);
		return ret;
	}
	stats_init(&rt);
	for (uint64_t i = 0; i + 1 < vm.vcpus[0].res.nr_samples; i += 2)
		stats_add(&rt, (int64_t)(vm.vcpus[0].res.samples[i + 1].ns -
					 vm.vcpus[0].res.samples[i].ns));
	b->bare_rt_p50 = rt.count ? stats_percentile(&rt, 50, 100) : -1;
	b->bare_rt_p99 = rt.count ? stats_percentile(&rt, 99, 100) : -1;
	b->null_handling_p50 = -1;
	if (!vmm_cost(&vm, 2, &h) && h.count)
		b->null_handling_p50 = stats_percentile(&h, 50, 100);
	stats_free(&h);
	stats_free(&rt);
	vmm_destroy(&vm);
	return 0;
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

/* cyclictest's own figures for the same interval and loops, when installed. */
static void run_cyclictest(struct bench_vmm *b)
{
	char cmd[256], line[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "cyclictest -m -q -t1 -p%d -i%llu -l%llu 2>/dev/null", b->fifo,
		 (unsigned long long)(b->interval_ns / 1000 ? b->interval_ns / 1000 : 1),
		 (unsigned long long)b->loops);
	p = popen(cmd, "r");
	if (!p)
		return;
	while (fgets(line, sizeof(line), p)) {
		char *m = strstr(line, "Min:"), *a = strstr(line, "Avg:"), *x = strstr(line, "Max:");

		if (m && a && x) {
			b->cyclic_min_us = strtod(m + 4, NULL);
			b->cyclic_avg_us = strtod(a + 4, NULL);
			b->cyclic_max_us = strtod(x + 4, NULL);
			b->cyclic_ok = true;
		}
	}
	if (pclose(p) != 0)
		b->cyclic_ok = false;
}

static void spread(const struct bench_run *r, unsigned n, int64_t *lo, int64_t *hi, double *mean)
{
	*lo = *hi = r[0].p50;
	*mean = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!r[i].loops && n > 1)
			continue;	/* an interrupted repetition that never ran this algo */
		if (r[i].p50 < *lo)
			*lo = r[i].p50;
		if (r[i].p50 > *hi)
			*hi = r[i].p50;
		*mean += (double)r[i].p50 / n;
	}
}

/* The target: idle within 5 us of the host, an interrupted guest within 10 us. */
static int64_t target_budget_ns(const struct bench_vmm *b)
{
	return b->scenario == PVT_SCN_TIMERLAT ? 5000 : 10000;
}

/*
 * What this platform costs on top of the host's own wake-up whatever the
 * timer algorithm: idle, the resume into the guest (half the bare exit
 * round trip); busy, the interrupt path after the raise (kick, inject,
 * entry, handler p50s, mean over pvtime's runs). Mixed takes most of its
 * expiries on unmask, not by interrupt: no floor (-1), busy gives it.
 */
static double floor_extra_ns(const struct bench_vmm *b)
{
	double extra = 0;

	if (b->scenario == PVT_SCN_MIXED)
		return -1;
	if (b->scenario == PVT_SCN_TIMERLAT)
		return b->bare_rt_p50 > 0 ? (double)b->bare_rt_p50 / 2 : 0;
	for (unsigned i = 0; i < b->repeat; i++) {
		const struct vmm_irq_breakdown *x = &b->runs[2][i].irq;

		extra += (double)(x->kick_ns + x->inject_ns + x->entry_ns + x->handler_ns) / b->repeat;
	}
	return extra;
}

/* The advance targets: delivery within 1 us, mean spin within the advance's p50 + 2 us. */
#define DELIVERY_BUDGET_NS	1000
#define SPIN_SLACK_NS		2000

static const char *advance_name(const struct bench_vmm *b, char *buf, size_t len)
{
	return vmm_advance_name(&b->adv, buf, len);
}

static bool advance_on(const struct bench_vmm *b)
{
	return b->adv.advance_mode != VMM_ADV_OFF;
}

/* pvtime's figures over all runs (means of each run's p50 / mean). */
struct adv_targets {
	double delivery_mean, spin_mean, spin_p50_mean, spin_p99_mean, advance_p50_mean;
};

static void adv_targets(const struct bench_vmm *b, struct adv_targets *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < b->repeat; i++) {
		const struct bench_run *r = &b->runs[2][i];

		t->delivery_mean += (double)r->delivery / b->repeat;
		t->spin_mean += r->adv.spin_mean / b->repeat;
		t->spin_p50_mean += (double)r->adv.spin_p50 / b->repeat;
		t->spin_p99_mean += (double)r->adv.spin_p99 / b->repeat;
		t->advance_p50_mean += (double)r->adv.advance_p50 / b->repeat;
	}
}

/*
 * The host's own wake-up is part of the floor unless pvtime's advance hides
 * it (armed early by up to the cap, spun to the deadline): then only what
 * follows the deadline remains.
 */
static bool floor_has_host(const struct bench_vmm *b)
{
	return !advance_on(b);
}

static double floor_p50(const struct bench_vmm *b, double host_p50)
{
	return (floor_has_host(b) ? host_p50 : 0) + floor_extra_ns(b);
}

static void print_text(const struct bench_vmm *b)
{
	static const char *const names[] = { "legacy", "kvm", "pvtime" };
	int64_t lo, hi, hlo, hhi;
	double mean, hmean;

	runctl_text(stdout, b->runs[0][0].loops + b->runs[1][0].loops + b->runs[2][0].loops);
	printf("# bench vmm: %llu x %llu ns sleeps per run, %u run(s), %u vCPU, %s, cpu_dma_latency %s\n",
	       (unsigned long long)b->loops, (unsigned long long)b->interval_ns, b->repeat, b->vcpus,
	       b->fifo ? "SCHED_FIFO" : "SCHED_OTHER (slack 1 ns)", b->dma_held ? "held at 0" : "NOT held");
	printf("# guest clock: its own kvmclock; figures are the last run's, p50 spread over all runs\n");
	printf("# guest: %s%s%s\n", b->scenario == PVT_SCN_TIMERLAT ? "idle (the task sleeps, the vCPU blocks)" :
	       b->scenario == PVT_SCN_BUSY ? "busy (the vCPU computes; only the timer interrupt tells it)" :
	       "mixed (3 timers per vCPU, computing and blocking)",
	       b->irq_mode ? "; upcall delivery: " : "", b->irq_mode ? b->irq_name : "");
	printf("# lateness = guest-observed sleep - interval; delivery = when the expiry reached the\n"
	       "# guest's event word, on the guest's clock, minus the deadline (the VMM's share)\n");
	printf("bare port-I/O exit round trip (guest-observed, incl. one clock read): p50 %lld ns, p99 %lld ns\n",
	       (long long)b->bare_rt_p50, (long long)b->bare_rt_p99);
	printf("VMM handling of that bare exit (exit to resume): p50 %lld ns\n",
	       (long long)b->null_handling_p50);
	printf("%-8s %10s %10s %10s %22s %14s %16s %14s %6s\n", "algo", "p50", "p99", "max",
	       "p50 mean [min..max]", "hcall p50 ns", "block wake->run", "delivery p50", "early");
	for (int a = 0; a < 3; a++) {
		const struct bench_run *r = &b->runs[a][b->repeat - 1];

		spread(b->runs[a], b->repeat, &lo, &hi, &mean);
		printf("%-8s %10lld %10lld %10lld %10.0f [%lld..%lld] %14lld %16lld %14lld %6llu\n",
		       names[a], (long long)r->p50, (long long)r->p99, (long long)r->max, mean,
		       (long long)lo, (long long)hi, (long long)r->cost_timer,
		       (long long)r->cost_block, (long long)r->delivery,
		       (unsigned long long)r->early);
	}
	if (b->irq_mode) {
		printf("interrupt path p50 (ns)     wake      kick    inject     entry   handler  by irq  on unmask\n");
		for (int a = 0; a < 3; a++) {
			const struct bench_run *r = &b->runs[a][b->repeat - 1];

			printf("%-8s %18lld %9lld %9lld %9lld %9lld %7llu %10llu\n", names[a],
			       (long long)r->irq.wake_ns, (long long)r->irq.kick_ns,
			       (long long)r->irq.inject_ns, (long long)r->irq.entry_ns,
			       (long long)r->irq.handler_ns, (unsigned long long)r->irq_totals.upcalls,
			       (unsigned long long)r->irq_totals.upcalls_direct);
		}
		printf("# wake = deadline -> the VMM raised the upcall (guest clock); kick = -> vCPU out of\n"
		       "# guest mode; inject = -> KVM_INTERRUPT/KVM_SIGNAL_MSI done; entry = -> guest handler\n"
		       "# runs (emulated CPL 0 entry stub + resume); handler = -> the timer fired\n");
	}
	{
		char buf[24];
		const struct bench_run *r = &b->runs[2][b->repeat - 1];

		printf("# timer advance (pvtime only): %s", advance_name(b, buf, sizeof(buf)));
		if (r->adv.on)
			printf("; last run: advance p50 %lld ns p99 %lld ns, spin p50 %lld ns p99 %lld ns "
			       "mean %.0f ns (%llu of %llu expiries spun)",
			       (long long)r->adv.advance_p50, (long long)r->adv.advance_p99,
			       (long long)r->adv.spin_p50, (long long)r->adv.spin_p99, r->adv.spin_mean,
			       (unsigned long long)r->adv.spins, (unsigned long long)r->adv.expiries);
		printf("\n");
	}
	spread(b->host, b->repeat, &hlo, &hhi, &hmean);
	printf("%-8s %10lld %10lld %10lld %10.0f [%lld..%lld]\n", "host",
	       (long long)b->host[b->repeat - 1].p50, (long long)b->host[b->repeat - 1].p99,
	       (long long)b->host[b->repeat - 1].max, hmean, (long long)hlo, (long long)hhi);
	if (b->cyclic_ok)
		printf("cyclictest (same interval/loops/policy): min %.0f us, avg %.0f us, max %.0f us\n",
		       b->cyclic_min_us, b->cyclic_avg_us, b->cyclic_max_us);
	else
		printf("cyclictest: not run (not installed or failed)\n");
	spread(b->runs[2], b->repeat, &lo, &hi, &mean);
	printf("target pvtime p50 <= host p50 + %lld ns: %s (pvtime %.0f, host %.0f, difference %.0f ns)\n",
	       (long long)target_budget_ns(b), mean <= hmean + (double)target_budget_ns(b) ? "met" : "NOT met",
	       mean, hmean, mean - hmean);
	if (floor_extra_ns(b) >= 0)
		printf("platform floor: %s%s %.0f ns = %.0f ns (target %.0f ns)\n",
		       floor_has_host(b) ? "host p50 + " : "(the advance hides the host wake-up) ",
		       b->scenario == PVT_SCN_TIMERLAT ? "resume into the guest (half the bare round trip)" :
		       "interrupt path after the raise (kick + inject + entry + handler)",
		       floor_extra_ns(b), floor_p50(b, hmean), hmean + (double)target_budget_ns(b));
	else
		printf("platform floor: see --guest busy (most of mixed's expiries are taken on unmask)\n");
	if (b->scenario == PVT_SCN_TIMERLAT) {
		double dmean = 0;

		for (unsigned i = 0; i < b->repeat; i++)
			dmean += (double)b->runs[2][i].delivery / b->repeat;
		printf("VMM share: pvtime expiry delivery p50 %.0f ns vs host p50 %.0f ns: %s 5000 ns;\n"
		       "the rest of the guest's lateness is the resume into the guest (half the bare round trip)\n",
		       dmean, hmean, dmean <= hmean + 5000 ? "within" : "NOT within");
	}
	if (advance_on(b)) {
		struct adv_targets t;

		adv_targets(b, &t);
		printf("target VMM delivery p50 <= %d ns after the deadline with the advance: %s (%.0f ns)\n",
		       DELIVERY_BUDGET_NS, t.delivery_mean <= DELIVERY_BUDGET_NS ? "met" : "NOT met",
		       t.delivery_mean);
		printf("target mean spin per expiry <= advance p50 + %d ns: %s (spin mean %.0f ns, "
		       "advance p50 %.0f ns)\n", SPIN_SLACK_NS,
		       t.spin_mean <= t.advance_p50_mean + SPIN_SLACK_NS ? "met" : "NOT met",
		       t.spin_mean, t.advance_p50_mean);
		printf("spin cost: %.2f ms of host CPU per second per 1000 timers/s (%.2f %% of a CPU)\n",
		       t.spin_mean / 1000, t.spin_mean / 1e4);
	}
}

static void print_json(const struct bench_vmm *b)
{
	static const char *const names[] = { "legacy", "kvm", "pvtime" };
	char advbuf[24];
	struct json j;
	int64_t lo, hi;
	double mean;

	json_begin(&j, stdout);
	cmdline_json_header(&j);
	runctl_json(&j);
	json_u64(&j, "loops", b->loops);
	json_u64(&j, "interval_ns", b->interval_ns);
	json_u64(&j, "repeat", b->repeat);
	json_string(&j, "guest", b->scenario == PVT_SCN_TIMERLAT ? "idle" :
				 b->scenario == PVT_SCN_BUSY ? "busy" : "mixed");
	json_u64(&j, "vcpus", b->vcpus);
	if (b->irq_mode)
		json_string(&j, "upcall_delivery", b->irq_mode == PVT_IRQ_CHIP ? "irqchip" : "userspace");
	json_string(&j, "scheduler", b->fifo ? "SCHED_FIFO" : "SCHED_OTHER");
	json_string(&j, "advance", advance_name(b, advbuf, sizeof(advbuf)));
	json_bool(&j, "cpu_dma_latency_held", b->dma_held);
	json_object_begin(&j, "bare_exit_round_trip_ns");
	json_i64(&j, "p50", b->bare_rt_p50);
	json_i64(&j, "p99", b->bare_rt_p99);
	json_object_end(&j);
	json_i64(&j, "bare_exit_handling_p50_ns", b->null_handling_p50);
	json_array_begin(&j, "runs");
	for (int a = 0; a < 3; a++) {
		const struct bench_run *r = &b->runs[a][b->repeat - 1];

		spread(b->runs[a], b->repeat, &lo, &hi, &mean);
		json_object_begin(&j, NULL);
		json_string(&j, "algo", names[a]);
		json_object_begin(&j, "lateness_ns");
		json_i64(&j, "p50", r->p50);
		json_i64(&j, "p99", r->p99);
		json_i64(&j, "max", r->max);
		json_double(&j, "p50_mean", mean);
		json_i64(&j, "p50_min", lo);
		json_i64(&j, "p50_max", hi);
		json_object_end(&j);
		json_object_begin(&j, "hypercall_handling_ns");
		json_i64(&j, "p50", r->cost_timer);
		json_object_end(&j);
		json_i64(&j, "block_wake_to_resume_p50_ns", r->cost_block);
		json_i64(&j, "delivery_lateness_p50_ns", r->delivery);
		json_u64(&j, "early_wakeups", r->early);
		if (b->irq_mode) {
			vmm_cli_irq_json_breakdown(&j, &r->irq);
			json_u64(&j, "upcalls_by_interrupt", r->irq_totals.upcalls);
			json_u64(&j, "upcalls_on_unmask", r->irq_totals.upcalls_direct);
		}
		json_u64(&j, "loops", r->loops);
		json_string(&j, "advance", a == 2 ? advance_name(b, advbuf, sizeof(advbuf)) : "off");
		if (r->adv.on) {
			vmm_cli_advance_summary_json(&j, &r->adv);
			json_double(&j, "spin_cpu_ms_per_1000_timers_per_s", r->adv.spin_mean / 1000);
		} else {
			json_i64(&j, "advance_ns", 0);
		}
		json_object_end(&j);
	}
	json_array_end(&j);
	spread(b->host, b->repeat, &lo, &hi, &mean);
	json_object_begin(&j, "host");
	json_object_begin(&j, "lateness_ns");
	json_i64(&j, "p50", b->host[b->repeat - 1].p50);
	json_i64(&j, "p99", b->host[b->repeat - 1].p99);
	json_i64(&j, "max", b->host[b->repeat - 1].max);
	json_double(&j, "p50_mean", mean);
	json_i64(&j, "p50_min", lo);
	json_i64(&j, "p50_max", hi);
	json_object_end(&j);
	json_object_end(&j);
	{
		double pmean;

		spread(b->runs[2], b->repeat, &lo, &hi, &pmean);
		json_object_begin(&j, "target");
		json_i64(&j, "budget_ns", target_budget_ns(b));
		json_bool(&j, "met", pmean <= mean + (double)target_budget_ns(b));
		json_double(&j, "pvtime_minus_host_p50_ns", pmean - mean);
		if (floor_extra_ns(b) >= 0) {
			json_double(&j, "floor_extra_ns", floor_extra_ns(b));
			json_double(&j, "floor_p50_ns", floor_p50(b, mean));
			json_bool(&j, "floor_includes_host_wake", floor_has_host(b));
		}
		if (advance_on(b)) {
			struct adv_targets t;

			adv_targets(b, &t);
			json_i64(&j, "delivery_budget_ns", DELIVERY_BUDGET_NS);
			json_double(&j, "delivery_p50_mean_ns", t.delivery_mean);
			json_bool(&j, "delivery_met", t.delivery_mean <= DELIVERY_BUDGET_NS);
			json_double(&j, "spin_mean_ns", t.spin_mean);
			json_double(&j, "spin_budget_ns", t.advance_p50_mean + SPIN_SLACK_NS);
			json_bool(&j, "spin_met", t.spin_mean <= t.advance_p50_mean + SPIN_SLACK_NS);
		}
		json_object_end(&j);
	}
	if (b->cyclic_ok) {
		json_object_begin(&j, "cyclictest_us");
		json_double(&j, "min", b->cyclic_min_us);
		json_double(&j, "avg", b->cyclic_avg_us);
		json_double(&j, "max", b->cyclic_max_us);
		json_object_end(&j);
	}
	json_end(&j);
}

/* OpenMetrics: each algo's last run (target vmm) and the host baseline, plus handling costs. */
static int write_metrics(struct bench_vmm *b, bool to_stdout, const char *path)
{
	static const char *const names[] = { "legacy", "kvm", "pvtime" };
	struct om_timerlat s[4];
	unsigned n = 0;
	struct om om;
	int err;

	for (int a = 0; a < 3; a++)
		if (b->have_last[a])
			s[n++] = (struct om_timerlat){
				.target = "vmm", .algo = names[a], .vcpu = "all", .guest_clock = "kvm",
				.r = &b->last[a].guest, .early_wakeups = b->last[a].totals.early_wakeups,
			};
	if (b->have_last[2] && b->last[2].host.loops)
		s[n++] = (struct om_timerlat){
			.target = "host", .algo = "none", .vcpu = "all", .guest_clock = "none",
			.r = &b->last[2].host, .early_wakeups = om_count_early(&b->last[2].host),
		};
	err = om_open(&om);
	if (err)
		return err;
	om.interrupted = runctl_signal() != 0;
	om_timerlat(&om, s, n);
	om_family(&om, "pvtime_bench_vmm_hypercall_handling_seconds", "gauge", "seconds",
		  "median VMM handling of a timer hypercall (exit to resume), last run");
	for (int a = 0; a < 3; a++)
		if (b->have_last[a] && b->runs[a][b->reps_done - 1].cost_timer >= 0) {
			fprintf(om.f, "pvtime_bench_vmm_hypercall_handling_seconds{target=\"vmm\",algo=\"%s\","
				"vcpu=\"all\",guest_clock=\"kvm\"} ", names[a]);
			om_seconds(om.f, b->runs[a][b->reps_done - 1].cost_timer);
			fputc('\n', om.f);
		}
	om_family(&om, "pvtime_bench_vmm_bare_exit_round_trip_seconds", "gauge", "seconds",
		  "median guest-observed round trip of a bare port-I/O exit");
	if (b->bare_rt_p50 >= 0) {
		fputs("pvtime_bench_vmm_bare_exit_round_trip_seconds{target=\"vmm\",algo=\"none\","
		      "vcpu=\"0\",guest_clock=\"kvm\"} ", om.f);
		om_seconds(om.f, b->bare_rt_p50);
		fputc('\n', om.f);
	}
	(void)to_stdout;
	return om_finish(&om, path);
}

int bench_vmm(int argc, char **argv)
{
	struct bench_vmm *b = calloc(1, sizeof(*b));
	bool stop = false;
	int ret;

	if (!b)
		return runtime_error("bench vmm: out of memory");
	ret = parse(argc, argv, b);
	if (ret) {
		free(b);
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	}
	runctl_install();
	ret = vmm_cli_require_kvm("bench vmm");
	if (!ret)
		ret = measure_bare(b);
	for (unsigned rep = 0; !ret && !stop && rep < b->repeat; rep++) {
		for (int a = 0; !ret && !stop && a < 3; a++) {
			struct vmm_config cfg;
			struct vmm_vs_host m;
			struct bench_run *r = &b->runs[a][rep];

			vmm_config_default(&cfg);
			cfg.nr_vcpus = b->vcpus;
			cfg.scenario = b->scenario;
			cfg.irq_pref = b->irq_pref;
			cfg.algo = (enum pvt_timer_algo)a;
			cfg.advance_mode = b->adv.advance_mode;
			cfg.advance_ns = b->adv.advance_ns;
			cfg.loops = b->loops;
			cfg.interval_ns = b->interval_ns;
			cfg.check_samples = false;	/* the oracles run in the tests, not here */
			cfg.fifo_priority = b->fifo;
			cfg.watchdog_ms = 600000 + b->duration_ns / 1000000;
			ret = vmm_vs_host_measure("bench vmm", &cfg, &m, NULL, true, a == 2,
						  b->duration_ns, false);
			if (!ret) {
				/* Reports built from every sample: keep_samples is on here. */
				fill(r, &m.guest.lateness);
				r->cost_timer = m.cost_timer_p50;
				r->cost_block = m.cost_block_p50;
				r->delivery = m.delivery_p50;
				r->adv = m.adv;
				r->early = m.totals.early_wakeups;
				r->irq = m.irq;
				r->irq_totals = m.irq_totals;
				b->irq_mode = m.irq_mode;
				snprintf(b->irq_name, sizeof(b->irq_name), "%s", m.irq_name);
				b->dma_held = m.env.dma_latency_held;
				if (a == 2)
					fill(&b->host[rep], &m.host.lateness);
				b->reps_done = rep + 1;
				if (b->have_last[a])
					vmm_vs_host_free(&b->last[a]);
				b->last[a] = m;	/* owned now */
				b->have_last[a] = true;
			} else {
				vmm_vs_host_free(&m);
			}
			stop = runctl_signal() != 0;
		}
	}
	if (!ret && b->reps_done) {
		b->repeat = b->reps_done;	/* what was measured */
		if (!stop)
			run_cyclictest(b);
		if (b->out.json)
			print_json(b);
		else if (!b->out.openmetrics)
			print_text(b);
		if (b->out.openmetrics && (ret = write_metrics(b, true, NULL)))
			ret = runtime_error("bench vmm: --format openmetrics: %s", strerror(-ret));
		if (!ret && b->out.metrics && (ret = write_metrics(b, false, b->out.metrics)))
			ret = runtime_error("bench vmm: --metrics %s: %s", b->out.metrics, strerror(-ret));
	}
	for (int a = 0; a < 3; a++)
		if (b->have_last[a])
			vmm_vs_host_free(&b->last[a]);
	free(b);
	return runctl_final(ret);
}

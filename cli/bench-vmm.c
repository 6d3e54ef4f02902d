// SPDX-License-Identifier: MIT
/*
 * pvtime bench vmm: what a timer hypercall costs the VMM (exit to resume,
 * sleep excluded) next to a bare port-I/O exit measured in the same run,
 * and the guest's lateness for 100 us sleeps per algorithm next to the
 * host baseline (and cyclictest when installed), over repeated runs.
 * The runs are measure/bench-vmm.c's: a config in, a result out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmdline.h"
#include "commands.h"
#include "bench-vmm.h"
#include "openmetrics.h"
#include "options.h"
#include "runctl.h"
#include "vmm-timerlat.h"

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

static void print_json(const struct bench_vmm_config *cfg, const struct bench_vmm_result *res)
{
	struct json j;

	json_begin(&j, stdout);
	cmdline_json_header(&j);
	runctl_json(&j);
	bench_vmm_json(&j, cfg, res);
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
	if (!ret && bench_vmm_measure(&cfg, res))
		ret = runtime_error("%s", res->error);
	if (res->watchdog_error[0])
		runtime_error("%s", res->watchdog_error);
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

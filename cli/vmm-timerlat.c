// SPDX-License-Identifier: MIT
/* pvtime timerlat --vmm: the seed's loop in a real KVM guest, next to a host baseline. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmdline.h"
#include "openmetrics.h"
#include "runctl.h"
#include "vmm-timerlat.h"

int vmm_vs_host_measure(const char *prog, const struct vmm_config *cfg,
			struct vmm_vs_host *m, FILE *out, bool quiet, bool host_too,
			uint64_t duration_ns, bool progress)
{
	int ret = vmm_vs_host_run(prog, cfg, m, out, quiet, host_too, duration_ns, progress);

	if (m->watchdog)
		m->watchdog_exit = runtime_error("%s", m->watchdog_error);
	return ret ? runtime_error("%s", m->error) : 0;
}

int vmm_vs_host_metrics(struct vmm_vs_host *m, const struct vmm_config *cfg,
			const char *prog, bool to_stdout, const char *path)
{
	const char *clock = cfg->clock_src == PVT_CLK_XEN ? "xen" : "kvm";
	unsigned n = 0, cap = m->nr_vcpus + 2;
	struct om_timerlat *s = calloc(cap, sizeof(*s));
	char (*ids)[12] = calloc(cap, sizeof(*ids));
	struct om om;
	int err = 0;

	if (!s || !ids) {
		free(s);
		free(ids);
		return runtime_error("%s: out of memory", prog);
	}
	s[n++] = (struct om_timerlat){
		.target = "vmm", .algo = m->guest.algo, .vcpu = "all", .guest_clock = clock,
		.r = &m->guest, .early_wakeups = m->totals.early_wakeups,
		.lost_timers = m->totals.lost_timers,
	};
	for (unsigned c = 0; m->nr_vcpus > 1 && c < m->nr_vcpus; c++) {
		snprintf(ids[c], sizeof(ids[c]), "%u", c);
		s[n++] = (struct om_timerlat){
			.target = "vmm", .algo = m->guest.algo, .vcpu = ids[c],
			.guest_clock = clock, .r = &m->vcpu[c], .early_wakeups = m->vcpu_early[c],
			.lost_timers = m->vcpu_lost[c],
		};
	}
	if (m->host.loops)
		s[n++] = (struct om_timerlat){
			.target = "host", .algo = "none", .vcpu = "all", .guest_clock = "none",
			.r = &m->host, .early_wakeups = om_count_early(&m->host),
		};
	for (int pass = 0; pass < 2 && !err; pass++) {
		const char *where = pass ? path : NULL;

		if (pass ? !path : !to_stdout)
			continue;
		err = om_open(&om);
		if (!err) {
			om.interrupted = runctl_signal() != 0;
			om_timerlat(&om, s, n);
			err = om_finish(&om, where);
		}
		if (err)
			err = runtime_error("%s: %s%s: %s", prog, pass ? "--metrics " : "--format openmetrics",
					    pass ? path : "", strerror(-err));
	}
	free(s);
	free(ids);
	return err;
}

void vmm_vs_host_env(FILE *out, const struct vmm_vs_host *m, int fifo_priority)
{
	if (m->env.dma_latency_held)
		fprintf(out, "# cpu_dma_latency: held at 0 during guest and host runs\n");
	else
		fprintf(out, "# cpu_dma_latency: not held (%s)\n", strerror(m->env.dma_latency_errno));
	if (fifo_priority)
		fprintf(out, "# scheduler: SCHED_FIFO %d (vCPU threads and host baseline)\n", fifo_priority);
	else
		fprintf(out, "# scheduler: SCHED_OTHER, timer slack 1 ns (vCPU threads and host baseline)\n");
}

void vmm_vs_host_table(FILE *out, struct vmm_vs_host *m)
{
	struct stats *g = &m->guest.lateness, *h = &m->host.lateness;

	if (!g->count || !h->count)
		return;
	fprintf(out, "# lateness (ns)      guest       host  guest-host\n");
	fprintf(out, "  p50         %11lld %10lld %11lld\n",
		(long long)stats_percentile(g, 50, 100), (long long)stats_percentile(h, 50, 100),
		(long long)(stats_percentile(g, 50, 100) - stats_percentile(h, 50, 100)));
	fprintf(out, "  p99         %11lld %10lld %11lld\n",
		(long long)stats_percentile(g, 99, 100), (long long)stats_percentile(h, 99, 100),
		(long long)(stats_percentile(g, 99, 100) - stats_percentile(h, 99, 100)));
	fprintf(out, "  max         %11lld %10lld %11lld\n",
		(long long)stats_max(g), (long long)stats_max(h),
		(long long)(stats_max(g) - stats_max(h)));
	fprintf(out, "  mean        %11.1f %10.1f %11.1f\n", stats_mean(g), stats_mean(h),
		stats_mean(g) - stats_mean(h));
}

void vmm_vs_host_irq(FILE *out, const struct vmm_vs_host *m)
{
	const struct vmm_irq_breakdown *b = &m->irq;

	fprintf(out, "# upcall delivery: %s; upcalls by interrupt %llu, on unmask %llu\n",
		m->irq_name, (unsigned long long)m->irq_totals.upcalls,
		(unsigned long long)m->irq_totals.upcalls_direct);
	fprintf(out, "# interrupt path p50 (n=%zu): wake %lld, kick %lld, inject %lld, entry %lld, "
		"handler %lld ns\n", b->n, (long long)b->wake_ns, (long long)b->kick_ns,
		(long long)b->inject_ns, (long long)b->entry_ns, (long long)b->handler_ns);
}

int timerlat_vmm(int argc, char **argv)
{
	struct vmm_vs_host m;
	struct vmm_cli cli;
	struct json j;
	int ret = vmm_cli_parse("timerlat --vmm", argc, argv, &cli);

	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	if (cli.cfg.scenario != PVT_SCN_TIMERLAT && cli.cfg.scenario != PVT_SCN_BUSY &&
	    cli.cfg.scenario != PVT_SCN_MIXED)
		return usage_error("timerlat --vmm: only --guest idle|busy|mixed; "
				   "--scenario/--bad do not apply (use pvtime vmm)");
	ret = vmm_cli_require_kvm("timerlat --vmm");
	if (ret)
		return ret;
	runctl_install();
	ret = vmm_vs_host_measure("timerlat --vmm", &cli.cfg, &m, stdout,
				  cli.quiet || cli.out.json || cli.out.openmetrics, true, cli.duration_ns,
				  !cli.quiet);
	if (ret) {
		vmm_vs_host_free(&m);
		return runctl_final(ret);
	}
	if (cli.out.json) {
		json_begin(&j, stdout);
		cmdline_json_header(&j);
		json_string(&j, "target", "vmm");
		runctl_json(&j);
		timerlat_report_json(&m.guest, &j);
		json_u64(&j, "early_wakeups", m.totals.early_wakeups);
		json_u64(&j, "lost_timers", m.totals.lost_timers);
		json_bool(&j, "watchdog", m.watchdog_exit != 0);
		json_u64(&j, "oracle_mismatches", m.totals.page_mismatches + m.totals.sample_mismatches);
		json_string(&j, "guest_clock", cli.cfg.clock_src == PVT_CLK_XEN ? "xen" : "kvm");
		json_string(&j, "guest_clock_description", vmm_clock_name(&cli.cfg));
		json_u64(&j, "vcpus", cli.cfg.nr_vcpus);
		json_string(&j, "guest", vmm_guest_name(&cli.cfg));
		if (m.irq_mode) {
			json_string(&j, "upcall_delivery", m.irq_mode == PVT_IRQ_CHIP ? "irqchip" : "userspace");
			vmm_irq_breakdown_json(&j, &m.irq);
		}
		json_i64(&j, "delivery_lateness_p50_ns", m.delivery_p50);
		json_string(&j, "advance", m.adv_name);
		if (m.adv.on)
			vmm_advance_summary_json(&j, &m.adv);
		vmm_vs_host_json(&j, &m);
		json_end(&j);
	} else if (!cli.out.openmetrics) {
		runctl_text(stdout, m.guest.loops);
		printf("# timerlat in a real KVM guest (%u vCPUs, algo %s); guest clock: %s\n",
		       cli.cfg.nr_vcpus, pvt_timer_algo_name(cli.cfg.algo),
		       vmm_clock_name(&cli.cfg));
		vmm_vs_host_env(stdout, &m, cli.cfg.fifo_priority);
		printf("# guest: %s\n", vmm_guest_name(&cli.cfg));
		if (m.irq_mode)
			vmm_vs_host_irq(stdout, &m);
		printf("# timer advance: %s", m.adv_name);
		if (m.adv.on)
			printf("; advance p50 %lld ns, spin p50 %lld ns p99 %lld ns mean %.0f ns "
			       "(%llu of %llu expiries spun)",
			       (long long)m.adv.advance_p50, (long long)m.adv.spin_p50,
			       (long long)m.adv.spin_p99, m.adv.spin_mean,
			       (unsigned long long)m.adv.spins, (unsigned long long)m.adv.expiries);
		printf("; VMM delivery p50 %lld ns after the deadline\n", (long long)m.delivery_p50);
		printf("# early wake-ups: %llu; oracle mismatches: %llu of %llu samples\n",
		       (unsigned long long)m.totals.early_wakeups,
		       (unsigned long long)(m.totals.page_mismatches + m.totals.sample_mismatches),
		       (unsigned long long)m.totals.sample_checks);
		timerlat_report_summary(&m.guest, stdout);
		printf("# host baseline (clock_nanosleep, same interval and policy):\n");
		timerlat_report_summary(&m.host, stdout);
		vmm_vs_host_table(stdout, &m);
	}
	if (cli.plot) {
		int err = timerlat_report_plot(&m.guest, cli.plot,
					       "pvtime timerlat --vmm: guest lateness");

		if (err)
			ret = runtime_error("timerlat --vmm: --plot %s: %s", cli.plot, strerror(-err));
	}
	if (!ret && (cli.out.openmetrics || cli.out.metrics))
		ret = vmm_vs_host_metrics(&m, &cli.cfg, "timerlat --vmm", cli.out.openmetrics, cli.out.metrics);
	if (m.watchdog_exit)
		ret = m.watchdog_exit;	/* its message is on stderr already */
	if (m.totals.early_wakeups || m.totals.page_mismatches || m.totals.sample_mismatches)
		ret = runtime_error("timerlat --vmm: %llu early wake-ups, %llu oracle mismatches",
				    (unsigned long long)m.totals.early_wakeups,
				    (unsigned long long)(m.totals.page_mismatches +
							 m.totals.sample_mismatches));
	vmm_vs_host_free(&m);
	return runctl_final(ret);
}

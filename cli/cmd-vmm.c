// SPDX-License-Identifier: MIT
/* pvtime vmm: run the tiny KVM VMM's guest with the given options and print the results. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cmdline.h"
#include "commands.h"
#include "runctl.h"
#include "vmm-cli.h"

int cmd_vmm(int argc, char **argv)
{
	struct timerlat_report rep;
	struct vmm_cli cli;
	struct vmm vm;
	struct vmm_totals t;
	struct json j;
	bool stopped;
	int ret = vmm_cli_parse("vmm", argc, argv, &cli);

	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	if (cli.out.openmetrics || cli.out.metrics)
		return usage_error("vmm: OpenMetrics output: use pvtime timerlat --vmm");
	ret = vmm_cli_require_kvm("vmm");
	if (ret)
		return ret;
	runctl_install();
	if (cli.cfg.scenario == PVT_SCN_HOSTILE)
		return vmm_cli_hostile(argc, argv, &cli);
	if (cli.cfg.scenario == PVT_SCN_SOAK)
		return vmm_cli_soak(argc, argv, &cli);
	ret = vmm_cli_run_ctl("vmm", &vm, &cli.cfg, cli.duration_ns, cli.quiet, &stopped);
	if (ret) {
		vmm_destroy(&vm);
		return runctl_final(ret);
	}
	timerlat_report_init(&rep, pvt_timer_algo_name(cli.cfg.algo), cli.cfg.interval_ns,
			     stdout, cli.quiet || cli.out.json || cli.cfg.scenario != PVT_SCN_TIMERLAT);
	if (cli.cfg.scenario == PVT_SCN_TIMERLAT && vmm_timerlat_report(&vm, &rep))
		ret = runtime_error("vmm: out of memory");
	vmm_totals(&vm, &t);
	if (cli.out.json) {
		json_begin(&j, stdout);
		cmdline_json_header(&j);
		runctl_json(&j);
		vmm_json(&j, &vm);
		if (cli.cfg.scenario == PVT_SCN_TIMERLAT)
			timerlat_report_json(&rep, &j);
		json_end(&j);
	} else {
		runctl_text(stdout, rep.loops);
		vmm_cli_print(stdout, &vm);
		if (cli.cfg.scenario == PVT_SCN_TIMERLAT)
			timerlat_report_summary(&rep, stdout);
	}
	if (!ret && cli.plot && cli.cfg.scenario == PVT_SCN_TIMERLAT) {
		int err = timerlat_report_plot(&rep, cli.plot, "pvtime vmm: guest lateness");

		if (err)
			ret = runtime_error("vmm: --plot %s: %s", cli.plot, strerror(-err));
	}
	if (!ret && (t.early_wakeups || t.page_mismatches || t.sample_mismatches))
		ret = runtime_error("vmm: %llu early wake-ups, %llu page and %llu sample mismatches",
				    (unsigned long long)t.early_wakeups,
				    (unsigned long long)t.page_mismatches,
				    (unsigned long long)t.sample_mismatches);
	timerlat_report_free(&rep);
	vmm_destroy(&vm);
	return runctl_final(ret);
}

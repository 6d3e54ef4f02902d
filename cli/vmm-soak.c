// SPDX-License-Identifier: MIT
/*
 * pvtime vmm --scenario hostile and --scenario soak: the option checks and
 * the report; the runs themselves are measure/vmm-soak.c's.
 */
#include <inttypes.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cmdline.h"
#include "runctl.h"
#include "vmm-cli.h"
#include "vmm-soak.h"

#define HANG_SLACK_MS		30000ull	/* watchdog past the duration: a hang */

int vmm_cli_parse_long_run(const char *prog, struct vmm_cli *cli, bool loops_set)
{
	bool soak = cli->cfg.scenario == PVT_SCN_SOAK;

	if (strcmp(prog, "vmm"))
		return usage_error("%s: --scenario hostile|soak: only with pvtime vmm", prog);
	if (loops_set)
		return usage_error("%s: --scenario %s runs for --duration, not -n", prog,
				   soak ? "soak" : "hostile");
	if (cli->vms && !soak)
		return usage_error("%s: --vms: only with --scenario soak", prog);
	if (!soak && cli->cfg.nr_vcpus < 2)
		return usage_error("%s: --scenario hostile needs --vcpus 2 or more", prog);
	if (cli->plot)
		return usage_error("%s: --plot: not with --scenario hostile|soak", prog);
	if (!cli->duration_ns)
		cli->duration_ns = VMM_LONG_RUN_DEFAULT_NS;
	if (!cli->vms)
		cli->vms = 2;
	if (!cli->seed_set) {
		uint64_t s = 0;

		if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
			s = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
		cli->cfg.seed = s;
	}
	/* The guests run until stopped: no per-loop records, no per-exit oracle. */
	cli->cfg.loops = 1;
	cli->cfg.check_samples = false;
	cli->cfg.measure_costs = false;
	cli->cfg.watchdog_ms = cli->duration_ns / 1000000 + HANG_SLACK_MS;
	return 0;
}

/* ---------------- hostile ---------------- */

int vmm_cli_hostile(int argc, char **argv, struct vmm_cli *cli)
{
	struct vmm_hostile_result r;
	const struct vmm_long_totals *t = &r.t;
	struct json j;
	bool failed;
	int ret;

	(void)argc;	/* the JSON's "command" is main()'s argv (cmdline.h) */
	(void)argv;
	if (!cli->quiet && !cli->out.json)
		printf("# hostile: seed %" PRIu64 " (--seed %" PRIu64 " repeats it), %u vCPUs, %.1f s\n",
		       cli->cfg.seed, cli->cfg.seed, cli->cfg.nr_vcpus, cli->duration_ns / 1e9);
	fflush(stdout);
	ret = vmm_hostile_run(&cli->cfg, cli->duration_ns, &r);
	if (ret)
		ret = runtime_error("vmm: %s", r.error);
	/* Only the duration (or a signal) may end it: any other stop came from guest input. */
	failed = ret || !r.stopped;
	if (cli->out.json) {
		json_begin(&j, stdout);
		cmdline_json_header(&j);
		runctl_json(&j);
		vmm_hostile_json(&j, &cli->cfg, cli->duration_ns, &r, failed);
		json_end(&j);
	} else {
		runctl_text(stdout, UINT64_MAX);
		printf("hostile hypercalls (vCPU 0):  %" PRIu64 "\n", t->hostile_calls);
		printf("timerlat (vCPUs 1..%u):       %" PRIu64 " loops, %" PRIu64 " timers checked\n",
		       cli->cfg.nr_vcpus - 1, t->loops, t->timers);
		printf("early wake-ups:               %" PRIu64 "\n", t->early);
		printf("lost timers:                  %" PRIu64 "%s\n", t->lost,
		       t->blocked_lost ? " (some blocked past deadline + 1 s at the end)" : "");
		printf("duplicate expiries:           %" PRIu64 "\n", t->dups);
		printf("VM stopped:                   %s%s\n", failed ? "yes: " : "no (ran to its duration)",
		       failed ? (r.error[0] ? r.error : "the run did not end by its duration") : "");
	}
	if (!ret && failed)
		ret = runtime_error("vmm: hostile: the VM stopped before its duration: %s", r.error);
	else if (!ret && (t->early || t->lost || t->dups || !t->loops || !t->hostile_calls))
		ret = runtime_error("vmm: hostile: %" PRIu64 " early, %" PRIu64 " lost, %" PRIu64
				    " duplicated timers, %" PRIu64 " timerlat loops, %" PRIu64 " hypercalls",
				    t->early, t->lost, t->dups, t->loops, t->hostile_calls);
	return runctl_final(ret);
}

/* ---------------- soak ---------------- */

int vmm_cli_soak(int argc, char **argv, struct vmm_cli *cli)
{
	struct vmm_soak_result r;
	const struct vmm_long_totals *t = &r.t;
	const char *first_error;
	struct json j;
	int ret = 0;

	(void)argc;	/* the JSON's "command" is main()'s argv (cmdline.h) */
	(void)argv;
	if (!cli->quiet && !cli->out.json)
		printf("# soak: %u VMs x %u vCPUs, %.1f s, seed %" PRIu64 "\n", cli->vms,
		       cli->cfg.nr_vcpus, cli->duration_ns / 1e9, cli->cfg.seed);
	fflush(stdout);
	if (vmm_soak_run(&cli->cfg, cli->vms, cli->duration_ns, &r))
		return runtime_error("vmm: soak: out of memory");
	first_error = r.first_error[0] ? r.first_error : NULL;
	if (cli->out.json) {
		json_begin(&j, stdout);
		cmdline_json_header(&j);
		runctl_json(&j);
		vmm_soak_json(&j, &cli->cfg, cli->vms, cli->duration_ns, &r);
		json_end(&j);
	} else {
		runctl_text(stdout, UINT64_MAX);
		printf("VMs created:          %" PRIu64 " (%u side by side, re-created every %u..%u s)\n",
		       r.vms_created, cli->vms, VMM_SOAK_GEN_MIN_MS / 1000, (VMM_SOAK_GEN_MIN_MS + VMM_SOAK_GEN_SPAN_MS) / 1000);
		printf("timers checked:       %" PRIu64 " in %" PRIu64 " rounds\n", t->timers, t->loops);
		printf("lost timers:          %" PRIu64 "\n", t->lost);
		printf("early wake-ups:       %" PRIu64 "\n", t->early);
		printf("duplicate expiries:   %" PRIu64 "\n", t->dups);
		printf("save/restore trips:   %" PRIu64 "\n", t->roundtrips);
		if (!r.sampled) {
			printf("RSS, open fds:        not sampled (not every VM was up at the start and the end)\n");
		} else {
			printf("RSS:                  %" PRIu64 " kB -> %" PRIu64 " kB (%s)\n", r.rss_kb_start, r.rss_kb_end,
			       !r.rss_judged ? "not judged: ASan's quarantine" :
			       r.rss_flat ? "flat" : "GREW");
			printf("open fds:             %" PRIu64 " -> %" PRIu64 " (%s)\n", r.fds_start, r.fds_end,
			       r.fds_flat ? "flat" : "CHANGED");
		}
		printf("VM failures:          %u%s%s\n", r.failures, first_error ? ": " : "",
		       first_error ? first_error : "");
	}
	if (first_error)
		ret = runtime_error("vmm: soak: %s", first_error);
	else if (runctl_signal())
		ret = 0;
	else if (t->lost || t->early || t->dups || !t->timers)
		ret = runtime_error("vmm: soak: %" PRIu64 " lost, %" PRIu64 " early, %" PRIu64
				    " duplicated of %" PRIu64 " timers", t->lost, t->early, t->dups, t->timers);
	else if (!r.rss_flat || !r.fds_flat)
		ret = runtime_error("vmm: soak: not flat: RSS %" PRIu64 " -> %" PRIu64 " kB, fds %" PRIu64
				    " -> %" PRIu64, r.rss_kb_start, r.rss_kb_end, r.fds_start, r.fds_end);
	return runctl_final(ret);
}

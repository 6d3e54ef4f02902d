// SPDX-License-Identifier: MIT
/*
 * pvtime bench sim: simulated host timer events per second on one core,
 * per algorithm, with nothing recorded (measure/bench-sim.c). Wall-clock
 * and thread CPU time: on a shared machine the CPU figure is the one to
 * compare.
 */
#include <inttypes.h>
#include <stdio.h>

#include "args.h"
#include "bench-sim.h"
#include "cmdline.h"
#include "commands.h"
#include "json.h"
#include "options.h"
#include "runctl.h"

static void print_json(const struct sim_config *cfg, const struct bench_sim_result *res)
{
	struct json j;

	json_begin(&j, stdout);
	cmdline_json_header(&j);
	json_string(&j, "bench", "sim");
	runctl_json(&j);
	bench_sim_json(&j, cfg, res);
	json_end(&j);
}

static void print_text(const struct sim_config *cfg, const struct bench_sim_result *res)
{
	runctl_text(stdout, UINT64_MAX);
	printf("# bench sim: %" PRIu64 " sleeps of 100 us per algorithm, one vCPU, "
	       "host %" PRIu32 " kHz, guest %" PRIu32 " kHz, uptime 1 day\n",
	       cfg->loops, cfg->host_khz, cfg->guest_khz);
	printf("%-8s %12s %10s %10s %14s %14s %10s\n", "algo", "events", "wall_s", "cpu_s",
	       "events/s", "events/cpu_s", "ns/event");
	for (unsigned a = 0; a < res->done; a++) {
		const struct bench_sim_row *r = &res->rows[a];

		printf("%-8s %12" PRIu64 " %10.3f %10.3f %14.0f %14.0f %10.1f\n",
		       pvt_timer_algo_name(r->algo), r->events, r->wall_s, r->cpu_s,
		       r->events_per_s, r->events_per_cpu_s, r->ns_per_event);
	}
	printf("# target: >= %.0f events/s\n", BENCH_SIM_TARGET_EPS);
}

int bench_sim(int argc, char **argv)
{
	struct bench_sim_result res;
	struct sim_config cfg;
	bool json = false;
	struct opt o[] = { { OPT_LOOPS(cfg.loops) }, { OPT_JSON(json) }, OPT_TABLE_END };
	int ret;

	bench_sim_config_default(&cfg);
	ret = opts_parse("bench sim", "pvtime bench sim [-n LOOPS] [--json]\n"
			 "Runs LOOPS 100 us sleeps (default 2000000) per algorithm on one\n"
			 "simulated vCPU, recording nothing; reports host timer events/s.", o, argc, argv);
	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	if (sim_config_check(&cfg))
		return PVT_EXIT_USAGE;
	runctl_install();
	ret = bench_sim_measure(&cfg, &res);
	if (ret)
		return runtime_error("bench sim: %s", res.error);
	if (json)
		print_json(&cfg, &res);
	else
		print_text(&cfg, &res);
	return runctl_final(PVT_EXIT_OK);
}

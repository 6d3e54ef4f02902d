// SPDX-License-Identifier: MIT
/*
 * pvtime bench sim: simulated host timer events per second on one core,
 * per algorithm, with nothing recorded (the simulator's own cost). Both
 * wall-clock and thread CPU time are given: on a shared machine the CPU
 * figure is the one to compare.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "clockns.h"
#include "cmdline.h"
#include "commands.h"
#include "json.h"
#include "options.h"
#include "runctl.h"
#include "sim.h"

#define BENCH_SIM_TARGET_EPS	5000000.0	/* the target */

struct bench_row {
	enum pvt_timer_algo algo;
	uint64_t events;
	double wall_s, cpu_s;
};

static int measure(const struct sim_config *cfg, struct bench_row *row)
{
	struct sim_result res;
	uint64_t w0 = clock_now_ns(CLOCK_MONOTONIC), c0 = clock_now_ns(CLOCK_THREAD_CPUTIME_ID);
	int ret = sim_run(cfg, NULL, &res);

	row->cpu_s = (double)(clock_now_ns(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e-9;
	row->wall_s = (double)(clock_now_ns(CLOCK_MONOTONIC) - w0) * 1e-9;
	row->algo = cfg->algo;
	row->events = res.events;
	return ret;
}

/* sim_config.poll: SIGINT/SIGTERM end the run in progress (its events still count). */
static bool stop_requested(void *ctx, uint64_t loops_done)
{
	(void)ctx;
	(void)loops_done;
	return runctl_signal() != 0;
}

static double per_s(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0;
}

int bench_sim(int argc, char **argv)
{
	struct bench_row rows[SIM_ALGOS];
	struct sim_config cfg;
	bool json = false;
	struct opt o[] = { { OPT_LOOPS(cfg.loops) }, { OPT_JSON(json) }, OPT_TABLE_END };
	int ret, done = 0;

	sim_config_default(&cfg);
	cfg.loops = 2000000;
	cfg.host_khz = 2596136;		/* the 2596.136 MHz host of docs/design.md */
	cfg.guest_khz = 3000000;	/* a scaled guest: the full conversion path */
	cfg.uptime_s = 86400;
	ret = opts_parse("bench sim", "pvtime bench sim [-n LOOPS] [--json]\n"
			 "Runs LOOPS 100 us sleeps (default 2000000) per algorithm on one\n"
			 "simulated vCPU, recording nothing; reports host timer events/s.", o, argc, argv);
	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	if (sim_config_check(&cfg))
		return PVT_EXIT_USAGE;

	runctl_install();
	cfg.poll = stop_requested;
	for (int a = 0; a < SIM_ALGOS && !runctl_signal(); a++) {
		cfg.algo = (enum pvt_timer_algo)a;
		ret = measure(&cfg, &rows[a]);
		if (ret)
			return runtime_error("bench sim: %s failed: %s", pvt_timer_algo_name(a),
					     strerror(-ret));
		done = a + 1;
	}

	if (json) {
		struct json j;

		json_begin(&j, stdout);
		cmdline_json_header(&j);
		json_string(&j, "bench", "sim");
		runctl_json(&j);
		json_u64(&j, "loops", cfg.loops);
		json_double(&j, "target_events_per_s", BENCH_SIM_TARGET_EPS);
		json_array_begin(&j, "results");
		for (int a = 0; a < done; a++) {
			json_object_begin(&j, NULL);
			json_string(&j, "algo", pvt_timer_algo_name(a));
			json_u64(&j, "events", rows[a].events);
			json_double(&j, "wall_s", rows[a].wall_s);
			json_double(&j, "cpu_s", rows[a].cpu_s);
			json_double(&j, "events_per_s", per_s(rows[a].events, rows[a].wall_s));
			json_double(&j, "events_per_cpu_s", per_s(rows[a].events, rows[a].cpu_s));
			json_double(&j, "ns_per_event", rows[a].events ?
				    rows[a].cpu_s * 1e9 / (double)rows[a].events : 0);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_end(&j);
		return runctl_final(PVT_EXIT_OK);
	}
	runctl_text(stdout, UINT64_MAX);
	printf("# bench sim: %" PRIu64 " sleeps of 100 us per algorithm, one vCPU, "
	       "host %" PRIu32 " kHz, guest %" PRIu32 " kHz, uptime 1 day\n",
	       cfg.loops, cfg.host_khz, cfg.guest_khz);
	printf("%-8s %12s %10s %10s %14s %14s %10s\n", "algo", "events", "wall_s", "cpu_s",
	       "events/s", "events/cpu_s", "ns/event");
	for (int a = 0; a < done; a++)
		printf("%-8s %12" PRIu64 " %10.3f %10.3f %14.0f %14.0f %10.1f\n",
		       pvt_timer_algo_name(a), rows[a].events, rows[a].wall_s, rows[a].cpu_s,
		       per_s(rows[a].events, rows[a].wall_s),
		       per_s(rows[a].events, rows[a].cpu_s),
		       rows[a].events ? rows[a].cpu_s * 1e9 / (double)rows[a].events : 0);
	printf("# target: >= %.0f events/s\n", BENCH_SIM_TARGET_EPS);
	return runctl_final(PVT_EXIT_OK);
}

// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clockns.h"
#include "bench-sim.h"
#include "runctl.h"

static double per_s(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0;
}

static int measure(const struct sim_config *cfg, struct bench_sim_row *row)
{
	struct sim_result res;
	uint64_t w0 = clock_now_ns(CLOCK_MONOTONIC), c0 = clock_now_ns(CLOCK_THREAD_CPUTIME_ID);
	int ret = sim_run(cfg, NULL, &res);

	row->cpu_s = (double)(clock_now_ns(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e-9;
	row->wall_s = (double)(clock_now_ns(CLOCK_MONOTONIC) - w0) * 1e-9;
	row->algo = cfg->algo;
	row->events = res.events;
	row->events_per_s = per_s(row->events, row->wall_s);
	row->events_per_cpu_s = per_s(row->events, row->cpu_s);
	row->ns_per_event = row->events ? row->cpu_s * 1e9 / (double)row->events : 0;
	return ret;
}

/* sim_config.poll: SIGINT/SIGTERM end the run in progress (its events still count). */
static bool stop_requested(void *ctx, uint64_t loops_done)
{
	(void)ctx;
	(void)loops_done;
	return runctl_signal() != 0;
}

void bench_sim_config_default(struct sim_config *cfg)
{
	sim_config_default(cfg);
	cfg->loops = 2000000;
	cfg->host_khz = 2596136;	/* the 2596.136 MHz host of docs/design.md */
	cfg->guest_khz = 3000000;	/* a scaled guest: the full conversion path */
	cfg->uptime_s = 86400;
}

int bench_sim_measure(const struct sim_config *cfg, struct bench_sim_result *res)
{
	struct sim_config c = *cfg;

	memset(res, 0, sizeof(*res));
	c.poll = stop_requested;
	c.poll_ctx = NULL;
	for (int a = 0; a < SIM_ALGOS && !runctl_signal(); a++) {
		int ret;

		c.algo = (enum pvt_timer_algo)a;
		ret = measure(&c, &res->rows[a]);
		if (ret) {
			snprintf(res->error, sizeof(res->error), "%s failed: %s",
				 pvt_timer_algo_name(c.algo), strerror(-ret));
			return ret;
		}
		res->done = a + 1;
	}
	return 0;
}

void bench_sim_json(struct json *j, const struct sim_config *cfg, const struct bench_sim_result *res)
{
	json_u64(j, "loops", cfg->loops);
	json_double(j, "target_events_per_s", BENCH_SIM_TARGET_EPS);
	json_array_begin(j, "results");
	for (unsigned a = 0; a < res->done; a++) {
		const struct bench_sim_row *r = &res->rows[a];

		json_object_begin(j, NULL);
		json_string(j, "algo", pvt_timer_algo_name(r->algo));
		json_u64(j, "events", r->events);
		json_double(j, "wall_s", r->wall_s);
		json_double(j, "cpu_s", r->cpu_s);
		json_double(j, "events_per_s", r->events_per_s);
		json_double(j, "events_per_cpu_s", r->events_per_cpu_s);
		json_double(j, "ns_per_event", r->ns_per_event);
		json_object_end(j);
	}
	json_array_end(j);
}

/* SPDX-License-Identifier: MIT */
/*
 * The engine of `pvtime bench sim`: simulated host timer events per second
 * on one core, per algorithm, with nothing recorded (the simulator's own
 * cost). Both wall-clock and thread CPU time: on a shared machine the CPU
 * figure is the one to compare.
 */
#ifndef PVTIME_MEASURE_BENCH_SIM_H
#define PVTIME_MEASURE_BENCH_SIM_H

#include <stdint.h>

#include "json.h"

#include "sim.h"

#define BENCH_SIM_TARGET_EPS	5000000.0	/* the target, events/s */

struct bench_sim_row {
	enum pvt_timer_algo algo;
	uint64_t events;
	double wall_s, cpu_s;
	double events_per_s, events_per_cpu_s;	/* 0 when no time passed */
	double ns_per_event;			/* CPU ns; 0 when no event */
};

struct bench_sim_result {
	unsigned done;		/* rows measured: fewer after SIGINT/SIGTERM */
	struct bench_sim_row rows[SIM_ALGOS];
	char error[160];	/* which algorithm failed, and why */
};

/*
 * The benchmark's simulation: 2000000 sleeps of 100 us, a 3 GHz (scaled)
 * guest on a 2596.136 MHz host one day after the master clock reference.
 */
void bench_sim_config_default(struct sim_config *cfg);

/*
 * Simulates cfg once per algorithm (cfg->algo and cfg->poll are the
 * engine's); a SIGINT/SIGTERM (runctl) ends the run in progress, its events
 * still counted, and the benchmark. 0, or -errno with res->error.
 */
int bench_sim_measure(const struct sim_config *cfg, struct bench_sim_result *res);

/* The rows as JSON members of j's open object (the keys of `pvtime bench sim --json`). */
void bench_sim_json(struct json *j, const struct sim_config *cfg, const struct bench_sim_result *res);

#endif

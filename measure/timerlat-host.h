/* SPDX-License-Identifier: MIT */
/*
 * timerlat on the host itself: the seed's relative sleep through
 * clock_nanosleep(TIMER_ABSTIME), with cyclictest's measurement hygiene
 * (timer slack 1 ns, mlockall, /dev/cpu_dma_latency held at 0, optional
 * SCHED_FIFO and CPU pinning). A baseline for the guest figures.
 */
#ifndef PVTIME_MEASURE_TIMERLAT_HOST_H
#define PVTIME_MEASURE_TIMERLAT_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "timerlat-report.h"

struct timerlat_host_opts {
	uint64_t loops;
	uint64_t interval_ns;
	int fifo_priority;	/* 0: stay SCHED_OTHER */
	int cpu;		/* -1: no pinning */
	uint64_t duration_ns;	/* 0: loops only; else stop when this much time passed */
	bool progress;		/* a progress line on stderr if it is a terminal */
};

/* What the measurement environment actually got (reported, never fatal). */
struct timerlat_host_env {
	bool timer_slack_1ns;
	bool mlocked;
	int mlock_errno;
	bool dma_latency_held;	/* /dev/cpu_dma_latency open with 0 written */
	int dma_latency_errno;
	int dma_fd;
	char error[160];	/* why setup failed, naming the option ("--fifo 10: ...") */
};

/*
 * Sets up the environment. Scheduling and pinning failures are errors the
 * user asked for: -errno with env->error saying which. The rest is best
 * effort, recorded in *env.
 */
int timerlat_host_setup(const struct timerlat_host_opts *opts,
			struct timerlat_host_env *env);

/*
 * Measures opts->loops sleeps (or for opts->duration_ns) into r; 0, or
 * -errno from clock_nanosleep (-ENOMEM: r is full). A SIGINT/SIGTERM
 * caught by runctl ends it early with 0: the sleep it interrupted is not
 * counted.
 */
int timerlat_host_measure(const struct timerlat_host_opts *opts,
			  struct timerlat_report *r);

/* Releases /dev/cpu_dma_latency and the memory lock. */
void timerlat_host_teardown(struct timerlat_host_env *env);

#endif

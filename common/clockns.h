/* SPDX-License-Identifier: MIT */
/*
 * struct timespec <-> ns, a clock read in ns and a sleep: the one copy for the
 * library, the VMM, the CLI and the tests (never installed; the examples
 * build against the installed headers only and keep their own).
 */
#ifndef PVTIME_COMMON_CLOCKNS_H
#define PVTIME_COMMON_CLOCKNS_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "pvtime/pvclock.h"	/* PVT_NSEC_PER_SEC */

/* ts in ns; ts is a clock reading or a duration (tv_sec >= 0, tv_nsec < 10^9). */
static inline uint64_t ns_of_timespec(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * PVT_NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
}

/* ns as a timespec (an absolute deadline or a duration); time_t holds any uint64_t ns / 10^9. */
static inline struct timespec timespec_of_ns(uint64_t ns)
{
	return (struct timespec){
		.tv_sec = (time_t)(ns / PVT_NSEC_PER_SEC),
		.tv_nsec = (long)(ns % PVT_NSEC_PER_SEC),
	};
}

/* clk now, in ns (the clocks used here cannot fail for a valid id). */
static inline uint64_t clock_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ns_of_timespec(&ts);
}

/* Sleeps ns (CLOCK_MONOTONIC); a signal's handler runs and the sleep goes on for what is left. */
static inline void sleep_ns(uint64_t ns)
{
	struct timespec ts = timespec_of_ns(ns);

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

#endif

/* SPDX-License-Identifier: MIT */
/* The library's raw clock reads: a clock_gettime in ns, and an ordered TSC read. */
#ifndef PVTIME_CLOCKREAD_H
#define PVTIME_CLOCKREAD_H

#include <stdint.h>
#include <time.h>

/* clk in ns (the ids the library reads cannot fail). */
static inline uint64_t pvt_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
/* The TSC now: lfence keeps the read after everything before it (cheaper than rdtscp). */
static inline uint64_t pvt_rdtsc_lfence(void)
{
	__builtin_ia32_lfence();
	return __builtin_ia32_rdtsc();
}
#endif

#endif

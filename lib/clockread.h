/* SPDX-License-Identifier: MIT */
/* The library's raw clock reads: clock_gettime in ns (common/clockns.h), an ordered TSC read. */
#ifndef PVTIME_CLOCKREAD_H
#define PVTIME_CLOCKREAD_H

#include <stdint.h>

#include "clockns.h"

#if defined(__x86_64__) || defined(__i386__)
/* The TSC now: lfence keeps the read after everything before it (cheaper than rdtscp). */
static inline uint64_t pvt_rdtsc_lfence(void)
{
	__builtin_ia32_lfence();
	return __builtin_ia32_rdtsc();
}
#endif

#endif

/* SPDX-License-Identifier: MIT */
/*
 * cyclictest (rt-tests), when installed, as a second host baseline: one
 * thread, memory locked, quiet, the same interval, loops and priority as
 * the run it is compared with.
 */
#ifndef PVTIME_MEASURE_CYCLICTEST_H
#define PVTIME_MEASURE_CYCLICTEST_H

#include <stdint.h>

struct cyclictest_result {
	double min_us, avg_us, max_us;	/* its summary line */
};

/*
 * Runs `cyclictest -m -q -t1 -pFIFO -iUS -lLOOPS` (interval rounded down to
 * whole us, at least 1) and reads its figures. 0; -ENOENT when it is not
 * installed, -EIO when it failed or printed no summary, -errno from popen.
 */
int cyclictest_run(int fifo_priority, uint64_t interval_ns, uint64_t loops,
		   struct cyclictest_result *r);

#endif

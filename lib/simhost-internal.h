/* SPDX-License-Identifier: MIT */
/* The simulated host's state, shared by simhost.c, simhost-backends.c and tests. */
#ifndef PVTIME_SIMHOST_INTERNAL_H
#define PVTIME_SIMHOST_INTERNAL_H

#include "pvtime/simhost.h"
#include "hosttimer-internal.h"

struct pvt_simhost {
	uint64_t true_ns;		/* now */
	uint32_t tsc_khz;
	uint64_t tsc_base;
	/* Current monotonic segment. */
	uint64_t seg_true_ns, seg_mono_ns;
	int64_t slew_ppt;
	int64_t realtime_offset_ns;	/* change it only through step_realtime */
	uint64_t realtime_steps;	/* steps so far: the realtime clock's step count */
	uint64_t wake_latency_ns;
	pvt_simhost_preempt_fn preempt;	/* may be NULL */
	void *preempt_ctx;
	/* Timer heap. */
	struct pvt_hosttimer **heap;
	uint32_t count, capacity;
	uint64_t next_seq;
	uint64_t fired;			/* statistics */
	struct pvt_hosttimer *timers;	/* every timer made on this host (freeing order free) */
};

/* Unlinks t from sim's heap (no-op if not queued). */
void sim_heap_remove(struct pvt_simhost *sim, struct pvt_hosttimer *t);
/* Queues t at t->deadline_ns. -ENOSPC when the heap is full. */
int sim_heap_insert(struct pvt_simhost *sim, struct pvt_hosttimer *t);

#endif

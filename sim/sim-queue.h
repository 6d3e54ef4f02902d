/* SPDX-License-Identifier: MIT */
/*
 * The guest side's run queue: when each simulated vCPU next runs (true ns).
 * A binary min-heap ordered by (time, vCPU id), so ties resolve the same
 * way in every run.
 */
#ifndef PVTIME_SIM_QUEUE_H
#define PVTIME_SIM_QUEUE_H

#include <stdint.h>

struct sim_wake {
	uint64_t true_ns;
	uint32_t vcpu;
};

struct sim_queue {
	struct sim_wake *heap;
	uint32_t count, capacity;
};

/* Room for capacity entries; -ENOMEM. */
int sim_queue_init(struct sim_queue *q, uint32_t capacity);
void sim_queue_free(struct sim_queue *q);
/* -ENOSPC when full (each vCPU is queued at most once). */
int sim_queue_push(struct sim_queue *q, uint64_t true_ns, uint32_t vcpu);
/* The earliest entry's time, UINT64_MAX when empty. */
static inline uint64_t sim_queue_next(const struct sim_queue *q)
{
	return q->count ? q->heap[0].true_ns : UINT64_MAX;
}
/* Removes and returns the earliest entry; the queue must not be empty. */
struct sim_wake sim_queue_pop(struct sim_queue *q);

#endif

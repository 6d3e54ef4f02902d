// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>

#include "sim-queue.h"

static int before(const struct sim_wake *a, const struct sim_wake *b)
{
	return a->true_ns < b->true_ns || (a->true_ns == b->true_ns && a->vcpu < b->vcpu);
}

int sim_queue_init(struct sim_queue *q, uint32_t capacity)
{
	q->heap = calloc(capacity ? capacity : 1, sizeof(*q->heap));
	q->count = 0;
	q->capacity = capacity;
	return q->heap ? 0 : -ENOMEM;
}

void sim_queue_free(struct sim_queue *q)
{
	free(q->heap);
	q->heap = NULL;
	q->count = q->capacity = 0;
}

int sim_queue_push(struct sim_queue *q, uint64_t true_ns, uint32_t vcpu)
{
	struct sim_wake w = { true_ns, vcpu };
	uint32_t i;

	if (q->count == q->capacity)
		return -ENOSPC;
	for (i = q->count++; i > 0; ) {
		uint32_t parent = (i - 1) / 2;

		if (!before(&w, &q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = w;
	return 0;
}

struct sim_wake sim_queue_pop(struct sim_queue *q)
{
	struct sim_wake top = q->heap[0], last = q->heap[--q->count];
	uint32_t i = 0;

	for (;;) {
		uint32_t child = 2 * i + 1;

		if (child >= q->count)
			break;
		if (child + 1 < q->count && before(&q->heap[child + 1], &q->heap[child]))
			child++;
		if (!before(&q->heap[child], &last))
			break;
		q->heap[i] = q->heap[child];
		i = child;
	}
	if (q->count)
		q->heap[i] = last;
	return top;
}

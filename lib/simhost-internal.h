/* SPDX-License-Identifier: MIT */
/* Queue primitives shared by simhost.c and simhost-backends.c. */
#ifndef PVTIME_SIMHOST_INTERNAL_H
#define PVTIME_SIMHOST_INTERNAL_H

#include "pvtime/simhost.h"

/* Unlinks t from sim's heap (no-op if not queued). */
void pvt_simhost_heap_remove(struct pvt_simhost *sim, struct pvt_hosttimer *t);
/* Queues t at t->deadline_ns. -ENOSPC when the heap is full. */
int pvt_simhost_heap_insert(struct pvt_simhost *sim, struct pvt_hosttimer *t);

#endif

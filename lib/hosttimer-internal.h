/* SPDX-License-Identifier: MIT */
/*
 * The host timer object, shared by hosttimer.c, simhost*.c and xentimer*.c
 * (and tests, which look inside). Fields other than fd are written by the
 * owning vCPU with its lock held, or by the single simulation thread.
 */
#ifndef PVTIME_HOSTTIMER_INTERNAL_H
#define PVTIME_HOSTTIMER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "pvtime/hosttimer.h"
#include "pvtime/simhost.h"

/* How a backend arms; each timer points at one. */
struct ht_backend {
	int (*arm)(struct pvt_hosttimer *t, uint64_t deadline_ns);
	int (*disarm)(struct pvt_hosttimer *t);
	void (*destroy)(struct pvt_hosttimer *t);
};

struct pvt_hosttimer {
	const struct ht_backend *be;
	int fd;				/* timerfd, or -1 */
	clockid_t clockid;		/* CLOCK_MONOTONIC or CLOCK_REALTIME */
	/* timerfd and sim backends only (a bring-your-own timer keeps its own): */
	bool armed;			/* last call was arm (sim: still queued) */
	uint64_t deadline_ns;		/* last armed deadline */
	uint64_t arms;			/* statistics: arm calls */
	/* Bring-your-own backend. */
	const struct pvt_hosttimer_ops *ops;
	void *ctx;
	/*
	 * Simulated backend (simhost*.c): queue node and the user's notify hook.
	 * deadline_ns is the queue's key, on mono (a realtime timer converts).
	 */
	struct pvt_simhost *sim;
	uint32_t heap_idx;		/* position in sim's heap, UINT32_MAX = out */
	uint64_t seq;			/* FIFO tie-break for equal deadlines */
	pvt_simhost_notify_fn notify;
	void *notify_ctx;
	struct pvt_hosttimer *sim_prev, *sim_next;	/* sim's list of its timers */
};

/* A zeroed timer (fd -1, out of any queue) on be. NULL on ENOMEM. */
struct pvt_hosttimer *ht_alloc(const struct ht_backend *be, clockid_t clockid);

#endif

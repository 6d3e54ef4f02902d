/* SPDX-License-Identifier: MIT */
/*
 * Host timers: one absolute one-shot timer per vCPU on the host clock's
 * timer clock. Backends: a timerfd (real) and the simulated host's event
 * queue (simhost.h).
 *
 * Expiry reaches its owner through on_fire: the simulated queue calls it
 * directly; for a timerfd the thread that sees the fd readable (a vCPU
 * thread sleeping in poll/read on pvt_hosttimer_fd(), an epoll loop, or the
 * VMM's own loop) calls pvt_hosttimer_handle(), which drains the fd and
 * calls on_fire. Arming and disarming are done by the owner (xentimer) with
 * its vCPU lock held; the timer itself has no lock, and handle/wait touch
 * no field but the fd, so any thread may serve the fd.
 */
#ifndef PVTIME_HOSTTIMER_H
#define PVTIME_HOSTTIMER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "pvtime/export.h"

PVT_BEGIN_DECLS

struct pvt_hosttimer;
struct pvt_simhost;

/* Called when the timer expired (or may have: owners re-check the time). */
typedef void (*pvt_hosttimer_fire_fn)(void *ctx);

struct pvt_hosttimer_ops {
	/* Absolute deadline on the timer clock; replaces any earlier one. */
	int (*arm)(struct pvt_hosttimer *t, uint64_t deadline_ns);
	int (*disarm)(struct pvt_hosttimer *t);
	void (*destroy)(struct pvt_hosttimer *t);
};

struct pvt_hosttimer {
	const struct pvt_hosttimer_ops *ops;
	pvt_hosttimer_fire_fn on_fire;	/* set by the owner */
	void *on_fire_ctx;
	int fd;				/* timerfd, or -1 (simulated) */
	clockid_t clockid;		/* CLOCK_MONOTONIC or CLOCK_REALTIME */
	bool armed;			/* owner's last call was arm (sim: still queued) */
	uint64_t deadline_ns;		/* last armed deadline */
	uint64_t arms;			/* statistics: arm calls */
	/* Simulated backend (simhost.c): queue node. */
	struct pvt_simhost *sim;
	uint32_t heap_idx;		/* position in sim's heap, UINT32_MAX = out */
	uint64_t seq;			/* FIFO tie-break for equal deadlines */
};

/*
 * A non-blocking timerfd on clockid (CLOCK_MONOTONIC or CLOCK_REALTIME; the
 * latter is armed with TFD_TIMER_CANCEL_ON_SET so a clock step wakes it).
 */
PVT_API int pvt_hosttimer_init_timerfd(struct pvt_hosttimer *t, clockid_t clockid);

/* Closes/unlinks the timer. Safe on a zeroed or destroyed timer. */
PVT_API void pvt_hosttimer_destroy(struct pvt_hosttimer *t);

/* Arms at an absolute timer-clock deadline (0 is treated as 1: already past). */
static inline int pvt_hosttimer_arm(struct pvt_hosttimer *t, uint64_t deadline_ns)
{
	return t->ops->arm(t, deadline_ns);
}

/* Cancels a pending expiry (a read already in flight may still report it). */
static inline int pvt_hosttimer_disarm(struct pvt_hosttimer *t)
{
	return t->ops->disarm(t);
}

/* The fd to sleep on (poll/epoll/read), or -1 for a simulated timer. */
static inline int pvt_hosttimer_fd(const struct pvt_hosttimer *t)
{
	return t->fd;
}

/*
 * After the fd polled readable: drains it and calls on_fire. Returns 1 if
 * it expired, 0 if nothing was there (spurious), -ECANCELED after a
 * CLOCK_REALTIME step (on_fire is called too, so the owner re-converts and
 * re-arms), other -errno on error.
 */
PVT_API int pvt_hosttimer_handle(struct pvt_hosttimer *t);

/*
 * Blocks the calling thread on the fd until it expires or timeout_ns
 * (0 = forever) passes, then handles it. Returns as pvt_hosttimer_handle(),
 * or -ETIMEDOUT / -EINTR.
 */
PVT_API int pvt_hosttimer_wait(struct pvt_hosttimer *t, uint64_t timeout_ns);

/* ---- serving-thread setup ---- */

/* prctl(PR_SET_TIMERSLACK) for the calling thread (1 ns for timer threads). */
PVT_API int pvt_thread_set_timerslack(uint64_t slack_ns);

/*
 * SCHED_FIFO at prio for the calling thread. -EPERM when not permitted
 * (no CAP_SYS_NICE / RLIMIT_RTPRIO): the caller says so and carries on.
 */
PVT_API int pvt_thread_set_fifo(int prio);

PVT_END_DECLS

#endif

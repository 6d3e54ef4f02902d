/* SPDX-License-Identifier: MIT */
/*
 * Host timers: one absolute one-shot timer per vCPU on the host clock's
 * timer clock. Backends: a timerfd, the simulated host's event queue
 * (simhost.h) and bring-your-own (pvt_hosttimer_new_ops: a VMM's own timer
 * wheel or event loop).
 *
 * The library never installs a callback into a timer. Whoever learns that
 * a timer fired (its fd polled readable; the simulated queue's notify hook;
 * a bring-your-own backend's own event) calls pvt_xen_vcpu_service() on the
 * vCPU that owns it. The engine arms and disarms a timer with its vCPU lock
 * held; the timer has no lock of its own and serving its fd touches nothing
 * else, so any thread may sleep on the fd.
 */
#ifndef PVTIME_HOSTTIMER_H
#define PVTIME_HOSTTIMER_H

#include <stdint.h>
#include <sys/types.h>	/* clockid_t (POSIX), also in strict C99 mode */
#include <time.h>

#include "pvtime/export.h"

PVT_BEGIN_DECLS

struct pvt_hosttimer;

/*
 * A bring-your-own timer. Called with the owning vCPU's lock held: the
 * callbacks must not call pvt_ functions nor take locks that are held
 * around pvt_ calls. A spurious wake-up is harmless (service re-checks).
 */
struct pvt_hosttimer_ops {
	/* Absolute deadline on the timer clock, replaces any earlier one. 0 or -errno. */
	int (*arm)(void *ctx, uint64_t deadline_ns);
	/* Cancels the pending expiry. 0 or -errno. */
	int (*disarm)(void *ctx);
	/* pvt_hosttimer_free() hands ctx back here (may be NULL). */
	void (*destroy)(void *ctx);
};

/*
 * A non-blocking timerfd on clockid (CLOCK_MONOTONIC or CLOCK_REALTIME; the
 * latter is armed with TFD_TIMER_CANCEL_ON_SET so a clock step wakes it).
 */
PVT_API int pvt_hosttimer_new_timerfd(clockid_t clockid, struct pvt_hosttimer **out);

/* A timer driven by ops on ctx (arm and disarm required), counting on clockid. */
PVT_API int pvt_hosttimer_new_ops(const struct pvt_hosttimer_ops *ops, void *ctx,
				  clockid_t clockid, struct pvt_hosttimer **out);

/* Disarms and frees (closes the fd, calls ops->destroy). Free its vCPU first. NULL is fine. */
PVT_API void pvt_hosttimer_free(struct pvt_hosttimer *t);

/* The fd to sleep on (poll/epoll), or -1 when the timer is not fd-based. */
PVT_API int pvt_hosttimer_fd(const struct pvt_hosttimer *t);

/* The clock the deadlines count on. */
PVT_API clockid_t pvt_hosttimer_clockid(const struct pvt_hosttimer *t);

/* Arms at an absolute timer-clock deadline (0 is treated as 1: already past). */
PVT_API int pvt_hosttimer_arm(struct pvt_hosttimer *t, uint64_t deadline_ns);

/* Cancels a pending expiry (a read already in flight may still report it). */
PVT_API int pvt_hosttimer_disarm(struct pvt_hosttimer *t);

/*
 * Reads a timerfd without blocking: 1 if it expired, 0 if not (spurious),
 * -ECANCELED after a CLOCK_REALTIME step, other -errno; -EBADF if not fd-based.
 * pvt_xen_vcpu_service() does this itself.
 */
PVT_API int pvt_hosttimer_drain(struct pvt_hosttimer *t);

/*
 * Blocks the calling thread until the fd is readable or timeout_ns (0 =
 * forever) passes, without reading it. 0, -ETIMEDOUT, -EINTR or -errno.
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

// SPDX-License-Identifier: MIT
/*
 * timerfd host timers and the serving-thread setup (timer slack, FIFO).
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "pvtime/hosttimer.h"

/* timerfd takes a timespec; clamp so tv_sec stays a valid time_t. */
#define MAX_DEADLINE_NS		((uint64_t)INT64_MAX)

static int tfd_arm(struct pvt_hosttimer *t, uint64_t deadline_ns)
{
	struct itimerspec its;
	int flags = TFD_TIMER_ABSTIME;

	if (!deadline_ns)
		deadline_ns = 1;	/* it_value 0 would disarm */
	if (deadline_ns > MAX_DEADLINE_NS)
		deadline_ns = MAX_DEADLINE_NS;
	if (t->clockid == CLOCK_REALTIME)
		flags |= TFD_TIMER_CANCEL_ON_SET;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(deadline_ns % 1000000000ull);
	if (timerfd_settime(t->fd, flags, &its, NULL))
		return -errno;
	t->armed = true;
	t->deadline_ns = deadline_ns;
	t->arms++;
	return 0;
}

static int tfd_disarm(struct pvt_hosttimer *t)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	t->armed = false;
	if (timerfd_settime(t->fd, 0, &its, NULL))
		return -errno;
	return 0;
}

static void tfd_destroy(struct pvt_hosttimer *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

static const struct pvt_hosttimer_ops tfd_ops = {
	.arm = tfd_arm,
	.disarm = tfd_disarm,
	.destroy = tfd_destroy,
};

int pvt_hosttimer_init_timerfd(struct pvt_hosttimer *t, clockid_t clockid)
{
	if (clockid != CLOCK_MONOTONIC && clockid != CLOCK_REALTIME)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->fd = timerfd_create(clockid, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	t->ops = &tfd_ops;
	t->clockid = clockid;
	t->heap_idx = UINT32_MAX;
	return 0;
}

void pvt_hosttimer_destroy(struct pvt_hosttimer *t)
{
	if (t->ops && t->ops->destroy)
		t->ops->destroy(t);
	t->ops = NULL;
}

int pvt_hosttimer_handle(struct pvt_hosttimer *t)
{
	uint64_t n;
	ssize_t r;

	if (t->fd < 0)
		return -EBADF;
	r = read(t->fd, &n, sizeof(n));
	if (r < 0) {
		if (errno == EAGAIN)
			return 0;
		if (errno != ECANCELED)
			return -errno;
		/* The clock was stepped: the owner re-converts and re-arms. */
		if (t->on_fire)
			t->on_fire(t->on_fire_ctx);
		return -ECANCELED;
	}
	if (r != sizeof(n))
		return -EIO;
	if (t->on_fire)
		t->on_fire(t->on_fire_ctx);
	return 1;
}

int pvt_hosttimer_wait(struct pvt_hosttimer *t, uint64_t timeout_ns)
{
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	int r;

	if (t->fd < 0)
		return -EBADF;
	if (timeout_ns) {
		ts.tv_sec = (time_t)(timeout_ns / 1000000000ull);
		ts.tv_nsec = (long)(timeout_ns % 1000000000ull);
		tsp = &ts;
	}
	r = ppoll(&pfd, 1, tsp, NULL);
	if (r < 0)
		return -errno;
	if (!r)
		return -ETIMEDOUT;
	return pvt_hosttimer_handle(t);
}

int pvt_thread_set_timerslack(uint64_t slack_ns)
{
	if (!slack_ns)
		return -EINVAL;	/* 0 means "back to the default" to the kernel */
	if (prctl(PR_SET_TIMERSLACK, (unsigned long)slack_ns, 0, 0, 0))
		return -errno;
	return 0;
}

int pvt_thread_set_fifo(int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	if (prio < sched_get_priority_min(SCHED_FIFO) ||
	    prio > sched_get_priority_max(SCHED_FIFO))
		return -EINVAL;
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		return -errno;
	return 0;
}

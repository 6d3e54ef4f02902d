// SPDX-License-Identifier: MIT
/*
 * Host timer objects: timerfd and bring-your-own backends, and the
 * serving-thread setup (timer slack, FIFO).
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clockns.h"
#include "hosttimer-internal.h"

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
	its.it_value = timespec_of_ns(deadline_ns);
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

static const struct ht_backend tfd_backend = {
	.arm = tfd_arm,
	.disarm = tfd_disarm,
	.destroy = tfd_destroy,
};

struct pvt_hosttimer *ht_alloc(const struct ht_backend *be, clockid_t clockid)
{
	struct pvt_hosttimer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->be = be;
	t->fd = -1;
	t->clockid = clockid;
	t->heap_idx = UINT32_MAX;
	return t;
}

int pvt_hosttimer_new_timerfd(clockid_t clockid, struct pvt_hosttimer **out)
{
	struct pvt_hosttimer *t;
	int ret;

	if (clockid != CLOCK_MONOTONIC && clockid != CLOCK_REALTIME)
		return -EINVAL;
	t = ht_alloc(&tfd_backend, clockid);
	if (!t)
		return -ENOMEM;
	t->fd = timerfd_create(clockid, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->fd < 0) {
		ret = -errno;
		free(t);
		return ret;
	}
	*out = t;
	return 0;
}

/* Straight through: the caller's timer keeps its own books (arming is hot). */
static int ops_arm(struct pvt_hosttimer *t, uint64_t deadline_ns)
{
	return t->ops->arm(t->ctx, deadline_ns ? deadline_ns : 1);
}

static int ops_disarm(struct pvt_hosttimer *t)
{
	return t->ops->disarm(t->ctx);
}

static void ops_destroy(struct pvt_hosttimer *t)
{
	if (t->ops->destroy)
		t->ops->destroy(t->ctx);
}

static const struct ht_backend ops_backend = {
	.arm = ops_arm,
	.disarm = ops_disarm,
	.destroy = ops_destroy,
};

int pvt_hosttimer_new_ops(const struct pvt_hosttimer_ops *ops, void *ctx,
			  clockid_t clockid, struct pvt_hosttimer **out)
{
	struct pvt_hosttimer *t;

	if (!ops || !ops->arm || !ops->disarm || !out)
		return -EINVAL;
	t = ht_alloc(&ops_backend, clockid);
	if (!t)
		return -ENOMEM;
	t->ops = ops;
	t->ctx = ctx;
	*out = t;
	return 0;
}

void pvt_hosttimer_free(struct pvt_hosttimer *t)
{
	if (!t)
		return;
	if (t->be->destroy)
		t->be->destroy(t);
	free(t);
}

int pvt_hosttimer_fd(const struct pvt_hosttimer *t)
{
	return t->fd;
}

clockid_t pvt_hosttimer_clockid(const struct pvt_hosttimer *t)
{
	return t->clockid;
}

int pvt_hosttimer_arm(struct pvt_hosttimer *t, uint64_t deadline_ns)
{
	return t->be->arm(t, deadline_ns);
}

int pvt_hosttimer_disarm(struct pvt_hosttimer *t)
{
	return t->be->disarm(t);
}

int pvt_hosttimer_drain(struct pvt_hosttimer *t)
{
	uint64_t n;
	ssize_t r;

	if (t->fd < 0)
		return -EBADF;
	r = read(t->fd, &n, sizeof(n));
	if (r < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (r != sizeof(n))
		return -EIO;
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
		ts = timespec_of_ns(timeout_ns);
		tsp = &ts;
	}
	r = ppoll(&pfd, 1, tsp, NULL);
	if (r < 0)
		return -errno;
	if (!r)
		return -ETIMEDOUT;
	return 0;
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

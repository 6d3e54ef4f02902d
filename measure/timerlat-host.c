// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "clockns.h"
#include "runctl.h"
#include "timerlat-host.h"

/* Idle-state exits through the outer hypervisor add µs to every wake-up: forbid them. */
static void hold_dma_latency(struct timerlat_host_env *env)
{
	int32_t zero = 0;
	int fd = open("/dev/cpu_dma_latency", O_RDWR | O_CLOEXEC);

	env->dma_fd = -1;
	if (fd < 0) {
		env->dma_latency_errno = errno;
		return;
	}
	if (write(fd, &zero, sizeof(zero)) != (ssize_t)sizeof(zero)) {
		env->dma_latency_errno = errno ? errno : EIO;
		close(fd);
		return;
	}
	env->dma_fd = fd;	/* the request lasts as long as the fd stays open */
	env->dma_latency_held = true;
}

static int set_scheduling(const struct timerlat_host_opts *opts, struct timerlat_host_env *env)
{
	int err;

	if (opts->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(opts->cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			err = errno;
			snprintf(env->error, sizeof(env->error), "--cpu %d: cannot pin to this CPU: %s",
				 opts->cpu, strerror(err));
			return -err;
		}
	}
	if (opts->fifo_priority) {
		struct sched_param sp = { .sched_priority = opts->fifo_priority };

		if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
			err = errno;
			snprintf(env->error, sizeof(env->error), "--fifo %d: SCHED_FIFO not permitted: %s%s",
				 opts->fifo_priority, strerror(err),
				 err == EPERM ? " (needs root or CAP_SYS_NICE)" : "");
			return -err;
		}
	}
	return 0;
}

int timerlat_host_measure(const struct timerlat_host_opts *opts,
			  struct timerlat_report *r)
{
	struct runctl rc;

	runctl_start(&rc, "timerlat", opts->duration_ns ? 0 : opts->loops, opts->duration_ns,
		     !opts->progress);
	for (uint64_t i = 0; i < opts->loops; i++) {
		uint64_t t0 = clock_now_ns(CLOCK_MONOTONIC), deadline = t0 + opts->interval_ns;
		struct timespec ts = timespec_of_ns(deadline);
		int ret;

		if (runctl_should_stop(&rc, i, t0))
			break;
		/* The seed's loop: a relative sleep expressed as an absolute deadline. */
		while ((ret = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
			if (runctl_signal())
				break;
		if (ret == EINTR)
			break;	/* stopped mid-sleep: not a sample */
		if (ret) {
			runctl_end(&rc);
			return -ret;
		}
		if (timerlat_report_add(r, clock_now_ns(CLOCK_MONOTONIC) - t0)) {
			runctl_end(&rc);
			return -ENOMEM;
		}
	}
	runctl_end(&rc);
	return 0;
}

int timerlat_host_setup(const struct timerlat_host_opts *opts,
			struct timerlat_host_env *env)
{
	int ret;

	*env = (struct timerlat_host_env){ .dma_fd = -1 };
	ret = set_scheduling(opts, env);
	if (ret)
		return ret;
	env->timer_slack_1ns = prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == 0;
	env->mlocked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
	if (!env->mlocked)
		env->mlock_errno = errno;
	hold_dma_latency(env);
	return 0;
}

void timerlat_host_teardown(struct timerlat_host_env *env)
{
	if (env->dma_fd >= 0)
		close(env->dma_fd);
	env->dma_fd = -1;
	if (env->mlocked)
		munlockall();
}

// SPDX-License-Identifier: MIT
/*
 * KVM_GET_CLOCK backend: with a master clock the kernel returns the host
 * TSC and CLOCK_REALTIME computed from one TSC read, so the pairing is exact
 * (to the ns truncation). Host timers then run on CLOCK_REALTIME, which can
 * be stepped: hosttimer arms those with TFD_TIMER_CANCEL_ON_SET.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clockread.h"
#include "hostclock-internal.h"

#if defined(__x86_64__) && __has_include(<linux/kvm.h>)
#include <linux/kvm.h>

/*
 * Step watch: a CLOCK_REALTIME timerfd armed (absolute) for a date no host
 * reaches, with TFD_TIMER_CANCEL_ON_SET, so it never fires but every set of
 * the clock makes its read() fail with ECANCELED, even while no vCPU has a
 * host timer armed. Whoever polls it first counts the step; steps is an
 * atomic so the arm path's staleness check stays one load.
 */
struct kvm_ctx {
	int vm_fd;
	int watch_fd;
	uint64_t steps;		/* atomic */
	int poll_lock;		/* atomic: read + count as one step */
};

#define WATCH_SEC	(1ll << 40)	/* about 34 800 years from 1970 */
#define DEFAULT_CALIB_NS	2000000ull	/* rate from two KVM_GET_CLOCKs 2 ms apart */

static int watch_arm(int fd)
{
	struct itimerspec its = { .it_value = { .tv_sec = WATCH_SEC } };

	if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL))
		return -errno;
	return 0;
}

static uint64_t kvm_steps(void *ctx, bool poll)
{
	struct kvm_ctx *k = ctx;
	uint64_t ticks;

	if (poll) {
		/*
		 * Serialised: a poller that saw EAGAIN while another was
		 * between its ECANCELED and the count would miss the step.
		 */
		while (__atomic_exchange_n(&k->poll_lock, 1, __ATOMIC_ACQUIRE))
			__builtin_ia32_pause();
		if (read(k->watch_fd, &ticks, sizeof(ticks)) < 0 && errno == ECANCELED) {
			__atomic_fetch_add(&k->steps, 1, __ATOMIC_RELEASE);
			(void)watch_arm(k->watch_fd);	/* stay armed for the next */
		}
		__atomic_store_n(&k->poll_lock, 0, __ATOMIC_RELEASE);
	}
	return __atomic_load_n(&k->steps, __ATOMIC_ACQUIRE);
}

static void kvm_destroy(void *ctx)
{
	struct kvm_ctx *k = ctx;

	if (k && k->watch_fd >= 0)
		close(k->watch_fd);
	free(k);
}

static uint64_t kvm_read_tsc(void *ctx)
{
	(void)ctx;
	return pvt_rdtsc_lfence();
}

static uint64_t kvm_read_mono(void *ctx)
{
	(void)ctx;
	return clock_now_ns(CLOCK_REALTIME);
}

static int kvm_pair(void *ctx, struct pvt_clock_pair *out)
{
	struct kvm_ctx *k = ctx;
	struct kvm_clock_data data;
	const unsigned need = KVM_CLOCK_HOST_TSC | KVM_CLOCK_REALTIME;

	memset(&data, 0, sizeof(data));
	if (ioctl(k->vm_fd, KVM_GET_CLOCK, &data))
		return -errno;
	if ((data.flags & need) != need)
		return -EOPNOTSUPP;
	out->tsc = data.host_tsc;
	out->mono_ns = data.realtime;
	out->uncertainty_ns = 1;
	return 0;
}

static const struct pvt_hostclock_ops kvm_ops = {
	.name = "kvm",
	.pair = kvm_pair,
	.read_tsc = kvm_read_tsc,
	.read_mono = kvm_read_mono,
	.freq_ppb = hc_kernel_freq_ppb,
	.destroy = kvm_destroy,
	.steps = kvm_steps,
};

int pvt_hostclock_new_kvm(int vm_fd, uint64_t calib_ns, struct pvt_hostclock **out)
{
	struct pvt_clock_pair a = { 0 }, b = { 0 };	/* set before use; gcc -O3 cannot tell */
	struct pvt_rate rate;
	struct kvm_ctx *k;
	int ret;

	if (!calib_ns)
		calib_ns = DEFAULT_CALIB_NS;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->vm_fd = vm_fd;
	k->watch_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (k->watch_fd < 0) {
		ret = -errno;
		free(k);
		return ret;
	}
	ret = watch_arm(k->watch_fd);
	if (!ret)
		ret = kvm_pair(k, &a);
	while (!ret) {
		ret = kvm_pair(k, &b);
		if (!ret && b.mono_ns > a.mono_ns && b.tsc > a.tsc &&
		    b.mono_ns - a.mono_ns >= calib_ns)
			break;
	}
	if (!ret)
		ret = pvt_rate_from_delta(b.mono_ns - a.mono_ns, b.tsc - a.tsc, &rate);
	if (!ret)
		ret = pvt_hostclock_new_ops(&kvm_ops, k, CLOCK_REALTIME,
					    PVT_HOSTCLOCK_F_REALTIME, &rate, out);
	if (ret) {
		kvm_destroy(k);
		return ret;
	}
	(*out)->step_fd = k->watch_fd;
	return 0;
}
#else
int pvt_hostclock_new_kvm(int vm_fd, uint64_t calib_ns, struct pvt_hostclock **out)
{
	(void)out;
	(void)vm_fd;
	(void)calib_ns;
	return -EOPNOTSUPP;
}
#endif

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
#include <time.h>

#include "pvtime/hostclock.h"
#include "hostclock-internal.h"

#if defined(__x86_64__) && __has_include(<linux/kvm.h>)
#include <linux/kvm.h>

struct kvm_ctx {
	int vm_fd;
};

static uint64_t kvm_read_tsc(void *ctx)
{
	(void)ctx;
	__builtin_ia32_lfence();
	return __builtin_ia32_rdtsc();
}

static uint64_t kvm_read_mono(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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
	.destroy = hc_free_ctx,
};

int pvt_hostclock_init_kvm(struct pvt_hostclock *hc, int vm_fd, uint64_t calib_ns)
{
	struct pvt_clock_pair a, b;
	struct pvt_rate rate;
	struct kvm_ctx *k;
	int ret;

	if (!calib_ns)
		calib_ns = 2000000;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->vm_fd = vm_fd;
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
		ret = pvt_hostclock_init_ops(hc, &kvm_ops, k, CLOCK_REALTIME,
					     PVT_HOSTCLOCK_F_REALTIME, &rate);
	if (ret)
		free(k);
	return ret;
}
#else
int pvt_hostclock_init_kvm(struct pvt_hostclock *hc, int vm_fd, uint64_t calib_ns)
{
	(void)hc;
	(void)vm_fd;
	(void)calib_ns;
	return -EOPNOTSUPP;
}
#endif

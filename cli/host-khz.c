// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "host-khz.h"

static int from_kvm(uint32_t *khz)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -1, vcpu = -1, ret = -ENODEV;

	if (kvm < 0)
		return -errno;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm >= 0) {
		/* The VM-wide form needs KVM_CAP_VM_TSC_CONTROL; a vCPU always has it. */
		ret = ioctl(vm, KVM_GET_TSC_KHZ, 0);
		if (ret <= 0) {
			vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
			ret = vcpu >= 0 ? ioctl(vcpu, KVM_GET_TSC_KHZ, 0) : -1;
		}
		ret = ret > 0 ? (*khz = (uint32_t)ret, 0) : -ENODEV;
	}
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return ret;
}

#if defined(__x86_64__) || defined(__i386__)
static uint64_t rdtsc_now(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The TSC between two RAW reads; the pair's midpoint stands for the TSC read. */
static void sample(uint64_t *tsc, uint64_t *ns)
{
	uint64_t a = raw_ns();

	*tsc = rdtsc_now();
	*ns = a + (raw_ns() - a) / 2;
}

static int from_calibration(uint32_t *khz)
{
	struct timespec pause = { .tv_nsec = 50000000 };
	uint64_t t0, n0, t1, n1;

	sample(&t0, &n0);
	nanosleep(&pause, NULL);
	sample(&t1, &n1);
	if (n1 <= n0 || t1 <= t0)
		return -EIO;
	*khz = (uint32_t)(((unsigned __int128)(t1 - t0) * 1000000 + (n1 - n0) / 2) / (n1 - n0));
	return *khz ? 0 : -EIO;
}
#else
static int from_calibration(uint32_t *khz)
{
	(void)khz;
	return -ENOTSUP;
}
#endif

static int from_cpuinfo(uint32_t *khz)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	double mhz = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
			break;
	fclose(f);
	if (mhz <= 0 || mhz > 4.0e6)
		return -ENODEV;
	*khz = (uint32_t)(mhz * 1000 + 0.5);
	return 0;
}

int host_tsc_khz(uint32_t *khz, const char **source)
{
	if (!from_kvm(khz)) {
		*source = "KVM_GET_TSC_KHZ";
		return 0;
	}
	if (!from_calibration(khz)) {
		*source = "RDTSC vs CLOCK_MONOTONIC_RAW calibration";
		return 0;
	}
	if (!from_cpuinfo(khz)) {
		*source = "/proc/cpuinfo cpu MHz";
		return 0;
	}
	return -ENODEV;
}

// SPDX-License-Identifier: MIT
/*
 * Host facts from the running system: KVM's TSC frequency, a calibration
 * against CLOCK_MONOTONIC_RAW when KVM is not there, the CPU vendor's TSC
 * ratio width, and a live vCPU's TSC as KVM set it up.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "pvtime/hostinfo.h"
#include "clockread.h"
#include "muldiv.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define HAVE_X86 1
#endif

#define CALIB_DEFAULT_NS	50000000ull
#define CALIB_MAX_NS		10000000000ull

const char *pvt_tsc_khz_source_name(enum pvt_tsc_khz_source source)
{
	switch (source) {
	case PVT_TSC_KHZ_KVM:
		return "KVM_GET_TSC_KHZ";
	case PVT_TSC_KHZ_CALIBRATED:
		return "RDTSC vs CLOCK_MONOTONIC_RAW calibration";
	case PVT_TSC_KHZ_CPUINFO:
		return "/proc/cpuinfo cpu MHz";
	}
	return "?";
}

int pvt_host_tsc_khz_kvm(uint32_t *khz)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, vcpu = -1, ret;

	if (kvm < 0)
		return -errno;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		ret = -errno;
		close(kvm);
		return ret;
	}
	/* The VM-wide form needs KVM_CAP_VM_TSC_CONTROL; a vCPU always has it. */
	ret = ioctl(vm, KVM_GET_TSC_KHZ, 0);
	if (ret <= 0) {
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
		ret = vcpu >= 0 ? ioctl(vcpu, KVM_GET_TSC_KHZ, 0) : -1;
		ret = ret < 0 ? -errno : ret;
	}
	if (ret > 0)
		*khz = (uint32_t)ret;
	if (vcpu >= 0)
		close(vcpu);
	close(vm);
	close(kvm);
	return ret > 0 ? 0 : ret == 0 ? -ENODEV : ret;
}

#ifdef HAVE_X86
/*
 * The TSC between two RAW reads; the pair's midpoint stands for the TSC
 * read. The second lfence keeps the closing read after the TSC read.
 */
static void sample(uint64_t *tsc, uint64_t *ns)
{
	uint64_t a = clock_now_ns(CLOCK_MONOTONIC_RAW);

	*tsc = pvt_rdtsc_lfence();
	__builtin_ia32_lfence();
	*ns = a + (clock_now_ns(CLOCK_MONOTONIC_RAW) - a) / 2;
}

int pvt_host_tsc_khz_calibrate(uint64_t duration_ns, uint32_t *khz)
{
	uint64_t t0, n0, t1, n1, q, rem;

	if (!duration_ns)
		duration_ns = CALIB_DEFAULT_NS;
	if (duration_ns > CALIB_MAX_NS)
		return -EINVAL;
	sample(&t0, &n0);
	sleep_ns(duration_ns);
	sample(&t1, &n1);
	if (n1 <= n0 || t1 <= t0)
		return -EIO;
	/* kHz = ticks * 10^6 / ns, to nearest; the quotient fits (ticks < 2^64 / 10^6 * ns). */
	q = pvt_div128_64((pvt_u128)(t1 - t0) * 1000000u + (n1 - n0) / 2, n1 - n0, &rem);
	if (!q || q > UINT32_MAX)
		return -EIO;
	*khz = (uint32_t)q;
	return 0;
}

int pvt_host_frac_bits(unsigned *frac_bits)
{
	unsigned max, ebx, ecx, edx;
	char vendor[13];

	if (!__get_cpuid(0, &max, &ebx, &ecx, &edx))
		return -ENODEV;
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &edx, 4);
	memcpy(vendor + 8, &ecx, 4);
	vendor[12] = '\0';
	if (!strcmp(vendor, "GenuineIntel"))
		*frac_bits = PVT_FRAC_BITS_VMX;
	else if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"))
		*frac_bits = PVT_FRAC_BITS_SVM;
	else
		return -ENODEV;
	return 0;
}
#else
int pvt_host_tsc_khz_calibrate(uint64_t duration_ns, uint32_t *khz)
{
	(void)duration_ns;
	(void)khz;
	return -ENOTSUP;
}

int pvt_host_frac_bits(unsigned *frac_bits)
{
	(void)frac_bits;
	return -ENOTSUP;
}
#endif

static int from_cpuinfo(uint32_t *khz)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];
	double mhz = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
			break;
	fclose(f);
	if (!(mhz > 0 && mhz < 4.0e6))
		return -ENODEV;
	*khz = (uint32_t)(mhz * 1000 + 0.5);
	return 0;
}

int pvt_host_tsc_khz(uint32_t *khz, enum pvt_tsc_khz_source *source)
{
	enum pvt_tsc_khz_source src;

	if (!pvt_host_tsc_khz_kvm(khz))
		src = PVT_TSC_KHZ_KVM;
	else if (!pvt_host_tsc_khz_calibrate(0, khz))
		src = PVT_TSC_KHZ_CALIBRATED;
	else if (!from_cpuinfo(khz))
		src = PVT_TSC_KHZ_CPUINFO;
	else
		return -ENODEV;
	if (source)
		*source = src;
	return 0;
}

int pvt_kvm_vcpu_tsc(int vcpu_fd, uint32_t host_khz, unsigned frac_bits,
		     struct pvt_kvm_vcpu_tsc *out)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	uint64_t offset = 0;
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uintptr_t)&offset,
	};
	int guest_khz, ret;

	guest_khz = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (guest_khz < 0)
		return -errno;
	if (!guest_khz)
		return -ENODEV;
	if (ioctl(vcpu_fd, KVM_GET_DEVICE_ATTR, &attr) < 0)
		return -errno;
	if (!host_khz && (ret = pvt_host_tsc_khz_kvm(&host_khz)))
		return ret;
	if (!frac_bits && (ret = pvt_host_frac_bits(&frac_bits)))
		return ret;
	ret = pvt_kvm_clock_init(&kvm, host_khz, frac_bits);
	if (!ret)
		ret = pvt_kvm_tsc_scaling(&kvm, (uint32_t)guest_khz, offset, &tsc);
	if (ret)
		return ret;
	out->tsc = tsc;
	out->host_khz = host_khz;
	out->guest_khz = (uint32_t)guest_khz;
	out->advertised_khz = pvt_kvm_advertised_khz(&kvm, &out->tsc);
	return 0;
}

int pvt_kvm_vcpu_guest_clock(int vcpu_fd, uint32_t host_khz, unsigned frac_bits,
			     const struct pvt_pvclock_page *page,
			     struct pvt_guest_clock *clock)
{
	struct pvt_kvm_vcpu_tsc t;
	int ret;

	if (pvt_pvclock_page_check(page))
		return -EINVAL;
	ret = pvt_kvm_vcpu_tsc(vcpu_fd, host_khz, frac_bits, &t);
	if (ret)
		return ret;
	clock->tsc = t.tsc;
	clock->page = *page;
	return pvt_guest_clock_check(clock);
}

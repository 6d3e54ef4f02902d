/* SPDX-License-Identifier: MIT */
/*
 * Facts about this host and its KVM that a VMM needs to build a guest's
 * clock: the host TSC frequency, the width of the CPU's TSC ratio, and a
 * live vCPU's TSC scaling, offset and advertised frequency.
 *
 * Everything here asks the running system (/dev/kvm, CPUID, the TSC);
 * nothing is hard-coded. Errors are negative errno values.
 */
#ifndef PVTIME_HOSTINFO_H
#define PVTIME_HOSTINFO_H

#include <stdint.h>

#include "pvtime/export.h"
#include "pvtime/guestclock.h"

PVT_BEGIN_DECLS

/* Where pvt_host_tsc_khz() found the frequency. */
enum pvt_tsc_khz_source {
	PVT_TSC_KHZ_KVM = 1,		/* KVM_GET_TSC_KHZ: what KVM itself believes */
	PVT_TSC_KHZ_CALIBRATED,		/* the TSC against CLOCK_MONOTONIC_RAW */
	PVT_TSC_KHZ_CPUINFO,		/* /proc/cpuinfo "cpu MHz" (last resort) */
};

/* A short description of a source ("KVM_GET_TSC_KHZ", ...), "?" if unknown. */
PVT_API const char *pvt_tsc_khz_source_name(enum pvt_tsc_khz_source source);

/*
 * The host TSC frequency: KVM_GET_TSC_KHZ on a scratch VM (then on a
 * scratch vCPU), else a ~50 ms calibration, else /proc/cpuinfo. *source
 * (may be NULL) says which answered. -ENODEV if none did.
 */
PVT_API int pvt_host_tsc_khz(uint32_t *khz, enum pvt_tsc_khz_source *source);

/* KVM's host TSC kHz only (scratch VM, then vCPU). -errno from /dev/kvm, -ENODEV if KVM says 0. */
PVT_API int pvt_host_tsc_khz_kvm(uint32_t *khz);

/*
 * Measures the TSC against CLOCK_MONOTONIC_RAW over duration_ns (0: 50 ms;
 * at most 10 s), rounded to the nearest kHz. -EINVAL for a longer duration,
 * -EIO if the TSC or the clock did not advance, -ENOTSUP off x86.
 */
PVT_API int pvt_host_tsc_khz_calibrate(uint64_t duration_ns, uint32_t *khz);

/*
 * The fraction bits of this CPU's TSC ratio: PVT_FRAC_BITS_VMX (48) on
 * Intel, PVT_FRAC_BITS_SVM (32) on AMD and Hygon (CPUID vendor). -ENODEV
 * for another vendor, -ENOTSUP off x86. It says nothing about whether KVM
 * can scale here (many hosts, nested ones especially, cannot).
 */
PVT_API int pvt_host_frac_bits(unsigned *frac_bits);

/* One live vCPU's TSC as KVM set it up. */
struct pvt_kvm_vcpu_tsc {
	uint32_t host_khz;		/* host TSC kHz the model used */
	uint32_t guest_khz;		/* KVM_GET_TSC_KHZ on the vCPU: the kHz it runs at */
	uint64_t advertised_khz;	/* host_khz scaled by the ratio: what its pvclock advertises */
	struct pvt_tsc_scaling tsc;	/* KVM's ratio (its +-250 ppm rule), offset, frac_bits */
};

/*
 * Reads vcpu_fd's TSC frequency and offset (KVM_VCPU_TSC_OFFSET) and derives
 * the ratio and advertised kHz exactly as KVM does. host_khz 0 asks
 * pvt_host_tsc_khz_kvm(), frac_bits 0 asks pvt_host_frac_bits().
 * -errno from the ioctls, -EINVAL / -ERANGE from the model.
 */
PVT_API int pvt_kvm_vcpu_tsc(int vcpu_fd, uint32_t host_khz, unsigned frac_bits,
			     struct pvt_kvm_vcpu_tsc *out);

/*
 * The clock a live vCPU's guest reads: its TSC (pvt_kvm_vcpu_tsc()) and the
 * pvclock page the caller copied from guest memory. -EINVAL if the page
 * fails pvt_pvclock_page_check(); else as pvt_kvm_vcpu_tsc().
 */
PVT_API int pvt_kvm_vcpu_guest_clock(int vcpu_fd, uint32_t host_khz, unsigned frac_bits,
				     const struct pvt_pvclock_page *page,
				     struct pvt_guest_clock *clock);

PVT_END_DECLS

#endif

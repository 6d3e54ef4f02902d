// SPDX-License-Identifier: MIT
/*
 * A vCPU's clock as the guest computes it, its exact inverse, and KVM's
 * model of the clock it hands each vCPU.
 */
#include <errno.h>

#include "pvtime/guestclock.h"

/* KVM scales a vCPU's TSC only outside this tolerance around the host rate. */
#define KVM_TSC_TOLERANCE_PPM	250u

int pvt_guest_clock_check(const struct pvt_guest_clock *clock)
{
	if (!pvt_frac_bits_valid(clock->tsc.frac_bits) || !clock->tsc.ratio)
		return -EINVAL;
	return pvt_pvclock_page_check(&clock->page);
}

int pvt_guest_clock_host_tsc_at(const struct pvt_guest_clock *clock,
				uint64_t now_host_tsc, uint64_t deadline_ns,
				uint64_t *host_tsc)
{
	const struct pvt_pvclock_page *page = &clock->page;
	uint64_t now_guest_tsc = pvt_guest_tsc(&clock->tsc, now_host_tsc);
	uint64_t now_ns = pvt_pvclock_ns(page, now_guest_tsc);
	uint64_t now_delta_tsc, now_delta_ns, target_delta_ns, target_delta_tsc;
	uint64_t ahead_ns;
	int ret;

	*host_tsc = now_host_tsc;
	if ((int64_t)(deadline_ns - now_ns) <= 0)
		return 0;

	/* Work in deltas from the page's reference, where the clock is monotonic. */
	now_delta_tsc = now_guest_tsc - page->tsc_timestamp;
	now_delta_ns = now_ns - page->system_time;
	target_delta_ns = now_delta_ns + (deadline_ns - now_ns);
	if (target_delta_ns < now_delta_ns) {
		*host_tsc = UINT64_MAX;
		return -ERANGE;
	}

	ret = pvt_scale_delta_inverse(target_delta_ns, page->tsc_to_system_mul,
				      page->tsc_shift, &target_delta_tsc);
	if (ret) {
		*host_tsc = UINT64_MAX;
		return ret;
	}
	/* Only a page whose shifted delta wraps can break monotonicity here. */
	if (target_delta_tsc < now_delta_tsc) {
		*host_tsc = UINT64_MAX;
		return -ERANGE;
	}
	ret = pvt_tsc_scale_inverse(now_host_tsc, target_delta_tsc - now_delta_tsc,
				    clock->tsc.ratio, clock->tsc.frac_bits,
				    host_tsc);
	if (ret)
		return ret;
	/*
	 * One host tick can advance the guest TSC by many ticks; with a hostile
	 * shift that step can wrap the shifted delta and the clock never reads
	 * the deadline. A guest TSC faster than the host can likewise step
	 * over 2^64, and its clock falls back (more than 2^63 "ahead").
	 * Check the answer rather than trust it.
	 */
	ahead_ns = pvt_guest_clock_ns(clock, *host_tsc) - now_ns;
	if (ahead_ns < deadline_ns - now_ns || (int64_t)ahead_ns < 0) {
		*host_tsc = UINT64_MAX;
		return -ERANGE;
	}
	return 0;
}

int pvt_kvm_clock_init(struct pvt_kvm_clock *kvm, uint32_t host_khz,
		       unsigned frac_bits)
{
	int ret;

	if (!host_khz || !pvt_frac_bits_valid(frac_bits))
		return -EINVAL;
	*kvm = (struct pvt_kvm_clock){
		.host_khz = host_khz,
		.frac_bits = (uint8_t)frac_bits,
	};
	ret = pvt_time_scale(PVT_NSEC_PER_SEC, (uint64_t)host_khz * 1000,
			     &kvm->host_mul, &kvm->host_shift);
	return ret ? -EINVAL : 0;
}

bool pvt_kvm_scaling_needed(uint32_t host_khz, uint32_t guest_khz)
{
	uint64_t lo = (uint64_t)host_khz * (1000000 - KVM_TSC_TOLERANCE_PPM) / 1000000;
	uint64_t hi = (uint64_t)host_khz * (1000000 + KVM_TSC_TOLERANCE_PPM) / 1000000;

	return guest_khz < lo || guest_khz > hi;
}

int pvt_kvm_tsc_scaling(const struct pvt_kvm_clock *kvm, uint32_t guest_khz,
			uint64_t tsc_offset, struct pvt_tsc_scaling *tsc)
{
	uint64_t ratio = pvt_tsc_ratio_one(kvm->frac_bits);
	int ret;

	if (!guest_khz)
		return -EINVAL;
	if (pvt_kvm_scaling_needed(kvm->host_khz, guest_khz)) {
		ret = pvt_tsc_ratio(kvm->host_khz, guest_khz, kvm->frac_bits,
				    &ratio);
		if (ret)
			return ret;
		if (!ratio)
			return -ERANGE;
	}
	*tsc = (struct pvt_tsc_scaling){
		.ratio = ratio,
		.offset = tsc_offset,
		.frac_bits = kvm->frac_bits,
	};
	return 0;
}

uint64_t pvt_kvm_advertised_khz(const struct pvt_kvm_clock *kvm,
				const struct pvt_tsc_scaling *tsc)
{
	if (tsc->ratio == pvt_tsc_ratio_one(tsc->frac_bits))
		return kvm->host_khz;
	return pvt_tsc_scale(kvm->host_khz, tsc->ratio, tsc->frac_bits);
}

int pvt_kvm_guest_clock(const struct pvt_kvm_clock *kvm,
			const struct pvt_tsc_scaling *tsc,
			struct pvt_guest_clock *clock)
{
	uint64_t khz = pvt_kvm_advertised_khz(kvm, tsc);
	uint32_t mul;
	int8_t shift;

	if (!khz || khz > UINT64_MAX / 1000 ||
	    pvt_time_scale(PVT_NSEC_PER_SEC, khz * 1000, &mul, &shift))
		return -ERANGE;
	*clock = (struct pvt_guest_clock){
		.tsc = *tsc,
		.page = {
			.version = 2,
			.tsc_timestamp = pvt_guest_tsc(tsc, kvm->master_tsc),
			.system_time = kvm->master_ns +
				       (uint64_t)kvm->kvmclock_offset_ns,
			.tsc_to_system_mul = mul,
			.tsc_shift = shift,
			.flags = PVT_PVCLOCK_TSC_STABLE,
		},
	};
	return 0;
}

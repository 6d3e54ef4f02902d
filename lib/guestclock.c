// SPDX-License-Identifier: MIT
/*
 * A vCPU's clock as the guest computes it, its exact inverse, and KVM's
 * model of the clock it hands each vCPU.
 */
#include <errno.h>
#include <stddef.h>

#include "pvtime/guestclock.h"
#include "inverse.h"

/* The pvclock page is the guest/hypervisor ABI: a padding change would corrupt every read. */
_Static_assert(sizeof(struct pvt_pvclock_page) == 32, "pvclock page is 32 bytes");
_Static_assert(offsetof(struct pvt_pvclock_page, version) == 0, "version at 0");
_Static_assert(offsetof(struct pvt_pvclock_page, tsc_timestamp) == 8, "tsc_timestamp at 8");
_Static_assert(offsetof(struct pvt_pvclock_page, system_time) == 16, "system_time at 16");
_Static_assert(offsetof(struct pvt_pvclock_page, tsc_to_system_mul) == 24, "mul at 24");
_Static_assert(offsetof(struct pvt_pvclock_page, tsc_shift) == 28, "tsc_shift at 28");
_Static_assert(offsetof(struct pvt_pvclock_page, flags) == 29, "flags at 29");

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
	const uint64_t ratio = clock->tsc.ratio;
	const unsigned frac = clock->tsc.frac_bits;
	const uint32_t mul = page->tsc_to_system_mul;
	const int shift = page->tsc_shift;
	/* The full-width scaled TSC at now: the inverse continues from it. */
	pvt_u128 now_full = ((pvt_u128)now_host_tsc * ratio) >> frac;
	/*
	 * The clock is monotonic along a run: guest TSC deltas (from the page's
	 * reference) whose shifted value does not wrap. A run is 2^64 ticks for
	 * shift <= 0 and 2^(64 - shift) for shift > 0; pos is the position in it.
	 */
	uint64_t run_mask = shift > 0 ? UINT64_MAX >> shift : UINT64_MAX;
	uint64_t now_delta_tsc = (uint64_t)now_full + clock->tsc.offset - page->tsc_timestamp;
	uint64_t now_pos = now_delta_tsc & run_mask;
	uint64_t now_delta_ns = pvt_scale_delta(now_delta_tsc, mul, page->tsc_shift);
	uint64_t now_ns = page->system_time + now_delta_ns;
	uint64_t wait_ns = deadline_ns - now_ns;
	uint64_t target_ns = now_delta_ns + wait_ns, pos, ahead_tsc, ahead_ns, step_tsc, h;
	bool fast = false;

	*host_tsc = now_host_tsc;
	if ((int64_t)wait_ns <= 0)
		return 0;
	if (target_ns > now_delta_ns && !pvt_inv_scale_delta(target_ns, mul, shift, &pos)) {
		/* The first guest tick of this run at or past the deadline. */
		ahead_tsc = pos - now_pos;
		/*
		 * With shift <= 0 the clock gains at most 1 ns per guest tick, so it
		 * reads target_ns there; a host tick moves the guest TSC at most
		 * ratio >> frac ticks past it. If that stays inside the run and
		 * below now + 2^63, h reads the deadline: skip the check below.
		 */
		step_tsc = ratio >> frac;
		fast = shift <= 0 && pos <= UINT64_MAX - step_tsc &&
		       wait_ns < (1ull << 63) - 1 - step_tsc;
	} else {
		/*
		 * This run ends first and the clock restarts from system_time. Only
		 * a clock more than 2^63 ns into its run then reads within
		 * [deadline, now + 2^63): at the ns that wrap past 2^64, from
		 * target_ns - 2^64 (or the run's first tick) on.
		 */
		if (now_delta_ns <= 1ull << 63)
			goto out_of_range;
		pos = 0;
		if (target_ns < now_delta_ns && target_ns &&
		    pvt_inv_scale_delta(target_ns, mul, shift, &pos))
			goto out_of_range;
		ahead_tsc = pos - now_pos + run_mask + 1;	/* mod 2^64 for shift <= 0 */
	}
	if (pvt_inv_tsc_scale(now_full + ahead_tsc, ratio, frac, &h))
		goto out_of_range;

	/*
	 * No host TSC before h reaches the guest tick found, and none of the
	 * guest ticks before it reads the deadline. h reads it too unless the
	 * guest tick is already past now + 2^63 (the clock skips the deadline)
	 * or a guest TSC faster than the host steps over every tick that does.
	 */
	if (!fast) {
		ahead_ns = pvt_guest_clock_ns(clock, h) - now_ns;
		if ((int64_t)ahead_ns < (int64_t)wait_ns)
			goto out_of_range;
	}
	*host_tsc = h;
	return 0;

out_of_range:
	*host_tsc = UINT64_MAX;
	return -ERANGE;
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

// SPDX-License-Identifier: MIT
/*
 * The pvclock arithmetic. Everything a guest or a hypervisor computes to
 * turn a TSC into nanoseconds lives here or in pvclock.h; docs/design.md
 * ("The arithmetic") says where each formula comes from.
 */
#include <errno.h>

#include "pvtime/pvclock.h"
#include "inverse.h"

int pvt_time_scale(uint64_t scaled_hz, uint64_t base_hz,
		   uint32_t *mul, int8_t *shift)
{
	uint64_t t = base_hz, s = scaled_hz;
	uint32_t t32;
	int sh = 0;

	/* With a zero either loop below never ends. */
	if (!scaled_hz || !base_hz)
		return -EINVAL;

	/* Bring the base under 2^32 and under twice the target... */
	while (t > (uint64_t)(s * 2) || (t >> 32)) {
		t >>= 1;
		sh--;
	}
	/*
	 * s * 2 wraps to 0 for s = 2^63 (as in KVM) and drives t to 0, which
	 * the loop below would double forever.
	 */
	if (!t)
		return -ERANGE;
	/* ...then make it larger than the target, keeping both in 32 bits. */
	t32 = (uint32_t)t;
	while (t32 <= s || (s >> 32)) {
		if ((s >> 32) || (t32 & 0x80000000u))
			s >>= 1;
		else
			t32 <<= 1;
		sh++;
	}
	if (!pvt_shift_valid(sh))
		return -ERANGE;
	*mul = (uint32_t)((s << 32) / t32);
	*shift = (int8_t)sh;
	return 0;
}

int pvt_pvclock_page_check(const struct pvt_pvclock_page *page)
{
	return pvt_shift_valid(page->tsc_shift) ? 0 : -EINVAL;
}

/*
 * A seqlock read without fences (which ThreadSanitizer cannot model): the
 * version and every field are acquire loads, so no field load moves before
 * the first version read and the second version read cannot move before any
 * field load. On x86 these are plain moves.
 */
#define LOAD(field)	__atomic_load_n(&page->field, __ATOMIC_ACQUIRE)

int pvt_pvclock_read(const volatile struct pvt_pvclock_page *page,
		     pvt_read_tsc_fn read_tsc, void *ctx,
		     struct pvt_pvclock_page *snap,
		     uint64_t *tsc, uint64_t *ns)
{
	for (unsigned int i = 0; i < PVT_PVCLOCK_READ_RETRIES; i++) {
		uint32_t version = LOAD(version);

		if (version & 1)
			continue;
		*snap = (struct pvt_pvclock_page){
			.version = version,
			.tsc_timestamp = LOAD(tsc_timestamp),
			.system_time = LOAD(system_time),
			.tsc_to_system_mul = LOAD(tsc_to_system_mul),
			.tsc_shift = LOAD(tsc_shift),
			.flags = LOAD(flags),
		};
		*tsc = read_tsc(ctx);
		if (LOAD(version) != version)
			continue;
		if (pvt_pvclock_page_check(snap))
			return -EINVAL;
		*ns = pvt_pvclock_ns(snap, *tsc);
		return 0;
	}
	return -EAGAIN;
}

#undef LOAD

int pvt_scale_delta_inverse(uint64_t ns_delta, uint32_t mul, int8_t shift,
			    uint64_t *tsc_delta)
{
	*tsc_delta = UINT64_MAX;
	if (!ns_delta) {
		*tsc_delta = 0;
		return 0;
	}
	if (!pvt_shift_valid(shift) || pvt_inv_scale_delta(ns_delta, mul, shift, tsc_delta)) {
		*tsc_delta = UINT64_MAX;
		return -ERANGE;
	}
	return 0;
}

int pvt_tsc_ratio(uint32_t host_khz, uint32_t guest_khz, unsigned frac_bits,
		  uint64_t *ratio)
{
	uint64_t q, r;

	if (!host_khz || !guest_khz || !pvt_frac_bits_valid(frac_bits))
		return -EINVAL;

	/* Long division of guest_khz << frac_bits, 16 bits at a time. */
	q = guest_khz / host_khz;
	r = guest_khz % host_khz;
	for (unsigned int done = 0; done < frac_bits; done += 16) {
		if (q >> 48)
			return -ERANGE;
		r <<= 16;
		q = (q << 16) | (r / host_khz);
		r %= host_khz;
	}
	*ratio = q;
	return 0;
}

int pvt_tsc_scale_inverse(uint64_t from_tsc, uint64_t tsc_delta,
			  uint64_t ratio, unsigned frac_bits,
			  uint64_t *host_tsc)
{
	pvt_u128 target;
	uint64_t h;

	*host_tsc = UINT64_MAX;
	if (!ratio || !pvt_frac_bits_valid(frac_bits))
		return -ERANGE;
	target = (((pvt_u128)from_tsc * ratio) >> frac_bits) + tsc_delta;
	if (pvt_inv_tsc_scale(target, ratio, frac_bits, &h))
		return -ERANGE;
	/* Several host TSCs may scale to from's value: never go back. */
	*host_tsc = h > from_tsc ? h : from_tsc;
	return 0;
}

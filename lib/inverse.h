/* SPDX-License-Identifier: MIT */
/*
 * The two exact inverse steps, inline so pvt_guest_clock_host_tsc_at()
 * shares its 128-bit products with them and pays no call overhead.
 * Freestanding: one 128/64 division each, no libgcc helpers.
 */
#ifndef PVTIME_INVERSE_H
#define PVTIME_INVERSE_H

#include <stdint.h>

#include "pvtime/pvclock.h"
#include "muldiv.h"

/*
 * Smallest d with scale_delta(d, mul, shift) >= ns (ns > 0, d not wrapping
 * the left shift); -1 when none exists.
 */
static inline int pvt_inv_scale_delta(uint64_t ns, uint32_t mul, int shift, uint64_t *d_out)
{
	uint64_t y, rem;

	if (!mul || (ns >> 32) >= mul)
		return -1;	/* ((2^64 - 1) * mul) >> 32 = mul * 2^32 - 1 is the largest value */
	/* Smallest shifted delta y with (y * mul) >> 32 >= ns. */
	y = pvt_div128_64((pvt_u128)ns << 32, mul, &rem);
	y += rem != 0;		/* cannot wrap: y <= 2^64 - 1 by the check above */
	if (shift < 0) {
		/* (d >> k) >= y  <=>  d >= y << k, if that fits. */
		if (y >> (64 + shift))
			return -1;
		*d_out = y << -shift;
	} else if (shift > 0) {
		/* d << s >= y without wrapping  <=>  d >= ceil(y / 2^s). */
		uint64_t d = (y >> shift) + ((y & ((1ull << shift) - 1)) != 0);

		if (d >> (64 - shift))
			return -1;
		*d_out = d;
	} else {
		*d_out = y;
	}
	return 0;
}

/*
 * Smallest h with (h * ratio) >> frac_bits >= target (full width);
 * -1 when no 64-bit h reaches it. ratio must be non-zero.
 */
static inline int pvt_inv_tsc_scale(pvt_u128 target, uint64_t ratio, unsigned frac_bits,
				    uint64_t *h_out)
{
	pvt_u128 shifted;
	uint64_t h, rem;

	if (ratio == 1ull << frac_bits) {
		if (target >> 64)
			return -1;
		*h_out = (uint64_t)target;
		return 0;
	}
	if (target >> (128 - frac_bits))
		return -1;
	shifted = target << frac_bits;
	if ((uint64_t)(shifted >> 64) >= ratio)
		return -1;
	h = pvt_div128_64(shifted, ratio, &rem);
	if (rem && ++h == 0)
		return -1;
	*h_out = h;
	return 0;
}

#endif

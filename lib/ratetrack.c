// SPDX-License-Identifier: MIT
/*
 * Rate arithmetic: timer-clock ns per host TSC tick as a 64.64 fixed-point
 * number. A 32-bit multiplier (as in pvclock pages) loses up to 0.25 ppb,
 * i.e. 2.5 ns over 10 s; a 64-bit fraction keeps the error below dt / 2^64.
 */
#include <errno.h>

#include "pvtime/hostclock.h"
#include "ratetrack-div.h"

uint64_t pvt_rate_apply(const struct pvt_rate *rate, uint64_t dt_tsc,
			bool round_up)
{
	pvt_u128 whole = (pvt_u128)dt_tsc * rate->ns_int;
	pvt_u128 frac = (pvt_u128)dt_tsc * rate->ns_frac;
	pvt_u128 ns = whole + (frac >> 64);

	if (round_up && (uint64_t)frac)
		ns++;
	return (ns >> 64) ? UINT64_MAX : (uint64_t)ns;
}

int pvt_rate_from_delta(uint64_t dmono_ns, uint64_t dtsc, struct pvt_rate *rate)
{
	uint64_t rem;

	if (!dtsc)
		return -EINVAL;
	rate->ns_int = dmono_ns / dtsc;
	rem = dmono_ns % dtsc;
	rate->ns_frac = pvt_div128_64((pvt_u128)rem << 64, dtsc, &rem);
	return 0;
}

int pvt_rate_from_khz(uint32_t tsc_khz, int64_t slew_ppt, struct pvt_rate *rate)
{
	/* ns/tick = (10^12 + slew_ppt) / (khz * 10^6), exactly. */
	const int64_t one = 1000000000000ll;
	uint64_t num, den, rem;

	if (!tsc_khz || slew_ppt <= -one || slew_ppt >= one)
		return -EINVAL;
	num = (uint64_t)(one + slew_ppt);
	den = (uint64_t)tsc_khz * 1000000u;
	rate->ns_int = num / den;
	rem = num % den;
	rate->ns_frac = pvt_div128_64((pvt_u128)rem << 64, den, &rem);
	return 0;
}

uint64_t pvt_rate_diff_ppb(const struct pvt_rate *a, const struct pvt_rate *b)
{
	pvt_u128 x = ((pvt_u128)a->ns_int << 64) | a->ns_frac;
	pvt_u128 y = ((pvt_u128)b->ns_int << 64) | b->ns_frac;
	pvt_u128 d = x > y ? x - y : y - x;
	uint64_t rem;

	if (!y)
		return UINT64_MAX;
	/* Scale both down until the divisor fits in 64 bits. */
	while (y >> 64) {
		y >>= 1;
		d >>= 1;
	}
	if (d && (d >> 64) >= 1000000000u)
		return UINT64_MAX;
	{
		pvt_u128 q = pvt_div128_full(d * 1000000000u, (uint64_t)y, &rem);

		if (rem)
			q++;
		return (q >> 64) ? UINT64_MAX : (uint64_t)q;
	}
}

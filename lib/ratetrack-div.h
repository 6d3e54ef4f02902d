/* SPDX-License-Identifier: MIT */
/* Full 128-by-64 division from two divq steps (the library links no libgcc __udivti3). */
#ifndef PVTIME_RATETRACK_DIV_H
#define PVTIME_RATETRACK_DIV_H

#include "muldiv.h"

/* floor(n / d) as 128 bits, and n % d. d must be non-zero. */
static inline pvt_u128 pvt_div128_full(pvt_u128 n, uint64_t d, uint64_t *rem)
{
	uint64_t hi = (uint64_t)(n >> 64), r;
	uint64_t qhi = hi / d;
	uint64_t qlo = pvt_div128_64(((pvt_u128)(hi % d) << 64) | (uint64_t)n, d, &r);

	*rem = r;
	return ((pvt_u128)qhi << 64) | qlo;
}

#endif

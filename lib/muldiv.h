/* SPDX-License-Identifier: MIT */
/* 128-bit helpers that need no libgcc division routine (freestanding). */
#ifndef PVTIME_MULDIV_H
#define PVTIME_MULDIV_H

#include <stdint.h>

typedef unsigned __int128 pvt_u128;

/*
 * floor(n / d) and n % d for a 128-bit n; the caller guarantees
 * (n >> 64) < d so the quotient fits in 64 bits (else x86 faults).
 */
static inline uint64_t pvt_div128_64(pvt_u128 n, uint64_t d, uint64_t *rem)
{
	uint64_t hi = (uint64_t)(n >> 64), lo = (uint64_t)n;
#if defined(__x86_64__)
	uint64_t q, r;

	__asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d));
	*rem = r;
	return q;
#else
	/* Restoring long division, one quotient bit per round. */
	uint64_t q = 0;

	for (int i = 63; i >= 0; i--) {
		uint64_t carry = hi >> 63;

		hi = (hi << 1) | (lo >> 63);
		lo <<= 1;
		q <<= 1;
		if (carry || hi >= d) {
			hi -= d;
			q |= 1;
		}
	}
	*rem = hi;
	return q;
#endif
}

#endif

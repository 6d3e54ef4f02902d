/* SPDX-License-Identifier: MIT */
/*
 * pvclock arithmetic: the pvclock page (Xen vcpu_time_info ABI, also KVM's
 * kvmclock), guest TSC -> ns, TSC scaling, and their exact inverses.
 *
 * Freestanding: no libc calls, no 128-bit division helpers, so the same
 * code runs inside a guest. Every function here is pure and bit-exact with
 * Linux/KVM (docs/design.md, "The arithmetic"). Errors are negative errno values.
 */
#ifndef PVTIME_PVCLOCK_H
#define PVTIME_PVCLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "pvtime/export.h"

PVT_BEGIN_DECLS

/*
 * The inline conversions need a 64x64 -> 128-bit product, which gcc and
 * clang provide as unsigned __int128 on 64-bit targets; __extension__ keeps
 * it quiet under -pedantic in C and C++.
 */
#ifndef __SIZEOF_INT128__
#error "pvtime needs a compiler with unsigned __int128 (gcc or clang, 64-bit)"
#endif

/* Xen's struct vcpu_time_info, byte for byte (32 bytes). */
struct pvt_pvclock_page {
	uint32_t version;		/* odd while the writer updates the page */
	uint32_t pad0;
	uint64_t tsc_timestamp;		/* guest TSC at system_time */
	uint64_t system_time;		/* guest ns at tsc_timestamp */
	uint32_t tsc_to_system_mul;	/* 32.32 fixed-point ns per shifted tick */
	int8_t tsc_shift;		/* applied to the TSC delta before mul */
	uint8_t flags;			/* PVT_PVCLOCK_* */
	uint8_t pad[2];
};

/*
 * The layout is the guest/hypervisor ABI: lib/guestclock.c asserts every
 * offset at compile time (not here: _Static_assert is not C99 or C++).
 */

#define PVT_PVCLOCK_TSC_STABLE		(1u << 0)
#define PVT_PVCLOCK_GUEST_STOPPED	(1u << 1)

/* Shifts outside this range make C's << and >> undefined: reject them. */
#define PVT_SHIFT_MAX			63

/* Bounded retries against a writer that never leaves an odd version. */
#define PVT_PVCLOCK_READ_RETRIES	1000

#define PVT_NSEC_PER_SEC		1000000000ull

/* True when |shift| <= 63, i.e. the shift can be applied without UB. */
static inline int pvt_shift_valid(int shift)
{
	return shift >= -PVT_SHIFT_MAX && shift <= PVT_SHIFT_MAX;
}

/* ((delta shifted by shift) * mul) >> 32; shift must satisfy pvt_shift_valid(). */
static inline uint64_t pvt_scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
	__extension__ typedef unsigned __int128 u128;

	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (uint64_t)(((u128)delta * mul) >> 32);
}

/* Guest ns that a page gives for a guest TSC value (no version protocol). */
static inline uint64_t pvt_pvclock_ns(const struct pvt_pvclock_page *page,
				      uint64_t guest_tsc)
{
	return page->system_time +
	       pvt_scale_delta(guest_tsc - page->tsc_timestamp,
			       page->tsc_to_system_mul, page->tsc_shift);
}

/*
 * KVM's kvm_get_time_scale(): mul/shift that convert base_hz ticks to
 * scaled_hz units. Both must be non-zero (-EINVAL otherwise); -ERANGE if
 * the shift would leave [-63, 63] (KVM would truncate it to s8).
 */
PVT_API int pvt_time_scale(uint64_t scaled_hz, uint64_t base_hz,
			   uint32_t *mul, int8_t *shift);

/* -EINVAL if the page's shift is unusable (a garbage page), else 0. */
PVT_API int pvt_pvclock_page_check(const struct pvt_pvclock_page *page);

/* Reads a TSC for pvt_pvclock_read(); ctx is the caller's. */
typedef uint64_t (*pvt_read_tsc_fn)(void *ctx);

/*
 * Reads a live page with the version protocol: copies it to *snapshot and
 * reads the TSC between two equal even versions. -EAGAIN after
 * PVT_PVCLOCK_READ_RETRIES torn reads, -EINVAL for a garbage shift.
 * On success *ns is the guest time at *tsc.
 */
PVT_API int pvt_pvclock_read(const volatile struct pvt_pvclock_page *page,
			     pvt_read_tsc_fn read_tsc, void *ctx,
			     struct pvt_pvclock_page *snapshot,
			     uint64_t *tsc, uint64_t *ns);

/*
 * Smallest TSC delta d (from tsc_timestamp) with scale_delta(d) >= ns_delta.
 * -ERANGE if no 64-bit delta reaches it (e.g. mul == 0); *tsc_delta is then
 * UINT64_MAX.
 */
PVT_API int pvt_scale_delta_inverse(uint64_t ns_delta, uint32_t mul, int8_t shift,
				    uint64_t *tsc_delta);

/* ---- TSC scaling: guest_tsc = ((host_tsc * ratio) >> frac_bits) + offset ---- */

#define PVT_FRAC_BITS_VMX	48	/* Intel VMX TSC multiplier */
#define PVT_FRAC_BITS_SVM	32	/* AMD SVM TSC ratio */

/* True for the two fractional widths hardware uses (32, 48). */
static inline int pvt_frac_bits_valid(unsigned frac_bits)
{
	return frac_bits == PVT_FRAC_BITS_VMX || frac_bits == PVT_FRAC_BITS_SVM;
}

/* 2^frac_bits: the ratio that means "no scaling". */
static inline uint64_t pvt_tsc_ratio_one(unsigned frac_bits)
{
	return 1ull << frac_bits;
}

/*
 * The raw ratio floor(2^frac_bits * guest_khz / host_khz).
 * -EINVAL for a zero kHz or bad frac_bits, -ERANGE if it exceeds 64 bits.
 */
PVT_API int pvt_tsc_ratio(uint32_t host_khz, uint32_t guest_khz, unsigned frac_bits,
			  uint64_t *ratio);

/* (host_tsc * ratio) >> frac_bits, full 128-bit product truncated to 64. */
static inline uint64_t pvt_tsc_scale(uint64_t host_tsc, uint64_t ratio,
				     unsigned frac_bits)
{
	__extension__ typedef unsigned __int128 u128;

	return (uint64_t)(((u128)host_tsc * ratio) >> frac_bits);
}

/*
 * Smallest host TSC h >= from_tsc whose full-width scaled value
 * (h * ratio) >> frac_bits is >= from's scaled value + tsc_delta.
 * -ERANGE (and UINT64_MAX) if no 64-bit host TSC reaches it or ratio is 0.
 */
PVT_API int pvt_tsc_scale_inverse(uint64_t from_tsc, uint64_t tsc_delta,
				  uint64_t ratio, unsigned frac_bits,
				  uint64_t *host_tsc);

PVT_END_DECLS

#endif

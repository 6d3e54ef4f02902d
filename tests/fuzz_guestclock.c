// SPDX-License-Identifier: MIT
/*
 * Fuzzes the guest clock with hostile pages and scalings, as an untrusted
 * guest could register them. Whatever the input: no UB (the sanitizers
 * watch), a clean error for unusable clocks, and for usable ones an inverse
 * that never returns a host TSC before "now" and, when the guest clock is
 * monotonic over the interval, is exact.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pvtime/guestclock.h"

static uint64_t take_u64(const uint8_t **p, size_t *left)
{
	uint64_t v = 0;
	size_t n = *left < 8 ? *left : 8;

	memcpy(&v, *p, n);
	*p += n;
	*left -= n;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data;
	size_t left = size;
	struct pvt_guest_clock clock;
	struct pvt_pvclock_page page;
	uint64_t now, deadline, host_tsc, sel;
	int ret;

	memset(&clock, 0, sizeof(clock));
	sel = take_u64(&p, &left);
	clock.tsc.frac_bits = (sel & 1) ? PVT_FRAC_BITS_SVM : PVT_FRAC_BITS_VMX;
	if (sel & 2)
		clock.tsc.frac_bits = (uint8_t)(sel >> 8);	/* often invalid */
	clock.tsc.ratio = take_u64(&p, &left);
	if (sel & 4)
		clock.tsc.ratio = pvt_tsc_ratio_one(clock.tsc.frac_bits & 63);
	clock.tsc.offset = take_u64(&p, &left);
	memset(&page, 0, sizeof(page));
	memcpy(&page, p, left < sizeof(page) ? left : sizeof(page));
	p += left < sizeof(page) ? left : sizeof(page);
	left -= left < sizeof(page) ? left : sizeof(page);
	clock.page = page;
	now = take_u64(&p, &left);
	deadline = take_u64(&p, &left);

	if (pvt_guest_clock_check(&clock))
		return 0;	/* rejected cleanly: nothing may be computed from it */

	ret = pvt_guest_clock_host_tsc_at(&clock, now, deadline, &host_tsc);
	if (ret) {
		if (host_tsc != UINT64_MAX)
			abort();	/* errors saturate, documented */
		return 0;
	}
	{
		uint64_t now_ns = pvt_guest_clock_ns(&clock, now);
		uint64_t remaining = deadline - now_ns;

		if (host_tsc < now)
			abort();	/* never before now */
		if (host_tsc == now) {
			if ((int64_t)remaining > 0)
				abort();	/* claimed reached but it is not */
			return 0;
		}
		/* Exact: reached at host_tsc, not one tick earlier. */
		if (pvt_guest_clock_ns(&clock, host_tsc) - now_ns < remaining)
			abort();
		if (pvt_guest_clock_ns(&clock, host_tsc - 1) - now_ns >= remaining)
			abort();
	}
	return 0;
}

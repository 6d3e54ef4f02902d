// SPDX-License-Identifier: MIT
/*
 * Fuzzes the guest clock with hostile pages and scalings, as an untrusted
 * guest could register them. Whatever the input: no UB (the sanitizers
 * watch), a clean error for unusable clocks, and for usable ones an inverse
 * equal to the reference search of its rule whose answers are the first
 * reaching host tick and whose refusals are real skips (check_inverse.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvtime/guestclock.h"
#include "check_inverse.h"

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
	uint64_t now, deadline, sel;
	const char *why;
	char buf[512];
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

	why = check_inverse(&clock, now, deadline, &ret, buf, sizeof(buf));
	if (why) {
		fprintf(stderr, "fuzz_guestclock: %s: %s\n", why, buf);
		abort();
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * One check of pvt_guest_clock_host_tsc_at() for the tests and the fuzzer:
 * the answer must equal the reference search of the rule (ref_pvclock.c),
 * an answer must be the first host tick whose reading reaches the deadline,
 * and a refusal must be a real skip, probed tick by tick where it happens.
 */
#ifndef PVTIME_TESTS_CHECK_INVERSE_H
#define PVTIME_TESTS_CHECK_INVERSE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "pvtime/guestclock.h"
#include "ref_pvclock.h"

static inline struct ref_clock ref_clock_of(const struct pvt_guest_clock *c)
{
	return (struct ref_clock){
		.ratio = c->tsc.ratio, .offset = c->tsc.offset, .frac_bits = c->tsc.frac_bits,
		.tsc_timestamp = c->page.tsc_timestamp, .system_time = c->page.system_time,
		.mul = c->page.tsc_to_system_mul, .shift = c->page.tsc_shift,
	};
}

/* Ticks probed one by one around each answer and refusal. */
#define CHECK_INVERSE_PROBE	8

/*
 * NULL if the inverse is right for (clock, now, deadline_ns), else what is
 * wrong (details in buf). *ret_out gets the inverse's return value.
 */
static inline const char *check_inverse(const struct pvt_guest_clock *clock, uint64_t now,
					uint64_t deadline_ns, int *ret_out, char *buf, size_t len)
{
	struct ref_clock rc = ref_clock_of(clock);
	uint64_t now_ns = ref_clock_ns(&rc, now), wait = deadline_ns - now_ns;
	uint64_t h = 0, want = 0, guest_ahead, limit;
	int ret = pvt_guest_clock_host_tsc_at(clock, now, deadline_ns, &h);
	int want_ret = ref_deadline_host_tsc(&rc, now, deadline_ns, &want, &guest_ahead);

	*ret_out = ret;
	snprintf(buf, len,
		 "ratio %llu/%u offset %llu page %llu/%llu/%u/%d now %llu deadline %llu: "
		 "got %d %llu, reference %d %llu (first reaching guest tick +%llu)",
		 (unsigned long long)rc.ratio, rc.frac_bits, (unsigned long long)rc.offset,
		 (unsigned long long)rc.tsc_timestamp, (unsigned long long)rc.system_time, rc.mul,
		 rc.shift, (unsigned long long)now, (unsigned long long)deadline_ns, ret,
		 (unsigned long long)h, want_ret, (unsigned long long)want,
		 (unsigned long long)guest_ahead);
	if (ret && (ret != -ERANGE || h != UINT64_MAX))
		return "an error must be -ERANGE with host_tsc UINT64_MAX";
	if ((ret != 0) != (want_ret != 0) || (!ret && h != want))
		return "differs from the reference search";
	if (wait == 0 || wait >= 1ull << 63)
		return ret || h != now ? "a deadline at or before now must give now" : NULL;
	/*
	 * Independent of the reference's logic: probe the ticks right after now
	 * and right before the answer (or before the host tick that steps over
	 * the first guest tick reaching the deadline). With no reaching guest
	 * tick at all, the clock reads the same ns at the same positions in every
	 * later run, so no host tick may reach it either.
	 */
	if (!ret) {
		limit = h;
	} else if (guest_ahead == UINT64_MAX) {
		limit = UINT64_MAX;
	} else if (ref_tsc_scale_inverse(now, guest_ahead, rc.ratio, rc.frac_bits, &limit)) {
		limit = UINT64_MAX;
	} else if (ref_reaches(ref_clock_ns(&rc, limit) - now_ns, wait)) {
		return "refused, but the host tick at the first reaching guest tick reaches it";
	}
	for (uint64_t t = now + 1; t - now <= CHECK_INVERSE_PROBE && t > now && t < limit; t++)
		if (ref_reaches(ref_clock_ns(&rc, t) - now_ns, wait))
			return "a host tick soon after now reaches the deadline first";
	for (uint64_t t = limit - 1; limit - t <= CHECK_INVERSE_PROBE && t > now; t--)
		if (ref_reaches(ref_clock_ns(&rc, t) - now_ns, wait))
			return "a host tick just before the answer or the skip reaches the deadline";
	if (!ret && !ref_reaches(ref_clock_ns(&rc, h) - now_ns, wait))
		return "the answer does not reach the deadline";
	return NULL;
}

#endif

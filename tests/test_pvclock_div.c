// SPDX-License-Identifier: MIT
/*
 * lib/muldiv.h's portable long division (the path non-x86 guests use),
 * compiled here with the x86 fast path switched off, against the
 * reference bit-at-a-time division and, on x86, against divq itself.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ref_pvclock.h"

#ifdef __x86_64__
#define HAVE_DIVQ 1
#include "muldiv.h"
static uint64_t divq(pvt_u128 n, uint64_t d, uint64_t *rem)
{
	return pvt_div128_64(n, d, rem);
}
#undef PVTIME_MULDIV_H
#define pvt_div128_64 portable_div128_64
#define pvt_u128 portable_u128
#undef __x86_64__
#endif
#include "muldiv.h"

static void portable_division(void **state)
{
	struct ref_rng rng = { ref_seed("portable_division") };

	(void)state;
	for (int i = 0; i < 300000; i++) {
		uint64_t d = ref_rand_edge(&rng), hi, lo = ref_rand_edge(&rng), q, rem, want_q;
		unsigned __int128 n;

		if (!d)
			d = 1;
		hi = ref_rand_edge(&rng) % d;	/* the quotient must fit 64 bits */
		n = ((unsigned __int128)hi << 64) | lo;
		q = pvt_div128_64(n, d, &rem);
		want_q = (uint64_t)(n / d);	/* libgcc in the test is fine: it is the oracle */
		if (q != want_q || rem != (uint64_t)(n % d))
			fail_msg("(%" PRIu64 ":%" PRIu64 ") / %" PRIu64 ": got q %" PRIu64 " r %" PRIu64
				 ", want q %" PRIu64 " r %" PRIu64, hi, lo, d, q, rem, want_q,
				 (uint64_t)(n % d));
#ifdef HAVE_DIVQ
		uint64_t xrem, xq = divq(n, d, &xrem);

		if (xq != q || xrem != rem)
			fail_msg("divq and the portable path disagree on (%" PRIu64 ":%" PRIu64 ") / %" PRIu64,
				 hi, lo, d);
#endif
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(portable_division),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

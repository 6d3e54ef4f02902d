// SPDX-License-Identifier: MIT
/* Smoke test of the arithmetic skeleton; the full suite lives in test_pvclock.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pvtime/guestclock.h"

static void time_scale_known_vector(void **state)
{
	uint32_t mul;
	int8_t shift;

	(void)state;
	assert_int_equal(pvt_time_scale(1000000000ull, 2596136000ull, &mul, &shift), 0);
	assert_int_equal(mul, 3308738291u);
	assert_int_equal(shift, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(time_scale_known_vector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/* The shared timerlat report: the seed's line byte for byte, the exact distribution. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

#include "sim-rng.h"
#include "test_clock_helpers.h"
#include "timerlat-report.h"

/* The seed's line, byte for byte, and its signed percentage. */
static void seed_line_format(void **state)
{
	char buf[128];

	(void)state;
	timerlat_format_line(buf, sizeof(buf), 0, 103243, 100000);
	assert_string_equal(buf, "00000000 latency 103243/100000 (3.2430%)");
	timerlat_format_line(buf, sizeof(buf), 4, 103245, 100000);
	assert_string_equal(buf, "00000004 latency 103245/100000 (3.2450%)");
	timerlat_format_line(buf, sizeof(buf), 123456789, 99999, 100000);
	assert_string_equal(buf, "123456789 latency 99999/100000 (-0.0010%)");
	timerlat_format_line(buf, sizeof(buf), 7, 10000003333ull, 10000000000ull);
	assert_string_equal(buf, "00000007 latency 10000003333/10000000000 (0.0000%)");
	timerlat_format_line(buf, sizeof(buf), 7, 100000, 100000);
	assert_string_equal(buf, "00000007 latency 100000/100000 (0.0000%)");
}

/* The value -> count distribution agrees with the plain sample list. */
static void distribution_matches_samples(void **state)
{
	static const uint64_t pct[][2] = { { 1, 100 }, { 50, 100 }, { 99, 100 }, { 999, 1000 },
					   { 1, 1 }, { 1, 1000000 } };
	struct timerlat_report r;
	struct sim_rng rng;

	(void)state;
	sim_rng_seed(&rng, 42);
	timerlat_report_init(&r, "test", 1000, NULL, true);
	for (int i = 0; i < 50000; i++) {
		/* Mostly a few values (a simulation), with a spread tail (a measurement). */
		uint64_t lat = 1000 + (i % 3 ? sim_rng_upto(&rng, 3) : sim_rng_upto(&rng, 100000));

		assert_int_equal(timerlat_report_add(&r, lat ? lat : 1), 0);
	}
	assert_int_equal(r.dist.n, r.lateness.count);
	assert_int_equal(r.dist.min, stats_min(&r.lateness));
	assert_int_equal(r.dist.max, stats_max(&r.lateness));
	expect_near(vhist_mean(&r.dist), stats_mean(&r.lateness), 1e-9);
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		assert_int_equal(vhist_percentile(&r.dist, pct[i][0], pct[i][1]),
				 stats_percentile(&r.lateness, pct[i][0], pct[i][1]));
	timerlat_report_free(&r);

	/* The shared rank rule: ceil, clamped to 1..n, exact for huge n. */
	assert_int_equal(dist_nearest_rank(1000, 999, 1000), 999);
	assert_int_equal(dist_nearest_rank(1001, 999, 1000), 1000);
	assert_int_equal(dist_nearest_rank(10, 1, 1000000), 1);
	assert_int_equal(dist_nearest_rank(10, 0, 100), 1);
	assert_int_equal(dist_nearest_rank(10, 3, 2), 10);
	assert_true(dist_nearest_rank(UINT64_MAX, 50, 100) == UINT64_MAX / 2 + 1);
}

/*
 * Nesting past JSON_MAX_DEPTH drops the too-deep containers whole and
 * json_end() says so: the output is still valid JSON, never a stray comma
 * or an unbalanced bracket.
 */
static void json_nesting_limit(void **state)
{
	char want[2 * JSON_MAX_DEPTH + 32], *p;
	char *text = NULL;
	size_t len = 0;
	struct json j;
	FILE *out;

	(void)state;
	out = open_memstream(&text, &len);
	assert_non_null(out);
	json_begin(&j, out);
	/* The top-level object is level 1: levels 2 .. JSON_MAX_DEPTH - 1 fit. */
	for (int i = 2; i < JSON_MAX_DEPTH; i++)
		assert_int_equal(json_array_begin(&j, i == 2 ? "a" : NULL), 0);
	assert_int_equal(json_object_begin(&j, NULL), -E2BIG);
	json_u64(&j, "dropped", 1);
	assert_int_equal(json_array_begin(&j, "dropped too"), -E2BIG);
	json_array_end(&j);
	json_object_end(&j);
	json_u64(&j, NULL, 7);
	for (int i = 2; i < JSON_MAX_DEPTH; i++)
		json_array_end(&j);
	json_u64(&j, "after", 2);
	assert_int_equal(json_end(&j), -E2BIG);
	fclose(out);
	p = want + sprintf(want, "{\"a\":");
	for (int i = 2; i < JSON_MAX_DEPTH; i++)
		*p++ = '[';
	*p++ = '7';
	for (int i = 2; i < JSON_MAX_DEPTH; i++)
		*p++ = ']';
	strcpy(p, ",\"after\":2}\n");
	assert_string_equal(text, want);
	free(text);

	/* Within the limit: 0, and the writer is reusable. */
	out = open_memstream(&text, &len);
	assert_non_null(out);
	json_begin(&j, out);
	assert_int_equal(json_object_begin(&j, "a"), 0);
	json_bool(&j, "b", true);
	json_object_end(&j);
	assert_int_equal(json_end(&j), 0);
	fclose(out);
	assert_string_equal(text, "{\"a\":{\"b\":true}}\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_line_format),
		cmocka_unit_test(distribution_matches_samples),
		cmocka_unit_test(json_nesting_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

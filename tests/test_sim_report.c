// SPDX-License-Identifier: MIT
/* The shared timerlat report: the seed's line byte for byte; the one exact distribution (struct stats). */
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

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* What call writes to out, as a malloc'd string in text. */
#define CAPTURE(text, call)						\
	do {								\
		size_t len_ = 0;					\
		FILE *out = open_memstream(&(text), &len_);		\
									\
		assert_non_null(out);					\
		call;							\
		assert_int_equal(fclose(out), 0);			\
	} while (0)

/*
 * The value -> count distribution agrees with the plain sample list, sorted
 * here as the reference: count, min, max, the exact mean, every nearest-rank
 * percentile, and the histogram rows counted sample by sample.
 */
static void distribution_matches_samples(void **state)
{
	static const uint64_t pct[][2] = { { 1, 100 }, { 50, 100 }, { 99, 100 }, { 999, 1000 },
					   { 1, 1 }, { 1, 1000000 }, { 0, 1 } };
	int64_t from[24], *sorted;
	uint64_t count[24], in_rows = 0;
	struct timerlat_report r;
	struct sim_rng rng;
	__int128 sum = 0;
	unsigned rows;
	size_t n;

	(void)state;
	sim_rng_seed(&rng, 42);
	timerlat_report_init(&r, "test", 1000, NULL, true);
	r.keep_order = true;
	for (int i = 0; i < 50000; i++) {
		/* Mostly a few values (a simulation), with a spread tail (a measurement). */
		uint64_t lat = 1000 + (i % 3 ? sim_rng_upto(&rng, 3) : sim_rng_upto(&rng, 100000));

		assert_int_equal(timerlat_report_add(&r, lat ? lat : 1), 0);
	}
	n = r.ordered;
	assert_int_equal(n, 50000);
	assert_int_equal(r.lateness.count, n);
	sorted = malloc(n * sizeof(*sorted));
	assert_non_null(sorted);
	memcpy(sorted, r.order, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_i64);
	for (size_t i = 0; i < n; i++)
		sum += sorted[i];
	assert_int_equal(stats_min(&r.lateness), sorted[0]);
	assert_int_equal(stats_max(&r.lateness), sorted[n - 1]);
	assert_true(stats_mean(&r.lateness) == (double)sum / (double)n);
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		assert_int_equal(stats_percentile(&r.lateness, pct[i][0], pct[i][1]),
				 sorted[stats_nearest_rank(n, pct[i][0], pct[i][1]) - 1]);
	for (uint64_t k = 0; k <= 1000; k++)
		assert_int_equal(stats_percentile(&r.lateness, k, 1000),
				 sorted[stats_nearest_rank(n, k, 1000) - 1]);

	assert_int_equal(timerlat_report_buckets(&r, 700, 24, from, count, &rows), 0);
	assert_int_equal(rows, 24);
	assert_int_equal(from[0], sorted[0] - sorted[0] % 700);
	for (unsigned i = 0; i < rows; i++) {
		uint64_t want = 0;

		for (size_t k = 0; k < n; k++)
			want += sorted[k] >= from[i] && (i + 1 == rows || sorted[k] < from[i] + 700);
		assert_int_equal(count[i], want);
		in_rows += count[i];
	}
	assert_int_equal(in_rows, n);
	free(sorted);
	timerlat_report_free(&r);

	/* The rank rule: ceil, clamped to 1..n, exact for huge n. */
	assert_int_equal(stats_nearest_rank(1000, 999, 1000), 999);
	assert_int_equal(stats_nearest_rank(1001, 999, 1000), 1000);
	assert_int_equal(stats_nearest_rank(10, 1, 1000000), 1);
	assert_int_equal(stats_nearest_rank(10, 0, 100), 1);
	assert_int_equal(stats_nearest_rank(10, 3, 2), 10);
	assert_true(stats_nearest_rank(UINT64_MAX, 50, 100) == UINT64_MAX / 2 + 1);
	assert_true(stats_nearest_rank(UINT64_MAX, UINT64_MAX, UINT64_MAX) == UINT64_MAX);
}

/* Empty, one value, all equal: every figure defined, nothing invented. */
static void distribution_small(void **state)
{
	int64_t from[4];
	uint64_t count[4];
	struct json j;
	struct stats s;
	unsigned rows;
	char *text;
	size_t n;

	(void)state;
	stats_init(&s);
	assert_int_equal(stats_min(&s), 0);
	assert_int_equal(stats_max(&s), 0);
	assert_true(stats_mean(&s) == 0.0);
	assert_int_equal(stats_percentile(&s, 50, 100), 0);
	assert_int_equal(stats_percentile(&s, 1, 0), 0);
	assert_non_null(stats_sorted(&s, &n));
	assert_int_equal(n, 0);
	assert_int_equal(stats_buckets(&s, 10, 4, from, count, &rows), 0);
	assert_int_equal(rows, 0);
	CAPTURE(text, stats_histogram(out, &s, "t", 10, 4));
	assert_string_equal(text, "");
	free(text);
	CAPTURE(text, (void)(json_begin(&j, out), stats_json(&j, "e", &s), json_end(&j)));
	assert_string_equal(text, "{\"e\":{\"min\":0,\"mean\":0,\"max\":0,\"p50\":0,\"p99\":0,\"p999\":0}}\n");
	free(text);
	assert_int_equal(stats_add_count(&s, 5, 0), 0);	/* no samples: still empty */
	assert_int_equal(s.count, 0);

	/* One value: it is every percentile, p0 and p100 included. */
	assert_int_equal(stats_add(&s, -7), 0);
	assert_int_equal(stats_min(&s), -7);
	assert_int_equal(stats_max(&s), -7);
	assert_true(stats_mean(&s) == -7.0);
	assert_int_equal(stats_percentile(&s, 0, 100), -7);
	assert_int_equal(stats_percentile(&s, 100, 100), -7);
	assert_int_equal(stats_buckets(&s, 10, 4, from, count, &rows), 0);
	assert_int_equal(rows, 1);
	assert_int_equal(from[0], -10);
	assert_int_equal(count[0], 1);
	CAPTURE(text, stats_histogram(out, &s, "one", 10, 4));
	assert_string_equal(text, "# Histogram: one (bucket 10 ns)\n"
			    "#        from_ns      count\n"
			    "#            -10          1\n");
	free(text);

	/* All equal: one entry however many samples. */
	for (int i = 0; i < 99999; i++)
		assert_int_equal(stats_add(&s, -7), 0);
	assert_int_equal(s.count, 100000);
	assert_int_equal(s.distinct, 1);
	assert_true(stats_mean(&s) == -7.0);
	assert_int_equal(stats_percentile(&s, 0, 1), -7);
	assert_int_equal(stats_percentile(&s, 999, 1000), -7);
	assert_int_equal(stats_percentile(&s, 1, 1), -7);

	/* p0 is the minimum, p100 the maximum, the last row takes the rest. */
	assert_int_equal(stats_add(&s, 100), 0);
	assert_int_equal(stats_add(&s, -20), 0);
	assert_int_equal(stats_percentile(&s, 0, 100), -20);
	assert_int_equal(stats_percentile(&s, 100, 100), 100);
	assert_int_equal(stats_percentile(&s, 1, 200000), -20);
	assert_int_equal(stats_percentile(&s, 1, 100000), -7);
	assert_int_equal(stats_percentile(&s, 99999, 100000), -7);
	CAPTURE(text, stats_histogram(out, &s, "t", 10, 3));
	assert_string_equal(text, "# Histogram: t (bucket 10 ns)\n"
			    "#        from_ns      count\n"
			    "#            -20          1\n"
			    "#            -10     100000\n"
			    "#              0          1 (and above)\n");
	free(text);
	CAPTURE(text, stats_histogram(out, &s, "t", 40, 24));
	assert_string_equal(text, "# Histogram: t (bucket 40 ns)\n"
			    "#        from_ns      count\n"
			    "#            -40     100001\n"
			    "#              0          0\n"
			    "#             40          0\n"
			    "#             80          1\n");
	free(text);
	stats_free(&s);
}

/* INT64_MIN and INT64_MAX, counts past 2^32: exact, no overflow (run under UBSan too). */
static void distribution_extremes(void **state)
{
	int64_t from[24];
	uint64_t count[24];
	struct json j;
	struct stats s;
	unsigned rows;
	char *text;

	(void)state;
	stats_init(&s);
	assert_int_equal(stats_add(&s, INT64_MAX), 0);
	assert_int_equal(stats_add(&s, INT64_MIN), 0);
	assert_true(stats_min(&s) == INT64_MIN);
	assert_true(stats_max(&s) == INT64_MAX);
	assert_true(stats_mean(&s) == -0.5);
	assert_true(stats_percentile(&s, 50, 100) == INT64_MIN);
	assert_true(stats_percentile(&s, 51, 100) == INT64_MAX);
	/* The bucket below INT64_MIN starts at INT64_MIN; rows stop at INT64_MAX. */
	assert_int_equal(stats_buckets(&s, INT64_MAX, 24, from, count, &rows), 0);
	assert_int_equal(rows, 3);
	assert_true(from[0] == INT64_MIN && count[0] == 1);
	assert_true(from[1] == -1 && count[1] == 0);
	assert_true(from[2] == INT64_MAX - 1 && count[2] == 1);
	assert_int_equal(stats_buckets(&s, 1000, 24, from, count, &rows), 0);
	assert_int_equal(rows, 24);
	assert_true(from[0] == INT64_MIN && count[0] == 1 && count[23] == 1);
	CAPTURE(text, stats_histogram(out, &s, "x", 1000, 2));
	assert_string_equal(text, "# Histogram: x (bucket 1000 ns)\n"
			    "#        from_ns      count\n"
			    "# -9223372036854775808          1\n"
			    "# -9223372036854774808          1 (and above)\n");
	free(text);
	CAPTURE(text, (void)(json_begin(&j, out), stats_json_shifted(&j, "w", &s, 1), json_end(&j)));
	assert_string_equal(text, "{\"w\":{\"min\":-9223372036854775807,\"mean\":0.5,"
			    "\"max\":-9223372036854775808,\"p50\":-9223372036854775807,"
			    "\"p99\":-9223372036854775808,\"p999\":-9223372036854775808}}\n");
	free(text);
	stats_free(&s);

	/* Counts past 2^32 (a long simulated run) and the 2^64 - 1 sample limit. */
	stats_init(&s);
	assert_int_equal(stats_add_count(&s, 3, 3ull << 32), 0);
	assert_int_equal(stats_add_count(&s, -1, 1ull << 32), 0);
	assert_int_equal(stats_add(&s, 1000), 0);
	assert_true(s.count == (4ull << 32) + 1);
	assert_true(stats_mean(&s) == (double)((8ull << 32) + 1000) / (double)((4ull << 32) + 1));
	assert_int_equal(stats_percentile(&s, 1, 5), -1);
	assert_int_equal(stats_percentile(&s, 26, 100), 3);
	assert_int_equal(stats_percentile(&s, 100, 100), 1000);
	assert_int_equal(stats_buckets(&s, 2, 24, from, count, &rows), 0);
	assert_int_equal(rows, 24);
	assert_true(from[0] == -2 && count[0] == 1ull << 32);
	assert_true(from[1] == 0 && count[1] == 0);
	assert_true(from[2] == 2 && count[2] == 3ull << 32);
	assert_true(from[23] == 44 && count[23] == 1);
	assert_int_equal(stats_add_count(&s, 5, UINT64_MAX - s.count + 1), -1);
	assert_true(s.count == (4ull << 32) + 1);
	assert_int_equal(stats_add_count(&s, 5, UINT64_MAX - s.count), 0);
	assert_true(s.count == UINT64_MAX);
	assert_int_equal(stats_add(&s, 5), -1);
	assert_int_equal(stats_percentile(&s, 50, 100), 5);
	stats_free(&s);

	/* The most extreme sum: 2^64 - 1 samples of INT64_MIN. */
	stats_init(&s);
	assert_int_equal(stats_add_count(&s, INT64_MIN, UINT64_MAX), 0);
	assert_true(stats_mean(&s) == (double)INT64_MIN);
	assert_true(stats_percentile(&s, 999, 1000) == INT64_MIN);
	stats_free(&s);
}

/* A report of absurd latencies (0, 2^64 - 1) prints and sizes its histogram without overflow. */
static void report_extremes(void **state)
{
	struct timerlat_report r;
	struct json j;
	char *text;

	(void)state;
	timerlat_report_init(&r, "x", 100000, NULL, true);
	assert_int_equal(timerlat_report_add(&r, 0), 0);
	assert_int_equal(timerlat_report_add(&r, UINT64_MAX), 0);
	assert_int_equal(timerlat_report_add(&r, (uint64_t)INT64_MAX), 0);
	assert_true(timerlat_bucket_ns(&r, 20) > 0);
	CAPTURE(text, timerlat_report_summary(&r, out));
	assert_non_null(strstr(text, "latency_ns:  min=-1 "));
	assert_non_null(strstr(text, "# Histogram: lateness"));
	free(text);
	CAPTURE(text, (void)(json_begin(&j, out), timerlat_report_json(&r, &j), json_end(&j)));
	assert_non_null(strstr(text, "\"lateness_ns\":{\"min\":-100001,"));
	free(text);
	timerlat_report_free(&r);
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
		cmocka_unit_test(distribution_small),
		cmocka_unit_test(distribution_extremes),
		cmocka_unit_test(report_extremes),
		cmocka_unit_test(json_nesting_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <stdlib.h>

#include "timerlat-report.h"

void timerlat_report_init(struct timerlat_report *r, const char *algo,
			  uint64_t interval_ns, FILE *out, bool quiet)
{
	*r = (struct timerlat_report){
		.algo = algo,
		.interval_ns = interval_ns,
		.out = out,
		.quiet = quiet,
	};
	stats_init(&r->lateness);
}

void timerlat_report_free(struct timerlat_report *r)
{
	stats_free(&r->lateness);
	free(r->order);
	r->order = NULL;
	r->ordered = r->order_capacity = 0;
}

int timerlat_format_line(char *buf, size_t len, uint64_t loop,
			 uint64_t latency_ns, uint64_t interval_ns)
{
	/*
	 * Signed: a guest clock stepped back mid-sleep (a master clock update)
	 * gives a negative latency. The percentage is in units of 10^-4 %,
	 * integer so every run prints alike.
	 */
	int64_t diff = (int64_t)(latency_ns - interval_ns);
	uint64_t mag = diff < 0 ? 0 - (uint64_t)diff : (uint64_t)diff;
	unsigned __int128 pct_e4 = 0;

	if (interval_ns)
		pct_e4 = ((unsigned __int128)mag * 1000000 + interval_ns / 2) / interval_ns;
	return snprintf(buf, len, "%08" PRIu64 " latency %" PRId64 "/%" PRIu64 " (%s%" PRIu64 ".%04u%%)",
			loop, (int64_t)latency_ns, interval_ns, diff < 0 && pct_e4 ? "-" : "",
			(uint64_t)(pct_e4 / 10000), (unsigned)(pct_e4 % 10000));
}

int timerlat_report_add_tagged(struct timerlat_report *r, uint64_t latency_ns,
			       const char *suffix)
{
	if (r->out && !r->quiet) {
		char line[160];

		timerlat_format_line(line, sizeof(line), r->loops, latency_ns,
				     r->interval_ns);
		fprintf(r->out, "%s%s\n", line, suffix ? suffix : "");
	}
	int64_t lateness = (int64_t)(latency_ns - r->interval_ns);

	r->loops++;
	if (r->keep_order) {
		if (r->ordered == r->order_capacity) {
			size_t cap = r->order_capacity ? r->order_capacity * 2 : 1024;
			int64_t *p = cap <= SIZE_MAX / sizeof(*p) ? realloc(r->order, cap * sizeof(*p)) : NULL;

			if (!p)
				return -1;
			r->order = p;
			r->order_capacity = cap;
		}
		r->order[r->ordered++] = lateness;
	}
	return stats_add(&r->lateness, lateness);
}

int timerlat_report_add(struct timerlat_report *r, uint64_t latency_ns)
{
	return timerlat_report_add_tagged(r, latency_ns, NULL);
}

/* One summary line for the samples shifted by offset (latency = lateness + interval). */
static void summary_line(FILE *out, const char *key, struct stats *s, int64_t offset)
{
	fprintf(out, "%-12s min=%" PRId64 " mean=%.1f max=%" PRId64 " p50=%" PRId64
		" p99=%" PRId64 " p99.9=%" PRId64 "\n", key,
		stats_shift(stats_min(s), offset), stats_mean(s) + (double)offset,
		stats_shift(stats_max(s), offset), stats_shift(stats_percentile(s, 50, 100), offset),
		stats_shift(stats_percentile(s, 99, 100), offset),
		stats_shift(stats_percentile(s, 999, 1000), offset));
}

int64_t timerlat_bucket_ns(struct timerlat_report *r, unsigned target_rows)
{
	int64_t step = 1;
	uint64_t span;

	if (!r->lateness.count || !target_rows)
		return 1;
	/* Size for the bulk: outliers past p99 share the last "(and above)" row. */
	span = (uint64_t)stats_percentile(&r->lateness, 99, 100) - (uint64_t)stats_min(&r->lateness);
	for (;;) {
		static const int64_t nice[] = { 1, 2, 5 };

		for (int i = 0; i < 3; i++)
			if (span / (uint64_t)(step * nice[i]) < target_rows)
				return step * nice[i];
		if (step > INT64_MAX / 100)
			return step * 10;
		step *= 10;
	}
}

int timerlat_report_buckets(struct timerlat_report *r, int64_t bucket_ns, unsigned max_rows,
			    int64_t *from_ns, uint64_t *count, unsigned *rows)
{
	return stats_buckets(&r->lateness, bucket_ns, max_rows, from_ns, count, rows);
}

#define SUMMARY_ROWS	24

void timerlat_report_summary(struct timerlat_report *r, FILE *out)
{
	int64_t interval = (int64_t)r->interval_ns;

	fprintf(out, "summary: algo=%s loops=%" PRIu64 " interval_ns=%" PRIu64 "\n",
		r->algo, r->loops, r->interval_ns);
	if (!r->loops)
		return;
	summary_line(out, "latency_ns:", &r->lateness, interval);
	summary_line(out, "lateness_ns:", &r->lateness, 0);
	stats_histogram(out, &r->lateness, "lateness (latency - interval)",
			timerlat_bucket_ns(r, 20), SUMMARY_ROWS);
}

void timerlat_report_json(struct timerlat_report *r, struct json *j)
{
	json_string(j, "algo", r->algo);
	json_u64(j, "loops", r->loops);
	json_u64(j, "interval_ns", r->interval_ns);
	if (!r->loops) {
		json_null(j, "latency_ns");
		json_null(j, "lateness_ns");
		return;
	}
	stats_json_shifted(j, "latency_ns", &r->lateness, (int64_t)r->interval_ns);
	stats_json(j, "lateness_ns", &r->lateness);
}

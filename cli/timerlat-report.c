// SPDX-License-Identifier: MIT
#include <inttypes.h>

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
	r->loops++;
	return stats_add(&r->lateness, (int64_t)(latency_ns - r->interval_ns));
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
		stats_min(s) + offset, stats_mean(s) + (double)offset,
		stats_max(s) + offset, stats_percentile(s, 50, 100) + offset,
		stats_percentile(s, 99, 100) + offset,
		stats_percentile(s, 999, 1000) + offset);
}

int64_t timerlat_bucket_ns(struct timerlat_report *r, unsigned target_rows)
{
	int64_t span, step = 1;

	if (!r->lateness.count || !target_rows)
		return 1;
	/* Size for the bulk: outliers past p99 share the last "(and above)" row. */
	span = stats_percentile(&r->lateness, 99, 100) - stats_min(&r->lateness);
	for (;;) {
		static const int64_t nice[] = { 1, 2, 5 };

		for (int i = 0; i < 3; i++)
			if (span / (step * nice[i]) < (int64_t)target_rows)
				return step * nice[i];
		if (step > INT64_MAX / 100)
			return step * 10;
		step *= 10;
	}
}

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
			timerlat_bucket_ns(r, 20), 24);
}

static void stats_json_offset(struct json *j, const char *key, struct stats *s,
			      int64_t offset)
{
	json_object_begin(j, key);
	json_i64(j, "min", stats_min(s) + offset);
	json_double(j, "mean", stats_mean(s) + (double)offset);
	json_i64(j, "max", stats_max(s) + offset);
	json_i64(j, "p50", stats_percentile(s, 50, 100) + offset);
	json_i64(j, "p99", stats_percentile(s, 99, 100) + offset);
	json_i64(j, "p999", stats_percentile(s, 999, 1000) + offset);
	json_object_end(j);
}

void timerlat_report_json(struct timerlat_report *r, struct json *j)
{
	json_string(j, "algo", r->algo);
	json_u64(j, "loops", r->loops);
	json_u64(j, "interval_ns", r->interval_ns);
	stats_json_offset(j, "latency_ns", &r->lateness, (int64_t)r->interval_ns);
	stats_json_offset(j, "lateness_ns", &r->lateness, 0);
}

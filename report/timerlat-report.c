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
		.keep_samples = true,
	};
	vhist_init(&r->dist);
	stats_init(&r->lateness);
}

void timerlat_report_free(struct timerlat_report *r)
{
	vhist_free(&r->dist);
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
	int64_t lateness = (int64_t)(latency_ns - r->interval_ns);

	r->loops++;
	if (r->keep_samples && stats_add(&r->lateness, lateness))
		return -1;
	return vhist_add(&r->dist, lateness);
}

int timerlat_report_add(struct timerlat_report *r, uint64_t latency_ns)
{
	return timerlat_report_add_tagged(r, latency_ns, NULL);
}

/* One summary line for the samples shifted by offset (latency = lateness + interval). */
static void summary_line(FILE *out, const char *key, struct vhist *h, int64_t offset)
{
	fprintf(out, "%-12s min=%" PRId64 " mean=%.1f max=%" PRId64 " p50=%" PRId64
		" p99=%" PRId64 " p99.9=%" PRId64 "\n", key,
		h->min + offset, vhist_mean(h) + (double)offset, h->max + offset,
		vhist_percentile(h, 50, 100) + offset, vhist_percentile(h, 99, 100) + offset,
		vhist_percentile(h, 999, 1000) + offset);
}

int64_t timerlat_bucket_ns(struct timerlat_report *r, unsigned target_rows)
{
	int64_t span, step = 1;

	if (!r->dist.n || !target_rows)
		return 1;
	/* Size for the bulk: outliers past p99 share the last "(and above)" row. */
	span = vhist_percentile(&r->dist, 99, 100) - r->dist.min;
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

int timerlat_report_buckets(struct timerlat_report *r, int64_t bucket_ns, unsigned max_rows,
			    int64_t *from_ns, uint64_t *count, unsigned *rows)
{
	const struct vhist_entry *e;
	size_t n, i = 0;
	int64_t lo;

	*rows = 0;
	if (!r->dist.n)
		return 0;
	e = vhist_sorted(&r->dist, &n);
	if (!e)
		return -1;
	lo = r->dist.min - ((r->dist.min % bucket_ns + bucket_ns) % bucket_ns);
	while (i < n && *rows < max_rows) {
		bool last = *rows + 1 == max_rows;
		uint64_t c = 0;

		/* The last row also holds everything beyond it. */
		while (i < n && (last || e[i].value - lo < bucket_ns))
			c += e[i++].count;
		from_ns[*rows] = lo;
		count[(*rows)++] = c;
		lo += bucket_ns;
	}
	return 0;
}

#define SUMMARY_ROWS	24

void timerlat_report_summary(struct timerlat_report *r, FILE *out)
{
	int64_t interval = (int64_t)r->interval_ns, from[SUMMARY_ROWS];
	int64_t bucket = timerlat_bucket_ns(r, 20);
	uint64_t count[SUMMARY_ROWS];
	unsigned rows;

	fprintf(out, "summary: algo=%s loops=%" PRIu64 " interval_ns=%" PRIu64 "\n",
		r->algo, r->loops, r->interval_ns);
	if (!r->loops)
		return;
	summary_line(out, "latency_ns:", &r->dist, interval);
	summary_line(out, "lateness_ns:", &r->dist, 0);
	if (timerlat_report_buckets(r, bucket, SUMMARY_ROWS, from, count, &rows))
		return;
	fprintf(out, "# Histogram: lateness (latency - interval) (bucket %" PRId64 " ns)\n", bucket);
	fprintf(out, "# %14s %10s\n", "from_ns", "count");
	for (unsigned i = 0; i < rows; i++)
		fprintf(out, "# %14" PRId64 " %10" PRIu64 "%s\n", from[i], count[i],
			i + 1 == SUMMARY_ROWS && r->dist.max >= from[i] + bucket ? " (and above)" : "");
}

static void json_offset(struct json *j, const char *key, struct vhist *h, int64_t offset)
{
	json_object_begin(j, key);
	json_i64(j, "min", h->min + offset);
	json_double(j, "mean", vhist_mean(h) + (double)offset);
	json_i64(j, "max", h->max + offset);
	json_i64(j, "p50", vhist_percentile(h, 50, 100) + offset);
	json_i64(j, "p99", vhist_percentile(h, 99, 100) + offset);
	json_i64(j, "p999", vhist_percentile(h, 999, 1000) + offset);
	json_object_end(j);
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
	json_offset(j, "latency_ns", &r->dist, (int64_t)r->interval_ns);
	json_offset(j, "lateness_ns", &r->dist, 0);
}

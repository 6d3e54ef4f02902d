// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <stdlib.h>

#include "histogram.h"
#include "stats.h"

void stats_init(struct stats *s)
{
	*s = (struct stats){ 0 };
}

void stats_free(struct stats *s)
{
	free(s->samples);
	stats_init(s);
}

int stats_add(struct stats *s, int64_t v)
{
	if (s->count == s->capacity) {
		size_t cap = s->capacity ? s->capacity * 2 : 1024;
		int64_t *p = realloc(s->samples, cap * sizeof(*p));

		if (!p)
			return -1;
		s->samples = p;
		s->capacity = cap;
	}
	s->samples[s->count++] = v;
	s->sum += v;
	s->sorted = 0;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void sort(struct stats *s)
{
	if (!s->sorted && s->count)
		qsort(s->samples, s->count, sizeof(*s->samples), cmp_i64);
	s->sorted = 1;
}

int64_t stats_min(struct stats *s)
{
	sort(s);
	return s->count ? s->samples[0] : 0;
}

int64_t stats_max(struct stats *s)
{
	sort(s);
	return s->count ? s->samples[s->count - 1] : 0;
}

double stats_mean(const struct stats *s)
{
	return s->count ? (double)s->sum / (double)s->count : 0.0;
}

int64_t stats_percentile(struct stats *s, uint64_t num, uint64_t den)
{
	if (!s->count || !den)
		return 0;
	sort(s);
	return s->samples[dist_nearest_rank(s->count, num, den) - 1];
}

void stats_json(struct json *j, const char *key, struct stats *s)
{
	json_object_begin(j, key);
	json_i64(j, "min", stats_min(s));
	json_double(j, "mean", stats_mean(s));
	json_i64(j, "max", stats_max(s));
	json_i64(j, "p50", stats_percentile(s, 50, 100));
	json_i64(j, "p99", stats_percentile(s, 99, 100));
	json_i64(j, "p999", stats_percentile(s, 999, 1000));
	json_object_end(j);
}

void stats_histogram(FILE *out, struct stats *s, const char *title,
		     int64_t bucket_ns, unsigned max_buckets)
{
	int64_t lo, hi;
	size_t i = 0;

	if (!s->count || bucket_ns <= 0 || !max_buckets)
		return;
	sort(s);
	lo = s->samples[0] - ((s->samples[0] % bucket_ns + bucket_ns) % bucket_ns);
	hi = s->samples[s->count - 1];
	fprintf(out, "# Histogram: %s (bucket %" PRId64 " ns)\n", title, bucket_ns);
	fprintf(out, "# %14s %10s\n", "from_ns", "count");
	for (unsigned b = 0; b < max_buckets && lo <= hi; b++, lo += bucket_ns) {
		size_t n = 0;
		int last = b + 1 == max_buckets;

		while (i < s->count && (last || s->samples[i] < lo + bucket_ns)) {
			n++;
			i++;
		}
		fprintf(out, "# %14" PRId64 " %10zu%s\n", lo, n, last && i == s->count && lo + bucket_ns <= hi ? " (and above)" : "");
	}
}

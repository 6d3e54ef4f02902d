/* SPDX-License-Identifier: MIT */
/*
 * The one exact distribution of int64 samples: value -> count, so memory is
 * bounded by the distinct values, not the samples (a billion simulated loops
 * that take a handful of values cost a handful of entries; a measurement
 * costs 32 to 80 bytes per distinct value: a hash slot at most half full,
 * plus its copy once sorted). Exact min/mean/max, nearest-rank
 * percentiles, sorted iteration, a '#' text histogram and a JSON summary.
 * Loop order is not kept: a caller that needs it keeps its own array.
 */
#ifndef PVTIME_REPORT_STATS_H
#define PVTIME_REPORT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"

struct stats_entry {
	int64_t value;
	uint64_t count;		/* 0: empty slot */
};

struct stats {
	uint64_t count;			/* samples */
	size_t distinct;		/* values seen */
	struct stats_entry *slots;	/* open addressing, capacity a power of two */
	size_t capacity;
	struct stats_entry *last;	/* slot of the previous sample: repeats are common */
	struct stats_entry *sorted;	/* the used entries by value, built on demand */
	bool sorted_valid;
	__int128 sum;			/* exact, for the mean: |sum| < 2^127 */
	int64_t min, max;		/* valid when count > 0 */
};

void stats_init(struct stats *s);
void stats_free(struct stats *s);
/* Adds one sample; -1 when out of memory. */
int stats_add(struct stats *s, int64_t v);
/* Adds count samples of value v; -1 when out of memory or past 2^64 - 1 samples. */
int stats_add_count(struct stats *s, int64_t v, uint64_t count);

/* The smallest and largest sample; 0 when empty. */
int64_t stats_min(const struct stats *s);
int64_t stats_max(const struct stats *s);
/* Exact sum / count, rounded once to double; 0 when empty. */
double stats_mean(const struct stats *s);

/* The nearest-rank rule: ceil(n * num / den), clamped to 1..n; n > 0, den > 0. */
uint64_t stats_nearest_rank(uint64_t n, uint64_t num, uint64_t den);
/* Nearest rank: the ceil(count * num / den)-th smallest sample (p99.9 = 999/1000); 0 when empty. */
int64_t stats_percentile(struct stats *s, uint64_t num, uint64_t den);
/* The distinct values in ascending order with their counts; NULL if out of memory. */
const struct stats_entry *stats_sorted(struct stats *s, size_t *distinct);

/*
 * Histogram rows of bucket_ns from the bucket holding the minimum: from_ns[i]
 * and count[i] for i < *rows <= max_rows, empty rows between included, the
 * last row holding everything beyond. 0, or -1 when out of memory.
 */
int stats_buckets(struct stats *s, int64_t bucket_ns, unsigned max_rows,
		  int64_t *from_ns, uint64_t *count, unsigned *rows);

/* '#'-prefixed histogram of bucket_ns-wide buckets, at most max_buckets rows. */
void stats_histogram(FILE *out, struct stats *s, const char *title,
		     int64_t bucket_ns, unsigned max_buckets);

/* {"min","mean","max","p50","p99","p999"} under key (all 0 if empty). */
void stats_json(struct json *j, const char *key, struct stats *s);
/* v + offset, wrapping as two's complement (latency_ns back from a lateness). */
static inline int64_t stats_shift(int64_t v, int64_t offset)
{
	return (int64_t)((uint64_t)v + (uint64_t)offset);
}

/* Same as stats_json with every figure shifted by offset (latency = lateness + interval). */
void stats_json_shifted(struct json *j, const char *key, struct stats *s, int64_t offset);

#endif

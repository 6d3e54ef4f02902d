/* SPDX-License-Identifier: MIT */
/* Latency statistics: exact min/mean/max, nearest-rank percentiles, histograms. */
#ifndef PVTIME_REPORT_STATS_H
#define PVTIME_REPORT_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"

struct stats {
	int64_t *samples;
	size_t count, capacity;
	int sorted;		/* samples are in ascending order */
	__int128 sum;		/* exact, for the mean */
};

void stats_init(struct stats *s);
void stats_free(struct stats *s);
/* Appends a sample; -1 when out of memory. */
int stats_add(struct stats *s, int64_t v);

int64_t stats_min(struct stats *s);
int64_t stats_max(struct stats *s);
double stats_mean(const struct stats *s);
/* Nearest rank: the ceil(count * num / den)-th smallest sample (p99.9 = 999/1000). */
int64_t stats_percentile(struct stats *s, uint64_t num, uint64_t den);

/* {"min","mean","max","p50","p99","p999"} under key (nothing useful if empty: all 0). */
void stats_json(struct json *j, const char *key, struct stats *s);

/* '#'-prefixed histogram of bucket_ns-wide buckets, at most max_buckets rows. */
void stats_histogram(FILE *out, struct stats *s, const char *title,
		     int64_t bucket_ns, unsigned max_buckets);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * An exact distribution of int64 samples stored as value -> count, so a
 * billion simulated loops that take a handful of distinct values cost a
 * handful of entries (a real measurement's distinct values cost 16 bytes
 * each). Exact min/mean/max and nearest-rank percentiles.
 */
#ifndef PVTIME_REPORT_HISTOGRAM_H
#define PVTIME_REPORT_HISTOGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vhist_entry {
	int64_t value;
	uint64_t count;		/* 0: empty slot */
};

struct vhist {
	struct vhist_entry *slots;	/* open addressing, capacity a power of two */
	size_t capacity, used;
	struct vhist_entry *last;	/* slot of the previous sample: repeats are common */
	struct vhist_entry *sorted;	/* the used entries by value, built on demand */
	bool sorted_valid;
	uint64_t n;			/* samples */
	__int128 sum;
	int64_t min, max;
};

void vhist_init(struct vhist *h);
void vhist_free(struct vhist *h);
/* Adds one sample; -1 when out of memory. */
int vhist_add(struct vhist *h, int64_t v);
/* Exact mean (0 when empty). */
double vhist_mean(const struct vhist *h);
/*
 * The nearest-rank rule both distributions use (vhist here, struct stats'
 * sorted samples): ceil(n * num / den), clamped to 1..n; n > 0, den > 0.
 */
uint64_t dist_nearest_rank(uint64_t n, uint64_t num, uint64_t den);
/* Nearest rank: the ceil(n * num / den)-th smallest sample; 0 when empty. */
int64_t vhist_percentile(struct vhist *h, uint64_t num, uint64_t den);
/* The distinct values in ascending order with their counts (NULL if out of memory). */
const struct vhist_entry *vhist_sorted(struct vhist *h, size_t *count);

#endif

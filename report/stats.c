// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <stdlib.h>

#include "stats.h"

void stats_init(struct stats *s)
{
	*s = (struct stats){ 0 };
}

void stats_free(struct stats *s)
{
	free(s->slots);
	free(s->sorted);
	stats_init(s);
}

static size_t slot_of(int64_t v, size_t capacity)
{
	uint64_t z = (uint64_t)v * 0x9e3779b97f4a7c15ull;

	return (size_t)((z ^ (z >> 29)) & (capacity - 1));
}

static struct stats_entry *find(struct stats_entry *slots, size_t capacity, int64_t v)
{
	size_t i = slot_of(v, capacity);

	while (slots[i].count && slots[i].value != v)
		i = (i + 1) & (capacity - 1);
	return &slots[i];
}

static int grow(struct stats *s)
{
	size_t cap = s->capacity ? s->capacity * 2 : 64;
	struct stats_entry *slots;

	if (cap > SIZE_MAX / sizeof(*slots))
		return -1;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < s->capacity; i++)
		if (s->slots[i].count)
			*find(slots, cap, s->slots[i].value) = s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->capacity = cap;
	s->last = NULL;
	return 0;
}

int stats_add_count(struct stats *s, int64_t v, uint64_t count)
{
	struct stats_entry *e = s->last;

	if (!count)
		return 0;
	if (count > UINT64_MAX - s->count)
		return -1;
	if (!e || e->value != v) {
		/* At most half full: probes stay short. */
		if ((s->distinct + 1) * 2 > s->capacity && grow(s))
			return -1;
		e = find(s->slots, s->capacity, v);
		if (!e->count) {
			e->value = v;
			s->distinct++;
		}
		s->last = e;
	}
	if (!s->count || v < s->min)
		s->min = v;
	if (!s->count || v > s->max)
		s->max = v;
	e->count += count;
	s->count += count;
	/* count < 2^64 samples of |v| <= 2^63 stay below 2^127 in magnitude. */
	s->sum += (__int128)v * (__int128)count;
	s->sorted_valid = false;
	return 0;
}

int stats_add(struct stats *s, int64_t v)
{
	return stats_add_count(s, v, 1);
}

int64_t stats_min(const struct stats *s)
{
	return s->count ? s->min : 0;
}

int64_t stats_max(const struct stats *s)
{
	return s->count ? s->max : 0;
}

double stats_mean(const struct stats *s)
{
	return s->count ? (double)s->sum / (double)s->count : 0.0;
}

static int by_value(const void *a, const void *b)
{
	int64_t x = ((const struct stats_entry *)a)->value;
	int64_t y = ((const struct stats_entry *)b)->value;

	return (x > y) - (x < y);
}

const struct stats_entry *stats_sorted(struct stats *s, size_t *distinct)
{
	if (!s->sorted_valid) {
		struct stats_entry *e = realloc(s->sorted, (s->distinct ? s->distinct : 1) * sizeof(*e));
		size_t k = 0;

		if (!e)
			return NULL;
		for (size_t i = 0; i < s->capacity; i++)
			if (s->slots[i].count)
				e[k++] = s->slots[i];
		qsort(e, k, sizeof(*e), by_value);
		s->sorted = e;
		s->sorted_valid = true;
	}
	*distinct = s->distinct;
	return s->sorted;
}

uint64_t stats_nearest_rank(uint64_t n, uint64_t num, uint64_t den)
{
	unsigned __int128 rank = ((unsigned __int128)n * num + den - 1) / den;

	if (rank < 1)
		return 1;
	return rank > n ? n : (uint64_t)rank;
}

int64_t stats_percentile(struct stats *s, uint64_t num, uint64_t den)
{
	const struct stats_entry *e;
	uint64_t seen = 0, rank;
	size_t n;

	if (!s->count || !den || !(e = stats_sorted(s, &n)))
		return 0;
	rank = stats_nearest_rank(s->count, num, den);
	for (size_t i = 0; i < n; i++) {
		seen += e[i].count;
		if (seen >= rank)
			return e[i].value;
	}
	return s->max;
}

/*
 * Walks the sorted entries in bucket_ns rows from the bucket holding the
 * minimum. In 128 bits: the bucket below INT64_MIN + 1 or the row end past
 * INT64_MAX must not overflow (the first row is clamped to start at INT64_MIN).
 */
struct rows {
	const struct stats_entry *e;
	size_t n, i;
	__int128 lo, width;
	unsigned row, max_rows;
};

static int rows_begin(struct rows *r, struct stats *s, int64_t bucket_ns, unsigned max_rows)
{
	int64_t min = s->min;

	*r = (struct rows){ .width = bucket_ns, .max_rows = max_rows };
	if (!s->count || bucket_ns <= 0 || !max_rows)
		return 0;
	r->e = stats_sorted(s, &r->n);
	if (!r->e)
		return -1;
	r->lo = (__int128)min - (((__int128)min % bucket_ns + bucket_ns) % bucket_ns);
	if (r->lo < INT64_MIN)
		r->lo = INT64_MIN;
	return 0;
}

/* The next row: false when every sample is in a row already. */
static bool rows_next(struct rows *r, int64_t *from_ns, uint64_t *count, bool *last)
{
	uint64_t c = 0;

	if (r->i >= r->n || r->row >= r->max_rows)
		return false;
	*last = ++r->row == r->max_rows;
	/* The last row also holds everything beyond it. */
	while (r->i < r->n && (*last || r->e[r->i].value < r->lo + r->width))
		c += r->e[r->i++].count;
	*from_ns = (int64_t)r->lo;
	*count = c;
	r->lo += r->width;
	return true;
}

int stats_buckets(struct stats *s, int64_t bucket_ns, unsigned max_rows,
		  int64_t *from_ns, uint64_t *count, unsigned *rows)
{
	struct rows r;
	bool last;

	*rows = 0;
	if (rows_begin(&r, s, bucket_ns, max_rows))
		return -1;
	while (rows_next(&r, &from_ns[*rows], &count[*rows], &last))
		(*rows)++;
	return 0;
}

void stats_histogram(FILE *out, struct stats *s, const char *title,
		     int64_t bucket_ns, unsigned max_buckets)
{
	struct rows r;
	uint64_t c;
	int64_t from;
	bool last;

	if (!s->count || bucket_ns <= 0 || !max_buckets || rows_begin(&r, s, bucket_ns, max_buckets))
		return;
	fprintf(out, "# Histogram: %s (bucket %" PRId64 " ns)\n", title, bucket_ns);
	fprintf(out, "# %14s %10s\n", "from_ns", "count");
	while (rows_next(&r, &from, &c, &last))
		fprintf(out, "# %14" PRId64 " %10" PRIu64 "%s\n", from, c,
			last && s->max >= (__int128)from + bucket_ns ? " (and above)" : "");
}

void stats_json_shifted(struct json *j, const char *key, struct stats *s, int64_t offset)
{
	json_object_begin(j, key);
	json_i64(j, "min", stats_shift(stats_min(s), offset));
	json_double(j, "mean", stats_mean(s) + (double)offset);
	json_i64(j, "max", stats_shift(stats_max(s), offset));
	json_i64(j, "p50", stats_shift(stats_percentile(s, 50, 100), offset));
	json_i64(j, "p99", stats_shift(stats_percentile(s, 99, 100), offset));
	json_i64(j, "p999", stats_shift(stats_percentile(s, 999, 1000), offset));
	json_object_end(j);
}

void stats_json(struct json *j, const char *key, struct stats *s)
{
	stats_json_shifted(j, key, s, 0);
}

// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

void vhist_init(struct vhist *h)
{
	*h = (struct vhist){ .min = INT64_MAX, .max = INT64_MIN };
}

void vhist_free(struct vhist *h)
{
	free(h->slots);
	free(h->sorted);
	vhist_init(h);
}

static size_t slot_of(int64_t v, size_t capacity)
{
	uint64_t z = (uint64_t)v * 0x9e3779b97f4a7c15ull;

	return (size_t)((z ^ (z >> 29)) & (capacity - 1));
}

static struct vhist_entry *find(struct vhist_entry *slots, size_t capacity, int64_t v)
{
	size_t i = slot_of(v, capacity);

	while (slots[i].count && slots[i].value != v)
		i = (i + 1) & (capacity - 1);
	return &slots[i];
}

static int grow(struct vhist *h)
{
	size_t cap = h->capacity ? h->capacity * 2 : 64;
	struct vhist_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < h->capacity; i++)
		if (h->slots[i].count)
			*find(slots, cap, h->slots[i].value) = h->slots[i];
	free(h->slots);
	h->slots = slots;
	h->capacity = cap;
	h->last = NULL;
	return 0;
}

int vhist_add(struct vhist *h, int64_t v)
{
	struct vhist_entry *e = h->last;

	if (!e || e->value != v) {
		if ((h->used + 1) * 2 > h->capacity && grow(h))
			return -1;
		e = find(h->slots, h->capacity, v);
		if (!e->count) {
			e->value = v;
			h->used++;
		}
		h->last = e;
	}
	e->count++;
	h->n++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->sorted_valid = false;
	return 0;
}

double vhist_mean(const struct vhist *h)
{
	return h->n ? (double)h->sum / (double)h->n : 0.0;
}

static int by_value(const void *a, const void *b)
{
	int64_t x = ((const struct vhist_entry *)a)->value;
	int64_t y = ((const struct vhist_entry *)b)->value;

	return (x > y) - (x < y);
}

const struct vhist_entry *vhist_sorted(struct vhist *h, size_t *count)
{
	if (!h->sorted_valid) {
		struct vhist_entry *s = realloc(h->sorted, (h->used ? h->used : 1) * sizeof(*s));
		size_t k = 0;

		if (!s)
			return NULL;
		for (size_t i = 0; i < h->capacity; i++)
			if (h->slots[i].count)
				s[k++] = h->slots[i];
		qsort(s, k, sizeof(*s), by_value);
		h->sorted = s;
		h->sorted_valid = true;
	}
	*count = h->used;
	return h->sorted;
}

uint64_t dist_nearest_rank(uint64_t n, uint64_t num, uint64_t den)
{
	unsigned __int128 rank = ((unsigned __int128)n * num + den - 1) / den;

	if (rank < 1)
		return 1;
	return rank > n ? n : (uint64_t)rank;
}

int64_t vhist_percentile(struct vhist *h, uint64_t num, uint64_t den)
{
	const struct vhist_entry *s;
	uint64_t seen = 0, rank;
	size_t n;

	if (!h->n || !den || !(s = vhist_sorted(h, &n)))
		return 0;
	rank = dist_nearest_rank(h->n, num, den);
	for (size_t i = 0; i < n; i++) {
		seen += s[i].count;
		if (seen >= rank)
			return s[i].value;
	}
	return h->max;
}

// SPDX-License-Identifier: MIT
/*
 * The simulated host's clocks (exact integer functions of true time) and
 * its timer queue: a binary heap of pointers to the timers, which carry
 * their own index, so arming and firing allocate nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvtime/simhost.h"
#include "ratetrack-div.h"
#include "simhost-internal.h"

#define NS_PER_MS	1000000ull

static pvt_u128 div_floor(pvt_u128 n, uint64_t d)
{
	uint64_t rem;

	return pvt_div128_full(n, d, &rem);
}

static pvt_u128 div_ceil(pvt_u128 n, uint64_t d)
{
	uint64_t rem;
	pvt_u128 q = pvt_div128_full(n, d, &rem);

	return q + (rem != 0);
}

static uint64_t sat64(pvt_u128 v)
{
	return (v >> 64) ? UINT64_MAX : (uint64_t)v;
}

static uint64_t slew_rate(const struct pvt_simhost *sim)
{
	return (uint64_t)(PVT_PPT_ONE + sim->slew_ppt);
}

uint64_t pvt_simhost_tsc_at(const struct pvt_simhost *sim, uint64_t true_ns)
{
	return sim->tsc_base +
	       (uint64_t)div_floor((pvt_u128)true_ns * sim->tsc_khz, NS_PER_MS);
}

uint64_t pvt_simhost_mono_at(const struct pvt_simhost *sim, uint64_t true_ns)
{
	uint64_t r = slew_rate(sim), d;

	if (true_ns >= sim->seg_true_ns) {
		d = sat64(div_floor((pvt_u128)(true_ns - sim->seg_true_ns) * r,
				    PVT_PPT_ONE));
		return sim->seg_mono_ns + d;
	}
	/* Before the segment: extend the same line backwards (floor). */
	d = sat64(div_ceil((pvt_u128)(sim->seg_true_ns - true_ns) * r,
			   PVT_PPT_ONE));
	return d > sim->seg_mono_ns ? 0 : sim->seg_mono_ns - d;
}

uint64_t pvt_simhost_true_at_mono(const struct pvt_simhost *sim, uint64_t mono_ns)
{
	pvt_u128 x;
	uint64_t t;

	if (mono_ns <= pvt_simhost_mono(sim))
		return sim->true_ns;
	/* Smallest x with floor(x * r / 10^12) >= dm, i.e. x * r >= dm * 10^12. */
	x = div_ceil((pvt_u128)(mono_ns - sim->seg_mono_ns) * PVT_PPT_ONE,
		     slew_rate(sim));
	if ((x >> 64) || sim->seg_true_ns + (uint64_t)x < sim->seg_true_ns)
		return UINT64_MAX;
	t = sim->seg_true_ns + (uint64_t)x;
	return t > sim->true_ns ? t : sim->true_ns;
}

uint64_t pvt_simhost_true_at_tsc(const struct pvt_simhost *sim, uint64_t tsc)
{
	pvt_u128 t;

	if (tsc <= pvt_simhost_tsc(sim))
		return sim->true_ns;
	t = div_ceil((pvt_u128)(tsc - sim->tsc_base) * NS_PER_MS, sim->tsc_khz);
	return sat64(t);
}

uint64_t pvt_simhost_now_ns(const struct pvt_simhost *sim)
{
	return sim->true_ns;
}

uint64_t pvt_simhost_fired(const struct pvt_simhost *sim)
{
	return sim->fired;
}

uint64_t pvt_simhost_tsc(const struct pvt_simhost *sim)
{
	return pvt_simhost_tsc_at(sim, sim->true_ns);
}

uint64_t pvt_simhost_mono(const struct pvt_simhost *sim)
{
	return pvt_simhost_mono_at(sim, sim->true_ns);
}

uint64_t pvt_simhost_realtime(const struct pvt_simhost *sim)
{
	return pvt_simhost_mono(sim) + (uint64_t)sim->realtime_offset_ns;
}

int pvt_simhost_new(const struct pvt_simhost_config *cfg, struct pvt_simhost **out)
{
	struct pvt_simhost *sim;

	if (!cfg || !out || !cfg->tsc_khz || !cfg->max_timers ||
	    cfg->slew_ppt <= -PVT_PPT_ONE || cfg->slew_ppt >= PVT_PPT_ONE)
		return -EINVAL;
	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	sim->heap = calloc(cfg->max_timers, sizeof(*sim->heap));
	if (!sim->heap) {
		free(sim);
		return -ENOMEM;
	}
	sim->capacity = cfg->max_timers;
	sim->true_ns = cfg->start_true_ns;
	sim->tsc_khz = cfg->tsc_khz;
	sim->tsc_base = cfg->tsc_base;
	sim->seg_true_ns = cfg->start_true_ns;
	sim->seg_mono_ns = cfg->start_mono_ns;
	sim->slew_ppt = cfg->slew_ppt;
	sim->wake_latency_ns = cfg->wake_latency_ns;
	*out = sim;
	return 0;
}

void pvt_simhost_free(struct pvt_simhost *sim)
{
	if (!sim)
		return;
	/* Timers may outlive their host: they become inert (arm: -ENODEV). */
	for (struct pvt_hosttimer *t = sim->timers; t; t = t->sim_next) {
		t->heap_idx = UINT32_MAX;
		t->armed = false;
		t->sim = NULL;
	}
	free(sim->heap);
	free(sim);
}

int pvt_simhost_set_slew(struct pvt_simhost *sim, int64_t slew_ppt)
{
	if (slew_ppt <= -PVT_PPT_ONE || slew_ppt >= PVT_PPT_ONE)
		return -EINVAL;
	sim->seg_mono_ns = pvt_simhost_mono(sim);
	sim->seg_true_ns = sim->true_ns;
	sim->slew_ppt = slew_ppt;
	return 0;
}

void pvt_simhost_step_realtime(struct pvt_simhost *sim, int64_t delta_ns)
{
	uint64_t now = pvt_simhost_mono(sim);
	struct pvt_hosttimer *t = sim->timers;

	sim->realtime_offset_ns += delta_ns;
	sim->realtime_steps++;
	/*
	 * Setting the clock cancels every armed CANCEL_ON_SET timer: its fd is
	 * readable at once. Queued at now, in the order they were made (the
	 * list is newest first); re-inserting what was just removed cannot fail.
	 */
	while (t && t->sim_next)
		t = t->sim_next;
	for (; t; t = t->sim_prev) {
		if (t->clockid != CLOCK_REALTIME || !t->armed)
			continue;
		sim_heap_remove(sim, t);
		t->deadline_ns = now ? now : 1;
		(void)sim_heap_insert(sim, t);
	}
}

void pvt_simhost_set_preempt(struct pvt_simhost *sim, pvt_simhost_preempt_fn fn,
			     void *ctx)
{
	sim->preempt = fn;
	sim->preempt_ctx = ctx;
}

void pvt_simhost_skip(struct pvt_simhost *sim, uint64_t ns)
{
	sim->true_ns = sim->true_ns + ns < sim->true_ns ? UINT64_MAX :
							  sim->true_ns + ns;
}

/* ---- heap ---- */

static bool before(const struct pvt_hosttimer *a, const struct pvt_hosttimer *b)
{
	return a->deadline_ns < b->deadline_ns ||
	       (a->deadline_ns == b->deadline_ns && a->seq < b->seq);
}

static void place(struct pvt_simhost *sim, uint32_t i, struct pvt_hosttimer *t)
{
	sim->heap[i] = t;
	t->heap_idx = i;
}

static void sift_up(struct pvt_simhost *sim, uint32_t i)
{
	struct pvt_hosttimer *t = sim->heap[i];

	while (i) {
		uint32_t p = (i - 1) / 2;

		if (!before(t, sim->heap[p]))
			break;
		place(sim, i, sim->heap[p]);
		i = p;
	}
	place(sim, i, t);
}

static void sift_down(struct pvt_simhost *sim, uint32_t i)
{
	struct pvt_hosttimer *t = sim->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= sim->count)
			break;
		if (c + 1 < sim->count && before(sim->heap[c + 1], sim->heap[c]))
			c++;
		if (!before(sim->heap[c], t))
			break;
		place(sim, i, sim->heap[c]);
		i = c;
	}
	place(sim, i, t);
}

void sim_heap_remove(struct pvt_simhost *sim, struct pvt_hosttimer *t)
{
	uint32_t i = t->heap_idx;
	struct pvt_hosttimer *last;

	if (i >= sim->count || sim->heap[i] != t)
		return;
	t->heap_idx = UINT32_MAX;
	last = sim->heap[--sim->count];
	if (i == sim->count)
		return;
	place(sim, i, last);
	if (i && before(last, sim->heap[(i - 1) / 2]))
		sift_up(sim, i);
	else
		sift_down(sim, i);
}

int sim_heap_insert(struct pvt_simhost *sim, struct pvt_hosttimer *t)
{
	if (sim->count >= sim->capacity)
		return -ENOSPC;
	t->seq = sim->next_seq++;
	place(sim, sim->count++, t);
	sift_up(sim, t->heap_idx);
	return 0;
}

uint64_t pvt_simhost_next_fire(const struct pvt_simhost *sim)
{
	if (!sim->count)
		return UINT64_MAX;
	return pvt_simhost_true_at_mono(sim, sim->heap[0]->deadline_ns);
}

int pvt_simhost_step(struct pvt_simhost *sim, uint64_t until_true_ns)
{
	struct pvt_hosttimer *t;
	uint64_t at = pvt_simhost_next_fire(sim);

	if (at == UINT64_MAX || at > until_true_ns) {
		if (until_true_ns > sim->true_ns)
			sim->true_ns = until_true_ns;
		return 0;
	}
	t = sim->heap[0];
	sim_heap_remove(sim, t);
	t->armed = false;
	pvt_simhost_skip(sim, at - sim->true_ns + sim->wake_latency_ns);
	sim->fired++;
	if (t->notify)
		t->notify(t->notify_ctx);
	return 1;
}

uint64_t pvt_simhost_run_until(struct pvt_simhost *sim, uint64_t until_true_ns)
{
	uint64_t n = 0;

	while (pvt_simhost_step(sim, until_true_ns))
		n++;
	return n;
}

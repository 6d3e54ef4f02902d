// SPDX-License-Identifier: MIT
/*
 * The simulated host as a hostclock backend (exact pairs, exact rate) and
 * as a hosttimer backend (its event queue), on CLOCK_MONOTONIC or on
 * CLOCK_REALTIME.
 */
#include <errno.h>
#include <string.h>

#include "simhost-internal.h"

static int sim_pair(void *ctx, struct pvt_clock_pair *out)
{
	const struct pvt_simhost *sim = ctx;

	out->tsc = pvt_simhost_tsc(sim);
	out->mono_ns = pvt_simhost_mono(sim);
	out->uncertainty_ns = 0;
	return 0;
}

static uint64_t sim_read_tsc(void *ctx)
{
	return pvt_simhost_tsc(ctx);
}

static uint64_t sim_read_mono(void *ctx)
{
	return pvt_simhost_mono(ctx);
}

/* What read-only adjtimex tells a real host: the current frequency. */
static int sim_rate(void *ctx, struct pvt_rate *rate, uint64_t *err_ppb)
{
	const struct pvt_simhost *sim = ctx;

	*err_ppb = 0;
	return pvt_rate_from_khz(sim->tsc_khz, sim->slew_ppt, rate);
}

static void sim_preempt_point(void *ctx)
{
	struct pvt_simhost *sim = ctx;

	if (sim->preempt)
		pvt_simhost_skip(sim, sim->preempt(sim->preempt_ctx));
}

static const struct pvt_hostclock_ops sim_clock_ops = {
	.name = "sim",
	.pair = sim_pair,
	.read_tsc = sim_read_tsc,
	.read_mono = sim_read_mono,
	.rate = sim_rate,
	.preempt_point = sim_preempt_point,
};

int pvt_simhost_hostclock_new(struct pvt_simhost *sim, struct pvt_hostclock **out)
{
	return pvt_hostclock_new_ops(&sim_clock_ops, sim, CLOCK_MONOTONIC,
				     PVT_HOSTCLOCK_F_EXACT, NULL, out);
}

/* KVM_GET_CLOCK's pairing: CLOCK_REALTIME at the TSC, truncated to the ns. */
static int sim_rt_pair(void *ctx, struct pvt_clock_pair *out)
{
	const struct pvt_simhost *sim = ctx;

	sim_pair(ctx, out);
	out->mono_ns += (uint64_t)sim->realtime_offset_ns;	/* as pvt_simhost_realtime */
	out->uncertainty_ns = 1;
	return 0;
}

static uint64_t sim_read_realtime(void *ctx)
{
	return pvt_simhost_realtime(ctx);
}

/* The watch fd's count, exact: the simulation is single-threaded. */
static uint64_t sim_rt_steps(void *ctx, bool poll)
{
	const struct pvt_simhost *sim = ctx;

	(void)poll;
	return sim->realtime_steps;
}

static const struct pvt_hostclock_ops sim_rt_clock_ops = {
	.name = "sim-realtime",
	.pair = sim_rt_pair,
	.read_tsc = sim_read_tsc,
	.read_mono = sim_read_realtime,
	.rate = sim_rate,
	.preempt_point = sim_preempt_point,
	.steps = sim_rt_steps,
};

int pvt_simhost_hostclock_new_realtime(struct pvt_simhost *sim,
				       struct pvt_hostclock **out)
{
	return pvt_hostclock_new_ops(&sim_rt_clock_ops, sim, CLOCK_REALTIME,
				     PVT_HOSTCLOCK_F_REALTIME, NULL, out);
}

static int sim_arm(struct pvt_hosttimer *t, uint64_t deadline_ns)
{
	int ret;

	if (!t->sim)
		return -ENODEV;
	sim_heap_remove(t->sim, t);
	t->deadline_ns = deadline_ns ? deadline_ns : 1;
	ret = sim_heap_insert(t->sim, t);
	t->armed = !ret;
	t->arms++;
	return ret;
}

static int sim_disarm(struct pvt_hosttimer *t)
{
	if (t->sim)
		sim_heap_remove(t->sim, t);
	t->armed = false;
	return 0;
}

static void sim_destroy(struct pvt_hosttimer *t)
{
	sim_disarm(t);
	if (t->sim) {
		if (t->sim_prev)
			t->sim_prev->sim_next = t->sim_next;
		else
			t->sim->timers = t->sim_next;
		if (t->sim_next)
			t->sim_next->sim_prev = t->sim_prev;
	}
	t->sim = NULL;
}

static const struct ht_backend sim_timer_backend = {
	.arm = sim_arm,
	.disarm = sim_disarm,
	.destroy = sim_destroy,
};

/*
 * The monotonic instant at which realtime (= mono + offset) reaches rt_ns,
 * 1 (past) if it has. Converted once, at arming: a later step cancels the
 * timer (pvt_simhost_step_realtime) and its owner arms it again.
 */
static uint64_t sim_rt_to_mono(const struct pvt_simhost *sim, uint64_t rt_ns)
{
	int64_t off = sim->realtime_offset_ns;
	uint64_t back;

	if (rt_ns == UINT64_MAX)
		return UINT64_MAX;	/* "never", not "now" */
	if (off >= 0)
		return rt_ns > (uint64_t)off ? rt_ns - (uint64_t)off : 1;
	back = 0 - (uint64_t)off;
	return rt_ns + back < rt_ns ? UINT64_MAX : rt_ns + back;
}

static int sim_rt_arm(struct pvt_hosttimer *t, uint64_t deadline_ns)
{
	if (!t->sim)
		return -ENODEV;
	return sim_arm(t, sim_rt_to_mono(t->sim, deadline_ns ? deadline_ns : 1));
}

/* Queued on mono like the others; pvt_simhost_step_realtime() finds it by its clockid. */
static const struct ht_backend sim_rt_timer_backend = {
	.arm = sim_rt_arm,
	.disarm = sim_disarm,
	.destroy = sim_destroy,
};

static int sim_timer_new(struct pvt_simhost *sim, const struct ht_backend *be,
			 clockid_t clockid, struct pvt_hosttimer **out)
{
	struct pvt_hosttimer *t;

	if (!sim || !out)
		return -EINVAL;
	t = ht_alloc(be, clockid);
	if (!t)
		return -ENOMEM;
	t->sim = sim;
	t->sim_next = sim->timers;
	if (sim->timers)
		sim->timers->sim_prev = t;
	sim->timers = t;
	*out = t;
	return 0;
}

int pvt_simhost_timer_new(struct pvt_simhost *sim, struct pvt_hosttimer **out)
{
	return sim_timer_new(sim, &sim_timer_backend, CLOCK_MONOTONIC, out);
}

int pvt_simhost_timer_new_realtime(struct pvt_simhost *sim, struct pvt_hosttimer **out)
{
	return sim_timer_new(sim, &sim_rt_timer_backend, CLOCK_REALTIME, out);
}

int pvt_simhost_timer_set_notify(struct pvt_hosttimer *t, pvt_simhost_notify_fn fn,
				 void *ctx)
{
	if (!t || (t->be != &sim_timer_backend && t->be != &sim_rt_timer_backend))
		return -EINVAL;
	t->notify = fn;
	t->notify_ctx = ctx;
	return 0;
}

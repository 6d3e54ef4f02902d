// SPDX-License-Identifier: MIT
/*
 * The simulated host as a hostclock backend (exact pairs, exact rate) and
 * as a hosttimer backend (its event queue).
 */
#include <errno.h>
#include <string.h>

#include "pvtime/simhost.h"
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

int pvt_hostclock_init_sim(struct pvt_hostclock *hc, struct pvt_simhost *sim)
{
	return pvt_hostclock_init_ops(hc, &sim_clock_ops, sim, CLOCK_MONOTONIC,
				      PVT_HOSTCLOCK_F_EXACT, NULL);
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

int pvt_hostclock_init_sim_realtime(struct pvt_hostclock *hc, struct pvt_simhost *sim)
{
	return pvt_hostclock_init_ops(hc, &sim_rt_clock_ops, sim, CLOCK_REALTIME,
				      PVT_HOSTCLOCK_F_REALTIME, NULL);
}

static int sim_arm(struct pvt_hosttimer *t, uint64_t deadline_ns)
{
	int ret;

	if (!t->sim)
		return -ENODEV;
	pvt_simhost_heap_remove(t->sim, t);
	t->deadline_ns = deadline_ns ? deadline_ns : 1;
	ret = pvt_simhost_heap_insert(t->sim, t);
	t->armed = !ret;
	t->arms++;
	return ret;
}

static int sim_disarm(struct pvt_hosttimer *t)
{
	if (t->sim)
		pvt_simhost_heap_remove(t->sim, t);
	t->armed = false;
	return 0;
}

static void sim_destroy(struct pvt_hosttimer *t)
{
	sim_disarm(t);
	t->sim = NULL;
}

static const struct pvt_hosttimer_ops sim_timer_ops = {
	.arm = sim_arm,
	.disarm = sim_disarm,
	.destroy = sim_destroy,
};

int pvt_hosttimer_init_sim(struct pvt_hosttimer *t, struct pvt_simhost *sim)
{
	memset(t, 0, sizeof(*t));
	t->ops = &sim_timer_ops;
	t->fd = -1;
	t->clockid = CLOCK_MONOTONIC;
	t->sim = sim;
	t->heap_idx = UINT32_MAX;
	return 0;
}

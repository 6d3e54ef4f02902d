/* SPDX-License-Identifier: MIT */
/*
 * A simulated VM for engine tests: one simhost, its host clock, a VM with
 * KVM's clock model, and vCPUs whose expiries are logged with the true
 * instant and host TSC at which they were delivered.
 */
#ifndef PVTIME_TEST_ENGINE_HARNESS_H
#define PVTIME_TEST_ENGINE_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "pvtime/guestclock.h"
#include "pvtime/simhost.h"
#include "pvtime/xentimer.h"

#define H_MAX_VCPUS	4

struct h_log {
	uint64_t singleshot, periodic;	/* deliveries by kind */
	uint64_t last_true_ns, last_tsc;
	enum pvt_xen_expiry last_kind;
};

struct h_cfg {
	uint32_t host_khz, guest_khz;
	unsigned frac_bits;
	uint64_t uptime_s;		/* host TSC = uptime * khz * 1000 at start */
	uint64_t tsc_offset;
	int64_t slew_ppt;
	uint64_t wake_latency_ns;
	unsigned vcpus;
	uint32_t max_timers;		/* simulated queue capacity; 0 = H_MAX_VCPUS */
	struct pvt_xen_vm_config vm;
};

struct harness {
	struct pvt_simhost sim;
	struct pvt_hostclock hc;
	struct pvt_kvm_clock kvm;
	struct pvt_guest_clock clock;
	struct pvt_xen_vm vm;
	struct pvt_hosttimer timers[H_MAX_VCPUS];
	struct pvt_xen_vcpu vcpus[H_MAX_VCPUS];
	struct h_log logs[H_MAX_VCPUS];
	unsigned n;
};

static inline void h_cfg_default(struct h_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->host_khz = 2596136;
	c->guest_khz = 3000000;
	c->frac_bits = 48;
	c->uptime_s = 10;
	c->vcpus = 1;
	pvt_xen_vm_config_default(&c->vm);
}

static void h_expiry(void *ctx, struct pvt_xen_vcpu *vcpu, enum pvt_xen_expiry kind)
{
	struct harness *h = ctx;
	struct h_log *l = &h->logs[vcpu->id];

	if (kind == PVT_XEN_EXPIRY_SINGLESHOT)
		l->singleshot++;
	else
		l->periodic++;
	l->last_kind = kind;
	l->last_true_ns = h->sim.true_ns;
	l->last_tsc = pvt_simhost_tsc(&h->sim);
}

/* 0 or a negative errno from the first step that failed. */
static inline int h_init(struct harness *h, const struct h_cfg *c)
{
	struct pvt_simhost_config sc = {
		.tsc_khz = c->host_khz,
		.start_true_ns = c->uptime_s * 1000000000ull,
		.start_mono_ns = c->uptime_s * 1000000000ull,
		.slew_ppt = c->slew_ppt,
		.wake_latency_ns = c->wake_latency_ns,
		.max_timers = c->max_timers ? c->max_timers : H_MAX_VCPUS,
	};
	struct pvt_tsc_scaling tsc;
	int ret;

	memset(h, 0, sizeof(*h));
	h->n = c->vcpus ? c->vcpus : 1;
	if ((ret = pvt_simhost_init(&h->sim, &sc)) ||
	    (ret = pvt_hostclock_init_sim(&h->hc, &h->sim)) ||
	    (ret = pvt_kvm_clock_init(&h->kvm, c->host_khz, c->frac_bits)) ||
	    (ret = pvt_kvm_tsc_scaling(&h->kvm, c->guest_khz, c->tsc_offset, &tsc)) ||
	    (ret = pvt_kvm_guest_clock(&h->kvm, &tsc, &h->clock)) ||
	    (ret = pvt_xen_vm_init(&h->vm, &c->vm, &h->hc, &h->kvm)))
		return ret;
	for (unsigned i = 0; i < h->n; i++) {
		pvt_hosttimer_init_sim(&h->timers[i], &h->sim);
		ret = pvt_xen_vcpu_init(&h->vcpus[i], &h->vm, i, &h->timers[i],
					h_expiry, h);
		if (!ret)
			ret = pvt_xen_vcpu_set_guest_clock(&h->vcpus[i], &h->clock);
		if (ret)
			return ret;
	}
	return 0;
}

static inline void h_destroy(struct harness *h)
{
	for (unsigned i = 0; i < h->n; i++) {
		pvt_xen_vcpu_destroy(&h->vcpus[i]);
		pvt_hosttimer_destroy(&h->timers[i]);
	}
	pvt_hostclock_destroy(&h->hc);
	pvt_simhost_destroy(&h->sim);
}

/* The guest clock (exact, as the guest reads it) at true time t. */
static inline uint64_t h_guest_at(const struct harness *h, uint64_t true_ns)
{
	return pvt_guest_clock_ns(&h->clock, pvt_simhost_tsc_at(&h->sim, true_ns));
}

static inline uint64_t h_guest_now(const struct harness *h)
{
	return h_guest_at(h, h->sim.true_ns);
}

/*
 * The first true ns >= from at which the guest clock reads >= deadline
 * (binary search over the exact model: the oracle, independent of the engine).
 */
static inline uint64_t h_first_true_at(const struct harness *h, uint64_t from,
				       uint64_t deadline)
{
	uint64_t lo = from, hi = from + 1;

	if ((int64_t)(h_guest_at(h, lo) - deadline) >= 0)
		return lo;
	while ((int64_t)(h_guest_at(h, hi) - deadline) < 0) {
		lo = hi;
		hi = from + 2 * (hi - from);
	}
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if ((int64_t)(h_guest_at(h, mid) - deadline) >= 0)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/*
 * A CLOCK_REALTIME host timer (the KVM_GET_CLOCK backend's CANCEL_ON_SET
 * timerfd) over the simulated host: a sim (monotonic) timer at deadline -
 * realtime offset. A deadline no realtime reaches (UINT64_MAX) never fires;
 * h_rt_step() cancels an armed one as the kernel does: it wakes (at once,
 * through the queue, like a read() returning ECANCELED) and the owner re-arms.
 */
struct h_rt_timer {
	struct pvt_hosttimer t;		/* what the engine sees */
	struct pvt_hosttimer inner;	/* in the sim queue */
};

static inline void h_rt_fire(void *ctx)
{
	struct h_rt_timer *r = ctx;

	r->t.armed = false;
	if (r->t.on_fire)
		r->t.on_fire(r->t.on_fire_ctx);
}

static inline int h_rt_arm(struct pvt_hosttimer *t, uint64_t deadline_ns)
{
	struct h_rt_timer *r = (struct h_rt_timer *)t;
	int64_t off = r->inner.sim->realtime_offset_ns;
	uint64_t mono;

	if (deadline_ns == UINT64_MAX)
		mono = UINT64_MAX;		/* "never", not "now" */
	else if (off >= 0)
		mono = deadline_ns > (uint64_t)off ? deadline_ns - (uint64_t)off : 1;
	else
		mono = deadline_ns + (uint64_t)-off < deadline_ns ? UINT64_MAX :
		       deadline_ns + (uint64_t)-off;
	t->armed = true;
	t->deadline_ns = deadline_ns;
	return pvt_hosttimer_arm(&r->inner, mono);
}

static inline int h_rt_disarm(struct pvt_hosttimer *t)
{
	struct h_rt_timer *r = (struct h_rt_timer *)t;

	t->armed = false;
	return pvt_hosttimer_disarm(&r->inner);
}

static inline const struct pvt_hosttimer_ops *h_rt_ops(void)
{
	static const struct pvt_hosttimer_ops ops = { .arm = h_rt_arm, .disarm = h_rt_disarm };

	return &ops;
}

/* Sets r up in sim's queue. 0 or -errno. */
static inline int h_rt_init(struct h_rt_timer *r, struct pvt_simhost *sim)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->t.ops = h_rt_ops();
	r->t.fd = -1;
	r->t.clockid = CLOCK_REALTIME;
	ret = pvt_hosttimer_init_sim(&r->inner, sim);
	r->inner.on_fire = h_rt_fire;
	r->inner.on_fire_ctx = r;
	return ret;
}

/* settimeofday as the host sees it: the step is counted, an armed r wakes now. */
static inline void h_rt_step(struct pvt_simhost *sim, struct h_rt_timer *r, int64_t delta_ns)
{
	pvt_simhost_step_realtime(sim, delta_ns);
	if (r && r->t.armed)
		(void)pvt_hosttimer_arm(&r->inner, pvt_simhost_mono(sim));
}

/* Tiny deterministic PRNG (splitmix64). */
static inline uint64_t h_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif

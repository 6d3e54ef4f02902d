/* SPDX-License-Identifier: MIT */
/*
 * A simulated VM for engine tests: one simhost, its host clock, a VM with
 * KVM's clock model, and vCPUs served as a VMM loop would (notify hook ->
 * service -> take; a take after every call), whose expiries are logged
 * with the true instant and host TSC at which they were taken.
 */
#ifndef PVTIME_TEST_ENGINE_HARNESS_H
#define PVTIME_TEST_ENGINE_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "pvtime/guestclock.h"
#include "pvtime/simhost.h"
#include "pvtime/xentimer.h"
#include "simhost-internal.h"
#include "xentimer-internal.h"

#define H_MAX_VCPUS	4

/* Which kind fired last (the periodic one when both came in one take). */
enum h_kind {
	H_SINGLESHOT,
	H_PERIODIC,
};

struct h_log {
	uint64_t singleshot, periodic;	/* deliveries by kind */
	uint64_t restored;		/* pending expiries brought back by restore */
	uint64_t last_true_ns, last_tsc;
	enum h_kind last_kind;
	struct pvt_xen_events last_ev;	/* the last take that had something */
	int service_err;		/* the last service() status if it failed, else 0 */
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

struct harness;

/* What a timer's notify hook needs to serve its vCPU. */
struct h_slot {
	struct harness *h;
	struct pvt_xen_vcpu *v;
};

struct harness {
	struct pvt_simhost *sim;
	struct pvt_hostclock *hc;
	struct pvt_kvm_clock kvm;
	struct pvt_guest_clock clock;
	struct pvt_xen_vm *vm;
	struct pvt_hosttimer *timers[H_MAX_VCPUS];
	struct pvt_xen_vcpu *vcpus[H_MAX_VCPUS];
	struct h_slot slots[H_MAX_VCPUS];
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

/* Logs what a take returned, at the simulated instant it was taken. */
static inline void h_log_ev(struct harness *h, uint32_t id, const struct pvt_xen_events *ev)
{
	struct h_log *l = &h->logs[id];

	if (!ev->fired)
		return;
	if (ev->fired & PVT_XEN_FIRED_SINGLESHOT) {
		l->singleshot++;
		l->last_kind = H_SINGLESHOT;
	}
	if (ev->fired & PVT_XEN_FIRED_PERIODIC) {
		l->periodic++;
		l->last_kind = H_PERIODIC;
	}
	if (ev->fired & PVT_XEN_FIRED_RESTORED)
		l->restored++;
	l->last_ev = *ev;
	l->last_true_ns = h->sim->true_ns;
	l->last_tsc = pvt_simhost_tsc(h->sim);
}

/* Takes v's recorded expiries into the log. Returns take's result. */
static inline int h_take(struct harness *h, struct pvt_xen_vcpu *v)
{
	struct pvt_xen_events ev;
	int r = pvt_xen_vcpu_take(v, &ev);

	h_log_ev(h, pvt_xen_vcpu_id(v), &ev);
	return r;
}

/* A simulated timer fired: the VMM's loop, service then log. */
static inline void h_notify(void *ctx)
{
	struct h_slot *s = ctx;
	struct pvt_xen_events ev;
	int r = pvt_xen_vcpu_service(s->v, &ev);

	h_log_ev(s->h, pvt_xen_vcpu_id(s->v), &ev);
	s->h->logs[pvt_xen_vcpu_id(s->v)].service_err = r < 0 ? r : 0;
}

/*
 * A vCPU on vm with timer, served through slot (the timer's notify context):
 * sim timers get h_notify here; other timers call h_notify(slot) themselves.
 */
static inline int h_vcpu_new(struct harness *h, struct h_slot *slot, struct pvt_xen_vm *vm,
			     uint32_t id, struct pvt_hosttimer *timer, struct pvt_xen_vcpu **out)
{
	int ret = pvt_xen_vcpu_new(vm, id, timer, out);

	if (ret)
		return ret;
	slot->h = h;
	slot->v = *out;
	(void)pvt_simhost_timer_set_notify(timer, h_notify, slot);
	return 0;
}

/* Each call: the host status if it failed, else the guest's result; then logs the take. */
static inline int h_ret(struct harness *h, struct pvt_xen_vcpu *v, int host, int64_t guest)
{
	h_take(h, v);
	return host ? host : (int)guest;
}

static inline int h_set_timer_op(struct harness *h, struct pvt_xen_vcpu *v, uint64_t deadline_ns)
{
	int64_t g = 1;
	int r = pvt_xen_set_timer_op(v, deadline_ns, &g);

	return h_ret(h, v, r, g);
}

static inline int h_set_singleshot(struct harness *h, struct pvt_xen_vcpu *v,
				   uint64_t deadline_ns, uint32_t flags)
{
	int64_t g = 1;
	int r = pvt_xen_set_singleshot(v, deadline_ns, flags, &g);

	return h_ret(h, v, r, g);
}

static inline int h_stop_singleshot(struct harness *h, struct pvt_xen_vcpu *v)
{
	int64_t g = 1;
	int r = pvt_xen_stop_singleshot(v, &g);

	return h_ret(h, v, r, g);
}

static inline int h_set_periodic(struct harness *h, struct pvt_xen_vcpu *v, uint64_t period_ns)
{
	int64_t g = 1;
	int r = pvt_xen_set_periodic(v, period_ns, &g);

	return h_ret(h, v, r, g);
}

static inline int h_stop_periodic(struct harness *h, struct pvt_xen_vcpu *v)
{
	int64_t g = 1;
	int r = pvt_xen_stop_periodic(v, &g);

	return h_ret(h, v, r, g);
}

static inline int h_vcpu_op(struct harness *h, struct pvt_xen_vcpu *caller,
			    struct pvt_xen_vcpu *target, int cmd, const void *arg, size_t len)
{
	int64_t g = 1;
	int r = pvt_xen_vcpu_op(caller, target, cmd, arg, len, &g);

	if (target)
		h_take(h, target);
	return h_ret(h, caller, r, g);
}

static inline int h_set_guest_clock(struct harness *h, struct pvt_xen_vcpu *v,
				    const struct pvt_guest_clock *clock)
{
	return h_ret(h, v, pvt_xen_vcpu_set_guest_clock(v, clock), 0);
}

static inline int h_restore(struct harness *h, struct pvt_xen_vcpu *v, const void *buf, size_t len)
{
	return h_ret(h, v, pvt_xen_vcpu_restore(v, buf, len), 0);
}

static inline int h_import_kvm(struct harness *h, struct pvt_xen_vcpu *v,
			       const struct pvt_xen_kvm_timer_attr *attr)
{
	return h_ret(h, v, pvt_xen_vcpu_import_kvm(v, attr), 0);
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
	if ((ret = pvt_simhost_new(&sc, &h->sim)) ||
	    (ret = pvt_simhost_hostclock_new(h->sim, &h->hc)) ||
	    (ret = pvt_kvm_clock_init(&h->kvm, c->host_khz, c->frac_bits)) ||
	    (ret = pvt_kvm_tsc_scaling(&h->kvm, c->guest_khz, c->tsc_offset, &tsc)) ||
	    (ret = pvt_kvm_guest_clock(&h->kvm, &tsc, &h->clock)) ||
	    (ret = pvt_xen_vm_new(&c->vm, h->hc, &h->kvm, &h->vm)))
		return ret;
	for (unsigned i = 0; i < h->n; i++) {
		ret = pvt_simhost_timer_new(h->sim, &h->timers[i]);
		if (!ret)
			ret = h_vcpu_new(h, &h->slots[i], h->vm, i, h->timers[i], &h->vcpus[i]);
		if (!ret)
			ret = h_set_guest_clock(h, h->vcpus[i], &h->clock);
		if (ret)
			return ret;
	}
	return 0;
}

static inline void h_destroy(struct harness *h)
{
	for (unsigned i = 0; i < h->n; i++) {
		pvt_xen_vcpu_free(h->vcpus[i]);
		pvt_hosttimer_free(h->timers[i]);
	}
	pvt_xen_vm_free(h->vm);
	pvt_hostclock_free(h->hc);
	pvt_simhost_free(h->sim);
}

/* The guest clock (exact, as the guest reads it) at true time t. */
static inline uint64_t h_guest_at(const struct harness *h, uint64_t true_ns)
{
	return pvt_guest_clock_ns(&h->clock, pvt_simhost_tsc_at(h->sim, true_ns));
}

static inline uint64_t h_guest_now(const struct harness *h)
{
	return h_guest_at(h, h->sim->true_ns);
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

/* Tiny deterministic PRNG (splitmix64). */
static inline uint64_t h_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif

// SPDX-License-Identifier: MIT
/*
 * Two programs that keep the VMM honest for a long time.
 *
 * hostile: vCPU 0 issues seeded random hypercalls (numbers, sub-ops and
 * registers from the whole range, GPAs inside and outside RAM, huge and
 * negative deadlines, periods out of range, other and invalid vCPU ids)
 * and scribbles on its own kvmclock page and vCPU page between them; every
 * call must come back with a result. vCPU 1 meanwhile runs timerlat and
 * checks each of its timers: never early, never lost (not delivered by
 * deadline + 1 s on its clock), never doubled.
 *
 * soak: every vCPU runs a seeded mix of singleshot timers (set_timer_op
 * and VCPUOP), stop-before-fire, re-arm while armed, periodic runs
 * stopped after a few ticks, blocking and polling waits, and checks every
 * expiry against what it armed. The VMM saves and restores the vCPU's
 * timer state at random exits meanwhile (vmm/soak.c).
 *
 * A timer the guest is blocked on when the VMM stops the run is judged by
 * the VMM (wait_deadline_ns): it was lost if the guest clock is 1 s past it.
 */
#include <stdbool.h>

#include "guest.h"

#define US		1000ull
#define MS		1000000ull
#define LOST_AFTER_NS	(1000 * MS)
#define FAR_NS		(500 * MS)	/* a deadline no round reaches before replacing it */

struct sshot_arg {
	uint64_t timeout_abs_ns;
	uint32_t flags;
};

/* xorshift64*: small, seedable, never stuck at 0. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ull;
}

/* Uniform enough in [lo, hi]. */
static uint64_t rnd_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + rnd(s) % (hi - lo + 1);
}

static uint64_t seed_for(const struct guest_cpu *g)
{
	uint64_t s = g->cfg->seed ^ (0x9e3779b97f4a7c15ull * (g->id + 1));

	return s ? s : 1;
}

static uint64_t now_ns(struct guest_cpu *g)
{
	struct pvt_guest_sample s;

	guest_clock_read(g, &s);
	return s.ns;
}

/* ---------------- soak ---------------- */

/*
 * What the guest armed, and the delivery counters it has accounted for.
 * Every increment of singleshot_fired / periodic_fired is matched against
 * this: with nothing armed it is a duplicate, before the deadline (or the
 * tick's slot on the grid) it is early.
 */
struct track {
	uint64_t ss_dl;			/* armed singleshot deadline, 0 = none */
	uint64_t ss_seen;		/* singleshot_fired accounted for */
	uint64_t per_t0, per_ns;	/* periodic: clock before arming, period (0 = off) */
	uint64_t per_ticks;		/* ticks since arming */
	uint64_t per_seen;		/* periodic_fired accounted for */
	bool ignore_periodic;		/* another vCPU may program our periodic timer */
};

/* Accounts for every expiry delivered so far; returns how many new singleshots. */
static uint64_t account(struct guest_cpu *g, struct track *t)
{
	volatile struct pvt_guest_vcpu *vp = g->vp;
	uint64_t ss = __atomic_load_n(&vp->singleshot_fired, __ATOMIC_SEQ_CST);
	uint64_t per = __atomic_load_n(&vp->periodic_fired, __ATOMIC_SEQ_CST);
	uint64_t now = now_ns(g), n_ss = ss - t->ss_seen, n_per = per - t->per_seen;

	if (n_ss) {
		if (!t->ss_dl) {
			vp->duplicate_expiries += n_ss;
		} else {
			if ((int64_t)(now - t->ss_dl) < 0)
				vp->early_wakeups++;
			else if (now - t->ss_dl > LOST_AFTER_NS)
				vp->lost_timers++;	/* came, but far too late to count */
			vp->timers_checked++;
			vp->duplicate_expiries += n_ss - 1;
			t->ss_dl = 0;
		}
		t->ss_seen = ss;
	}
	if (n_per && !t->ignore_periodic) {
		if (!t->per_ns) {
			vp->duplicate_expiries += n_per;
		} else {
			t->per_ticks += n_per;
			/* The k-th event (missed slots coalesced) is due k periods after arming. */
			if ((int64_t)(now - t->per_t0 - t->per_ticks * t->per_ns) < 0)
				vp->early_wakeups++;
			vp->timers_checked += n_per;
		}
	}
	t->per_seen = per;
	return n_ss;
}

/* Blocks (or polls with yields) until the armed singleshot came; counts it lost after 1 s. */
static void wait_singleshot(struct guest_cpu *g, struct track *t, bool poll)
{
	volatile struct pvt_guest_vcpu *vp = g->vp;
	uint64_t dl = t->ss_dl;

	while (t->ss_dl) {
		if (poll) {
			GUEST_ASSERT_EQ(hc_sched_op(PVT_SCHEDOP_yield), 0);
			if (t->ss_dl && (int64_t)(now_ns(g) - dl) > (int64_t)LOST_AFTER_NS) {
				vp->lost_timers++;
				GUEST_ASSERT_EQ(hc_set_timer_op(0), 0);
				account(g, t);
				t->ss_dl = 0;
				break;
			}
		} else {
			__atomic_store_n(&vp->wait_deadline_ns, dl, __ATOMIC_SEQ_CST);
			GUEST_ASSERT_EQ(hc_sched_op(PVT_SCHEDOP_block), 0);
			__atomic_store_n(&vp->wait_deadline_ns, 0, __ATOMIC_SEQ_CST);
		}
		guest_take_events(g);
		account(g, t);
	}
}

static void arm_singleshot(struct guest_cpu *g, struct track *t, uint64_t dl, uint64_t *rng)
{
	volatile struct pvt_guest_vcpu *vp = g->vp;
	uint64_t prev = t->ss_dl, ss, now, n;

	if (rnd(rng) & 1) {
		struct sshot_arg arg = { dl, 0 };

		GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_singleshot_timer, g->id, &arg), 0);
	} else {
		GUEST_ASSERT_EQ(hc_set_timer_op(dl), 0);
	}
	/*
	 * Expiries delivered during the call: the previous timer's if its
	 * deadline had passed (the VMM delivers what is due before it
	 * dispatches a call), then the new one's (a deadline already past).
	 */
	ss = __atomic_load_n(&vp->singleshot_fired, __ATOMIC_SEQ_CST);
	now = now_ns(g);
	n = ss - t->ss_seen;
	t->ss_seen = ss;
	if (n && prev && (int64_t)(now - prev) >= 0) {
		vp->timers_checked++;
		n--;
	}
	t->ss_dl = dl;
	if (n) {
		if ((int64_t)(now - dl) < 0)
			vp->early_wakeups++;
		vp->timers_checked++;
		vp->duplicate_expiries += n - 1;
		t->ss_dl = 0;
	}
}

static void stop_singleshot(struct guest_cpu *g, struct track *t, uint64_t *rng)
{
	if (rnd(rng) & 1)
		GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_stop_singleshot_timer, g->id, 0), 0);
	else
		GUEST_ASSERT_EQ(hc_set_timer_op(0), 0);
	/* One that fired before the stop is counted; none may come after it. */
	account(g, t);
	t->ss_dl = 0;
}

void guest_soak(struct guest_cpu *g)
{
	volatile struct pvt_guest_vcpu *vp = g->vp;
	uint64_t rng = seed_for(g);
	struct track t = { 0 };

	for (uint64_t round = 0;; round++) {
		uint64_t kind = rnd(&rng) % 16, now = now_ns(g);

		if (kind < 7) {
			/* A short singleshot, blocking (or, now and then, polling). */
			arm_singleshot(g, &t, now + rnd_range(&rng, 20 * US, 3 * MS), &rng);
			wait_singleshot(g, &t, kind == 0);
		} else if (kind < 9) {
			/* Stop before it fires: it must never come. */
			arm_singleshot(g, &t, now + FAR_NS, &rng);
			stop_singleshot(g, &t, &rng);
		} else if (kind < 11) {
			/* Re-arm while armed: only the new deadline fires. */
			arm_singleshot(g, &t, now + FAR_NS, &rng);
			arm_singleshot(g, &t, now_ns(g) + rnd_range(&rng, 20 * US, 2 * MS), &rng);
			wait_singleshot(g, &t, false);
		} else if (kind < 13) {
			/* A deadline already past fires at once, exactly once. */
			arm_singleshot(g, &t, now - rnd_range(&rng, 0, 5 * MS), &rng);
			wait_singleshot(g, &t, false);
		} else {
			/* Periodic: a few ticks on the grid, then stopped; none after. */
			uint64_t period = rnd_range(&rng, 1 * MS, 3 * MS), want = rnd_range(&rng, 2, 6);

			account(g, &t);
			t.per_t0 = now_ns(g);
			t.per_ns = period;
			t.per_ticks = 0;
			GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_periodic_timer, g->id, &period), 0);
			while (t.per_ticks < want) {
				/* A singleshot beside it, as backstop and as a second event source. */
				arm_singleshot(g, &t, now_ns(g) + period + rnd_range(&rng, 0, period), &rng);
				wait_singleshot(g, &t, false);
				account(g, &t);
				if (t.per_ticks == 0 &&
				    (int64_t)(now_ns(g) - t.per_t0) > (int64_t)(period + LOST_AFTER_NS)) {
					vp->lost_timers++;
					break;
				}
			}
			GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_stop_periodic_timer, g->id, 0), 0);
			account(g, &t);
			t.per_ns = 0;
		}
		vp->loops_done = round + 1;
	}
}

/* ---------------- hostile ---------------- */

/* vCPU 1: timerlat whose every timer is checked (early, lost, doubled). */
static void hostile_timerlat(struct guest_cpu *g)
{
	volatile struct pvt_guest_vcpu *vp = g->vp;
	uint64_t interval = g->cfg->interval_ns;
	struct track t = { 0 };

	t.ss_seen = vp->singleshot_fired;
	t.ignore_periodic = true;
	for (uint64_t i = 0;; i++) {
		struct sshot_arg arg;
		uint64_t dl = now_ns(g) + interval;

		arg = (struct sshot_arg){ dl, 0 };
		/*
		 * vCPU 0 may program this vCPU's periodic timer (Xen allows it):
		 * those ticks are its business, they wake us and are ignored.
		 */
		GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_singleshot_timer, g->id, &arg), 0);
		t.ss_dl = dl;
		while (t.ss_dl) {
			__atomic_store_n(&vp->wait_deadline_ns, dl, __ATOMIC_SEQ_CST);
			GUEST_ASSERT_EQ(hc_sched_op(PVT_SCHEDOP_block), 0);
			__atomic_store_n(&vp->wait_deadline_ns, 0, __ATOMIC_SEQ_CST);
			guest_take_events(g);
			account(g, &t);
		}
		vp->loops_done = i + 1;
	}
}

/* A GPA: inside RAM (anywhere), just past it, near the top, or any value. */
static uint64_t rnd_gpa(struct guest_cpu *g, uint64_t *rng)
{
	uint64_t mem = g->cfg->mem_size;

	switch (rnd(rng) % 5) {
	case 0:
		return rnd(rng) % mem;
	case 1:
		return mem - rnd_range(rng, 0, 64);
	case 2:
		return UINT64_MAX - rnd_range(rng, 0, 64);
	case 3:
		return (uint64_t)(uintptr_t)&g->vp->peer;	/* a valid argument (a page field) */
	default:
		return rnd(rng);
	}
}

/* A deadline: near, past, far, huge, "negative", or any value. */
static uint64_t rnd_deadline(uint64_t now, uint64_t *rng)
{
	switch (rnd(rng) % 6) {
	case 0:
		return now + rnd_range(rng, 0, 2 * MS);
	case 1:
		return now - rnd_range(rng, 0, 1000 * MS);
	case 2:
		return now + (1ull << rnd_range(rng, 30, 63));
	case 3:
		return UINT64_MAX - rnd_range(rng, 0, 1000);
	case 4:
		return 0;
	default:
		return rnd(rng);
	}
}

/* A vCPU id: this one, the other, just past the last, or any value. */
static uint64_t rnd_vcpu(struct guest_cpu *g, uint64_t *rng)
{
	switch (rnd(rng) % 5) {
	case 0:
	case 1:
		return g->id;
	case 2:
		return rnd(rng) % g->cfg->nr_vcpus;
	case 3:
		return g->cfg->nr_vcpus + rnd_range(rng, 0, 20);
	default:
		return rnd(rng);
	}
}

/* Scribbles on the vCPU page fields the VMM reads, and on the kvmclock page. */
static void scribble(struct guest_cpu *g, uint64_t *rng, volatile uint8_t *clock_page)
{
	volatile struct pvt_guest_vcpu *vp = g->vp;

	switch (rnd(rng) % 4) {
	case 0:
		vp->pending = (uint32_t)rnd(rng);
		break;
	case 1:
		vp->upcall_mask = (uint8_t)rnd(rng);
		vp->nr_samples = rnd(rng);
		vp->nr_irq_recs = rnd(rng);
		break;
	case 2:
		vp->singleshot_fired = rnd(rng);
		vp->periodic_fired = rnd(rng);
		break;
	default:
		/* Any bytes of its own pvclock page: version, mul, shift, times. */
		for (int k = (int)rnd_range(rng, 1, 8); k > 0; k--)
			clock_page[rnd(rng) % sizeof(struct pvt_pvclock_page)] = (uint8_t)rnd(rng);
		break;
	}
}

static uint64_t read_tsc_cb(void *ctx)
{
	(void)ctx;
	return guest_rdtsc_ordered();
}

/*
 * Puts its kvmclock page back: re-registering makes KVM rewrite it before
 * the next entry. Returns the guest clock, or 0 if the page still is not
 * readable (the next episode tries again).
 */
static uint64_t repair_clock(struct guest_cpu *g)
{
	struct pvt_pvclock_page snap;
	uint64_t tsc, ns;

	GUEST_ASSERT_EQ(hc3(PVT_HC_kvmclock_register, PVT_GPA_KVMCLOCK(g->id), 0, 0), 0);
	GUEST_ASSERT_EQ(hc_sched_op(PVT_SCHEDOP_yield), 0);
	if (pvt_pvclock_read(g->clock, read_tsc_cb, 0, &snap, &tsc, &ns) || !snap.tsc_to_system_mul)
		return 0;
	return ns;
}

/*
 * A well-formed page whose clock runs 2^4..2^16 times faster than the TSC,
 * with a 1 ms periodic timer armed on it: every TSC tick or so another
 * tick is due. The VMM must neither refuse to run the vCPU nor spin on its
 * behalf forever (its advance once did). Deterministic every 16th episode.
 */
static void fast_clock(struct guest_cpu *g, uint64_t now, uint64_t *rng)
{
	volatile struct pvt_pvclock_page *page =
		(volatile struct pvt_pvclock_page *)(uintptr_t)PVT_GPA_KVMCLOCK(g->id);
	uint64_t period = 1 * MS;

	page->version = 2;
	page->tsc_timestamp = guest_rdtsc_ordered();
	page->system_time = now;
	page->tsc_to_system_mul = 0xffffffffu;
	page->tsc_shift = (int8_t)rnd_range(rng, 4, 16);
	(void)hc_vcpu_op(PVT_VCPUOP_set_periodic_timer, g->id, &period);
	for (int k = 0; k < 4; k++)
		(void)hc_sched_op(PVT_SCHEDOP_yield);
	(void)hc_vcpu_op(PVT_VCPUOP_stop_periodic_timer, g->id, 0);
	g->vp->hostile_calls += 6;
}

static void hostile_caller(struct guest_cpu *g)
{
	volatile struct pvt_guest_vcpu *vp = g->vp;
	volatile uint8_t *clock_page = (volatile uint8_t *)(uintptr_t)PVT_GPA_KVMCLOCK(g->id);
	uint64_t rng = seed_for(g), now = now_ns(g);
	uint8_t scratch[32];

	for (uint64_t ep = 0;; ep++) {
		bool scribbled = false;

		/* One episode: scribbles and random calls, then the clock put back. */
		for (int k = (int)rnd_range(&rng, 1, 32); k > 0; k--) {
			uint64_t nr, a1, a2, a3, r = rnd(&rng) % 16;

			if (r == 0) {
				scribble(g, &rng, clock_page);
				scribbled = true;
			}
			/* Argument scratch for calls that read a struct: random bytes. */
			for (unsigned b = 0; b < sizeof(scratch); b++)
				scratch[b] = (uint8_t)rnd(&rng);
			a1 = rnd(&rng);
			a2 = rnd(&rng);
			a3 = rnd(&rng);
			switch (r) {
			case 1: case 2:
				nr = PVT_XEN_set_timer_op;
				a1 = rnd_deadline(now, &rng);
				break;
			case 3: case 4: case 5: case 6:
				/* vcpu_op: the timer commands (6..9) mostly, any command else. */
				nr = PVT_XEN_vcpu_op;
				a1 = rnd(&rng) % 4 ? rnd_range(&rng, 5, 10) : rnd(&rng);
				a2 = rnd_vcpu(g, &rng);
				if (rnd(&rng) % 3) {
					/* A valid GPA holding a deadline or a period, sane or not. */
					uint64_t v = rnd(&rng) % 2 ? rnd_deadline(now, &rng) :
						     rnd(&rng) % 2 ? rnd_range(&rng, 0, 2 * MS) : rnd(&rng);

					for (unsigned b = 0; b < sizeof(v); b++)
						scratch[b] = (uint8_t)(v >> (8 * b));
					a3 = (uint64_t)(uintptr_t)scratch;
				} else {
					a3 = rnd_gpa(g, &rng);
				}
				break;
			case 7:
				/* sched_op: yield, or a command that does not exist (never a plain block). */
				nr = PVT_XEN_sched_op;
				a1 = rnd(&rng) % 2 ? PVT_SCHEDOP_yield : rnd_range(&rng, 2, UINT64_MAX);
				break;
			case 8:
				nr = PVT_XEN_hvm_op;
				a1 = rnd(&rng) % 2 ? PVT_HVMOP_set_evtchn_upcall_vector : rnd(&rng);
				a2 = rnd(&rng) % 2 ? (uint64_t)(uintptr_t)scratch : rnd_gpa(g, &rng);
				break;
			case 9:
				/*
				 * A near timer and a block: an event must come (a periodic
				 * timer it armed may wake it first). Only on a clock both
				 * sides agree on: on a scribbled one "near" may be never.
				 */
				nr = PVT_XEN_sched_op;
				a1 = PVT_SCHEDOP_yield;
				if (now && !scribbled) {
					struct sshot_arg arg = { now + rnd_range(&rng, 0, 2 * MS), 0 };

					vp->hostile_calls++;
					if (!hc_vcpu_op(PVT_VCPUOP_set_singleshot_timer, g->id, &arg))
						a1 = PVT_SCHEDOP_block;
				}
				break;
			case 10: case 11:
				/* Any number in Xen's range, or far outside it (never pvtime's own 0x10000). */
				nr = rnd(&rng) % 2 ? rnd_range(&rng, 0, 63) : rnd(&rng);
				if (nr == PVT_HC_kvmclock_register)
					nr++;
				if (nr == PVT_XEN_sched_op && a1 == PVT_SCHEDOP_block)
					a1 = PVT_SCHEDOP_yield;
				break;
			default:
				nr = PVT_XEN_set_timer_op;
				a1 = rnd_deadline(now, &rng);
				break;
			}
			/* Whatever the VMM answers, it answers: the result itself is not judged. */
			(void)hc3(nr, a1, a2, a3);
			vp->hostile_calls++;
		}
		if (ep % 16 == 15 && now)
			fast_clock(g, now, &rng);
		/* Nothing it armed may outlive the run unnoticed: stop both now and then. */
		if (!(ep % 8)) {
			(void)hc_set_timer_op(0);
			(void)hc_vcpu_op(PVT_VCPUOP_stop_periodic_timer, g->id, 0);
			vp->hostile_calls += 2;
		}
		now = repair_clock(g);
		vp->loops_done = ep + 1;
	}
}

void guest_hostile(struct guest_cpu *g)
{
	if (g->id == 0)
		hostile_caller(g);
	else
		hostile_timerlat(g);
}

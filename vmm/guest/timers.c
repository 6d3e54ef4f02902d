// SPDX-License-Identifier: MIT
/*
 * A clockevent shaped like Linux's Xen one: a per-vCPU queue of software
 * timers whose earliest is programmed with VCPUOP_set_singleshot_timer at
 * an absolute deadline read from the guest's own clock plus the delta (as
 * set_next_event does), and an upcall handler that acknowledges the
 * events, fires the software timers that are due on the guest's clock and
 * programs the next one. Tasks sleep on the queue: `busy` computes without
 * ever exiting on its own (only the upcall tells it its timer fired),
 * `mixed` runs several timers with different periods, cancels one, and
 * alternates computing with blocking.
 */
#include "guest.h"

uint64_t guest_now_ns(struct guest_cpu *g)
{
	struct pvt_guest_sample s;

	guest_clock_read(g, &s);
	return s.ns;
}

static uint64_t earliest(const struct guest_cpu *g)
{
	uint64_t e = 0;

	for (uint32_t i = 0; i < g->nr_timers; i++) {
		const struct gtimer *t = &g->timers[i];

		if (t->armed && (!e || (int64_t)(t->deadline_ns - e) < 0))
			e = t->deadline_ns;
	}
	return e;
}

/* Masked: the one hardware timer follows the queue's earliest deadline. */
static void program(struct guest_cpu *g)
{
	uint64_t next = earliest(g);

	if (!next) {
		if (g->programmed_ns)
			GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_stop_singleshot_timer, g->id, 0), 0);
		g->programmed_ns = 0;
		return;
	}
	if (next == g->programmed_ns)
		return;
	{
		/* set_next_event gets a delta; Xen's clockevent adds it to its clock. */
		uint64_t now = guest_now_ns(g);
		int64_t delta = (int64_t)(next - now);
		struct { uint64_t timeout_abs_ns; uint32_t flags; } arg = {
			now + (uint64_t)(delta > 0 ? delta : 0), 0
		};

		/* flags 0: an event even if the deadline has passed (as Linux asks). */
		GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_singleshot_timer, g->id, &arg), 0);
		g->programmed_ns = next;
		if ((int64_t)(arg.timeout_abs_ns - g->programmed_min_ns) < 0)
			g->programmed_min_ns = arg.timeout_abs_ns;
	}
}

void gtimer_start(struct guest_cpu *g, struct gtimer *t, uint64_t deadline_ns)
{
	guest_irq_mask(g);
	t->deadline_ns = deadline_ns;
	t->fired = 0;
	t->armed = 1;
	g->vp->timers_armed++;
	program(g);
	guest_irq_unmask(g);
}

void gtimer_cancel(struct guest_cpu *g, struct gtimer *t)
{
	guest_irq_mask(g);
	t->armed = 0;
	program(g);
	guest_irq_unmask(g);
}

/* Masked. One pass: acknowledge, fire what is due, program the next. */
static void handle(struct guest_cpu *g, uint64_t entry_tsc, uint32_t direct)
{
	volatile struct pvt_guest_vcpu *vp = g->vp;
	uint64_t raise = vp->irq_raise_tsc, kick = vp->irq_kick_tsc, inject = vp->irq_inject_tsc;
	uint32_t ev = guest_take_events(g);
	struct pvt_guest_sample now;

	guest_clock_sample(g, &now);
	if (ev & PVT_EV_SINGLESHOT) {
		/* The hardware timer fired before anything programmed was due: early. */
		if (g->programmed_min_ns != UINT64_MAX &&
		    (int64_t)(now.ns - g->programmed_min_ns) < 0)
			vp->early_wakeups++;
		/* It is spent: whatever was programmed must be programmed again. */
		g->programmed_ns = 0;
		g->programmed_min_ns = UINT64_MAX;
	}
	for (uint32_t i = 0; i < g->nr_timers; i++) {
		struct gtimer *t = &g->timers[i];
		uint64_t n = vp->nr_irq_recs;

		if (!t->armed || (int64_t)(now.ns - t->deadline_ns) < 0)
			continue;
		/* A timer fires once per arming: the task re-arms it. */
		GUEST_ASSERT_EQ(t->fired, 0);
		t->armed = 0;
		t->fired = 1;
		t->fires++;
		vp->timers_fired++;
		if (n < g->irq_capacity) {
			g->irq_recs[n] = (struct pvt_guest_irq_rec){
				.late_ns = (int64_t)(now.ns - t->deadline_ns),
				.timer = i,
				.direct = direct,
				.raise_tsc = raise,
				.kick_tsc = kick,
				.inject_tsc = inject,
				.entry_tsc = entry_tsc,
				.fire_tsc = now.tsc,
			};
			__atomic_store_n(&vp->nr_irq_recs, n + 1, __ATOMIC_RELEASE);
		}
	}
	program(g);
}

void guest_upcall(struct guest_cpu *g)
{
	handle(g, guest_rdtsc_ordered(), 1);
}

void guest_irq_unmask(struct guest_cpu *g)
{
	volatile struct pvt_guest_vcpu *vp = g->vp;

	for (;;) {
		/* Clear, then look: an event raised while masked sent no interrupt. */
		__atomic_store_n(&vp->upcall_mask, 0, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&vp->pending, __ATOMIC_SEQ_CST))
			return;
		vp->upcall_mask = 1;
		vp->upcalls_direct++;
		guest_upcall(g);
	}
}

/* From guest_upcall_tramp: the interrupt entry already set the mask. */
void guest_upcall_irq(struct guest_cpu *g);
void guest_upcall_irq(struct guest_cpu *g)
{
	uint64_t entry = guest_rdtsc_ordered();

	g->vp->upcalls++;
	handle(g, entry, 0);
	guest_irq_unmask(g);
}

/* Pure computation: no exit, no clock read; a few microseconds per call. */
static uint64_t compute(uint64_t x)
{
	for (int i = 0; i < 256; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}

static uint64_t sink;

static int any_fired(const struct guest_cpu *g)
{
	for (uint32_t i = 0; i < g->nr_timers; i++)
		if (g->timers[i].fired)
			return 1;
	return 0;
}

void guest_busy(struct guest_cpu *g)
{
	struct gtimer *t = &g->timers[0];
	uint64_t x = g->id;

	g->nr_timers = 1;
	for (uint64_t i = 0; i < g->cfg->loops; i++) {
		/* The seed's relative sleep, but the task keeps the vCPU busy meanwhile. */
		uint64_t deadline = guest_now_ns(g) + g->cfg->interval_ns;

		gtimer_start(g, t, deadline);
		/*
		 * At CPL 0 (--kernel-mode), every 8th: interrupts off until
		 * past the deadline, so the expiry meets IF = 0: the VMM must
		 * wait for the interrupt window, the local APIC keep it in IRR.
		 * (kvm_pvm raises #GP for cli at CPL 3 despite IOPL 3.)
		 */
		if (!g->cfg->user_mode && i % 8 == 7) {
			__asm__ volatile("cli" ::: "memory");
			while ((int64_t)(guest_now_ns(g) - deadline - g->cfg->interval_ns / 2) < 0)
				x = compute(x);
			/*
			 * No check that the timer did not fire meanwhile: with the
			 * in-kernel irqchip, kvm_pvm now and then delivers an
			 * interrupt it had committed to just after the emulated cli.
			 */
			__asm__ volatile("sti" ::: "memory");
		}
		while (!t->fired)
			x = compute(x);
		GUEST_ASSERT_EQ(t->fires, i + 1);
		g->vp->loops_done = i + 1;
	}
	sink = x;
}

/* An armed timer this far past its deadline was lost (no expiry will come). */
#define LOST_NS		1000000000ull

static void assert_not_lost(struct guest_cpu *g)
{
	uint64_t now = guest_now_ns(g);

	for (uint32_t i = 0; i < g->nr_timers; i++) {
		const struct gtimer *t = &g->timers[i];

		if (t->armed && (int64_t)(now - t->deadline_ns) > (int64_t)LOST_NS)
			ucall(PVT_UCALL_ABORT, __LINE__, now, t->deadline_ns);
	}
}

#define MIXED_TIMERS	3
#define MIXED_CANCEL	MIXED_TIMERS	/* armed far out and cancelled, every round */

/*
 * Three tasks with periods of 1, 1.7 and 2.9 intervals on their own grids,
 * and a fourth timer armed 0.5 to 1.5 intervals out and cancelled each
 * round: often the earliest, so the hardware timer is re-programmed and
 * stopped under the others' expiries. It may fire before its cancel (the
 * round took long), at most once, and never after it. Odd rounds compute,
 * even rounds block (Xen's safe_halt: masked, SCHEDOP_block, unmask), so
 * expiries meet a running and a blocked vCPU.
 */
void guest_mixed(struct guest_cpu *g)
{
	static const uint32_t period_tenths[MIXED_TIMERS] = { 10, 17, 29 };
	uint64_t period[MIXED_TIMERS], done = 0, x = g->id, now;
	struct gtimer *cancel = &g->timers[MIXED_CANCEL];

	g->nr_timers = MIXED_TIMERS + 1;
	now = guest_now_ns(g);
	for (uint32_t k = 0; k < MIXED_TIMERS; k++) {
		period[k] = g->cfg->interval_ns * period_tenths[k] / 10;
		gtimer_start(g, &g->timers[k], now + period[k]);
	}
	for (uint64_t round = 0; done < g->cfg->loops; round++) {
		uint64_t cancel_fires = cancel->fires;

		gtimer_start(g, cancel, guest_now_ns(g) +
			     g->cfg->interval_ns * (1 + round % 3) / 2);
		if (round & 1) {
			/* Compute until some timer fires: only an interrupt can say so. */
			while (!any_fired(g))
				x = compute(x);
		} else {
			/* Nothing on the queue (all fired, not re-armed yet): nothing to wait for. */
			guest_irq_mask(g);
			if (!g->vp->pending && earliest(g))
				GUEST_ASSERT_EQ(hc_sched_op(PVT_SCHEDOP_block), 0);
			guest_irq_unmask(g);
		}
		gtimer_cancel(g, cancel);
		GUEST_ASSERT(cancel->fires - cancel_fires <= 1);
		cancel_fires = cancel->fires;
		for (uint32_t k = 0; k < MIXED_TIMERS; k++) {
			struct gtimer *t = &g->timers[k];
			uint64_t next;

			if (!t->fired)
				continue;
			done++;
			/* Next on its grid; a missed slot is skipped, not fired late twice. */
			now = guest_now_ns(g);
			next = t->deadline_ns + period[k];
			while ((int64_t)(next - now) <= 0)
				next += period[k];
			gtimer_start(g, t, next);
		}
		g->vp->loops_done = done;
		/* Cancelled: it did not fire since, whatever expiry was in flight. */
		GUEST_ASSERT_EQ(cancel->fires, cancel_fires);
		assert_not_lost(g);
	}
	/* Every task got its turns: a timer starved behind the others is a lost one. */
	for (uint32_t k = 0; k < MIXED_TIMERS && g->cfg->loops >= 30; k++)
		GUEST_ASSERT(g->timers[k].fires > 0);
	sink = x;
}

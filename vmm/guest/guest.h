/* SPDX-License-Identifier: MIT */
/* The freestanding guest's own helpers: its vCPU context, clock and samples. */
#ifndef PVT_GUEST_GUEST_H
#define PVT_GUEST_GUEST_H

#include "abi.h"
#include "hypercall.h"

#define GUEST_MAX_TIMERS	8

/* A software timer on a vCPU's queue (Linux's hrtimer, in miniature). */
struct gtimer {
	uint64_t deadline_ns;		/* guest clock */
	volatile uint32_t armed;	/* on the queue */
	volatile uint32_t fired;	/* set by the upcall handler, cleared on arming */
	uint64_t fires;			/* times it fired */
};

/* One vCPU's view of its world. */
struct guest_cpu {
	uint32_t id;
	const volatile struct pvt_guest_config *cfg;
	volatile struct pvt_guest_vcpu *vp;		/* shared with the VMM */
	const volatile struct pvt_pvclock_page *clock;	/* the page it reads */
	struct pvt_guest_sample *samples;
	uint64_t capacity;
	/* the clockevent (busy/mixed): software timers and the one hardware timer */
	struct gtimer timers[GUEST_MAX_TIMERS];
	uint32_t nr_timers;
	uint64_t programmed_ns;		/* singleshot deadline programmed, 0 = none */
	uint64_t programmed_min_ns;	/* earliest programmed since the last singleshot event */
	struct pvt_guest_irq_rec *irq_recs;
	uint64_t irq_capacity;
};

static inline uint64_t guest_rdtsc_ordered(void)
{
	uint32_t lo, hi;

	/* lfence keeps the TSC read from passing the page reads before it. */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void guest_wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)value),
			 "d"((uint32_t)(value >> 32)) : "memory");
}

static inline uint32_t guest_take_events(struct guest_cpu *g)
{
	return __atomic_exchange_n(&g->vp->pending, 0, __ATOMIC_SEQ_CST);
}

/* Registers this vCPU's kvmclock at gpa and tells the VMM to check it. */
void guest_kvmclock_enable(struct guest_cpu *g, uint64_t gpa);

/* Reads the guest's clock: (TSC, ns) in *s. Aborts on an unusable page. */
void guest_clock_read(struct guest_cpu *g, struct pvt_guest_sample *s);

/* Reads the clock and appends the sample to the array the VMM checks. */
void guest_clock_sample(struct guest_cpu *g, struct pvt_guest_sample *s);

/* Blocks until one of the events in mask arrives; returns all taken. */
uint32_t guest_wait_event(struct guest_cpu *g, uint32_t mask);

/* ---- the upcall and the clockevent (idt.c, timers.c) ---- */

/* At CPL 0: IDT, TSS, interrupt stack, (local APIC), then registers the vector. */
void guest_irq_init(struct guest_cpu *g);
/* Xen's upcall mask, like local_irq_save/restore around the timer queue. */
static inline void guest_irq_mask(struct guest_cpu *g)
{
	g->vp->upcall_mask = 1;
	__asm__ volatile("" ::: "memory");
}
/* Unmasks; events that came while masked are handled now (no interrupt was sent for them). */
void guest_irq_unmask(struct guest_cpu *g);
/* The upcall handler (entered from the interrupt stub, or directly on unmask). */
void guest_upcall(struct guest_cpu *g);
/* Arms t at an absolute guest-clock deadline / takes it off the queue. */
void gtimer_start(struct guest_cpu *g, struct gtimer *t, uint64_t deadline_ns);
void gtimer_cancel(struct guest_cpu *g, struct gtimer *t);
uint64_t guest_now_ns(struct guest_cpu *g);

void guest_busy(struct guest_cpu *g);
void guest_mixed(struct guest_cpu *g);

void guest_timerlat(struct guest_cpu *g);
void guest_clockcheck(struct guest_cpu *g);
void guest_timers(struct guest_cpu *g);
void guest_bad(struct guest_cpu *g);
void guest_nullcall(struct guest_cpu *g);
void guest_cross(struct guest_cpu *g);
/* hostile.c: run until the VMM stops them */
void guest_hostile(struct guest_cpu *g);
void guest_soak(struct guest_cpu *g);

#endif

// SPDX-License-Identifier: MIT
/* Guest entry in C and the two measurement programs: timerlat and clockcheck. */
#include "guest.h"

void guest_main(uint64_t cpu);
void guest_enter_user(void (*fn)(struct guest_cpu *), struct guest_cpu *g,
		      uint64_t stack, uint64_t rflags);

#define RFLAGS_USER	0x3002ull	/* IOPL 3, reserved bit 1 */
#define RFLAGS_IF	0x200ull

void guest_timerlat(struct guest_cpu *g)
{
	uint64_t interval = g->cfg->interval_ns;

	for (uint64_t i = 0; i < g->cfg->loops; i++) {
		struct pvt_guest_sample t0, t1;
		uint64_t deadline;

		/* The seed's relative sleep: t0 = now, sleep until t0 + interval. */
		guest_clock_sample(g, &t0);
		deadline = t0.ns + interval;
		if (g->cfg->timer_api == PVT_API_SINGLESHOT) {
			struct { uint64_t timeout_abs_ns; uint32_t flags; } arg = {
				deadline, 0
			};
			GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_singleshot_timer,
						   g->id, &arg), 0);
		} else {
			GUEST_ASSERT_EQ(hc_set_timer_op(deadline), 0);
		}
		guest_wait_event(g, PVT_EV_SINGLESHOT);
		guest_clock_sample(g, &t1);
		if ((int64_t)(t1.ns - deadline) < 0)
			g->vp->early_wakeups++;
		g->vp->loops_done = i + 1;
	}
}

void guest_clockcheck(struct guest_cpu *g)
{
	struct pvt_guest_sample s, prev = { 0, 0 };

	for (uint64_t b = 0; b < g->cfg->loops; b++) {
		/* Halfway, move the kvmclock to another page: KVM must rewrite it. */
		if (g->cfg->clock_src == PVT_CLK_KVM && b == g->cfg->loops / 2)
			guest_kvmclock_enable(g, PVT_GPA_KVMCLOCK_ALT(g->id));
		for (uint64_t k = 0; k < g->cfg->burst; k++) {
			guest_clock_sample(g, &s);
			/* One vCPU's clock never goes back. */
			if ((int64_t)(s.ns - prev.ns) < 0)
				ucall(PVT_UCALL_ABORT, __LINE__, s.ns, prev.ns);
			prev = s;
		}
		/* An exit between bursts: the VMM brackets each burst with host TSCs. */
		GUEST_ASSERT_EQ(hc_sched_op(PVT_SCHEDOP_yield), 0);
		g->vp->loops_done = b + 1;
	}
}

void guest_nullcall(struct guest_cpu *g)
{
	struct pvt_guest_sample t0, t1;

	for (uint64_t i = 0; i < g->cfg->loops; i++) {
		guest_clock_sample(g, &t0);
		__asm__ volatile("outl %%eax, %[port]" :: "a"(0),
				 [port] "i"(PVT_NULL_PORT) : "memory");
		guest_clock_sample(g, &t1);
		g->vp->loops_done = i + 1;
	}
}

/* The measurement proper; at CPL 3 unless config.user_mode is 0. Never returns. */
static void guest_user_main(struct guest_cpu *g)
{
	switch (g->cfg->scenario) {
	case PVT_SCN_TIMERLAT:
		guest_timerlat(g);
		break;
	case PVT_SCN_CLOCKCHECK:
		guest_clockcheck(g);
		break;
	case PVT_SCN_TIMERS:
		guest_timers(g);
		break;
	case PVT_SCN_NULLCALL:
		guest_nullcall(g);
		break;
	case PVT_SCN_BAD:
		guest_bad(g);
		break;
	case PVT_SCN_CROSS:
		guest_cross(g);
		break;
	case PVT_SCN_BUSY:
		guest_busy(g);
		break;
	case PVT_SCN_MIXED:
		guest_mixed(g);
		break;
	case PVT_SCN_HOSTILE:
		guest_hostile(g);
		break;
	case PVT_SCN_SOAK:
		guest_soak(g);
		break;
	default:
		ucall(PVT_UCALL_ABORT, __LINE__, g->cfg->scenario, 0);
	}
	for (;;)
		ucall(PVT_UCALL_DONE, 0, 0, 0);
}

/* The guest "kernel": checks its config, enables its kvmclock, enters user mode. */
void guest_main(uint64_t cpu)
{
	const volatile struct pvt_guest_config *cfg =
		(const volatile struct pvt_guest_config *)PVT_GPA_CONFIG;
	struct guest_cpu g = {
		.id = (uint32_t)cpu,
		.cfg = cfg,
		.vp = (volatile struct pvt_guest_vcpu *)PVT_GPA_VCPU_PAGE(cpu),
		.samples = (struct pvt_guest_sample *)(PVT_GPA_SAMPLES +
			cpu * cfg->samples_per_vcpu * sizeof(struct pvt_guest_sample)),
		.capacity = cfg->samples_per_vcpu,
	};
	uint64_t sp;

	GUEST_ASSERT_EQ(cfg->magic, PVT_GUEST_MAGIC);
	if (cfg->clock_src == PVT_CLK_XEN)
		g.clock = &g.vp->xen_time;
	else if (cfg->scenario != PVT_SCN_BAD)
		guest_kvmclock_enable(&g, PVT_GPA_KVMCLOCK(cpu));
	if (cfg->irq_mode) {
		g.irq_recs = (struct pvt_guest_irq_rec *)(uintptr_t)(cfg->irq_recs +
			cpu * cfg->irq_recs_per_vcpu * sizeof(struct pvt_guest_irq_rec));
		g.irq_capacity = cfg->irq_recs_per_vcpu;
		guest_irq_init(&g);
	}
	if (!cfg->user_mode) {
		if (cfg->irq_mode)
			__asm__ volatile("sti" ::: "memory");
		guest_user_main(&g);
	}
	/* User stack: the lower half of this vCPU's stack, below the kernel's frames. */
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	guest_enter_user(guest_user_main, &g, ((sp - 0x8000) & ~0xfull) - 8,
			 RFLAGS_USER | (cfg->irq_mode ? RFLAGS_IF : 0));
}

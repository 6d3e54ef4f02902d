// SPDX-License-Identifier: MIT
/* The guest reads its clock with the library's freestanding pvclock code. */
#include "guest.h"

static uint64_t read_tsc(void *ctx)
{
	(void)ctx;
	return guest_rdtsc_ordered();
}

static unsigned guest_cpl(void)
{
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

void guest_kvmclock_enable(struct guest_cpu *g, uint64_t gpa)
{
	/* The kernel writes the MSR itself; user mode asks the VMM to. */
	if (!guest_cpl())
		guest_wrmsr(PVT_MSR_KVM_SYSTEM_TIME_NEW, gpa | 1);
	else
		GUEST_ASSERT_EQ(hc3(PVT_HC_kvmclock_register, gpa, 0, 0), 0);
	g->vp->kvmclock_gpa = gpa;
	g->clock = (const volatile struct pvt_pvclock_page *)(uintptr_t)gpa;
	ucall(PVT_UCALL_CLOCK, gpa, 0, 0);
}

void guest_clock_read(struct guest_cpu *g, struct pvt_guest_sample *s)
{
	struct pvt_pvclock_page snap;
	int ret = pvt_pvclock_read(g->clock, read_tsc, 0, &snap, &s->tsc, &s->ns);

	GUEST_ASSERT_EQ(ret, 0);
	/* An all-zero page (nobody wrote it) has mul 0: the clock would stand still. */
	GUEST_ASSERT(snap.tsc_to_system_mul != 0);
}

void guest_clock_sample(struct guest_cpu *g, struct pvt_guest_sample *s)
{
	uint64_t n = g->vp->nr_samples;

	guest_clock_read(g, s);
	if (n < g->capacity) {
		g->samples[n] = *s;
		/* The VMM reads nr_samples at an exit: publish the sample first. */
		__atomic_store_n(&g->vp->nr_samples, n + 1, __ATOMIC_RELEASE);
	}
}

uint32_t guest_wait_event(struct guest_cpu *g, uint32_t mask)
{
	uint32_t got = 0;

	while (!(got & mask)) {
		int64_t ret = hc_sched_op(PVT_SCHEDOP_block);

		GUEST_ASSERT_EQ(ret, 0);
		got |= guest_take_events(g);
	}
	return got;
}

// SPDX-License-Identifier: MIT
/*
 * Guest-driven timer semantics (stop-before-fire, re-arm while armed and
 * while an expiry is pending, periodic ticks, past deadlines) and bad
 * requests. Each check compares the VMM's delivery counters and the guest's
 * own clock; a failure is a ucall ABORT with the line and both values.
 */
#include "guest.h"

#define MS	1000000ull

struct sshot_arg {
	uint64_t timeout_abs_ns;
	uint32_t flags;
};

static uint64_t now_ns(struct guest_cpu *g)
{
	struct pvt_guest_sample s;

	guest_clock_sample(g, &s);
	return s.ns;
}

static void spin_until(struct guest_cpu *g, uint64_t deadline)
{
	while ((int64_t)(now_ns(g) - deadline) < 0)
		;
}

static void singleshot(struct guest_cpu *g, uint64_t deadline, int64_t expect)
{
	struct sshot_arg arg = { deadline, 0 };

	GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_singleshot_timer, g->id, &arg),
			expect);
}

/* Blocks for the singleshot at deadline; checks lateness >= 0 and one more expiry. */
static void expect_fire(struct guest_cpu *g, uint64_t deadline, uint64_t fired)
{
	uint64_t now;

	guest_wait_event(g, PVT_EV_SINGLESHOT);
	now = now_ns(g);
	if ((int64_t)(now - deadline) < 0) {
		g->vp->early_wakeups++;
		ucall(PVT_UCALL_ABORT, __LINE__, now, deadline);
	}
	GUEST_ASSERT_EQ(g->vp->singleshot_fired, fired);
}

static void test_stop_before_fire(struct guest_cpu *g)
{
	uint64_t base = g->vp->singleshot_fired, t;

	/*
	 * VCPUOP stop: the 100 ms timer must never fire. Windows are ~100 ms
	 * so that a loaded host preempting the vCPU thread cannot reorder them.
	 */
	t = now_ns(g);
	singleshot(g, t + 100 * MS, 0);
	GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_stop_singleshot_timer, g->id, 0), 0);
	/* set_timer_op(0) stops too: nothing armed, so block must refuse. */
	singleshot(g, t + 100 * MS, 0);
	GUEST_ASSERT_EQ(hc_set_timer_op(0), 0);
	GUEST_ASSERT_EQ(hc_sched_op(PVT_SCHEDOP_block), -PVT_XEN_EDEADLK);
	/* Sleep past both stopped deadlines on a new timer: exactly one expiry. */
	t = now_ns(g);
	GUEST_ASSERT_EQ(hc_set_timer_op(t + 150 * MS), 0);
	expect_fire(g, t + 150 * MS, base + 1);
	GUEST_ASSERT_EQ(guest_take_events(g), 0);
}

static void test_rearm(struct guest_cpu *g)
{
	uint64_t base = g->vp->singleshot_fired, t;

	/* Re-arm while armed: the later first deadline is replaced. */
	t = now_ns(g);
	GUEST_ASSERT_EQ(hc_set_timer_op(t + 250 * MS), 0);
	GUEST_ASSERT_EQ(hc_set_timer_op(t + 50 * MS), 0);
	expect_fire(g, t + 50 * MS, base + 1);
	/* Wait past the replaced deadline: it must not fire. */
	singleshot(g, t + 300 * MS, 0);
	expect_fire(g, t + 300 * MS, base + 2);

	/* Re-arm while an expiry is pending: the old one is delivered once, then the new one. */
	t = now_ns(g);
	GUEST_ASSERT_EQ(hc_set_timer_op(t + 1 * MS), 0);
	spin_until(g, t + 2 * MS);
	GUEST_ASSERT_EQ(hc_set_timer_op(t + 120 * MS), 0);
	GUEST_ASSERT_EQ(g->vp->singleshot_fired, base + 3);
	GUEST_ASSERT_EQ(guest_take_events(g), PVT_EV_SINGLESHOT);
	expect_fire(g, t + 120 * MS, base + 4);
	GUEST_ASSERT_EQ(guest_take_events(g), 0);

	/* A deadline in the past fires at once, exactly once. */
	t = now_ns(g);
	singleshot(g, t - 1 * MS, 0);
	expect_fire(g, t - 1 * MS, base + 5);
	/* Polling without blocking: a yield is an exit, where due expiries are delivered. */
	t = now_ns(g);
	GUEST_ASSERT_EQ(hc_set_timer_op(t + 1 * MS), 0);
	spin_until(g, t + 1 * MS);
	while (!(g->vp->pending & PVT_EV_SINGLESHOT))
		GUEST_ASSERT_EQ(hc_sched_op(PVT_SCHEDOP_yield), 0);
	GUEST_ASSERT_EQ(guest_take_events(g), PVT_EV_SINGLESHOT);
	GUEST_ASSERT_EQ(g->vp->singleshot_fired, base + 6);
}

static void test_periodic(struct guest_cpu *g)
{
	uint64_t period = 2 * MS, start, ticks = 0, base = g->vp->periodic_fired;
	uint64_t arg = period;

	/*
	 * Read the clock before arming: the VMM may be preempted between
	 * handling the call and resuming us, so a clock read after it can lie
	 * past the first ticks and make on-time ticks look early.
	 */
	start = now_ns(g);
	GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_periodic_timer, g->id, &arg), 0);
	while (ticks < 5) {
		guest_wait_event(g, PVT_EV_PERIODIC);
		ticks = g->vp->periodic_fired - base;
		/* The k-th tick (missed ones coalesced) is due k periods after arming. */
		if ((int64_t)(now_ns(g) - start - ticks * period) < 0)
			ucall(PVT_UCALL_ABORT, __LINE__, now_ns(g), start + ticks * period);
	}
	GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_stop_periodic_timer, g->id, 0), 0);
	ticks = g->vp->periodic_fired;
	guest_take_events(g);
	/* Stopped: no tick during a 7 ms singleshot sleep. */
	start = now_ns(g);
	singleshot(g, start + 7 * MS, 0);
	guest_wait_event(g, PVT_EV_SINGLESHOT);
	GUEST_ASSERT_EQ(g->vp->periodic_fired, ticks);
	GUEST_ASSERT_EQ(guest_take_events(g) & PVT_EV_PERIODIC, 0);
	/* Xen's limits: below 1 ms is refused. */
	arg = 999999;
	GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_periodic_timer, g->id, &arg),
			-PVT_XEN_EINVAL);
}

void guest_timers(struct guest_cpu *g)
{
	test_stop_before_fire(g);
	test_rearm(g);
	test_periodic(g);
	g->vp->loops_done = 1;
}

#define CROSS_TICKS	5
#define PEER_TICKED	1	/* vCPU 1 -> vCPU 0: saw its ticks */
#define PEER_STOPPED	2	/* vCPU 0 -> vCPU 1: stopped them */

static volatile struct pvt_guest_vcpu *vcpu_page(uint32_t id)
{
	return (volatile struct pvt_guest_vcpu *)PVT_GPA_VCPU_PAGE(id);
}

/* Polls (yield exits deliver what is due) until another vCPU writes value. */
static void wait_peer(struct guest_cpu *g, uint64_t value)
{
	while (__atomic_load_n(&g->vp->peer, __ATOMIC_ACQUIRE) != value)
		GUEST_ASSERT_EQ(hc_sched_op(PVT_SCHEDOP_yield), 0);
}

/*
 * Xen's do_vcpu_op lets a vCPU program another's periodic timer, not its
 * singleshot. vCPU 0 sets vCPU 1's periodic timer and gets -EINVAL for
 * vCPU 1's singleshot ops; the ticks reach vCPU 1 (never early on its
 * clock), not vCPU 0; after vCPU 0 stops it, vCPU 1 gets no more.
 */
void guest_cross(struct guest_cpu *g)
{
	uint64_t period = 2 * MS, ticks, t;
	struct sshot_arg arg;

	if (g->id == 0) {
		t = now_ns(g);
		arg = (struct sshot_arg){ t + 50 * MS, 0 };
		vcpu_page(1)->peer_ns = t;
		GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_periodic_timer, 1, &period), 0);
		GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_singleshot_timer, 1, &arg),
				-PVT_XEN_EINVAL);
		GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_stop_singleshot_timer, 1, 0),
				-PVT_XEN_EINVAL);
		wait_peer(g, PEER_TICKED);
		GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_stop_periodic_timer, 1, 0), 0);
		__atomic_store_n(&vcpu_page(1)->peer, PEER_STOPPED, __ATOMIC_RELEASE);
		GUEST_ASSERT_EQ(g->vp->periodic_fired, 0);
		GUEST_ASSERT_EQ(g->vp->singleshot_fired, 0);
	} else if (g->id == 1) {
		/* Until vCPU 0 has armed it, a block would find nothing armed: poll. */
		while (!g->vp->periodic_fired)
			GUEST_ASSERT_EQ(hc_sched_op(PVT_SCHEDOP_yield), 0);
		for (;;) {
			ticks = g->vp->periodic_fired;
			/* The k-th event is due k periods after the arming at the earliest. */
			t = now_ns(g);
			if ((int64_t)(t - g->vp->peer_ns - ticks * period) < 0)
				ucall(PVT_UCALL_ABORT, __LINE__, t, g->vp->peer_ns + ticks * period);
			if (ticks >= CROSS_TICKS)
				break;
			guest_wait_event(g, PVT_EV_PERIODIC);
		}
		__atomic_store_n(&vcpu_page(0)->peer, PEER_TICKED, __ATOMIC_RELEASE);
		wait_peer(g, PEER_STOPPED);
		ticks = g->vp->periodic_fired;
		guest_take_events(g);
		/* Stopped from vCPU 0: no tick during a 10 ms sleep. */
		singleshot(g, now_ns(g) + 10 * MS, 0);
		guest_wait_event(g, PVT_EV_SINGLESHOT);
		GUEST_ASSERT_EQ(g->vp->periodic_fired, ticks);
		GUEST_ASSERT_EQ(guest_take_events(g) & PVT_EV_PERIODIC, 0);
		GUEST_ASSERT_EQ(g->vp->singleshot_fired, 1);
	}
	g->vp->loops_done = 1;
}

void guest_bad(struct guest_cpu *g)
{
	uint64_t outside = g->cfg->mem_size + 0x1000, period = 0;
	struct sshot_arg arg = { 0, 0 };

	switch (g->cfg->bad_case) {
	case PVT_BAD_UNKNOWN_HC:
		GUEST_ASSERT_EQ(hc3(999, 0, 0, 0), -PVT_XEN_ENOSYS);
		/* No upcalls outside busy/mixed: registering a vector is refused too. */
		{
			struct { uint32_t vcpu; uint8_t vector; } up = { g->id, 0xf3 };

			GUEST_ASSERT_EQ(hc3(PVT_XEN_hvm_op, PVT_HVMOP_set_evtchn_upcall_vector,
					    (uint64_t)(uintptr_t)&up, 0), -PVT_XEN_ENOSYS);
		}
		break;
	case PVT_BAD_UNKNOWN_VCPUOP:
		GUEST_ASSERT_EQ(hc_vcpu_op(77, g->id, &arg), -PVT_XEN_ENOSYS);
		break;
	case PVT_BAD_ARG_GPA:
		GUEST_ASSERT_EQ(hc3(PVT_XEN_vcpu_op, PVT_VCPUOP_set_singleshot_timer,
				    g->id, outside), -PVT_XEN_EFAULT);
		GUEST_ASSERT_EQ(hc3(PVT_XEN_vcpu_op, PVT_VCPUOP_set_periodic_timer,
				    g->id, UINT64_MAX - 3), -PVT_XEN_EFAULT);
		break;
	case PVT_BAD_PERIOD_ZERO:
		GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_periodic_timer, g->id,
					   &period), -PVT_XEN_EINVAL);
		break;
	case PVT_BAD_BLOCK_NO_TIMER:
		GUEST_ASSERT_EQ(hc_sched_op(PVT_SCHEDOP_block), -PVT_XEN_EDEADLK);
		break;
	case PVT_BAD_OTHER_VCPU:
		/* Another vCPU's singleshot: -EINVAL; one that does not exist: -ENOENT. */
		GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_set_singleshot_timer,
					   (g->id + 1) % g->cfg->nr_vcpus, &arg),
				g->cfg->nr_vcpus > 1 ? -PVT_XEN_EINVAL : 0);
		GUEST_ASSERT_EQ(hc_vcpu_op(PVT_VCPUOP_stop_periodic_timer,
					   PVT_GUEST_MAX_VCPUS + 5, 0), -PVT_XEN_ENOENT);
		break;
	case PVT_BAD_KVMCLOCK_GPA:
		/* The VMM must refuse to read this page and stop the VM. */
		guest_kvmclock_enable(g, outside);
		break;
	case PVT_BAD_SCHEDOP:
		GUEST_ASSERT_EQ(hc_sched_op(99), -PVT_XEN_ENOSYS);
		break;
	case PVT_BAD_FAULT:
		/* A crashing guest must stop the VM with a message, not the VMM. */
		__asm__ volatile("hlt");
		break;
	case PVT_BAD_TIMER_NO_CLOCK:
	{
		int64_t ret;

		/*
		 * Accepted. Without a registered clock pvtime and kvm cannot
		 * convert it, so blocking must refuse; legacy converts with
		 * KVM_GET_CLOCK, so it must fire, exactly once.
		 */
		GUEST_ASSERT_EQ(hc_set_timer_op(1000000000), 0);
		ret = hc_sched_op(PVT_SCHEDOP_block);
		if (ret)
			GUEST_ASSERT_EQ(ret, -PVT_XEN_EDEADLK);
		else
			GUEST_ASSERT_EQ(g->vp->singleshot_fired, 1);
		break;
	}
	default:
		ucall(PVT_UCALL_ABORT, __LINE__, g->cfg->bad_case, 0);
	}
}

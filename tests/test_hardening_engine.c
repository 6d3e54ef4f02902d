// SPDX-License-Identifier: MIT
/*
 * Regressions found by fuzz_xentimer_hypercalls. A guest whose clock reads
 * just below 2^63 ns (a hostile pvclock page) with a periodic timer: its
 * next ticks lie at or past 2^63, which the signed-deadline rule for guest
 * deadlines ("negative = in the past") must not apply to, or every tick is
 * due at once, forever: a VIRQ storm, and with a staged singleshot armed
 * from a stale pairing, host wake-ups without time moving (a livelock).
 * The ticks must come once per period, at their guest deadlines.
 *
 * On the CLOCK_REALTIME host clock (KVM_GET_CLOCK), a step while no host
 * timer is armed wakes nothing (cancel-on-set needs an armed timer): a
 * timer armed right after must not use the pairing from before the step
 * (it fired late by the step, an hour here).
 *
 * A guest clock that is a sawtooth (a pvclock page whose shifted TSC delta
 * wraps, or a TSC scaling whose scaled TSC does) passes a deadline and comes
 * back below it. If the VMM serves the host timer only after the wrap (it
 * was preempted), the guest clock has not reached the deadline at that
 * instant: recording the expiry then is early. The wake must check the
 * guest clock itself, not the host TSC the deadline was found at when
 * armed, and wait for the clock to reach the deadline again.
 *
 * LEGACY and KVM keep the periodic timer's host-time floor on the timer
 * clock and compare it with a fresh reading of that clock. Deriving it from
 * the host TSC through the published pairing (which these algorithms never
 * refresh) put it in the past by what the host clock slewed since that
 * pairing: a restore with a passed tick then delivered at once, every time,
 * at one instant (unbounded host wake-ups).
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "test_engine_harness.h"

#define MS	1000000ull

static void periodic_across_2_63(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_guest_clock clock;
	struct pvt_xen_vcpu_stats st;
	uint64_t g0;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	/* The same clock, 5 ms short of 2^63 ns now. */
	clock = h.clock;
	clock.page.system_time += (1ull << 63) - 5 * MS - h_guest_now(&h);
	h.clock = clock;
	assert_int_equal(h_set_guest_clock(&h, h.vcpus[0], &clock), 0);
	g0 = h_guest_now(&h);
	assert_true(g0 < (1ull << 63) && g0 > (1ull << 63) - 6 * MS);
	/* A far singleshot (staged) and a 2 ms periodic crossing 2^63 at its 3rd tick. */
	assert_int_equal(h_set_singleshot(&h, h.vcpus[0], g0 + 40 * MS, 0), 0);
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], 2 * MS), 0);
	assert_int_equal(h.logs[0].periodic, 0);	/* nothing due at arming */
	pvt_simhost_run_until(h.sim, h_first_true_at(&h, h.sim->true_ns, g0 + 2 * MS) - 1);
	assert_int_equal(h.logs[0].periodic, 0);
	for (uint64_t k = 1; k <= 10; k++) {
		uint64_t due = h_first_true_at(&h, h.sim->true_ns, g0 + 2 * k * MS);

		/* Rounded up to the host clock: up to 2 ns late, never early. */
		pvt_simhost_run_until(h.sim, due + 2);
		if (h.logs[0].periodic != k)
			fail_msg("tick %" PRIu64 " (deadline %s 2^63): %" PRIu64 " periodic expiries",
				 k, g0 + 2 * k * MS < (1ull << 63) ? "below" : "at or past",
				 h.logs[0].periodic);
		if (h.logs[0].last_true_ns < due || h.logs[0].last_true_ns > due + 2)
			fail_msg("tick %" PRIu64 " at %" PRIu64 ", due at %" PRIu64, k,
				 h.logs[0].last_true_ns, due);
	}
	xt_snapshot(h.vcpus[0], NULL, NULL, NULL, NULL, &st);
	if (st.host_fires > 100)
		fail_msg("%" PRIu64 " host wake-ups for 10 ticks", st.host_fires);
	h_destroy(&h);
}

static void realtime_step_while_idle(void **state, int64_t step_ns)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_hostclock *rt;
	struct pvt_hosttimer *r;
	struct pvt_xen_vm *vm;
	struct pvt_xen_vcpu *v;
	struct h_slot slot;
	uint64_t deadline, first;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	h.sim->realtime_offset_ns = 1700000000000000000ll;
	assert_int_equal(pvt_simhost_hostclock_new_realtime(h.sim, &rt), 0);
	assert_int_equal(pvt_simhost_timer_new_realtime(h.sim, &r), 0);
	assert_int_equal(pvt_xen_vm_new(NULL, rt, &h.kvm, &vm), 0);
	assert_int_equal(h_vcpu_new(&h, &slot, vm, 0, r, &v), 0);	/* notify: h_notify */
	assert_int_equal(h_set_guest_clock(&h, v, &h.clock), 0);
	/* A fresh pairing (arming pairs when idle), then nothing armed. */
	assert_int_equal(h_set_timer_op(&h, v, h_guest_now(&h) + 100000), 0);
	pvt_simhost_run_until(h.sim, h.sim->true_ns + 200000);
	assert_int_equal(h.logs[0].singleshot, 1);
	/* The host's wall clock steps while idle: no timer to cancel. */
	assert_false(r->armed);
	pvt_simhost_step_realtime(h.sim, step_ns);
	deadline = h_guest_now(&h) + 1000000;
	first = h_first_true_at(&h, h.sim->true_ns, deadline);
	assert_int_equal(h_set_timer_op(&h, v, deadline), 0);
	pvt_simhost_run_until(h.sim, first + 1000000);
	assert_int_equal(h.logs[0].singleshot, 2);
	if (h.logs[0].last_true_ns < first || h.logs[0].last_true_ns > first + 2)
		fail_msg("step %" PRId64 ": fired at %" PRIu64 ", due at %" PRIu64, step_ns,
			 h.logs[0].last_true_ns, first);
	pvt_xen_vcpu_free(v);
	pvt_xen_vm_free(vm);
	pvt_hosttimer_free(r);
	pvt_hostclock_free(rt);
	h_destroy(&h);
}

static void realtime_back_while_idle(void **state)
{
	realtime_step_while_idle(state, -3600ll * 1000000000ll);
}

static void realtime_forward_while_idle(void **state)
{
	realtime_step_while_idle(state, 3600ll * 1000000000ll);
}

/*
 * The sawtooth: guest ns = system_time + (guest TSC delta mod 2^33), one
 * ns per guest tick (shift 31, mul 2: the shifted delta wraps every 2^33
 * ticks, 3.3 s at the host's 2.6 GHz), the vCPU half-way through a run.
 */
static void sawtooth_clock(struct harness *h, struct pvt_guest_clock *clock)
{
	uint64_t tsc = pvt_simhost_tsc(h->sim);

	*clock = h->clock;
	clock->page.tsc_shift = 31;
	clock->page.tsc_to_system_mul = 2;
	clock->page.system_time = 1000000000ull;
	clock->page.tsc_timestamp = pvt_guest_tsc(&clock->tsc, tsc) - (1ull << 32);
	assert_int_equal(pvt_guest_clock_ns(clock, tsc), 1000000000ull + (1ull << 32));
}

/* A timer 1 ms ahead, its host timer served only after the guest clock wrapped back. */
static void wrapped_back_before_service(bool periodic)
{
	struct harness h;
	struct h_cfg c;
	struct h_log *l = &h.logs[0];
	struct pvt_xen_vcpu_stats st;
	uint64_t g0, deadline, g, due;

	h_cfg_default(&c);
	c.guest_khz = c.host_khz;	/* ratio one: the guest TSC is the host's */
	assert_int_equal(h_init(&h, &c), 0);
	sawtooth_clock(&h, &h.clock);
	assert_int_equal(h_set_guest_clock(&h, h.vcpus[0], &h.clock), 0);
	g0 = h_guest_now(&h);
	deadline = g0 + MS;
	if (periodic)
		assert_int_equal(h_set_periodic(&h, h.vcpus[0], MS), 0);
	else
		assert_int_equal(h_set_singleshot(&h, h.vcpus[0], deadline, 0), 0);
	assert_int_equal(l->singleshot + l->periodic, 0);
	/*
	 * The VMM is preempted for 2 s: the clock passed the deadline 385 us
	 * in, ran to the end of its run (1.65 s) and started again from 1 s.
	 */
	pvt_simhost_skip(h.sim, 2000 * MS);
	g = h_guest_now(&h);
	assert_true(g < deadline);
	/* The overdue host timer fires now: the guest clock is before the deadline. */
	assert_true(pvt_simhost_step(h.sim, UINT64_MAX));
	if (l->singleshot + l->periodic)
		fail_msg("%s recorded at guest %" PRIu64 ", deadline %" PRIu64,
			 periodic ? "periodic tick" : "singleshot", h_guest_at(&h, l->last_true_ns),
			 deadline);
	/* It comes when the clock reaches the deadline again, 1.3 s later. */
	due = h_first_true_at(&h, h.sim->true_ns, deadline);
	pvt_simhost_run_until(h.sim, due + 2);
	if (l->singleshot + l->periodic != 1)
		fail_msg("%" PRIu64 " expiries by %" PRIu64, l->singleshot + l->periodic, due + 2);
	if (l->last_true_ns < due || l->last_true_ns > due + 2)
		fail_msg("recorded at %" PRIu64 ", due at %" PRIu64, l->last_true_ns, due);
	assert_int_equal(periodic ? l->last_ev.periodic_deadline_ns :
				    l->last_ev.singleshot_deadline_ns, deadline);
	xt_snapshot(h.vcpus[0], NULL, NULL, NULL, NULL, &st);
	assert_true(st.early_wakes >= 1);
	h_destroy(&h);
}

static void singleshot_wrapped_back_before_service(void **state)
{
	(void)state;
	wrapped_back_before_service(false);
}

static void periodic_wrapped_back_before_service(void **state)
{
	(void)state;
	wrapped_back_before_service(true);
}

static void put64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* KVM: a 10 ms tick, then restores that bring back a passed tick, 4 s into a new 1 % slew. */
static void kvm_floor_after_slew(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct h_log *l = &h.logs[0];
	uint8_t blob[PVT_XEN_BLOB_SIZE];
	uint64_t at, gap = 10 * MS / PVT_XEN_PERIODIC_MAX_RATE_FACTOR;

	(void)state;
	h_cfg_default(&c);
	c.vm.algo = PVT_ALGO_KVM;
	assert_int_equal(h_init(&h, &c), 0);
	/* After the pairing: the timer clock runs 1 % faster than it says. */
	assert_int_equal(pvt_simhost_set_slew(h.sim, 10000 * PVT_PPT_PER_PPM), 0);
	pvt_simhost_run_until(h.sim, h.sim->true_ns + 4000 * MS);
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], 10 * MS), 0);
	pvt_simhost_run_until(h.sim, h.sim->true_ns + 11 * MS);
	assert_int_equal(l->periodic, 1);
	at = l->last_true_ns;
	/* Right after that tick: the guest's saved timer with its next tick 1 ms ago. */
	pvt_simhost_run_until(h.sim, at);
	assert_int_equal(pvt_xen_vcpu_save(h.vcpus[0], blob, sizeof(blob)), PVT_XEN_BLOB_SIZE);
	for (int i = 0; i < 3; i++) {
		put64le(blob + 32, h_guest_now(&h) - MS);
		xt_blob_seal(blob);
		assert_int_equal(h_restore(&h, h.vcpus[0], blob, sizeof(blob)), 0);
		if (l->periodic != 1)
			fail_msg("restore %d: %" PRIu64 " periodic deliveries by %" PRIu64
				 " ns after the tick, floor %" PRIu64 " ns", i, l->periodic,
				 h.sim->true_ns - at, gap);
	}
	/* The passed tick comes one gap (of the 1 % fast timer clock) after the last one. */
	pvt_simhost_run_until(h.sim, at + gap);
	assert_int_equal(l->periodic, 2);
	assert_true(l->last_true_ns >= at + gap * 99 / 100);
	h_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(periodic_across_2_63),
		cmocka_unit_test(realtime_back_while_idle),
		cmocka_unit_test(realtime_forward_while_idle),
		cmocka_unit_test(singleshot_wrapped_back_before_service),
		cmocka_unit_test(periodic_wrapped_back_before_service),
		cmocka_unit_test(kvm_floor_after_slew),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

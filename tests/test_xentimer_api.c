// SPDX-License-Identifier: MIT
/*
 * The v1 engine API's own promises, in simulation: the two error channels
 * (Xen results come back in guest_ret with a clean host status), the
 * argument sizes of the VCPUOP timer commands, the config's size field,
 * the event fd (readable exactly while something is recorded), take's
 * report (kind, deadline, coalesced ticks), the timer advance (service
 * says due_tsc instead of re-arming, and still never fires early), the
 * refresh schedule and the clock-step handling off the hypercall path.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "test_engine_harness.h"

#define MS	1000000ull
#define US	1000ull

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void two_channels(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_xen_periodic_arg per = { 1000 };
	struct pvt_xen_singleshot_arg ss = { 0, 0, 0 };
	int64_t gr;

	(void)state;
	h_cfg_default(&c);
	c.vcpus = 2;
	c.vm.strict_future = true;
	assert_int_equal(h_init(&h, &c), 0);
	gr = 1;
	assert_int_equal(pvt_xen_vcpu_op(h.vcpus[0], NULL, PVT_XEN_VCPUOP_stop_periodic_timer,
					 NULL, 0, &gr), 0);
	assert_int_equal(gr, -ENOENT);
	gr = 1;
	assert_int_equal(pvt_xen_vcpu_op(h.vcpus[0], h.vcpus[1],
					 PVT_XEN_VCPUOP_set_singleshot_timer, &ss, sizeof(ss), &gr), 0);
	assert_int_equal(gr, -EINVAL);
	gr = 1;
	assert_int_equal(pvt_xen_vcpu_op(h.vcpus[0], h.vcpus[0], 42, NULL, 0, &gr), 0);
	assert_int_equal(gr, -ENOSYS);
	gr = 1;
	assert_int_equal(pvt_xen_vcpu_op(h.vcpus[0], h.vcpus[0],
					 PVT_XEN_VCPUOP_set_singleshot_timer, &ss, 8, &gr), 0);
	assert_int_equal(gr, -EFAULT);
	gr = 1;
	assert_int_equal(pvt_xen_set_periodic(h.vcpus[0], per.period_ns, &gr), 0);
	assert_int_equal(gr, -EINVAL);
	gr = 1;
	assert_int_equal(pvt_xen_set_singleshot(h.vcpus[0], h_guest_now(&h) - MS,
						PVT_XEN_VCPU_SSHOTTMR_future, &gr), 0);
	assert_int_equal(gr, -ETIME);
	/* Success: both channels 0. */
	gr = 1;
	assert_int_equal(pvt_xen_set_timer_op(h.vcpus[0], h_guest_now(&h) + MS, &gr), 0);
	assert_int_equal(gr, 0);
	h_destroy(&h);
}

static void arg_sizes(void **state)
{
	size_t len = 99;

	(void)state;
	assert_int_equal(pvt_xen_vcpu_op_arg_size(PVT_XEN_VCPUOP_set_periodic_timer, &len), 0);
	assert_int_equal(len, sizeof(struct pvt_xen_periodic_arg));
	assert_int_equal(pvt_xen_vcpu_op_arg_size(PVT_XEN_VCPUOP_set_singleshot_timer, &len), 0);
	assert_int_equal(len, 16);
	assert_int_equal(pvt_xen_vcpu_op_arg_size(PVT_XEN_VCPUOP_stop_periodic_timer, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(pvt_xen_vcpu_op_arg_size(PVT_XEN_VCPUOP_stop_singleshot_timer, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(pvt_xen_vcpu_op_arg_size(10, &len), -ENOSYS);
	assert_int_equal(pvt_xen_vcpu_op_arg_size(-1, &len), -ENOSYS);
}

static void config_size(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct {
		struct pvt_xen_vm_config cfg;
		uint8_t newer[8];	/* a newer caller's options this library does not know */
	} big;
	struct pvt_xen_vm *vm;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	memset(&big, 0, sizeof(big));
	pvt_xen_vm_config_default(&big.cfg);
	assert_int_equal(big.cfg.size, sizeof(struct pvt_xen_vm_config));
	big.cfg.size = 0;
	assert_int_equal(pvt_xen_vm_new(&big.cfg, h.hc, &h.kvm, &vm), -EINVAL);
	big.cfg.size = sizeof(big);
	assert_int_equal(pvt_xen_vm_new(&big.cfg, h.hc, &h.kvm, &vm), 0);	/* zeros: fine */
	pvt_xen_vm_free(vm);
	big.newer[3] = 1;
	assert_int_equal(pvt_xen_vm_new(&big.cfg, h.hc, &h.kvm, &vm), -EINVAL);
	assert_int_equal(pvt_xen_vm_new(NULL, h.hc, NULL, &vm), 0);	/* defaults */
	pvt_xen_vm_free(vm);
	assert_int_equal(pvt_xen_vm_new(NULL, NULL, NULL, &vm), -EINVAL);
	h_destroy(&h);
}

/* take()'s report and the event fd, without the harness' automatic takes. */
static void take_and_event_fd(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_xen_events ev;
	struct pvt_xen_vcpu_state st;
	struct pvt_xen_vcpu_stats stats;
	struct pvt_xen_vcpu *v;
	uint64_t g, first;
	int64_t gr;
	int fd;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	v = h.vcpus[0];
	fd = pvt_xen_vcpu_event_fd(v);
	assert_true(fd >= 0);
	assert_int_equal(pvt_xen_vcpu_event_fd(v), fd);
	assert_false(readable(fd));
	g = h_guest_now(&h);
	/* Already due: recorded by the call, the fd turns readable. */
	assert_int_equal(pvt_xen_set_timer_op(v, g - 5, &gr), 0);
	assert_true(readable(fd));
	pvt_xen_vcpu_get_state(v, &st);
	assert_true(st.pending);
	assert_false(st.singleshot_armed);
	assert_int_equal(pvt_xen_vcpu_take(v, &ev), 1);
	assert_int_equal(ev.fired, PVT_XEN_FIRED_SINGLESHOT);
	assert_int_equal(ev.singleshot_deadline_ns, g - 5);
	assert_int_equal(ev.due_tsc, 0);
	assert_false(readable(fd));
	assert_int_equal(pvt_xen_vcpu_take(v, &ev), 0);
	assert_int_equal(ev.fired, 0);

	/*
	 * A periodic timer left alone for 10.5 periods (the notify hook
	 * serves it, the take is ours): every tick, coalesced or not, is in
	 * periodic_ticks; the last tick's deadline is on the grid.
	 */
	assert_int_equal(pvt_simhost_timer_set_notify(h.timers[0], NULL, NULL), 0);
	assert_int_equal(pvt_xen_set_periodic(v, 2 * MS, &gr), 0);
	pvt_xen_vcpu_get_state(v, &st);
	first = st.periodic_deadline_ns;
	assert_int_equal(st.period_ns, 2 * MS);
	assert_true(st.host_armed);
	/* Nobody serves the timer for 21 ms: then one service sees 10 ticks due. */
	pvt_simhost_run_until(h.sim, h.sim->true_ns + 21 * MS);
	assert_false(readable(fd));
	assert_int_equal(pvt_xen_vcpu_service(v, &ev), 1);
	assert_int_equal(ev.fired, PVT_XEN_FIRED_PERIODIC);
	assert_int_equal(ev.periodic_ticks, 10);
	assert_int_equal(ev.periodic_deadline_ns, first + 9 * 2 * MS);
	assert_true(h_guest_now(&h) >= ev.periodic_deadline_ns);
	assert_false(readable(fd));
	/* The next tick is on the grid. */
	pvt_xen_vcpu_get_state(v, &st);
	assert_int_equal(st.periodic_deadline_ns, first + 10 * 2 * MS);
	/* Stats: partial copies for an older caller's smaller struct. */
	memset(&stats, 0xff, sizeof(stats));
	pvt_xen_vcpu_get_stats(v, &stats, sizeof(uint64_t));
	assert_int_equal(stats.delivered, 2);
	assert_int_equal(stats.immediate, UINT64_MAX);
	pvt_xen_vcpu_get_stats(v, &stats, sizeof(stats));
	assert_int_equal(stats.coalesced, 9);
	/* Made readable when a fd is asked for with something already recorded. */
	h_destroy(&h);
	assert_int_equal(h_init(&h, &c), 0);
	assert_int_equal(pvt_xen_set_timer_op(h.vcpus[0], h_guest_now(&h), &gr), 0);
	fd = pvt_xen_vcpu_event_fd(h.vcpus[0]);
	assert_true(fd >= 0 && readable(fd));
	assert_int_equal(pvt_xen_vcpu_take(h.vcpus[0], &ev), 1);
	assert_false(readable(fd));
	h_destroy(&h);
}

struct adv {
	struct pvt_xen_vcpu *v;
	int ret;
	struct pvt_xen_events ev;
	int wakes;
};

static void adv_notify(void *ctx)
{
	struct adv *a = ctx;

	a->ret = pvt_xen_vcpu_service(a->v, &a->ev);
	a->wakes++;
}

static void advance(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct adv a = { 0 };
	uint64_t g, d, first, at;
	int64_t gr;

	(void)state;
	h_cfg_default(&c);
	c.vm.algo = PVT_ALGO_KVM;
	assert_int_equal(h_init(&h, &c), 0);
	assert_int_equal(pvt_xen_vcpu_set_advance(h.vcpus[0], 5 * US), -EINVAL);	/* PVTIME only */
	h_destroy(&h);

	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	a.v = h.vcpus[0];
	assert_int_equal(pvt_simhost_timer_set_notify(h.timers[0], adv_notify, &a), 0);
	assert_int_equal(pvt_xen_vcpu_set_advance(a.v, 5 * US), 0);
	g = h_guest_now(&h);
	d = g + 300 * US;	/* one stage: 300 us x 1000 ppm < final_stage */
	first = h_first_true_at(&h, h.sim->true_ns, d);
	assert_int_equal(pvt_xen_set_timer_op(a.v, d, &gr), 0);
	/* The host timer fires ~5 us early: nothing yet, due_tsc says when. */
	assert_int_equal(pvt_simhost_step(h.sim, UINT64_MAX), 1);
	assert_int_equal(a.wakes, 1);
	assert_int_equal(a.ret, 0);
	assert_true(a.ev.due_tsc != 0);
	assert_true(h.sim->true_ns < first && h.sim->true_ns + 6 * US >= first);
	/* Not re-armed: the VMM spins now. */
	assert_int_equal(h.sim->count, 0);
	/* The spin's last ns before due_tsc: still nothing, same due_tsc. */
	at = pvt_simhost_true_at_tsc(h.sim, a.ev.due_tsc) - 1;
	pvt_simhost_skip(h.sim, at - h.sim->true_ns);
	adv_notify(&a);
	assert_int_equal(a.ret, 0);
	assert_true(a.ev.due_tsc != 0);
	/* At due_tsc: it fires, at the first instant the guest clock reads d. */
	at = pvt_simhost_true_at_tsc(h.sim, a.ev.due_tsc);
	pvt_simhost_skip(h.sim, at - h.sim->true_ns);
	adv_notify(&a);
	assert_int_equal(a.ret, 1);
	assert_int_equal(a.ev.fired, PVT_XEN_FIRED_SINGLESHOT);
	assert_int_equal(a.ev.due_tsc, 0);
	assert_true(h.sim->true_ns >= first && h.sim->true_ns <= first + 1);
	assert_true(h_guest_now(&h) >= d);
	/* A far deadline is armed early by the advance, never fires early. */
	assert_int_equal(pvt_xen_set_timer_op(a.v, h_guest_now(&h) + 50 * MS, &gr), 0);
	while (a.ev.fired != PVT_XEN_FIRED_SINGLESHOT || a.ret != 1) {
		if (!pvt_simhost_step(h.sim, UINT64_MAX)) {
			assert_true(a.ev.due_tsc != 0);
			pvt_simhost_skip(h.sim, pvt_simhost_true_at_tsc(h.sim, a.ev.due_tsc) -
						h.sim->true_ns);
			adv_notify(&a);
		}
		assert_true(a.wakes < 20);
	}
	assert_true(h_guest_now(&h) >= a.ev.singleshot_deadline_ns);
	h_destroy(&h);
}

static void refresh_and_steps(void **state)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_hostclock *rt;
	struct pvt_clock_pair p;
	struct pvt_rate r;
	uint64_t next;

	(void)state;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	assert_int_equal(pvt_hostclock_step_fd(h.hc), -1);
	assert_int_equal(pvt_hostclock_handle_step(h.hc), 0);
	assert_int_equal(pvt_hostclock_clockid(h.hc), CLOCK_MONOTONIC);
	assert_string_equal(pvt_hostclock_name(h.hc), "sim");
	pvt_hostclock_current(h.hc, &p, &r, NULL);
	next = pvt_hostclock_next_refresh_ns(h.hc);
	assert_true(next > p.mono_ns);
	/* Stale at next: a loop refreshing then moves it on. */
	pvt_simhost_skip(h.sim, next - pvt_simhost_mono(h.sim) + 1);
	assert_int_equal(pvt_hostclock_refresh(h.hc), 0);
	assert_int_equal(pvt_hostclock_next_refresh_ns(h.hc), pvt_simhost_mono(h.sim) + (next - p.mono_ns));

	/* A realtime clock: a step is counted and re-paired by handle_step. */
	h.sim->realtime_offset_ns = 1700000000000000000ll;
	assert_int_equal(pvt_simhost_hostclock_new_realtime(h.sim, &rt), 0);
	assert_int_equal(pvt_hostclock_flags(rt) & PVT_HOSTCLOCK_F_REALTIME, PVT_HOSTCLOCK_F_REALTIME);
	assert_int_equal(pvt_hostclock_handle_step(rt), 0);
	pvt_simhost_step_realtime(h.sim, -3600ll * 1000000000ll);
	assert_int_equal(hc_pair_gen(rt), 0);
	assert_int_equal(pvt_hostclock_handle_step(rt), 1);
	assert_int_equal(hc_pair_gen(rt), 1);
	pvt_hostclock_current(rt, &p, &r, NULL);
	assert_int_equal(p.mono_ns, pvt_simhost_realtime(h.sim));
	assert_int_equal(pvt_hostclock_handle_step(rt), 0);
	pvt_hostclock_free(rt);
	h_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_channels),
		cmocka_unit_test(arg_sizes),
		cmocka_unit_test(config_size),
		cmocka_unit_test(take_and_event_fd),
		cmocka_unit_test(advance),
		cmocka_unit_test(refresh_and_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * Real host timers: with the vDSO backend and a timerfd on this machine,
 * 10 000 timers armed 100 us ahead on a guest clock built on the host TSC
 * all fire, none twice, none before the deadline on the guest clock. The
 * lateness distribution is reported (p50/p99/max), never asserted: timing
 * thresholds belong to benchmarks, not tests. Also the timerfd backend's
 * own semantics (past deadline, disarm, spurious handle).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pvtime/guestclock.h"
#include "pvtime/hostclock.h"
#include "pvtime/hosttimer.h"
#include "pvtime/xentimer.h"

#include "clockns.h"
#include "test_skip.h"

#define LOOPS		10000
#define INTERVAL_NS	100000ull

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* A guest clock as KVM would build it for this host: unscaled, reference now. */
static void host_guest_clock(struct pvt_hostclock *hc, struct pvt_kvm_clock *kvm,
			     struct pvt_guest_clock *clock)
{
	struct pvt_clock_pair p;
	struct pvt_rate r;
	struct pvt_tsc_scaling tsc;
	uint64_t khz;

	pvt_hostclock_current(hc, &p, &r, NULL);
	/* kHz = 10^6 / (ns per tick), from the calibrated rate. */
	khz = 1000000000000000ull / pvt_rate_apply(&r, 1000000000ull, false);
	assert_int_equal(pvt_kvm_clock_init(kvm, (uint32_t)khz, 48), 0);
	kvm->master_tsc = pvt_hostclock_read_tsc(hc);
	assert_int_equal(pvt_kvm_tsc_scaling(kvm, (uint32_t)khz, 0, &tsc), 0);
	assert_int_equal(pvt_kvm_guest_clock(kvm, &tsc, clock), 0);
}

static void ten_thousand_timers(void **state)
{
	struct pvt_hostclock *hc;
	struct pvt_hosttimer *t;
	struct pvt_kvm_clock kvm;
	struct pvt_guest_clock clock;
	struct pvt_xen_vm *vm;
	struct pvt_xen_vcpu *v;
	struct pvt_xen_vcpu_stats st;
	struct pvt_xen_events ev;
	static int64_t late[LOOPS];
	uint64_t count = 0, tsc = 0;
	int64_t early = 0, gr;
	int ret;

	(void)state;
	ret = pvt_hostclock_new_vdso(0, &hc);
	if (ret == -ENOTSUP)
		pvt_test_skip("the host clocksource is not the TSC: no vDSO pairing");
	assert_int_equal(ret, 0);
	(void)pvt_thread_set_timerslack(1);
	assert_int_equal(pvt_hosttimer_new_timerfd(CLOCK_MONOTONIC, &t), 0);
	host_guest_clock(hc, &kvm, &clock);
	assert_int_equal(pvt_xen_vm_new(NULL, hc, &kvm, &vm), 0);
	assert_int_equal(pvt_xen_vcpu_new(vm, 0, t, &v), 0);
	assert_int_equal(pvt_xen_vcpu_set_guest_clock(v, &clock), 0);

	for (int i = 0; i < LOOPS; i++) {
		uint64_t now = pvt_guest_clock_ns(&clock, pvt_hostclock_read_tsc(hc));
		uint64_t deadline = now + INTERVAL_NS;

		assert_int_equal(pvt_xen_set_timer_op(v, deadline, &gr), 0);
		assert_int_equal(gr, 0);
		/* An expiry due at once is recorded by the call itself. */
		ret = pvt_xen_vcpu_take(v, &ev);
		while (!ret) {
			ret = pvt_hosttimer_wait(t, 1000000000ull);
			if (ret < 0)
				fail_msg("loop %d: wait returned %d (lost expiry?)", i, ret);
			ret = pvt_xen_vcpu_service(v, &ev);
			assert_true(ret >= 0);
		}
		tsc = pvt_hostclock_read_tsc(hc);
		count++;
		assert_int_equal(ev.fired, PVT_XEN_FIRED_SINGLESHOT);
		assert_int_equal(ev.singleshot_deadline_ns, deadline);
		late[i] = (int64_t)(pvt_guest_clock_ns(&clock, tsc) - deadline);
		if (late[i] < 0)
			early++;
	}
	/* Nothing more arrives: no duplicate. */
	ret = pvt_hosttimer_wait(t, 2 * INTERVAL_NS * 10);
	assert_true(ret == -ETIMEDOUT || ret == 0);
	assert_int_equal(pvt_xen_vcpu_service(v, &ev), 0);
	assert_int_equal(count, LOOPS);
	pvt_xen_vcpu_get_stats(v, &st, sizeof(st));
	assert_int_equal(st.delivered, LOOPS);
	qsort(late, LOOPS, sizeof(late[0]), cmp_i64);
	printf("# %d timers of %llu ns: guest-clock lateness p50 %" PRId64 " ns, p99 %" PRId64
	       " ns, max %" PRId64 " ns, min %" PRId64 " ns; host wakes %" PRIu64
	       ", early wakes re-armed %" PRIu64 "\n", LOOPS, (unsigned long long)INTERVAL_NS,
	       late[LOOPS / 2 - 1], late[LOOPS * 99 / 100 - 1], late[LOOPS - 1], late[0],
	       st.host_fires, st.early_wakes);
	assert_int_equal(early, 0);
	pvt_xen_vcpu_free(v);
	pvt_xen_vm_free(vm);
	pvt_hosttimer_free(t);
	pvt_hostclock_free(hc);
}

/* A bring-your-own timer: records what the engine asks of it. */
struct byo {
	int arms, disarms, destroyed;
	uint64_t deadline_ns;
};

static int byo_arm(void *ctx, uint64_t deadline_ns)
{
	struct byo *b = ctx;

	b->arms++;
	b->deadline_ns = deadline_ns;
	return 0;
}

static int byo_disarm(void *ctx)
{
	((struct byo *)ctx)->disarms++;
	return 0;
}

static void byo_destroy(void *ctx)
{
	((struct byo *)ctx)->destroyed++;
}

static void timerfd_semantics(void **state)
{
	static const struct pvt_hosttimer_ops ops = {
		.arm = byo_arm, .disarm = byo_disarm, .destroy = byo_destroy,
	};
	struct pvt_hosttimer *t;
	struct byo b = { 0 };

	(void)state;
	assert_int_equal(pvt_hosttimer_new_timerfd(CLOCK_BOOTTIME, &t), -EINVAL);
	assert_int_equal(pvt_hosttimer_new_timerfd(CLOCK_MONOTONIC, &t), 0);
	assert_true(pvt_hosttimer_fd(t) >= 0);
	assert_int_equal(pvt_hosttimer_clockid(t), CLOCK_MONOTONIC);
	/* Nothing armed: a drain is spurious. */
	assert_int_equal(pvt_hosttimer_drain(t), 0);
	assert_int_equal(pvt_hosttimer_wait(t, 1000000), -ETIMEDOUT);
	/* A past deadline (and 0) fires at once; wait does not consume it. */
	assert_int_equal(pvt_hosttimer_arm(t, 0), 0);
	assert_int_equal(pvt_hosttimer_wait(t, 1000000000ull), 0);
	assert_int_equal(pvt_hosttimer_drain(t), 1);
	assert_int_equal(pvt_hosttimer_drain(t), 0);
	/* Disarmed: nothing. */
	assert_int_equal(pvt_hosttimer_arm(t, clock_now_ns(CLOCK_MONOTONIC) + 2000000), 0);
	assert_int_equal(pvt_hosttimer_disarm(t), 0);
	assert_int_equal(pvt_hosttimer_wait(t, 5000000), -ETIMEDOUT);
	/* Far future is clamped, not an error. */
	assert_int_equal(pvt_hosttimer_arm(t, UINT64_MAX), 0);
	pvt_hosttimer_free(t);
	pvt_hosttimer_free(NULL);
	/* Bring your own: not fd-based, ops called, destroy on free. */
	assert_int_equal(pvt_hosttimer_new_ops(NULL, &b, CLOCK_MONOTONIC, &t), -EINVAL);
	assert_int_equal(pvt_hosttimer_new_ops(&ops, &b, CLOCK_MONOTONIC, &t), 0);
	assert_int_equal(pvt_hosttimer_fd(t), -1);
	assert_int_equal(pvt_hosttimer_drain(t), -EBADF);
	assert_int_equal(pvt_hosttimer_arm(t, 0), 0);
	assert_int_equal(b.deadline_ns, 1);
	assert_int_equal(pvt_hosttimer_disarm(t), 0);
	assert_int_equal(b.arms, 1);
	assert_int_equal(b.disarms, 1);
	pvt_hosttimer_free(t);
	assert_int_equal(b.destroyed, 1);
	assert_int_equal(pvt_thread_set_timerslack(0), -EINVAL);
	assert_int_equal(pvt_thread_set_timerslack(1), 0);
	assert_int_equal(pvt_thread_set_fifo(1000), -EINVAL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timerfd_semantics),
	};
	/* Its own CTest test (tests/engine.cmake): it skips without a TSC clocksource. */
	const struct CMUnitTest host_tests[] = {
		cmocka_unit_test(ten_thousand_timers),
	};

	return pvt_test_main(argc, argv, "test_hosttimer_real", tests, PVT_ARRAY_LEN(tests),
			     host_tests, PVT_ARRAY_LEN(host_tests));
}

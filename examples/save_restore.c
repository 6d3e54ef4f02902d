// SPDX-License-Identifier: MIT
/*
 * Live migration of a vCPU's Xen timers: save them on host A, restore them
 * into a second engine on host B, whose TSC, CLOCK_MONOTONIC and TSC
 * scaling have nothing in common with A's. The blob holds deadlines in
 * guest time, so B converts them afresh through its own clocks: the guest
 * keeps its deadline and its periodic grid, and each expiry arrives once.
 *
 *   cc examples/save_restore.c $(pkg-config --cflags --libs pvtime)
 *   ./a.out              two simulated hosts: deterministic output
 *   ./a.out --real       two vDSO host clocks and timerfds on this machine
 *
 * The guest has a 1 ms periodic timer and a singleshot 20 ms ahead (200 ms
 * with --real, so that a loaded machine still migrates before it). The
 * VMM migrates after two ticks with 3 ms of downtime. Checked: B restores
 * the same guest deadlines; the ticks missed while down arrive at once,
 * coalesced, and the grid continues; the singleshot fires once, not early;
 * nothing fires on A after the save. Exit 0 if all of that held.
 */
#define _GNU_SOURCE 1	/* POSIX threads and clocks also under -std=c11 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <pvtime/guestclock.h>
#include <pvtime/hostclock.h>
#include <pvtime/hosttimer.h>
#include <pvtime/simhost.h>
#include <pvtime/xentimer.h>

#define MS		UINT64_C(1000000)
#define SEC		UINT64_C(1000000000)
#define GUEST_KHZ	3000000u
#define PERIOD_NS	(1 * MS)
#define SINGLESHOT_NS	(20 * MS)
#define SINGLESHOT_REAL_NS (200 * MS)	/* room for a loaded machine's late ticks on A */
#define DOWNTIME_NS	(3 * MS)

/* One host with one vCPU of our guest on it. */
struct host {
	const char *name;
	bool real;
	struct pvt_simhost *sim;
	struct pvt_hostclock *hc;
	struct pvt_hosttimer *timer;
	struct pvt_xen_vm *vm;
	struct pvt_xen_vcpu *vcpu;
	uint32_t khz;
	unsigned frac_bits;
	uint64_t deadline_ns;		/* the guest's singleshot (for the printout) */
};

static int failures;

#define CHECK(cond, ...) do {							\
	if (!(cond)) {								\
		fprintf(stderr, "save_restore: FAILED: " __VA_ARGS__);		\
		fputc('\n', stderr);						\
		failures++;							\
	}									\
} while (0)

static void sim_notify(void *ctx)
{
	(void)ctx;	/* host_wait() serves the vCPU once pvt_simhost_step() returns */
}

/* A host (simulated: TSC kHz and uptime as given). */
static int host_new(struct host *h, bool real, uint32_t sim_khz, uint64_t sim_uptime_s)
{
	int ret;

	h->real = real;
	if (real) {
		struct pvt_clock_pair p;
		struct pvt_rate r;

		ret = pvt_hostclock_new_vdso(0, &h->hc);
		if (!ret) {
			pvt_hostclock_current(h->hc, &p, &r, NULL);
			h->khz = (uint32_t)(1000000000000000ull /
					    pvt_rate_apply(&r, 1000000000ull, false));
			ret = pvt_hosttimer_new_timerfd(pvt_hostclock_clockid(h->hc), &h->timer);
		}
	} else {
		struct pvt_simhost_config cfg = {
			.tsc_khz = sim_khz,
			.start_true_ns = sim_uptime_s * SEC,
			.start_mono_ns = sim_uptime_s * SEC,
			.wake_latency_ns = 2000,
			.max_timers = 1,
		};

		h->khz = sim_khz;
		ret = pvt_simhost_new(&cfg, &h->sim);
		if (!ret)
			ret = pvt_simhost_hostclock_new(h->sim, &h->hc);
		if (!ret)
			ret = pvt_simhost_timer_new(h->sim, &h->timer);
		if (!ret)
			ret = pvt_simhost_timer_set_notify(h->timer, sim_notify, h);
	}
	if (!ret)
		ret = pvt_xen_vm_new(NULL, h->hc, NULL, &h->vm);
	if (!ret)
		ret = pvt_xen_vcpu_new(h->vm, 0, h->timer, &h->vcpu);
	return ret;
}

static void host_free(struct host *h)
{
	pvt_xen_vcpu_free(h->vcpu);
	pvt_xen_vm_free(h->vm);
	pvt_hosttimer_free(h->timer);
	pvt_hostclock_free(h->hc);
	pvt_simhost_free(h->sim);
}

/*
 * The clock this host's KVM gives the guest so that it reads guest_ns and
 * its TSC reads guest_tsc right now: a TSC offset and a kvmclock offset
 * (KVM_SET_CLOCK) carry the guest's time across hosts.
 */
static int host_guest_clock(struct host *h, uint64_t guest_ns, uint64_t guest_tsc,
			    struct pvt_guest_clock *clock)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	int ret = pvt_kvm_clock_init(&kvm, h->khz, h->frac_bits);

	if (!ret)
		ret = pvt_kvm_tsc_scaling(&kvm, GUEST_KHZ, 0, &tsc);
	if (ret)
		return ret;
	kvm.master_tsc = pvt_hostclock_read_tsc(h->hc);
	kvm.master_ns = pvt_hostclock_read_mono(h->hc);
	kvm.kvmclock_offset_ns = (int64_t)(guest_ns - kvm.master_ns);
	tsc.offset = guest_tsc - pvt_guest_tsc(&tsc, kvm.master_tsc);
	ret = pvt_kvm_guest_clock(&kvm, &tsc, clock);
	if (!ret)
		ret = pvt_xen_vcpu_set_guest_clock(h->vcpu, clock);
	return ret;
}

/* Sleeps on the host timer for up to timeout_ns, then serves it. 1: something fired. */
static int host_wait(struct host *h, uint64_t timeout_ns, struct pvt_xen_events *ev)
{
	int ret;

	if (h->real) {
		ret = pvt_hosttimer_wait(h->timer, timeout_ns);
		if (ret == -ETIMEDOUT)
			return 0;
	} else if (!pvt_simhost_step(h->sim, pvt_simhost_now_ns(h->sim) + timeout_ns)) {
		return 0;
	}
	ret = pvt_xen_vcpu_service(h->vcpu, ev);
	CHECK(ret >= 0, "%s: service: %s", h->name, strerror(-ret));
	return ret > 0;
}

static uint64_t guest_now(struct host *h)
{
	uint64_t ns = 0;

	CHECK(!pvt_xen_vcpu_guest_now(h->vcpu, &ns), "%s: no guest clock", h->name);
	return ns;
}

/* Guest ns as seconds.nanoseconds. */
static const char *ts(uint64_t ns, char *buf)
{
	sprintf(buf, "%" PRIu64 ".%09" PRIu64, ns / SEC, ns % SEC);
	return buf;
}

/* Checks periodic ticks against the grid: tick n is due at first + (n - 1) x period. */
static void check_ticks(struct host *h, const struct pvt_xen_events *ev, uint64_t first_ns,
			uint64_t *ticks)
{
	uint64_t want = first_ns + (*ticks + ev->periodic_ticks - 1) * PERIOD_NS;
	uint64_t now = guest_now(h);
	char b1[32], b2[32], b3[48];

	CHECK(ev->periodic_deadline_ns == want, "%s: tick at %" PRIu64 ", grid %" PRIu64,
	      h->name, ev->periodic_deadline_ns, want);
	CHECK(now >= want, "%s: tick %" PRIu64 " ns early", h->name, want - now);
	/* On A every tick; on B the first event (the downtime's ticks) and the last. */
	if (h->name[0] == 'A' || !*ticks || ev->periodic_ticks > 1 || want + PERIOD_NS >
	    h->deadline_ns) {
		if (ev->periodic_ticks > 1)
			sprintf(b3, "ticks %" PRIu64 "..%" PRIu64, *ticks + 1,
				*ticks + ev->periodic_ticks);
		else
			sprintf(b3, "tick %" PRIu64, *ticks + 1);
		printf("%s: %s due at %s, taken at guest %s\n", h->name, b3, ts(want, b1),
		       ts(now, b2));
	}
	*ticks += ev->periodic_ticks;
}

/* An expiry taken on B: ticks on A's grid, the singleshot once, not early. 1: the singleshot. */
static int on_b(struct host *b, const struct pvt_xen_events *ev, uint64_t first_tick,
		uint64_t *ticks)
{
	char b1[32], b2[32];
	uint64_t now;

	if (ev->fired & PVT_XEN_FIRED_PERIODIC)
		check_ticks(b, ev, first_tick, ticks);
	if (!(ev->fired & PVT_XEN_FIRED_SINGLESHOT))
		return 0;
	now = guest_now(b);
	CHECK(ev->singleshot_deadline_ns == b->deadline_ns, "B: singleshot %" PRIu64
	      " fired, %" PRIu64 " armed", ev->singleshot_deadline_ns, b->deadline_ns);
	CHECK(now >= b->deadline_ns, "B: singleshot %" PRIu64 " ns early", b->deadline_ns - now);
	printf("B: singleshot %s fired at guest %s\n", ts(b->deadline_ns, b1), ts(now, b2));
	return 1;
}

int main(int argc, char **argv)
{
	struct host a = { .name = "A", .frac_bits = PVT_FRAC_BITS_VMX };
	struct host b = { .name = "B", .frac_bits = PVT_FRAC_BITS_SVM };
	struct pvt_guest_clock clock_a, clock_b;
	struct pvt_xen_vcpu_state st_a, st_b;
	struct pvt_xen_singleshot_arg ss;
	struct pvt_xen_periodic_arg per = { .period_ns = PERIOD_NS };
	struct pvt_xen_events ev;
	uint8_t blob[PVT_XEN_BLOB_SIZE];
	uint64_t g0, first_tick, deadline, saved_ns, saved_tsc, ticks = 0, singleshots = 0;
	char b1[32], b2[32];
	bool real = argc == 2 && !strcmp(argv[1], "--real");
	int64_t gr;
	int ret, len;

	if (argc > 1 && !real) {
		fprintf(stderr, "usage: %s [--real]\n", argv[0]);
		return 2;
	}
	/* Host A: an Intel-like host up for a day; the guest has run for an hour. */
	ret = host_new(&a, real, 2596136, 86400);
	if (!ret)
		ret = host_guest_clock(&a, 3600 * SEC, 3600ull * GUEST_KHZ * 1000, &clock_a);
	if (ret) {
		fprintf(stderr, "save_restore: host A: %s\n", strerror(-ret));
		return 1;
	}
	printf("host A: %s, TSC %" PRIu32 " kHz, TSC ratio %u fraction bits; guest TSC %u kHz\n",
	       real ? "this machine" : "simulated", a.khz, a.frac_bits, GUEST_KHZ);

	/* The guest arms a singleshot and a periodic timer. */
	g0 = guest_now(&a);
	ss.timeout_abs_ns = deadline = a.deadline_ns = b.deadline_ns =
		g0 + (real ? SINGLESHOT_REAL_NS : SINGLESHOT_NS);
	ss.flags = 0;
	ret = pvt_xen_vcpu_op(a.vcpu, a.vcpu, PVT_XEN_VCPUOP_set_singleshot_timer, &ss,
			      sizeof(ss), &gr);
	CHECK(!ret && !gr, "A: set_singleshot: host %d guest %" PRId64, ret, gr);
	ret = pvt_xen_vcpu_op(a.vcpu, a.vcpu, PVT_XEN_VCPUOP_set_periodic_timer, &per,
			      sizeof(per), &gr);
	CHECK(!ret && !gr, "A: set_periodic: host %d guest %" PRId64, ret, gr);
	pvt_xen_vcpu_get_state(a.vcpu, &st_a);
	first_tick = st_a.periodic_deadline_ns;
	printf("A: guest at %s arms a singleshot for %s and a %" PRIu64 " ms periodic timer\n",
	       ts(g0, b1), ts(deadline, b2), PERIOD_NS / MS);

	/* Two ticks on A. */
	while (ticks < 2 && !failures) {
		if (!host_wait(&a, SEC, &ev)) {
			CHECK(0, "A: no tick within 1 s (lost)");
			break;
		}
		CHECK(!(ev.fired & PVT_XEN_FIRED_SINGLESHOT),
		      "A: the singleshot fired before the migration (the host was too slow)");
		if (ev.fired & PVT_XEN_FIRED_PERIODIC)
			check_ticks(&a, &ev, first_tick, &ticks);
	}

	/* Pause the vCPU, save its timers, and the guest's clock (KVM_GET_CLOCK, its TSC). */
	len = pvt_xen_vcpu_save(a.vcpu, blob, sizeof(blob));
	CHECK(len == PVT_XEN_BLOB_SIZE, "A: save returned %d", len);
	saved_tsc = pvt_guest_tsc(&clock_a.tsc, pvt_hostclock_read_tsc(a.hc));
	saved_ns = pvt_guest_clock_ns(&clock_a, pvt_hostclock_read_tsc(a.hc));
	pvt_xen_vcpu_get_state(a.vcpu, &st_a);
	printf("A: saved %d bytes at guest %s; A's host timer was due at A's CLOCK_MONOTONIC %s\n",
	       len, ts(saved_ns, b1), ts(st_a.host_deadline_ns, b2));
	/* The source vCPU goes away; its host timer must stay quiet from now on. */
	pvt_xen_vcpu_free(a.vcpu);
	a.vcpu = NULL;
	if (real) {
		CHECK(pvt_hosttimer_wait(a.timer, 20 * MS) == -ETIMEDOUT,
		      "A: the host timer fired after the vCPU was saved and freed");
	} else {
		CHECK(!pvt_simhost_step(a.sim, pvt_simhost_now_ns(a.sim) + 20 * MS),
		      "A: the host timer fired after the vCPU was saved and freed");
	}

	/* Host B: an AMD-like host up for ten minutes, after DOWNTIME_NS. */
	if (real) {
		struct timespec down = { 0, (long)DOWNTIME_NS };

		nanosleep(&down, NULL);
	}
	ret = host_new(&b, real, 3100000, 600);
	/* The destination VMM resumes the guest's clock where it left off plus the downtime. */
	if (!ret)
		ret = host_guest_clock(&b, saved_ns + DOWNTIME_NS,
				       saved_tsc + DOWNTIME_NS / 1000000 * GUEST_KHZ, &clock_b);
	if (ret) {
		fprintf(stderr, "save_restore: host B: %s\n", strerror(-ret));
		host_free(&a);
		return 1;
	}
	printf("host B: %s, TSC %" PRIu32 " kHz, TSC ratio %u fraction bits; the guest resumes at %s\n",
	       real ? "this machine" : "simulated", b.khz, b.frac_bits, ts(saved_ns + DOWNTIME_NS, b1));
	/*
	 * Restore after set_guest_clock (it may come first: the deadlines wait
	 * in guest time for the clock). Ticks already due are recorded at once.
	 */
	ret = pvt_xen_vcpu_restore(b.vcpu, blob, (size_t)len);
	CHECK(!ret, "B: restore: %s", strerror(-ret));
	pvt_xen_vcpu_get_state(b.vcpu, &st_b);
	/* (Armed, or already recorded if a slow real host missed it while down.) */
	CHECK((st_b.singleshot_armed || st_b.pending) && st_b.singleshot_deadline_ns == deadline,
	      "B: singleshot %" PRIu64 " restored, %" PRIu64 " saved", st_b.singleshot_deadline_ns,
	      deadline);
	CHECK(st_b.period_ns == PERIOD_NS, "B: period %" PRIu64 " restored", st_b.period_ns);
	printf("B: restored singleshot %s, the guest deadline saved on A; B's host timer is due at "
	       "B's CLOCK_MONOTONIC %s\n", ts(st_b.singleshot_deadline_ns, b1),
	       ts(st_b.host_deadline_ns, b2));
	/* Whatever came due while the guest was down was recorded by the restore. */
	if (pvt_xen_vcpu_take(b.vcpu, &ev))
		singleshots += on_b(&b, &ev, first_tick, &ticks);
	/* Run B until the singleshot, then stop the ticks and watch for 20 ms more. */
	while (!singleshots && !failures) {
		if (!host_wait(&b, SEC, &ev)) {
			CHECK(0, "B: singleshot %s not delivered within 1 s (lost)", ts(deadline, b1));
			break;
		}
		singleshots += on_b(&b, &ev, first_tick, &ticks);
	}
	ret = pvt_xen_stop_periodic(b.vcpu, &gr);
	CHECK(!ret && !gr, "B: stop_periodic: host %d guest %" PRId64, ret, gr);
	if (pvt_xen_vcpu_take(b.vcpu, &ev))
		CHECK(0, "B: something fired at the stop (%#x)", ev.fired);
	while (host_wait(&b, 20 * MS, &ev))
		CHECK(0, "B: fired again after the singleshot and the stop (%#x)", ev.fired);
	pvt_xen_vcpu_get_state(b.vcpu, &st_b);
	CHECK(!st_b.singleshot_armed && !st_b.periodic_armed && !st_b.pending,
	      "B: timers still armed or pending at the end");
	host_free(&b);
	host_free(&a);
	if (failures)
		return 1;
	printf("OK: the deadline survived in guest time, fired once on B and never on A; "
	       "%" PRIu64 " ticks on one grid\n", ticks);
	return 0;
}

// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "pvtime/guestclock.h"
#include "pvtime/hostclock.h"
#include "pvtime/hosttimer.h"
#include "pvtime/xentimer.h"

#include "clockns.h"
#include "bench-timer.h"

#if __has_include(<linux/kvm.h>)
#include <linux/kvm.h>
#define HAVE_KVM_H 1
#endif

#define AHEAD_NS	10000000ull	/* deadlines stay in the future */
#define DELIVERY_MAX	2000u		/* samples per path */

struct kvm_vm {
	int kvm_fd, vm_fd;
	const char *why;	/* NULL when usable */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* A VM whose KVM_GET_CLOCK returns HOST_TSC: a vCPU and a SET_CLOCK. */
static void kvm_open(struct kvm_vm *k)
{
	k->kvm_fd = k->vm_fd = -1;
	k->why = NULL;
#ifdef HAVE_KVM_H
	struct kvm_clock_data d;

	k->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm_fd < 0) {
		k->why = "cannot open /dev/kvm";
		return;
	}
	k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0) {
		k->why = "KVM_CREATE_VM failed";
		return;
	}
	memset(&d, 0, sizeof(d));
	if (ioctl(k->vm_fd, KVM_CREATE_VCPU, 0) < 0 || ioctl(k->vm_fd, KVM_GET_CLOCK, &d)) {
		k->why = "KVM_CREATE_VCPU/KVM_GET_CLOCK failed";
		return;
	}
	d.flags = 0;
	(void)ioctl(k->vm_fd, KVM_SET_CLOCK, &d);
#else
	k->why = "built without <linux/kvm.h>";
#endif
}

static void kvm_close(struct kvm_vm *k)
{
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->kvm_fd >= 0)
		close(k->kvm_fd);
}

/* ---- the measured operations ---- */

struct bench {
	struct pvt_hostclock *hc;
	struct kvm_vm *kvm;
	struct pvt_guest_clock clock;
	struct pvt_xen_vcpu *vcpu;
	uint64_t sink;
};

typedef void (*loop_fn)(struct bench *b, uint64_t n);

static void loop_rdtsc(struct bench *b, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		b->sink += pvt_hostclock_read_tsc(b->hc);
}

static void loop_clock_gettime(struct bench *b, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		b->sink += clock_now_ns(CLOCK_MONOTONIC);
}

static void loop_kvm_get_clock(struct bench *b, uint64_t n)
{
#ifdef HAVE_KVM_H
	struct kvm_clock_data d;

	for (uint64_t i = 0; i < n; i++) {
		memset(&d, 0, sizeof(d));
		if (!ioctl(b->kvm->vm_fd, KVM_GET_CLOCK, &d))
			b->sink += d.host_tsc;
	}
#else
	(void)b;
	(void)n;
#endif
}

static void loop_pair(struct bench *b, uint64_t n)
{
	struct pvt_clock_pair p;

	for (uint64_t i = 0; i < n; i++)
		if (!pvt_hostclock_pair(b->hc, &p))
			b->sink += p.uncertainty_ns;
}

/* set_timer_op at fresh future deadlines: the hypercall's whole cost. */
static void loop_arm(struct bench *b, uint64_t n)
{
	uint64_t base = 0;
	int64_t guest_ret;

	for (uint64_t i = 0; i < n; i++) {
		if (!(i & 1023))
			base = pvt_guest_clock_ns(&b->clock, pvt_hostclock_read_tsc(b->hc)) + AHEAD_NS;
		pvt_xen_set_timer_op(b->vcpu, base + (i & 1023) * 997, &guest_ret);
	}
	pvt_xen_set_timer_op(b->vcpu, 0, &guest_ret);
}

/* Median ns/op over BENCH_TIMER_REPEAT runs of n iterations (after a warm-up run). */
static double measure(struct bench *b, loop_fn fn, uint64_t n)
{
	double runs[BENCH_TIMER_REPEAT];

	fn(b, n / 10 + 1);
	for (int r = 0; r < BENCH_TIMER_REPEAT; r++) {
		uint64_t t0 = clock_now_ns(CLOCK_MONOTONIC);

		fn(b, n);
		runs[r] = (double)(clock_now_ns(CLOCK_MONOTONIC) - t0) / (double)n;
	}
	qsort(runs, BENCH_TIMER_REPEAT, sizeof(runs[0]), cmp_double);
	return runs[BENCH_TIMER_REPEAT / 2];
}

/* A bring-your-own host timer that only remembers its deadline. */
static int null_arm(void *ctx, uint64_t deadline_ns)
{
	*(uint64_t *)ctx = deadline_ns;
	return 0;
}

static int null_disarm(void *ctx)
{
	(void)ctx;
	return 0;
}

static const struct pvt_hosttimer_ops null_ops = { .arm = null_arm, .disarm = null_disarm };

/* The 3 GHz scaled guest on this host's TSC, reference now. */
static int make_clock(struct pvt_hostclock *hc, struct pvt_kvm_clock *kvm,
		      struct pvt_guest_clock *clock, uint32_t *host_khz)
{
	struct pvt_clock_pair p;
	struct pvt_rate r;
	struct pvt_tsc_scaling tsc;
	uint64_t ns = 0;

	pvt_hostclock_current(hc, &p, &r, NULL);
	ns = pvt_rate_apply(&r, 1000000000ull, false);
	if (!ns)
		return -EINVAL;
	*host_khz = (uint32_t)(1000000000000000ull / ns);
	if (pvt_kvm_clock_init(kvm, *host_khz, PVT_FRAC_BITS_VMX))
		return -EINVAL;
	kvm->master_tsc = pvt_hostclock_read_tsc(hc);
	if (pvt_kvm_tsc_scaling(kvm, BENCH_TIMER_GUEST_KHZ, 0, &tsc) ||
	    pvt_kvm_guest_clock(kvm, &tsc, clock))
		return -EINVAL;
	return 0;
}

/* Arming cost for one algorithm with a host timer (null or timerfd). */
static double arm_cost(struct bench *b, struct pvt_kvm_clock *kvm, enum pvt_timer_algo algo,
		       bool timerfd, uint64_t n, int *err)
{
	struct pvt_xen_vm_config cfg;
	struct pvt_xen_vm *vm = NULL;
	struct pvt_xen_vcpu *v = NULL;
	struct pvt_hosttimer *t = NULL;
	uint64_t null_deadline = 0;
	double ns = 0;

	pvt_xen_vm_config_default(&cfg);
	cfg.algo = algo;
	if (timerfd)
		*err = pvt_hosttimer_new_timerfd(CLOCK_MONOTONIC, &t);
	else
		*err = pvt_hosttimer_new_ops(&null_ops, &null_deadline, CLOCK_MONOTONIC, &t);
	if (*err)
		return 0;
	if (!(*err = pvt_xen_vm_new(&cfg, b->hc, kvm, &vm)) &&
	    !(*err = pvt_xen_vcpu_new(vm, 0, t, &v)) &&
	    !(*err = pvt_xen_vcpu_set_guest_clock(v, &b->clock))) {
		b->vcpu = v;
		ns = measure(b, loop_arm, n);
	}
	pvt_xen_vcpu_free(v);
	pvt_xen_vm_free(vm);
	pvt_hosttimer_free(t);
	return ns;
}

/* A bare timerfd: arm at now + ahead, sleep, read; ns late on CLOCK_MONOTONIC. */
static int bare_wake(int fd, int64_t *late)
{
	struct itimerspec its = { 0 };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t deadline = clock_now_ns(CLOCK_MONOTONIC) + BENCH_TIMER_DELIVERY_AHEAD_NS, n;

	its.it_value = timespec_of_ns(deadline);
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL))
		return -errno;
	if (poll(&pfd, 1, 1000) != 1 || read(fd, &n, sizeof(n)) != sizeof(n))
		return -ETIMEDOUT;
	*late = (int64_t)(clock_now_ns(CLOCK_MONOTONIC) - deadline);
	return 0;
}

/* The engine: set_timer_op at guest now + ahead, sleep on the fd, service; guest ns late. */
static int engine_wake(struct bench *b, struct pvt_hosttimer *t, int64_t *late)
{
	uint64_t deadline = pvt_guest_clock_ns(&b->clock, pvt_hostclock_read_tsc(b->hc)) +
			    BENCH_TIMER_DELIVERY_AHEAD_NS;
	struct pvt_xen_events ev;
	int64_t guest_ret;
	int ret = pvt_xen_set_timer_op(b->vcpu, deadline, &guest_ret);

	if (ret)
		return ret;
	while (!(ret = pvt_xen_vcpu_service(b->vcpu, &ev)) || ret < 0) {
		if (ret < 0)
			return ret;
		ret = pvt_hosttimer_wait(t, PVT_NSEC_PER_SEC);
		if (ret)
			return ret;
	}
	*late = (int64_t)(pvt_guest_clock_ns(&b->clock, pvt_hostclock_read_tsc(b->hc)) - deadline);
	return ev.fired & PVT_XEN_FIRED_SINGLESHOT ? 0 : -EPROTO;
}

/*
 * Delivery latency, engine and bare timerfd, n samples each, interleaved so
 * both see the same machine. PVTIME on a timerfd; 1 ns timer slack.
 */
static int delivery(struct bench *b, struct pvt_kvm_clock *kvm, uint64_t n,
		    struct stats *eng, struct stats *bare)
{
	struct pvt_xen_vm *vm = NULL;
	struct pvt_xen_vcpu *v = NULL;
	struct pvt_hosttimer *t = NULL;
	int fd, ret;
	int64_t late;

	(void)pvt_thread_set_timerslack(1);
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!(ret = pvt_hosttimer_new_timerfd(CLOCK_MONOTONIC, &t)) &&
	    !(ret = pvt_xen_vm_new(NULL, b->hc, kvm, &vm)) &&
	    !(ret = pvt_xen_vcpu_new(vm, 0, t, &v)) &&
	    !(ret = pvt_xen_vcpu_set_guest_clock(v, &b->clock))) {
		b->vcpu = v;
		for (uint64_t i = 0; i < n && !ret; i++) {
			ret = engine_wake(b, t, &late);
			if (!ret && stats_add(eng, late))
				ret = -ENOMEM;
			if (!ret)
				ret = bare_wake(fd, &late);
			if (!ret && stats_add(bare, late))
				ret = -ENOMEM;
		}
	}
	pvt_xen_vcpu_free(v);
	pvt_xen_vm_free(vm);
	pvt_hosttimer_free(t);
	close(fd);
	return ret;
}

/* Uncertainty of n pairings (and the cost per pairing). */
static void pair_stats(struct bench *b, uint64_t n, struct stats *s, double *ns_per)
{
	struct pvt_clock_pair p;

	*ns_per = measure(b, loop_pair, n);
	for (uint64_t i = 0; i < n; i++)
		if (!pvt_hostclock_pair(b->hc, &p))
			stats_add(s, (int64_t)p.uncertainty_ns);
}


static const enum pvt_timer_algo algos[BENCH_TIMER_ALGOS] = {
	PVT_ALGO_PVTIME, PVT_ALGO_KVM, PVT_ALGO_LEGACY,
};

/* Arming per algorithm and with a timerfd, then delivery: the engine's parts. */
static int engine_parts(struct bench *b, struct pvt_kvm_clock *kvm_model, uint64_t n,
			struct bench_timer_result *res)
{
	int err = 0;

	for (int i = 0; i < BENCH_TIMER_ALGOS; i++) {
		res->arm_ns[i] = arm_cost(b, kvm_model, algos[i], false, n, &err);
		if (err)
			return err;
	}
	res->arm_timerfd_ns = arm_cost(b, kvm_model, PVT_ALGO_PVTIME, true, n / 10 + 1, &err);
	if (err)
		return err;
	return delivery(b, kvm_model, res->delivery_samples, &res->service_late_ns,
			&res->timerfd_late_ns);
}

static void targets(struct bench_timer_result *res)
{
	res->arm_le_100ns = res->arm_ns[0] <= 100;
	res->arm_3x_cheaper_than_kvm_get_clock = res->have_kvm && res->arm_ns[0] * 3 <= res->kvm_get_clock_ns;
	res->vdso_uncertainty_p50_le_20ns = stats_percentile(&res->vdso_uncertainty_ns, 1, 2) <= 20;
	res->delivery_adds_le_1us_p50 = res->delivery_added_p50_ns <= 1000;
}

int bench_timer_measure(const struct bench_timer_config *cfg, struct bench_timer_result *res)
{
	uint64_t n = cfg->iterations;
	struct pvt_hostclock *vdso, *kvmclk;
	struct pvt_kvm_clock kvm_model;
	struct kvm_vm kvm;
	struct bench b;
	int ret;

	memset(res, 0, sizeof(*res));
	stats_init(&res->service_late_ns);
	stats_init(&res->timerfd_late_ns);
	stats_init(&res->vdso_uncertainty_ns);
	stats_init(&res->kvm_uncertainty_ns);
	memcpy(res->algos, algos, sizeof(algos));
	res->guest_khz = BENCH_TIMER_GUEST_KHZ;
	snprintf(res->clocksource, sizeof(res->clocksource), "unknown");
	if (n < BENCH_TIMER_MIN_ITERATIONS) {
		snprintf(res->error, sizeof(res->error), "iterations: at least %d",
			 BENCH_TIMER_MIN_ITERATIONS);
		return -EINVAL;
	}
	ret = pvt_hostclock_new_vdso(0, &vdso);
	if (ret) {
		snprintf(res->error, sizeof(res->error), "vDSO host clock: %s", strerror(-ret));
		return ret;
	}
	(void)pvt_hostclock_clocksource(res->clocksource, sizeof(res->clocksource));
	memset(&b, 0, sizeof(b));
	b.hc = vdso;
	b.kvm = &kvm;
	if ((ret = make_clock(vdso, &kvm_model, &b.clock, &res->host_khz))) {
		snprintf(res->error, sizeof(res->error), "cannot model a guest clock on this host");
		pvt_hostclock_free(vdso);
		return ret;
	}
	kvm_open(&kvm);
	res->have_kvm = !kvm.why;
	res->kvm_why = kvm.why;
	res->delivery_samples = n / 100 + 100 < DELIVERY_MAX ? n / 100 + 100 : DELIVERY_MAX;

	res->rdtsc_ns = measure(&b, loop_rdtsc, n);
	res->clock_gettime_ns = measure(&b, loop_clock_gettime, n);
	if (res->have_kvm)
		res->kvm_get_clock_ns = measure(&b, loop_kvm_get_clock, n / 10 + 1);
	ret = engine_parts(&b, &kvm_model, n, res);
	if (ret) {
		snprintf(res->error, sizeof(res->error), "engine setup failed: %s", strerror(-ret));
		goto out;
	}
	/* What the engine's service/take path adds to the host's own timer wake-up. */
	res->delivery_added_p50_ns = stats_percentile(&res->service_late_ns, 1, 2) -
				     stats_percentile(&res->timerfd_late_ns, 1, 2);
	pair_stats(&b, n / 10 + 1, &res->vdso_uncertainty_ns, &res->pair_vdso_ns);
	if (res->have_kvm && !pvt_hostclock_new_kvm(kvm.vm_fd, 0, &kvmclk)) {
		res->have_kvm_clock = true;
		b.hc = kvmclk;
		pair_stats(&b, n / 10 + 1, &res->kvm_uncertainty_ns, &res->pair_kvm_ns);
		b.hc = vdso;
		pvt_hostclock_free(kvmclk);
	}
	targets(res);
out:
	kvm_close(&kvm);
	pvt_hostclock_free(vdso);
	return ret;
}

void bench_timer_result_free(struct bench_timer_result *res)
{
	stats_free(&res->service_late_ns);
	stats_free(&res->timerfd_late_ns);
	stats_free(&res->vdso_uncertainty_ns);
	stats_free(&res->kvm_uncertainty_ns);
}

void bench_timer_json(struct json *j, const struct bench_timer_config *cfg, struct bench_timer_result *r)
{
	json_string(j, "clocksource", r->clocksource);
	json_u64(j, "host_khz", r->host_khz);
	json_u64(j, "guest_khz", r->guest_khz);
	json_u64(j, "iterations", cfg->iterations);
	json_double(j, "rdtsc_ns", r->rdtsc_ns);
	json_double(j, "clock_gettime_ns", r->clock_gettime_ns);
	if (r->have_kvm)
		json_double(j, "kvm_get_clock_ns", r->kvm_get_clock_ns);
	else
		json_null(j, "kvm_get_clock_ns");
	json_object_begin(j, "arm_ns");
	for (int i = 0; i < BENCH_TIMER_ALGOS; i++)
		json_double(j, pvt_timer_algo_name(r->algos[i]), r->arm_ns[i]);
	json_object_end(j);
	json_double(j, "arm_timerfd_ns", r->arm_timerfd_ns);
	json_object_begin(j, "delivery");
	json_u64(j, "samples", r->delivery_samples);
	json_u64(j, "ahead_ns", BENCH_TIMER_DELIVERY_AHEAD_NS);
	stats_json(j, "service_late_ns", &r->service_late_ns);
	stats_json(j, "timerfd_late_ns", &r->timerfd_late_ns);
	json_i64(j, "added_p50_ns", r->delivery_added_p50_ns);
	json_object_end(j);
	json_object_begin(j, "pairing");
	json_object_begin(j, "vdso");
	json_double(j, "ns_per_call", r->pair_vdso_ns);
	stats_json(j, "uncertainty_ns", &r->vdso_uncertainty_ns);
	json_bool(j, "uncertainty_is_bound", false);	/* measured per pairing */
	json_object_end(j);
	if (r->have_kvm_clock) {
		json_object_begin(j, "kvm");
		json_double(j, "ns_per_call", r->pair_kvm_ns);
		stats_json(j, "uncertainty_ns", &r->kvm_uncertainty_ns);
		json_bool(j, "uncertainty_is_bound", true);	/* the backend's constant */
		json_object_end(j);
	} else {
		json_null(j, "kvm");
	}
	json_object_end(j);
	json_object_begin(j, "targets");
	json_bool(j, "arm_le_100ns", r->arm_le_100ns);
	if (r->have_kvm)
		json_bool(j, "arm_3x_cheaper_than_kvm_get_clock", r->arm_3x_cheaper_than_kvm_get_clock);
	json_bool(j, "vdso_uncertainty_p50_le_20ns", r->vdso_uncertainty_p50_le_20ns);
	json_bool(j, "delivery_adds_le_1us_p50", r->delivery_adds_le_1us_p50);
	json_object_end(j);
}

// SPDX-License-Identifier: MIT
/*
 * pvtime bench timer: what arming a Xen timer costs, in the same run as its
 * yardsticks: rdtsc, clock_gettime, and one KVM_GET_CLOCK ioctl (the clock
 * read the in-kernel fix does per arm). Arming is measured without the host
 * timer syscall (a null host timer) and with a real timerfd, per algorithm.
 * Pairing: ns per call and the uncertainty per backend: for the vDSO
 * sandwich a measurement (half-width of the narrowest window, per pairing);
 * KVM_GET_CLOCK reads both clocks at one TSC instant in the kernel and the
 * backend reports a constant 1 ns bound (rounding), which is labelled a
 * bound ("uncertainty_is_bound") and not presented as a measurement.
 * Delivery: how late after its deadline a VMM thread sleeping on the
 * vCPU's timerfd learns what fired through pvt_xen_vcpu_service (guest
 * clock), against a bare timerfd wake (CLOCK_MONOTONIC) in the same run,
 * samples interleaved.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#include "args.h"
#include "clockns.h"
#include "cmdline.h"
#include "commands.h"
#include "json.h"
#include "runctl.h"
#include "options.h"
#include "stats.h"

#if __has_include(<linux/kvm.h>)
#include <linux/kvm.h>
#define HAVE_KVM_H 1
#endif

#define REPEAT		7
#define GUEST_KHZ	3000000u	/* a scaled guest: the costly inverse */
#define AHEAD_NS	10000000ull	/* deadlines stay in the future */
#define DELIVERY_AHEAD_NS 200000ull	/* each delivery sample sleeps this long */
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

/* Median ns/op over REPEAT runs of n iterations (after a warm-up run). */
static double measure(struct bench *b, loop_fn fn, uint64_t n)
{
	double runs[REPEAT];

	fn(b, n / 10 + 1);
	for (int r = 0; r < REPEAT; r++) {
		uint64_t t0 = clock_now_ns(CLOCK_MONOTONIC);

		fn(b, n);
		runs[r] = (double)(clock_now_ns(CLOCK_MONOTONIC) - t0) / (double)n;
	}
	qsort(runs, REPEAT, sizeof(runs[0]), cmp_double);
	return runs[REPEAT / 2];
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
	if (pvt_kvm_tsc_scaling(kvm, GUEST_KHZ, 0, &tsc) || pvt_kvm_guest_clock(kvm, &tsc, clock))
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
	uint64_t deadline = clock_now_ns(CLOCK_MONOTONIC) + DELIVERY_AHEAD_NS, n;

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
			    DELIVERY_AHEAD_NS;
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

int bench_timer(int argc, char **argv)
{
	uint64_t n = 200000, nd;
	bool json = false;
	struct opt o[] = {
		{ .name = "iterations", .kind = OPT_UINT, OPT_FIELD(n), .min = 100, .max = 100000000ull,
		  .help = "operations per timed run (default 200000; syscalls and pairings use /10)" },
		{ OPT_JSON(json) }, OPT_TABLE_END,
	};
	static const enum pvt_timer_algo algos[] = { PVT_ALGO_PVTIME, PVT_ALGO_KVM, PVT_ALGO_LEGACY };
	struct pvt_hostclock *vdso, *kvmclk;
	struct pvt_kvm_clock kvm_model;
	struct kvm_vm kvm;
	struct bench b;
	struct stats unc_vdso, unc_kvm, deliv_eng, deliv_bare;
	int64_t deliv_added_ns;
	double rdtsc_ns, cg_ns, kgc_ns = 0, arm_ns[3], arm_fd_ns = 0, pair_vdso_ns, pair_kvm_ns = 0;
	bool have_kvm, have_kvm_clock = false;
	uint32_t host_khz;
	char cs[64] = "unknown";
	int ret = opts_parse("bench timer", "pvtime bench timer [--iterations N] [--json]", o, argc, argv);
	int err = 0;

	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	/* About a second: a SIGINT lets it finish and report, then exits 130. */
	runctl_install();
	ret = pvt_hostclock_new_vdso(0, &vdso);
	if (ret)
		return runtime_error("bench timer: vDSO host clock: %s", strerror(-ret));
	(void)pvt_hostclock_clocksource(cs, sizeof(cs));
	memset(&b, 0, sizeof(b));
	b.hc = vdso;
	b.kvm = &kvm;
	if (make_clock(vdso, &kvm_model, &b.clock, &host_khz)) {
		pvt_hostclock_free(vdso);
		return runtime_error("bench timer: cannot model a guest clock on this host");
	}
	kvm_open(&kvm);
	have_kvm = !kvm.why;
	stats_init(&unc_vdso);
	stats_init(&unc_kvm);
	stats_init(&deliv_eng);
	stats_init(&deliv_bare);
	nd = n / 100 + 100 < DELIVERY_MAX ? n / 100 + 100 : DELIVERY_MAX;

	rdtsc_ns = measure(&b, loop_rdtsc, n);
	cg_ns = measure(&b, loop_clock_gettime, n);
	if (have_kvm)
		kgc_ns = measure(&b, loop_kvm_get_clock, n / 10 + 1);
	for (int i = 0; i < 3; i++) {
		arm_ns[i] = arm_cost(&b, &kvm_model, algos[i], false, n, &err);
		if (err)
			break;
	}
	if (!err)
		arm_fd_ns = arm_cost(&b, &kvm_model, PVT_ALGO_PVTIME, true, n / 10 + 1, &err);
	if (!err)
		err = delivery(&b, &kvm_model, nd, &deliv_eng, &deliv_bare);
	if (err) {
		stats_free(&deliv_eng);
		stats_free(&deliv_bare);
		kvm_close(&kvm);
		pvt_hostclock_free(vdso);
		return runtime_error("bench timer: engine setup failed: %s", strerror(-err));
	}
	/* What the engine's service/take path adds to the host's own timer wake-up. */
	deliv_added_ns = stats_percentile(&deliv_eng, 1, 2) - stats_percentile(&deliv_bare, 1, 2);
	pair_stats(&b, n / 10 + 1, &unc_vdso, &pair_vdso_ns);
	if (have_kvm) {
		ret = pvt_hostclock_new_kvm(kvm.vm_fd, 0, &kvmclk);
		if (!ret) {
			have_kvm_clock = true;
			b.hc = kvmclk;
			pair_stats(&b, n / 10 + 1, &unc_kvm, &pair_kvm_ns);
			b.hc = vdso;
			pvt_hostclock_free(kvmclk);
		}
	}

	if (json) {
		struct json j;

		json_begin(&j, stdout);
		cmdline_json_header(&j);
		json_string(&j, "bench", "timer");
		runctl_json(&j);
		json_string(&j, "clocksource", cs);
		json_u64(&j, "host_khz", host_khz);
		json_u64(&j, "guest_khz", GUEST_KHZ);
		json_u64(&j, "iterations", n);
		json_double(&j, "rdtsc_ns", rdtsc_ns);
		json_double(&j, "clock_gettime_ns", cg_ns);
		if (have_kvm)
			json_double(&j, "kvm_get_clock_ns", kgc_ns);
		else
			json_null(&j, "kvm_get_clock_ns");
		json_object_begin(&j, "arm_ns");
		for (int i = 0; i < 3; i++)
			json_double(&j, pvt_timer_algo_name(algos[i]), arm_ns[i]);
		json_object_end(&j);
		json_double(&j, "arm_timerfd_ns", arm_fd_ns);
		json_object_begin(&j, "delivery");
		json_u64(&j, "samples", nd);
		json_u64(&j, "ahead_ns", DELIVERY_AHEAD_NS);
		stats_json(&j, "service_late_ns", &deliv_eng);
		stats_json(&j, "timerfd_late_ns", &deliv_bare);
		json_i64(&j, "added_p50_ns", deliv_added_ns);
		json_object_end(&j);
		json_object_begin(&j, "pairing");
		json_object_begin(&j, "vdso");
		json_double(&j, "ns_per_call", pair_vdso_ns);
		stats_json(&j, "uncertainty_ns", &unc_vdso);
		json_bool(&j, "uncertainty_is_bound", false);	/* measured per pairing */
		json_object_end(&j);
		if (have_kvm_clock) {
			json_object_begin(&j, "kvm");
			json_double(&j, "ns_per_call", pair_kvm_ns);
			stats_json(&j, "uncertainty_ns", &unc_kvm);
			json_bool(&j, "uncertainty_is_bound", true);	/* the backend's constant */
			json_object_end(&j);
		} else {
			json_null(&j, "kvm");
		}
		json_object_end(&j);
		json_object_begin(&j, "targets");
		json_bool(&j, "arm_le_100ns", arm_ns[0] <= 100);
		if (have_kvm)
			json_bool(&j, "arm_3x_cheaper_than_kvm_get_clock", arm_ns[0] * 3 <= kgc_ns);
		json_bool(&j, "vdso_uncertainty_p50_le_20ns", stats_percentile(&unc_vdso, 1, 2) <= 20);
		json_bool(&j, "delivery_adds_le_1us_p50", deliv_added_ns <= 1000);
		json_object_end(&j);
		json_end(&j);
	} else {
		runctl_text(stdout, UINT64_MAX);
		printf("# pvtime bench timer: clocksource %s, host %u kHz, guest %u kHz (scaled, VMX), "
		       "median of %d runs\n", cs, host_khz, GUEST_KHZ, REPEAT);
		printf("%-44s %8.1f ns/op\n", "rdtsc", rdtsc_ns);
		printf("%-44s %8.1f ns/op\n", "clock_gettime(CLOCK_MONOTONIC)", cg_ns);
		if (have_kvm)
			printf("%-44s %8.1f ns/op\n", "KVM_GET_CLOCK ioctl", kgc_ns);
		else
			printf("%-44s  skipped: %s\n", "KVM_GET_CLOCK ioctl", kvm.why);
		for (int i = 0; i < 3; i++) {
			char label[64];

			snprintf(label, sizeof(label), "arm, no syscall (%s)", pvt_timer_algo_name(algos[i]));
			printf("%-44s %8.1f ns/op\n", label, arm_ns[i]);
		}
		printf("%-44s %8.1f ns/op\n", "arm + timerfd_settime (pvtime)", arm_fd_ns);
		printf("%-44s p50 %6" PRId64 " ns, p99 %7" PRId64 " ns late (guest clock, %" PRIu64
		       " x %llu us)\n", "delivery: timerfd -> service/take (pvtime)",
		       stats_percentile(&deliv_eng, 1, 2), stats_percentile(&deliv_eng, 99, 100), nd,
		       DELIVERY_AHEAD_NS / 1000);
		printf("%-44s p50 %6" PRId64 " ns, p99 %7" PRId64 " ns late (CLOCK_MONOTONIC)\n",
		       "delivery: bare timerfd wake", stats_percentile(&deliv_bare, 1, 2),
		       stats_percentile(&deliv_bare, 99, 100));
		printf("%-44s %8.1f ns/call  uncertainty p50 %" PRId64 " ns, p99 %" PRId64 " ns\n",
		       "pairing: vDSO sandwich", pair_vdso_ns, stats_percentile(&unc_vdso, 1, 2),
		       stats_percentile(&unc_vdso, 99, 100));
		if (have_kvm_clock)
			printf("%-44s %8.1f ns/call  uncertainty <= %" PRId64 " ns: a constant bound, "
			       "not measured\n", "pairing: KVM_GET_CLOCK", pair_kvm_ns,
			       stats_percentile(&unc_kvm, 100, 100));
		else
			printf("%-44s  skipped: %s\n", "pairing: KVM_GET_CLOCK",
			       have_kvm ? "no KVM_CLOCK_HOST_TSC (no master clock)" : kvm.why);
		printf("targets: arm <= 100 ns: %s; arm >= 3x cheaper than KVM_GET_CLOCK: %s; "
		       "vDSO uncertainty p50 <= 20 ns: %s; delivery adds <= 1 us p50: %s (%" PRId64
		       " ns)\n",
		       arm_ns[0] <= 100 ? "yes" : "NO",
		       have_kvm ? (arm_ns[0] * 3 <= kgc_ns ? "yes" : "NO") : "n/a",
		       stats_percentile(&unc_vdso, 1, 2) <= 20 ? "yes" : "NO",
		       deliv_added_ns <= 1000 ? "yes" : "NO", deliv_added_ns);
	}
	stats_free(&unc_vdso);
	stats_free(&unc_kvm);
	stats_free(&deliv_eng);
	stats_free(&deliv_bare);
	kvm_close(&kvm);
	pvt_hostclock_free(vdso);
	return runctl_final(fflush(stdout) ? runtime_error("bench timer: cannot write output")
					   : PVT_EXIT_OK);
}

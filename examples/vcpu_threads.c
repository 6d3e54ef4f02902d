// SPDX-License-Identifier: MIT
/*
 * A VMM where each vCPU thread serves its own timers: when the guest halts,
 * the thread sleeps on its vCPU's host timer and, when it fires, calls
 * pvt_xen_vcpu_service() itself. No event loop and no VMM lock: every
 * engine call takes the vCPU's own lock, and the shared host clock is read
 * lock-free, so the threads never wait for each other.
 *
 *   cc examples/vcpu_threads.c $(pkg-config --cflags --libs pvtime)
 *   ./a.out              simulated host: deterministic output
 *   ./a.out --real       the host's TSC, CLOCK_MONOTONIC, one timerfd per vCPU
 *
 * Each guest runs a periodic 1 ms-ish tick on itself and sleeps on
 * singleshot timers in between. Checked for every expiry: not early on the
 * guest clock, the deadline the guest armed (not stale, not twice), ticks
 * on their exact grid, every sleep ends (nothing lost). Exit 0 if all held.
 */
#define _GNU_SOURCE 1	/* POSIX threads and clocks also under -std=c11 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvtime/guestclock.h>
#include <pvtime/hostclock.h>
#include <pvtime/hosttimer.h>
#include <pvtime/simhost.h>
#include <pvtime/xentimer.h>

#define NR_VCPUS	4
#define SLEEPS		200		/* per vCPU */
#define US		UINT64_C(1000)
#define MS		UINT64_C(1000000)
#define HOST_KHZ_SIM	2596136u
#define GUEST_KHZ	3000000u

struct vcpu {
	unsigned id;
	struct pvt_xen_vcpu *xen;
	struct pvt_hosttimer *timer;
	pthread_t thread;
	uint64_t seed;
	/* Only this vCPU's thread touches these. */
	uint64_t want_ns;		/* the singleshot the guest sleeps on */
	bool woken;
	uint64_t per_first_ns, per_period_ns, ticks;
	uint64_t sleeps, max_late_ns, sum_late_ns;
	/* Simulation only, under sim_lock: asleep, and the notify hook woke it. */
	bool sim_sleeping, sim_fired;
	pthread_cond_t sim_cv;
};

static struct vcpu vcpus[NR_VCPUS];
static bool real;
static struct pvt_hostclock *hc;

/* The first failure; fail_lock is a leaf lock, never held around a pvt_ call. */
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char failure[256];

static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fail_lock);
	if (!failure[0]) {
		va_start(ap, fmt);
		vsnprintf(failure, sizeof(failure), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&fail_lock);
}

static bool failed(void)
{
	bool f;

	pthread_mutex_lock(&fail_lock);
	f = failure[0] != 0;
	pthread_mutex_unlock(&fail_lock);
	return f;
}

/*
 * Simulation: the simulated host is single-threaded, so the main thread
 * advances it (one timer at a time) only while every vCPU thread is asleep
 * on its timer; the notify hook then wakes the one thread whose timer fired.
 * One thread runs at a time and the output is the same on every run.
 */
static struct pvt_simhost *sim;
static pthread_mutex_t sim_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sim_driver_cv = PTHREAD_COND_INITIALIZER;
static unsigned sim_asleep, sim_active;

static void sim_notify(void *ctx)
{
	struct vcpu *v = ctx;

	pthread_mutex_lock(&sim_lock);
	/* (A timer the engine left armed after the thread exited wakes nobody.) */
	if (v->sim_sleeping) {
		v->sim_sleeping = false;
		v->sim_fired = true;
		sim_asleep--;
		pthread_cond_signal(&v->sim_cv);
	}
	pthread_mutex_unlock(&sim_lock);
}

static void sim_sleep(struct vcpu *v)
{
	pthread_mutex_lock(&sim_lock);
	sim_asleep++;
	v->sim_sleeping = true;
	pthread_cond_signal(&sim_driver_cv);
	while (!v->sim_fired)
		pthread_cond_wait(&v->sim_cv, &sim_lock);
	v->sim_fired = false;
	pthread_mutex_unlock(&sim_lock);
}

static void sim_exit(void)
{
	pthread_mutex_lock(&sim_lock);
	sim_active--;
	pthread_cond_signal(&sim_driver_cv);
	pthread_mutex_unlock(&sim_lock);
}

/* Main thread: once every live vCPU thread sleeps, fires the next timer; until all exit. */
static void sim_drive(void)
{
	pthread_mutex_lock(&sim_lock);
	while (sim_active) {
		if (sim_asleep < sim_active) {
			pthread_cond_wait(&sim_driver_cv, &sim_lock);
			continue;
		}
		pthread_mutex_unlock(&sim_lock);
		if (!pvt_simhost_step(sim, UINT64_MAX)) {
			fprintf(stderr, "vcpu_threads: FAILED: every vCPU sleeps but no host "
				"timer is armed (lost)\n");
			exit(1);
		}
		pthread_mutex_lock(&sim_lock);
	}
	pthread_mutex_unlock(&sim_lock);
}

/* ---- the vCPU thread ---- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t guest_now(struct vcpu *v)
{
	uint64_t ns = 0;

	if (pvt_xen_vcpu_guest_now(v->xen, &ns))
		fail("vCPU %u: no guest clock", v->id);
	return ns;
}

/* VIRQ_TIMER for what was taken, checked first: owed, and not early. */
static void inject(struct vcpu *v, const struct pvt_xen_events *ev)
{
	uint64_t now = guest_now(v);

	if (ev->fired & PVT_XEN_FIRED_SINGLESHOT) {
		uint64_t d = ev->singleshot_deadline_ns;

		if (d != v->want_ns || v->woken)
			fail("vCPU %u: singleshot %" PRIu64 " delivered, the guest sleeps on %" PRIu64
			     " (stale or duplicated)", v->id, d, v->want_ns);
		else if (now < d)
			fail("vCPU %u: singleshot %" PRIu64 " ns early", v->id, d - now);
		else if (now - d > v->max_late_ns)
			v->max_late_ns = now - d;
		v->sum_late_ns += now - d;
		v->woken = true;
	}
	if (ev->fired & PVT_XEN_FIRED_PERIODIC) {
		uint64_t want = v->per_first_ns + (v->ticks + ev->periodic_ticks - 1) * v->per_period_ns;

		if (!v->per_period_ns)
			fail("vCPU %u: periodic tick after the timer was stopped", v->id);
		else if (ev->periodic_deadline_ns != want)
			fail("vCPU %u: periodic tick at %" PRIu64 ", the grid says %" PRIu64, v->id,
			     ev->periodic_deadline_ns, want);
		else if (now < want)
			fail("vCPU %u: periodic tick %" PRIu64 " ns early", v->id, want - now);
		v->ticks += ev->periodic_ticks;
	}
}

/* After a hypercall: the host status is the VMM's, the guest's result is the guest's. */
static void after_call(struct vcpu *v, int host, int64_t guest_ret)
{
	struct pvt_xen_events ev;

	if (host || guest_ret)
		fail("vCPU %u: hypercall: host %d, guest %" PRId64, v->id, host, guest_ret);
	if (pvt_xen_vcpu_take(v->xen, &ev))
		inject(v, &ev);
}

/* The guest halted: sleep on this vCPU's own timer, then serve it. */
static void halt(struct vcpu *v)
{
	struct pvt_xen_events ev;
	int ret;

	if (real) {
		ret = pvt_hosttimer_wait(v->timer, 5000 * MS);
		if (ret == -ETIMEDOUT) {
			fail("vCPU %u: singleshot %" PRIu64 " never delivered (lost)", v->id, v->want_ns);
			return;
		}
	} else {
		sim_sleep(v);
	}
	/* A wake-up with nothing due (spurious, or an early stage) re-arms and returns 0. */
	ret = pvt_xen_vcpu_service(v->xen, &ev);
	if (ret < 0)
		fail("vCPU %u: re-arming the host timer failed: %s", v->id, strerror(-ret));
	inject(v, &ev);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct pvt_xen_periodic_arg per = { .period_ns = MS + v->id * 250 * US };
	struct pvt_xen_vcpu_state st;
	int64_t gr;
	int host;

	if (real)
		(void)pvt_thread_set_timerslack(1);	/* 50 us default slack would dominate */
	host = pvt_xen_vcpu_op(v->xen, v->xen, PVT_XEN_VCPUOP_set_periodic_timer, &per,
			       sizeof(per), &gr);
	pvt_xen_vcpu_get_state(v->xen, &st);
	v->per_first_ns = st.periodic_deadline_ns;
	v->per_period_ns = per.period_ns;
	after_call(v, host, gr);

	while (v->sleeps < SLEEPS && !failed()) {
		uint64_t d = guest_now(v) + 20 * US + rnd(&v->seed) % (180 * US);

		v->want_ns = d;
		v->woken = false;
		if (v->sleeps & 1) {
			host = pvt_xen_set_timer_op(v->xen, d, &gr);
		} else {
			struct pvt_xen_singleshot_arg a = { .timeout_abs_ns = d };

			host = pvt_xen_vcpu_op(v->xen, v->xen, PVT_XEN_VCPUOP_set_singleshot_timer,
					       &a, sizeof(a), &gr);
		}
		after_call(v, host, gr);
		while (!v->woken && !failed())
			halt(v);	/* periodic ticks may come first */
		v->sleeps++;
	}
	host = pvt_xen_stop_periodic(v->xen, &gr);
	v->per_period_ns = 0;
	after_call(v, host, gr);
	if (!real)
		sim_exit();
	return NULL;
}

/* ---- setup ---- */

static int setup(struct pvt_xen_vm **vm)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;
	uint32_t host_khz = HOST_KHZ_SIM;
	int ret;

	if (real) {
		struct pvt_clock_pair p;
		struct pvt_rate r;

		ret = pvt_hostclock_new_vdso(0, &hc);
		if (ret)
			return ret;
		pvt_hostclock_current(hc, &p, &r, NULL);
		host_khz = (uint32_t)(1000000000000000ull / pvt_rate_apply(&r, 1000000000ull, false));
	} else {
		struct pvt_simhost_config cfg = {
			.tsc_khz = HOST_KHZ_SIM,
			.start_true_ns = 86400 * 1000 * MS,	/* a day of uptime */
			.start_mono_ns = 86400 * 1000 * MS,
			.wake_latency_ns = 2 * US,
			.max_timers = NR_VCPUS,
		};

		ret = pvt_simhost_new(&cfg, &sim);
		if (!ret)
			ret = pvt_simhost_hostclock_new(sim, &hc);
		if (ret)
			return ret;
	}
	/* One VM-wide kvmclock; every vCPU of this guest reads the same clock. */
	ret = pvt_kvm_clock_init(&kvm, host_khz, PVT_FRAC_BITS_VMX);
	/* KVM's master clock: a host TSC and its host ns (the guest's clock starts there). */
	kvm.master_tsc = pvt_hostclock_read_tsc(hc);
	kvm.master_ns = pvt_hostclock_read_mono(hc);
	if (!ret)
		ret = pvt_kvm_tsc_scaling(&kvm, GUEST_KHZ, 0, &tsc);
	if (!ret)
		ret = pvt_kvm_guest_clock(&kvm, &tsc, &clock);
	/* The kvm model feeds only the LEGACY algorithm; the default PVTIME needs none. */
	if (!ret)
		ret = pvt_xen_vm_new(NULL, hc, NULL, vm);
	if (ret)
		return ret;
	printf("vcpu_threads: %s host %" PRIu32 " kHz, guest TSC %u kHz, %d vCPU threads, %d sleeps each\n",
	       real ? "real" : "simulated", host_khz, GUEST_KHZ, NR_VCPUS, SLEEPS);
	for (unsigned i = 0; i < NR_VCPUS && !ret; i++) {
		struct vcpu *v = &vcpus[i];

		v->id = i;
		v->seed = 0x2545f4914f6cdd1dull * (i + 1);
		pthread_cond_init(&v->sim_cv, NULL);
		/* The timer counts on the host clock's own clock (MONOTONIC here). */
		if (real)
			ret = pvt_hosttimer_new_timerfd(pvt_hostclock_clockid(hc), &v->timer);
		else
			ret = pvt_simhost_timer_new(sim, &v->timer);
		if (!ret && !real)
			ret = pvt_simhost_timer_set_notify(v->timer, sim_notify, v);
		if (!ret)
			ret = pvt_xen_vcpu_new(*vm, i, v->timer, &v->xen);
		if (!ret)
			ret = pvt_xen_vcpu_set_guest_clock(v->xen, &clock);
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct pvt_xen_vm *vm = NULL;
	int ret;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--real"))) {
		fprintf(stderr, "usage: %s [--real]\n", argv[0]);
		return 2;
	}
	real = argc == 2;
	ret = setup(&vm);
	if (ret) {
		fprintf(stderr, "vcpu_threads: setup failed: %s\n", strerror(-ret));
		return 1;
	}
	for (unsigned i = 0; i < NR_VCPUS; i++) {
		if (!real) {
			/* Simulation: each thread runs to its first sleep before the next starts. */
			pthread_mutex_lock(&sim_lock);
			sim_active++;
			pthread_mutex_unlock(&sim_lock);
		}
		if (pthread_create(&vcpus[i].thread, NULL, vcpu_thread, &vcpus[i])) {
			fprintf(stderr, "vcpu_threads: pthread_create failed\n");
			return 1;
		}
		if (!real) {
			pthread_mutex_lock(&sim_lock);
			while (sim_asleep < sim_active)
				pthread_cond_wait(&sim_driver_cv, &sim_lock);
			pthread_mutex_unlock(&sim_lock);
		}
	}
	if (!real)
		sim_drive();
	for (unsigned i = 0; i < NR_VCPUS; i++)
		pthread_join(vcpus[i].thread, NULL);

	for (unsigned i = 0; i < NR_VCPUS; i++) {
		struct vcpu *v = &vcpus[i];
		struct pvt_xen_vcpu_state st;

		pvt_xen_vcpu_get_state(v->xen, &st);
		if (st.singleshot_armed || st.periodic_armed || st.pending)
			fail("vCPU %u: timers left armed or pending at the end", i);
		if (v->sleeps != SLEEPS)
			fail("vCPU %u: %" PRIu64 " of %d sleeps", i, v->sleeps, SLEEPS);
		printf("vCPU %u: %" PRIu64 " sleeps, late on the guest clock: mean %" PRIu64
		       " ns, max %" PRIu64 " ns; %" PRIu64 " ticks of %" PRIu64 " us\n", i, v->sleeps,
		       v->sleeps ? v->sum_late_ns / v->sleeps : 0, v->max_late_ns, v->ticks,
		       (uint64_t)((MS + i * 250 * US) / US));
		pvt_xen_vcpu_free(v->xen);
		pvt_hosttimer_free(v->timer);
	}
	pvt_xen_vm_free(vm);
	pvt_hostclock_free(hc);
	pvt_simhost_free(sim);
	if (failure[0]) {
		fprintf(stderr, "vcpu_threads: FAILED: %s\n", failure);
		return 1;
	}
	printf("OK: every sleep ended once, never early; every tick on its grid\n");
	return 0;
}

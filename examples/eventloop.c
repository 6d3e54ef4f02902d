// SPDX-License-Identifier: MIT
/*
 * An event-loop VMM: one loop thread serves every vCPU's Xen timers while
 * the vCPU threads run the guest, and the VMM holds one big lock (QEMU's
 * BQL) whenever it calls the engine. This is the pattern that deadlocked
 * when the engine called the VMM back from under its own locks; now the
 * engine only records expiries and the VMM takes them, so any lock of the
 * VMM may be held around any pvt_ call.
 *
 *   cc examples/eventloop.c $(pkg-config --cflags --libs pvtime)
 *   ./a.out                        simulated host: deterministic output
 *   ./a.out --real                 the host's TSC, CLOCK_MONOTONIC, timerfds
 *   ./a.out --real --vcpus 4 --expiries 10000     what CI runs under TSan
 *
 * Each vCPU's "guest" sleeps on singleshot timers (now and then replacing
 * one, stopping one, or asking for a deadline already gone) and sets a
 * periodic timer on its neighbour, as Xen allows. The program checks every
 * expiry it injects: the guest clock has reached the deadline (not early),
 * it is the deadline the guest armed last (not stale or duplicated), and
 * every sleep ends (not lost). Exit status 0 only if all of that held.
 */
#define _GNU_SOURCE 1	/* epoll, pthread_condattr_setclock: also under -std=c11 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <pvtime/guestclock.h>
#include <pvtime/hostclock.h>
#include <pvtime/hosttimer.h>
#include <pvtime/simhost.h>
#include <pvtime/xentimer.h>

#define MAX_VCPUS	64
#define US		UINT64_C(1000)
#define MS		UINT64_C(1000000)
#define HOST_KHZ_SIM	2596136u	/* the simulated host's TSC */
#define GUEST_KHZ	3000000u	/* the guest asked for a 3 GHz TSC: KVM scales it */

struct vcpu {
	unsigned id;
	struct pvt_xen_vcpu *xen;
	struct pvt_hosttimer *timer;
	pthread_t thread;
	pthread_cond_t virq;		/* VIRQ_TIMER injected: a halted vCPU wakes */
	uint64_t seed;
	/* Everything below is under the big lock. */
	bool running;			/* runs guest code (not halted, not done) */
	bool done;
	uint64_t want_ns;		/* the singleshot the guest sleeps on (0: none) */
	bool woken;			/* ... and it was injected */
	bool want_past;			/* ... and it had passed when armed */
	bool per_armed;			/* a periodic timer runs on this vCPU */
	uint64_t per_first_ns, per_period_ns, per_ticks;
	uint64_t sleeps, replaced, stopped, past, ticks, max_late_ns;
};

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t loop_cv;		/* a vCPU halted or finished */
static pthread_condattr_t cattr;
static struct vcpu vcpus[MAX_VCPUS];
static unsigned nr_vcpus = 4;
static uint64_t nr_sleeps = 1000;	/* singleshot expiries, all vCPUs together */
static bool real;
static struct pvt_simhost *sim;
static struct pvt_hostclock *hc;
static unsigned nr_done;
static char failure[256];		/* the first thing that went wrong */

/* Big lock held. Keeps the first failure; every thread then winds down. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (failure[0])
		return;
	va_start(ap, fmt);
	vsnprintf(failure, sizeof(failure), fmt, ap);
	va_end(ap);
	for (unsigned i = 0; i < nr_vcpus; i++)
		pthread_cond_broadcast(&vcpus[i].virq);
	pthread_cond_broadcast(&loop_cv);
}

static uint64_t guest_now(struct vcpu *v)
{
	uint64_t ns = 0;

	if (pvt_xen_vcpu_guest_now(v->xen, &ns))
		fail("vCPU %u: no guest clock", v->id);
	return ns;
}

/*
 * Big lock held. A real VMM raises VIRQ_TIMER here; this one first checks
 * that the expiry is one the guest is owed, at or after its deadline.
 */
static void inject(struct vcpu *v, const struct pvt_xen_events *ev)
{
	uint64_t now;

	if (!ev->fired)
		return;
	now = guest_now(v);
	if (ev->fired & PVT_XEN_FIRED_SINGLESHOT) {
		uint64_t d = ev->singleshot_deadline_ns;

		if (!v->want_ns || d != v->want_ns || v->woken)
			fail("vCPU %u: singleshot %" PRIu64 " delivered, the guest sleeps on %" PRIu64
			     " (stale or duplicated)", v->id, d, v->want_ns);
		else if (now < d)
			fail("vCPU %u: singleshot %" PRIu64 " ns early", v->id, d - now);
		/* Lateness of the host timer path (a past deadline is late by choice). */
		if (!v->want_past && now - d > v->max_late_ns)
			v->max_late_ns = now - d;
		v->woken = true;
		v->running = true;
		pthread_cond_signal(&v->virq);
	}
	if (ev->fired & PVT_XEN_FIRED_PERIODIC) {
		/* An exact grid in guest time; missed ticks arrive folded into one event. */
		uint64_t want = v->per_first_ns +
				(v->per_ticks + ev->periodic_ticks - 1) * v->per_period_ns;

		if (!v->per_armed)
			fail("vCPU %u: periodic tick after the timer was stopped", v->id);
		else if (ev->periodic_deadline_ns != want)
			fail("vCPU %u: periodic tick at %" PRIu64 ", the grid says %" PRIu64, v->id,
			     ev->periodic_deadline_ns, want);
		else if (now < want)
			fail("vCPU %u: periodic tick %" PRIu64 " ns early", v->id, want - now);
		v->per_ticks += ev->periodic_ticks;
		v->ticks += ev->periodic_ticks;
	}
	if (ev->fired & ~(PVT_XEN_FIRED_SINGLESHOT | PVT_XEN_FIRED_PERIODIC))
		fail("vCPU %u: unexpected expiry %#x", v->id, ev->fired);
}

/*
 * Big lock held, right after a hypercall on v: a deadline already passed
 * was recorded by the call itself, so take it now, in the same lock hold
 * (no other thread then ever sees a recorded expiry it must not take).
 */
static void after_call(struct vcpu *v, int host, int64_t guest_ret, const char *what)
{
	struct pvt_xen_events ev;

	/* A host failure is the VMM's problem (stop the VM), never the guest's. */
	if (host || guest_ret)
		fail("vCPU %u: %s: host %d, guest %" PRId64, v->id, what, host, guest_ret);
	if (pvt_xen_vcpu_take(v->xen, &ev))
		inject(v, &ev);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Big lock held: halts until VIRQ_TIMER for the singleshot, as a guest's idle loop. */
static void halt(struct vcpu *v)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += 10;
	while (!v->woken && !failure[0]) {
		v->running = false;
		pthread_cond_broadcast(&loop_cv);
		if (pthread_cond_timedwait(&v->virq, &big_lock, &ts) == ETIMEDOUT && !v->woken)
			fail("vCPU %u: singleshot %" PRIu64 " never delivered (lost)", v->id,
			     v->want_ns);
	}
	v->running = true;
}

/* Big lock held: the guest sets its neighbour's periodic timer (a cross-vCPU VCPUOP). */
static void set_periodic(struct vcpu *v, struct vcpu *t, uint64_t period_ns)
{
	struct pvt_xen_periodic_arg arg = { .period_ns = period_ns };
	struct pvt_xen_vcpu_state st;
	int64_t gr;
	int host;

	host = pvt_xen_vcpu_op(v->xen, t->xen, period_ns ? PVT_XEN_VCPUOP_set_periodic_timer :
			       PVT_XEN_VCPUOP_stop_periodic_timer, &arg, sizeof(arg), &gr);
	/* The first tick is now + period: read it back for the grid check. */
	pvt_xen_vcpu_get_state(t->xen, &st);
	t->per_armed = period_ns != 0;
	t->per_first_ns = st.periodic_deadline_ns;
	t->per_period_ns = period_ns;
	t->per_ticks = 0;
	after_call(t, host, gr, "periodic timer");
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vcpu *next = &vcpus[(v->id + 1) % nr_vcpus];
	uint64_t todo = nr_sleeps / nr_vcpus + (v->id < nr_sleeps % nr_vcpus);
	int64_t gr;
	int host;

	if (real)
		(void)pvt_thread_set_timerslack(1);
	pthread_mutex_lock(&big_lock);
	set_periodic(v, next, MS + v->id * 100 * US);
	while (v->sleeps < todo && !failure[0]) {
		uint64_t op = rnd(&v->seed) % 16;
		uint64_t d;

		/*
		 * The guest runs until its next hypercall: a real vCPU thread is
		 * in KVM_RUN here and does not hold the big lock.
		 */
		pthread_mutex_unlock(&big_lock);
		pthread_mutex_lock(&big_lock);

		d = guest_now(v) + 50 * US + rnd(&v->seed) % (200 * US);
		if (op == 0) {
			/* A far deadline replaced before it fires: it must never arrive. */
			host = pvt_xen_set_timer_op(v->xen, d + 1000 * MS, &gr);
			after_call(v, host, gr, "set_timer_op (to be replaced)");
			v->replaced++;
		} else if (op == 1) {
			/*
			 * Armed and stopped: a stop that returned means it never
			 * fires. Far ahead, so a vCPU thread preempted since d was
			 * read cannot find it already due (recorded at once).
			 */
			struct pvt_xen_singleshot_arg a = { .timeout_abs_ns = d + 1000 * MS };

			host = pvt_xen_vcpu_op(v->xen, v->xen, PVT_XEN_VCPUOP_set_singleshot_timer,
					       &a, sizeof(a), &gr);
			after_call(v, host, gr, "set_singleshot (to be stopped)");
			host = pvt_xen_stop_singleshot(v->xen, &gr);
			after_call(v, host, gr, "stop_singleshot");
			v->stopped++;
		} else if (op == 2) {
			/* The guest was slow: its deadline is gone; the call records it. */
			d -= 300 * US;
			v->past++;
		}
		v->want_ns = d;
		v->want_past = op == 2;
		v->woken = false;
		if (op & 4) {
			host = pvt_xen_set_timer_op(v->xen, d, &gr);
		} else {
			struct pvt_xen_singleshot_arg a = { .timeout_abs_ns = d };

			host = pvt_xen_vcpu_op(v->xen, v->xen, PVT_XEN_VCPUOP_set_singleshot_timer,
					       &a, sizeof(a), &gr);
		}
		after_call(v, host, gr, "sleep");
		halt(v);
		v->want_ns = 0;
		v->sleeps++;
	}
	set_periodic(v, next, 0);
	v->running = false;
	v->done = true;
	nr_done++;
	pthread_cond_broadcast(&loop_cv);
	pthread_mutex_unlock(&big_lock);
	return NULL;
}

/* Big lock held. The vCPU's host timer fired: service it, inject what it took. */
static void serve(struct vcpu *v)
{
	struct pvt_xen_events ev;
	int ret = pvt_xen_vcpu_service(v->xen, &ev);

	if (ret < 0)
		fail("vCPU %u: re-arming the host timer failed: %s", v->id, strerror(-ret));
	inject(v, &ev);
}

/* The simulated timer's notify hook: pvt_simhost_step() runs it on the loop thread. */
static void sim_notify(void *ctx)
{
	serve(ctx);
}

/*
 * Simulation: the loop thread drives simulated time, one timer at a time,
 * and only while every vCPU is halted or done. One thread runs at a time,
 * so each run gives the same bytes; the locking is the same as --real.
 */
static void loop_sim(void)
{
	pthread_mutex_lock(&big_lock);
	while (nr_done < nr_vcpus && !failure[0]) {
		bool busy = false;

		for (unsigned i = 0; i < nr_vcpus; i++)
			busy |= vcpus[i].running;
		if (busy) {
			pthread_cond_wait(&loop_cv, &big_lock);
			continue;
		}
		if (!pvt_simhost_step(sim, UINT64_MAX))
			fail("vCPUs wait for expiries but no host timer is armed (lost)");
	}
	pthread_mutex_unlock(&big_lock);
}

/*
 * Its own few lines on purpose: the examples build against the installed
 * headers only, and the project's shared clock helpers are not installed.
 */
static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The real host: epoll on every vCPU's timerfd. The big lock is taken per
 * event, never while sleeping. (A loop that does not take right after each
 * hypercall would also poll pvt_xen_vcpu_event_fd().)
 */
static int loop_real(void)
{
	struct epoll_event evs[MAX_VCPUS];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	bool done = false;

	if (ep < 0)
		return -errno;
	for (unsigned i = 0; i < nr_vcpus; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, pvt_hosttimer_fd(vcpus[i].timer), &e)) {
			close(ep);
			return -errno;
		}
	}
	while (!done) {
		/* Wake for the host clock's re-pairing too, so hypercalls never pair. */
		uint64_t now = mono_now(), refresh = pvt_hostclock_next_refresh_ns(hc);
		uint64_t wait_ms = refresh <= now ? 0 : (refresh - now) / MS + 1;
		/* (and every 10 ms to notice that the vCPUs are done) */
		int n = epoll_wait(ep, evs, MAX_VCPUS, wait_ms > 10 ? 10 : (int)wait_ms);

		pthread_mutex_lock(&big_lock);
		for (int i = 0; i < n; i++)
			serve(&vcpus[evs[i].data.u32]);
		if (mono_now() >= pvt_hostclock_next_refresh_ns(hc))
			(void)pvt_hostclock_refresh(hc);
		done = nr_done == nr_vcpus || failure[0];
		pthread_mutex_unlock(&big_lock);
	}
	close(ep);
	return 0;
}

/* A 3 GHz guest TSC scaled from the host's, as KVM would set it up. */
static int guest_clock(uint32_t host_khz, struct pvt_kvm_clock *kvm,
		       struct pvt_guest_clock *clock)
{
	struct pvt_tsc_scaling tsc;
	int ret = pvt_kvm_clock_init(kvm, host_khz, PVT_FRAC_BITS_VMX);

	/* KVM's master clock: a host TSC and its host ns (the guest's clock starts there). */
	kvm->master_tsc = pvt_hostclock_read_tsc(hc);
	kvm->master_ns = pvt_hostclock_read_mono(hc);
	if (!ret)
		ret = pvt_kvm_tsc_scaling(kvm, GUEST_KHZ, 0, &tsc);
	if (!ret)
		ret = pvt_kvm_guest_clock(kvm, &tsc, clock);
	return ret;
}

static int setup(struct pvt_xen_vm **vm, struct pvt_kvm_clock *kvm)
{
	struct pvt_guest_clock clock;
	uint32_t host_khz = HOST_KHZ_SIM;
	int ret;

	if (real) {
		struct pvt_clock_pair p;
		struct pvt_rate r;

		ret = pvt_hostclock_new_vdso(0, &hc);
		if (ret)
			return ret;
		/* The calibrated rate gives the host kHz (a VMM asks KVM_GET_TSC_KHZ). */
		pvt_hostclock_current(hc, &p, &r, NULL);
		host_khz = (uint32_t)(1000000000000000ull / pvt_rate_apply(&r, 1000000000ull, false));
	} else {
		/* An hour of uptime: the host TSC is far from the clock's reference. */
		struct pvt_simhost_config cfg = {
			.tsc_khz = HOST_KHZ_SIM,
			.start_true_ns = 3600 * 1000 * MS,
			.start_mono_ns = 3600 * 1000 * MS,
			.wake_latency_ns = 2 * US,
			.max_timers = nr_vcpus,
		};

		ret = pvt_simhost_new(&cfg, &sim);
		if (!ret)
			ret = pvt_simhost_hostclock_new(sim, &hc);
		if (ret)
			return ret;
	}
	ret = guest_clock(host_khz, kvm, &clock);
	if (!ret)
		ret = pvt_xen_vm_new(NULL, hc, kvm, vm);
	if (ret)
		return ret;
	printf("eventloop: %s host %" PRIu32 " kHz, guest TSC %u kHz (its pvclock says %" PRIu64
	       " kHz), %u vCPUs, %" PRIu64 " sleeps\n", real ? "real" : "simulated", host_khz,
	       GUEST_KHZ, pvt_kvm_advertised_khz(kvm, &clock.tsc), nr_vcpus, nr_sleeps);
	for (unsigned i = 0; i < nr_vcpus && !ret; i++) {
		struct vcpu *v = &vcpus[i];

		v->id = i;
		v->seed = 0x9e3779b97f4a7c15ull * (i + 1);
		pthread_cond_init(&v->virq, &cattr);
		if (real)
			ret = pvt_hosttimer_new_timerfd(pvt_hostclock_clockid(hc), &v->timer);
		else
			ret = pvt_simhost_timer_new(sim, &v->timer);
		if (!ret && !real)
			ret = pvt_simhost_timer_set_notify(v->timer, sim_notify, v);
		if (!ret)
			ret = pvt_xen_vcpu_new(*vm, i, v->timer, &v->xen);
		/* The guest registered its pvclock page (a kvmclock MSR / VCPUOP write). */
		if (!ret)
			ret = pvt_xen_vcpu_set_guest_clock(v->xen, &clock);
	}
	return ret;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--real] [--vcpus N (1..%d)] [--expiries N]\n", prog, MAX_VCPUS);
	exit(2);
}

static void on_alarm(int sig)
{
	static const char msg[] = "eventloop: no progress in 300 s: deadlock\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

int main(int argc, char **argv)
{
	struct pvt_kvm_clock kvm;
	struct pvt_xen_vm *vm = NULL;
	uint64_t sleeps = 0, ticks = 0;
	int ret;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--real")) {
			real = true;
		} else if (!strcmp(argv[i], "--vcpus") && i + 1 < argc) {
			nr_vcpus = (unsigned)strtoul(argv[++i], &end, 10);
			if (*end || !nr_vcpus || nr_vcpus > MAX_VCPUS)
				usage(argv[0]);
		} else if (!strcmp(argv[i], "--expiries") && i + 1 < argc) {
			nr_sleeps = strtoull(argv[++i], &end, 10);
			if (*end || !nr_sleeps || nr_sleeps > 100000000)
				usage(argv[0]);
		} else {
			usage(argv[0]);
		}
	}
	signal(SIGALRM, on_alarm);
	alarm(300);
	/* halt() gives up on a lost expiry after a while of CLOCK_MONOTONIC. */
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&loop_cv, NULL);

	ret = setup(&vm, &kvm);
	if (ret) {
		fprintf(stderr, "eventloop: setup failed: %s\n", strerror(-ret));
		return 1;
	}
	/* vCPU threads start one at a time (in simulation each halts before the next). */
	pthread_mutex_lock(&big_lock);
	for (unsigned i = 0; i < nr_vcpus; i++) {
		vcpus[i].running = true;
		if (pthread_create(&vcpus[i].thread, NULL, vcpu_thread, &vcpus[i])) {
			fprintf(stderr, "eventloop: pthread_create failed\n");
			return 1;
		}
		while (!real && vcpus[i].running)
			pthread_cond_wait(&loop_cv, &big_lock);
	}
	pthread_mutex_unlock(&big_lock);
	if (real)
		ret = loop_real();
	else
		loop_sim();
	for (unsigned i = 0; i < nr_vcpus; i++)
		pthread_join(vcpus[i].thread, NULL);
	if (ret)
		fail("epoll: %s", strerror(-ret));

	for (unsigned i = 0; i < nr_vcpus; i++) {
		struct vcpu *v = &vcpus[i];
		struct pvt_xen_vcpu_state st;

		/* Every timer was stopped or has fired, and nothing is left to take. */
		pvt_xen_vcpu_get_state(v->xen, &st);
		if (!failure[0] && (st.singleshot_armed || st.periodic_armed || st.pending))
			fail("vCPU %u: timers left armed or pending at the end", i);
		printf("vCPU %u: %" PRIu64 " sleeps (%" PRIu64 " after a replaced deadline, %" PRIu64
		       " after a stopped one, %" PRIu64 " already past), max %" PRIu64
		       " ns late on the guest clock; %" PRIu64 " periodic ticks from vCPU %u\n", i,
		       v->sleeps, v->replaced, v->stopped, v->past, v->max_late_ns, v->ticks,
		       (i + nr_vcpus - 1) % nr_vcpus);
		sleeps += v->sleeps;
		ticks += v->ticks;
		pvt_xen_vcpu_free(v->xen);
		pvt_hosttimer_free(v->timer);
	}
	pvt_xen_vm_free(vm);
	pvt_hostclock_free(hc);
	pvt_simhost_free(sim);
	if (failure[0] || sleeps != nr_sleeps) {
		fprintf(stderr, "eventloop: FAILED: %s\n", failure[0] ? failure : "sleeps missing");
		return 1;
	}
	printf("OK: %" PRIu64 " singleshot expiries and %" PRIu64
	       " periodic ticks, none early, stale, duplicated or lost\n", sleeps, ticks);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * The big-lock VMM pattern (QEMU's BQL): one loop thread serves 4 vCPUs'
 * host timerfds (and their event fds) through epoll and re-pairs the host
 * clock when it goes stale, taking the VMM's big lock around every pvt_
 * call; 4 vCPU threads issue set_timer_op / singleshot / stop / periodic
 * hypercalls (periodic ones also on other vCPUs), also under the big lock,
 * and take what each call recorded before letting go of it. The engine
 * calls no user code under its locks, so nothing can deadlock on the big
 * lock: the test must finish (a watchdog alarm fails it otherwise).
 *
 * Every pvt_ call is followed by a take in the same big-lock hold, so the
 * model of what is armed is exact: each armed singleshot is taken exactly
 * once unless stopped or replaced first, with its own deadline, and never
 * before the guest clock reached it; periodic ticks arrive on their exact
 * grid (first tick + (ticks so far - 1) x period, coalesced ticks counted)
 * and never after a stop. 10 000 expiries on the real host clock (vDSO)
 * and real timerfds. Label "tsan": CI runs it under ThreadSanitizer.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "pvtime/guestclock.h"
#include "pvtime/hostclock.h"
#include "pvtime/hosttimer.h"
#include "pvtime/xentimer.h"

#include "clockns.h"
#include "test_skip.h"

#define VCPUS		4
#define TARGET		10000		/* expiries in total */
#define MAX_SECONDS	60		/* then the vCPU threads give up (reported) */
#define US		1000ull
#define MS		1000000ull

/* What the test knows is armed on one vCPU; only touched under the big lock. */
struct model {
	bool ss_armed;
	uint64_t ss_deadline;
	uint64_t ss_set, ss_fired, ss_stopped, ss_replaced;
	bool per_armed;
	uint64_t per_first, per_period, per_ticks;	/* ticks of the current periodic timer */
	uint64_t per_events, per_total_ticks;
};

struct vcpu {
	struct pvt_xen_vcpu *v;
	struct pvt_hosttimer *t;
	int event_fd;
	struct model m;
};

static pthread_mutex_t big = PTHREAD_MUTEX_INITIALIZER;
static struct vcpu vc[VCPUS];
static struct pvt_hostclock *hc;
static struct pvt_guest_clock gclock;
static atomic_uint_fast64_t expiries;	/* events taken (a coalesced tick counts once) */
static atomic_int stop_loop;
static atomic_int failed;
static char failure[256];

/* Records the first failure (under the big lock); the main thread reports it. */
static void fail_at(const char *fmt, ...)
{
	va_list ap;

	if (atomic_exchange(&failed, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(failure, sizeof(failure), fmt, ap);
	va_end(ap);
}

static uint64_t guest_now(void)
{
	return pvt_guest_clock_ns(&gclock, pvt_hostclock_read_tsc(hc));
}

/* Checks what a take returned against the model. Big lock held. */
static void check_events(unsigned id, const struct pvt_xen_events *ev)
{
	struct model *m = &vc[id].m;
	uint64_t now;

	if (!ev->fired)
		return;
	/* Read after the take: the guest clock when the VMM learnt of it. */
	now = guest_now();
	atomic_fetch_add(&expiries, 1);
	if (ev->fired & ~(PVT_XEN_FIRED_SINGLESHOT | PVT_XEN_FIRED_PERIODIC))
		fail_at("vCPU %u: unexpected fired bits %#x", id, ev->fired);
	if (ev->fired & PVT_XEN_FIRED_SINGLESHOT) {
		if (!m->ss_armed)
			fail_at("vCPU %u: singleshot %" PRIu64 " taken but none armed (stopped, "
				"replaced or taken twice)", id, ev->singleshot_deadline_ns);
		else if (ev->singleshot_deadline_ns != m->ss_deadline)
			fail_at("vCPU %u: singleshot deadline %" PRIu64 ", armed %" PRIu64, id,
				ev->singleshot_deadline_ns, m->ss_deadline);
		else if (now < ev->singleshot_deadline_ns)
			fail_at("vCPU %u: singleshot taken %" PRIu64 " ns early", id,
				ev->singleshot_deadline_ns - now);
		m->ss_armed = false;
		m->ss_fired++;
	}
	if (ev->fired & PVT_XEN_FIRED_PERIODIC) {
		uint64_t want;

		if (!m->per_armed) {
			fail_at("vCPU %u: periodic tick after a stop", id);
			return;
		}
		if (!ev->periodic_ticks)
			fail_at("vCPU %u: periodic event without ticks", id);
		m->per_ticks += ev->periodic_ticks;
		m->per_total_ticks += ev->periodic_ticks;
		m->per_events++;
		want = m->per_first + (m->per_ticks - 1) * m->per_period;
		if (ev->periodic_deadline_ns != want)
			fail_at("vCPU %u: periodic tick %" PRIu64 " at %" PRIu64 ", grid says %" PRIu64,
				id, m->per_ticks, ev->periodic_deadline_ns, want);
		if (now < ev->periodic_deadline_ns)
			fail_at("vCPU %u: periodic tick taken %" PRIu64 " ns early", id,
				ev->periodic_deadline_ns - now);
	}
}

/* After a call on vCPU id: the host channel must be clean, then take. Big lock held. */
static void after_call(unsigned id, int host, int64_t guest, const char *what)
{
	struct pvt_xen_events ev;
	uint64_t n;

	if (host || guest)
		fail_at("vCPU %u: %s returned host %d, guest %" PRId64, id, what, host, guest);
	if (pvt_xen_vcpu_take(vc[id].v, &ev))
		check_events(id, &ev);
	/* Taken: the event fd is empty again. */
	if (read(vc[id].event_fd, &n, sizeof(n)) != -1 || errno != EAGAIN)
		fail_at("vCPU %u: event fd readable with nothing recorded", id);
}

static void *loop_thread(void *arg)
{
	int ep = *(int *)arg;
	struct epoll_event evs[2 * VCPUS];

	(void)pvt_thread_set_timerslack(1);
	while (!atomic_load(&stop_loop)) {
		int n = epoll_wait(ep, evs, 2 * VCPUS, 5);

		for (int i = 0; i < n; i++) {
			unsigned id = evs[i].data.u32 % VCPUS;
			struct pvt_xen_events ev;
			int ret;

			pthread_mutex_lock(&big);
			if (evs[i].data.u32 < VCPUS) {
				ret = pvt_xen_vcpu_service(vc[id].v, &ev);
				if (ret < 0)
					fail_at("vCPU %u: service: %s", id, strerror(-ret));
				check_events(id, &ev);
			} else {
				/* Recorded by a call whose thread has not taken yet: never here. */
				after_call(id, 0, 0, "event fd");
			}
			pthread_mutex_unlock(&big);
		}
		/* Re-pair off the hypercall path once the pairing goes stale. */
		pthread_mutex_lock(&big);
		if (clock_now_ns(CLOCK_MONOTONIC) >= pvt_hostclock_next_refresh_ns(hc))
			(void)pvt_hostclock_refresh(hc);
		pthread_mutex_unlock(&big);
	}
	return NULL;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One random hypercall on vCPU id (periodic ones maybe on another vCPU). Big lock held. */
static void one_call(unsigned id, uint64_t *seed)
{
	struct vcpu *c = &vc[id];
	unsigned op = (unsigned)(rnd(seed) % 32);
	int64_t gr = 0;
	int host;

	if (op < 22) {
		/* A singleshot 20..400 us ahead, replacing any armed one. */
		uint64_t d = guest_now() + 20 * US + rnd(seed) % (380 * US);

		if (c->m.ss_armed)
			c->m.ss_replaced++;
		c->m.ss_armed = true;
		c->m.ss_deadline = d;
		c->m.ss_set++;
		if (op & 1) {
			host = pvt_xen_set_timer_op(c->v, d, &gr);
		} else {
			struct pvt_xen_singleshot_arg a = { .timeout_abs_ns = d };

			host = pvt_xen_vcpu_op(c->v, c->v, PVT_XEN_VCPUOP_set_singleshot_timer,
					       &a, sizeof(a), &gr);
		}
		after_call(id, host, gr, "set singleshot");
	} else if (op < 26) {
		if (c->m.ss_armed)
			c->m.ss_stopped++;
		c->m.ss_armed = false;
		if (op & 1)
			host = pvt_xen_set_timer_op(c->v, 0, &gr);
		else
			host = pvt_xen_vcpu_op(c->v, c->v, PVT_XEN_VCPUOP_stop_singleshot_timer,
					       NULL, 0, &gr);
		after_call(id, host, gr, "stop singleshot");
	} else if (op < 29) {
		/* Xen lets any vCPU set another's periodic timer. */
		unsigned tid = (unsigned)(rnd(seed) % VCPUS);
		struct model *m = &vc[tid].m;
		struct pvt_xen_periodic_arg p = { .period_ns = MS + rnd(seed) % MS };
		struct pvt_xen_vcpu_state st;

		host = pvt_xen_vcpu_op(c->v, vc[tid].v, PVT_XEN_VCPUOP_set_periodic_timer,
				       &p, sizeof(p), &gr);
		/* The first tick is now + period: read it back for the grid check. */
		pvt_xen_vcpu_get_state(vc[tid].v, &st);
		m->per_armed = true;
		m->per_first = st.periodic_deadline_ns;
		m->per_period = p.period_ns;
		m->per_ticks = 0;
		if (!st.periodic_armed || st.period_ns != p.period_ns)
			fail_at("vCPU %u: periodic not armed as set", tid);
		after_call(tid, host, gr, "set periodic");
		after_call(id, 0, 0, "set periodic (caller)");
	} else if (op < 31) {
		unsigned tid = (unsigned)(rnd(seed) % VCPUS);

		vc[tid].m.per_armed = false;
		host = pvt_xen_vcpu_op(c->v, vc[tid].v, PVT_XEN_VCPUOP_stop_periodic_timer,
				       NULL, 0, &gr);
		after_call(tid, host, gr, "stop periodic");
	} else {
		after_call(id, 0, 0, "take");
	}
}

static void *vcpu_thread(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (id + 1);
	struct timespec t0, t1;

	(void)pvt_thread_set_timerslack(1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&expiries) < TARGET && !atomic_load(&failed)) {
		pthread_mutex_lock(&big);
		one_call(id, &seed);
		pthread_mutex_unlock(&big);
		/* Mostly let the singleshot fire; sometimes hurry (replace / stop it). */
		if (rnd(&seed) % 4)
			sleep_ns(50 * US + rnd(&seed) % (400 * US));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > MAX_SECONDS)
			break;
	}
	return NULL;
}

static void on_alarm(int sig)
{
	static const char msg[] = "test_engine_biglock: no progress for 120 s: deadlock\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

static void big_lock_event_loop(void **state)
{
	pthread_t loop, th[VCPUS];
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_xen_vm *vm;
	struct pvt_clock_pair p;
	struct pvt_rate r;
	uint64_t khz, ss_set = 0, ss_fired = 0, ss_gone = 0, ticks = 0;
	struct timespec t0, t1;
	int ep, ret;

	(void)state;
	signal(SIGALRM, on_alarm);
	alarm(120);
	ret = pvt_hostclock_new_vdso(0, &hc);
	if (ret == -ENOTSUP)	/* the binary's only case: it shows as skipped */
		pvt_test_skip("the host clocksource is not the TSC: no vDSO pairing");
	assert_int_equal(ret, 0);
	pvt_hostclock_current(hc, &p, &r, NULL);
	khz = 1000000000000000ull / pvt_rate_apply(&r, 1000000000ull, false);
	assert_int_equal(pvt_kvm_clock_init(&kvm, (uint32_t)khz, 48), 0);
	kvm.master_tsc = pvt_hostclock_read_tsc(hc);
	assert_int_equal(pvt_kvm_tsc_scaling(&kvm, (uint32_t)khz, 0, &tsc), 0);
	assert_int_equal(pvt_kvm_guest_clock(&kvm, &tsc, &gclock), 0);
	assert_int_equal(pvt_xen_vm_new(NULL, hc, &kvm, &vm), 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	for (unsigned i = 0; i < VCPUS; i++) {
		struct epoll_event tev = { .events = EPOLLIN, .data.u32 = i };
		struct epoll_event eev = { .events = EPOLLIN, .data.u32 = VCPUS + i };

		assert_int_equal(pvt_hosttimer_new_timerfd(CLOCK_MONOTONIC, &vc[i].t), 0);
		assert_int_equal(pvt_xen_vcpu_new(vm, i, vc[i].t, &vc[i].v), 0);
		assert_int_equal(pvt_xen_vcpu_set_guest_clock(vc[i].v, &gclock), 0);
		vc[i].event_fd = pvt_xen_vcpu_event_fd(vc[i].v);
		assert_true(vc[i].event_fd >= 0);
		assert_int_equal(pvt_xen_vcpu_event_fd(vc[i].v), vc[i].event_fd);
		assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, pvt_hosttimer_fd(vc[i].t), &tev), 0);
		assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, vc[i].event_fd, &eev), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pthread_create(&loop, NULL, loop_thread, &ep), 0);
	for (unsigned i = 0; i < VCPUS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, vcpu_thread, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < VCPUS; i++)
		pthread_join(th[i], NULL);

	/* No more arming: stop the periodic timers, let armed singleshots fire. */
	pthread_mutex_lock(&big);
	for (unsigned i = 0; i < VCPUS; i++) {
		int64_t gr = 0;
		int host;

		vc[i].m.per_armed = false;
		host = pvt_xen_stop_periodic(vc[i].v, &gr);
		after_call(i, host, gr, "final stop periodic");
	}
	pthread_mutex_unlock(&big);
	for (int waited = 0; waited < 2000; waited++) {
		bool armed = false;

		pthread_mutex_lock(&big);
		for (unsigned i = 0; i < VCPUS; i++)
			armed |= vc[i].m.ss_armed;
		pthread_mutex_unlock(&big);
		if (!armed)
			break;
		sleep_ns(MS);
	}
	atomic_store(&stop_loop, 1);
	pthread_join(loop, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);
	if (atomic_load(&failed))
		fail_msg("%s", failure);

	for (unsigned i = 0; i < VCPUS; i++) {
		struct model *m = &vc[i].m;
		struct pvt_xen_vcpu_state st;

		/* Every armed singleshot was taken once, or stopped / replaced first. */
		if (m->ss_armed)
			fail_msg("vCPU %u: singleshot %" PRIu64 " never taken (lost)", i, m->ss_deadline);
		if (m->ss_fired + m->ss_stopped + m->ss_replaced != m->ss_set)
			fail_msg("vCPU %u: %" PRIu64 " set, %" PRIu64 " fired + %" PRIu64 " stopped + %"
				 PRIu64 " replaced", i, m->ss_set, m->ss_fired, m->ss_stopped,
				 m->ss_replaced);
		pvt_xen_vcpu_get_state(vc[i].v, &st);
		assert_false(st.singleshot_armed);
		assert_false(st.periodic_armed);
		assert_false(st.pending);
		ss_set += m->ss_set;
		ss_fired += m->ss_fired;
		ss_gone += m->ss_stopped + m->ss_replaced;
		ticks += m->per_total_ticks;
	}
	printf("# %" PRIu64 " expiries taken in %.2f s: %" PRIu64 " singleshots set, %" PRIu64
	       " fired, %" PRIu64 " stopped or replaced; %" PRIu64 " periodic ticks\n",
	       (uint64_t)atomic_load(&expiries),
	       (double)(ns_of_timespec(&t1) - ns_of_timespec(&t0)) / 1e9,
	       ss_set, ss_fired, ss_gone, ticks);
	if (atomic_load(&expiries) < TARGET)
		fail_msg("only %" PRIu64 " expiries in %d s", (uint64_t)atomic_load(&expiries),
			 MAX_SECONDS);
	for (unsigned i = 0; i < VCPUS; i++) {
		pvt_xen_vcpu_free(vc[i].v);
		pvt_hosttimer_free(vc[i].t);
	}
	close(ep);
	pvt_xen_vm_free(vm);
	pvt_hostclock_free(hc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(big_lock_event_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

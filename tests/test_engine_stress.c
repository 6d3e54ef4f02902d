// SPDX-License-Identifier: MIT
/*
 * Concurrency: 8 vCPU threads hammer set_timer_op / singleshot / stop on
 * their own vCPU, a ninth thread sets and stops periodic timers on all of
 * them, and a server thread serves all timerfds through epoll (service),
 * so expiries race with every operation; the engine calls themselves run
 * concurrently on each vCPU. Every event goes into a per-vCPU log ordered
 * by an atomic counter. What the engine recorded is logged when taken: the
 * server logs what service returned, and every operation, once its call
 * returned, takes and logs what is recorded before logging its end, both
 * under a per-vCPU log lock. So an expiry logged after an operation's end
 * was recorded after that operation completed. Afterwards the log is
 * checked against a sequential model: no expiry recorded after an
 * operation that superseded it had completed (never stale), each deadline
 * at most once, none taken before its deadline on the guest clock, and
 * set-then-wait operations always see their expiry (never lost). Built
 * with -DPVT_SANITIZE=thread this is a TSan test (label "tsan").
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
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

#include "test_skip.h"

#define VCPUS		8
#define OPS		1500
#define LOG_MAX		(OPS * 4 + 200000)
#define MS		1000000ull

enum ev_type { SET_BEGIN, SET_END, STOP_BEGIN, STOP_END, DELIV_SS,
	       PSET_BEGIN, PSET_END, PSTOP_BEGIN, PSTOP_END, DELIV_PER };

struct ev {
	uint8_t type;
	uint64_t deadline;	/* SET_*, DELIV_SS: the deadline */
	int64_t early_ns;	/* DELIV_*: guest now - deadline at delivery (< 0 = early) */
};

struct vstate {
	struct pvt_xen_vcpu *v;
	struct pvt_hosttimer *t;
	pthread_mutex_t lk;		/* orders takes and operation ends in the log */
	struct ev *log;
	atomic_uint_fast64_t nlog;
	atomic_uint_fast64_t delivered_ss;
	atomic_uint_fast64_t last_delivered;	/* deadline of the last singleshot expiry */
	atomic_int overflow;
};

static struct vstate vs[VCPUS];
static struct pvt_hostclock *hc;
static struct pvt_guest_clock gclock;
static atomic_int stop_server;

static void log_ev(struct vstate *s, uint8_t type, uint64_t deadline, int64_t early)
{
	uint64_t i = atomic_fetch_add(&s->nlog, 1);

	if (i >= LOG_MAX) {
		atomic_store(&s->overflow, 1);
		return;
	}
	s->log[i] = (struct ev){ type, deadline, early };
}

static uint64_t guest_now(void)
{
	return pvt_guest_clock_ns(&gclock, pvt_hostclock_read_tsc(hc));
}

/* Logs what a take returned; the caller holds s->lk. */
static void log_taken(struct vstate *s, const struct pvt_xen_events *ev)
{
	uint64_t now;

	if (!ev->fired)
		return;
	now = guest_now();
	if (ev->fired & PVT_XEN_FIRED_SINGLESHOT) {
		log_ev(s, DELIV_SS, ev->singleshot_deadline_ns,
		       (int64_t)(now - ev->singleshot_deadline_ns));
		atomic_fetch_add(&s->delivered_ss, 1);
		atomic_store(&s->last_delivered, ev->singleshot_deadline_ns);
	}
	if (ev->fired & PVT_XEN_FIRED_PERIODIC)
		log_ev(s, DELIV_PER, ev->periodic_deadline_ns,
		       (int64_t)(now - ev->periodic_deadline_ns));
}

/* An operation's call returned: log what is recorded by now, then its end. */
static void end_op(struct vstate *s, uint8_t type, uint64_t deadline)
{
	struct pvt_xen_events ev;

	pthread_mutex_lock(&s->lk);
	if (pvt_xen_vcpu_take(s->v, &ev))
		log_taken(s, &ev);
	log_ev(s, type, deadline, 0);
	pthread_mutex_unlock(&s->lk);
}

static void *server(void *arg)
{
	int ep = *(int *)arg;
	struct epoll_event evs[VCPUS];

	(void)pvt_thread_set_timerslack(1);
	while (!atomic_load(&stop_server)) {
		int n = epoll_wait(ep, evs, VCPUS, 10);

		for (int i = 0; i < n; i++) {
			struct vstate *s = &vs[evs[i].data.u32];
			struct pvt_xen_events ev;

			pthread_mutex_lock(&s->lk);
			if (pvt_xen_vcpu_service(s->v, &ev) < 0)
				atomic_store(&s->overflow, 2);	/* a host failure: fails the check */
			log_taken(s, &ev);
			pthread_mutex_unlock(&s->lk);
		}
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

/* Sometimes idle past any armed deadline, so a stale expiry would show. */
static void stay_a_while(uint64_t *seed)
{
	struct timespec ts = { 0, 200000 };

	if (rnd(seed) & 1)
		nanosleep(&ts, NULL);
}

static void *vcpu_thread(void *arg)
{
	struct vstate *s = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)(s - vs) * 7919;
	uint64_t last = 0;
	struct pvt_xen_singleshot_arg a = { 0 };
	int64_t gr;

	for (int op = 0; op < OPS; op++) {
		unsigned what = (unsigned)(rnd(&seed) % 8);
		/* Unique, increasing deadlines so the log can name them. */
		uint64_t d = guest_now() + rnd(&seed) % 150000;

		if (d <= last)
			d = last + 1;
		if (what == 0) {
			log_ev(s, STOP_BEGIN, 0, 0);
			(void)pvt_xen_vcpu_op(s->v, s->v, PVT_XEN_VCPUOP_stop_singleshot_timer,
					      NULL, 0, &gr);
			end_op(s, STOP_END, 0);
			stay_a_while(&seed);
			continue;
		}
		if (what == 1) {
			log_ev(s, STOP_BEGIN, 0, 0);
			(void)pvt_xen_set_timer_op(s->v, 0, &gr);
			end_op(s, STOP_END, 0);
			stay_a_while(&seed);
			continue;
		}
		last = d;
		log_ev(s, SET_BEGIN, d, 0);
		if (what & 1) {
			(void)pvt_xen_set_timer_op(s->v, d, &gr);
		} else {
			a.timeout_abs_ns = d;
			(void)pvt_xen_vcpu_op(s->v, s->v, PVT_XEN_VCPUOP_set_singleshot_timer,
					      &a, sizeof(a), &gr);
		}
		end_op(s, SET_END, d);
		if (what >= 6) {
			/* Set and wait: this one must arrive. */
			struct timespec t0, t1;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			/* Deliveries come in deadline order (checked later). */
			while (atomic_load(&s->last_delivered) < d) {
				clock_gettime(CLOCK_MONOTONIC, &t1);
				if (t1.tv_sec - t0.tv_sec > 5) {
					log_ev(s, DELIV_SS, d, INT64_MIN);	/* marks a loss */
					break;
				}
				sched_yield();
			}
		}
	}
	return NULL;
}

static void *periodic_thread(void *arg)
{
	uint64_t seed = 12345;
	int64_t gr;

	(void)arg;
	for (int op = 0; op < OPS; op++) {
		struct vstate *s = &vs[rnd(&seed) % VCPUS];
		struct pvt_xen_periodic_arg p = { .period_ns = MS + rnd(&seed) % MS };

		if (rnd(&seed) & 1) {
			log_ev(s, PSET_BEGIN, 0, 0);
			(void)pvt_xen_vcpu_op(vs[0].v, s->v, PVT_XEN_VCPUOP_set_periodic_timer,
					      &p, sizeof(p), &gr);
			end_op(s, PSET_END, 0);
		} else {
			log_ev(s, PSTOP_BEGIN, 0, 0);
			(void)pvt_xen_vcpu_op(vs[0].v, s->v, PVT_XEN_VCPUOP_stop_periodic_timer,
					      NULL, 0, &gr);
			end_op(s, PSTOP_END, 0);
		}
		{
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
		}
	}
	for (int i = 0; i < VCPUS; i++) {
		log_ev(&vs[i], PSTOP_BEGIN, 0, 0);
		(void)pvt_xen_stop_periodic(vs[i].v, &gr);
		end_op(&vs[i], PSTOP_END, 0);
	}
	return NULL;
}

/* Checks one vCPU's log against the sequential model; returns deliveries. */
static uint64_t check_log(unsigned id, struct vstate *s)
{
	uint64_t n = atomic_load(&s->nlog), deliveries = 0;
	/* Last completed singleshot op before each point: begin index + deadline. */
	uint64_t set_begin_of_d = UINT64_MAX, last_done_begin = 0;
	uint64_t last_done_deadline = 0;
	bool last_done_is_set = false, any_done = false;
	uint64_t pstop_done_begin = 0, pstop_open = 0, pset_begin = 0;
	bool pstop_done = false, pset_any = false;
	uint64_t prev_d_delivered = 0;

	assert_int_equal(atomic_load(&s->overflow), 0);
	/* Index of each op's BEGIN so END can refer to it. */
	uint64_t open_begin = 0;

	for (uint64_t i = 0; i < n; i++) {
		struct ev *e = &s->log[i];

		switch (e->type) {
		case SET_BEGIN:
		case STOP_BEGIN:
			open_begin = i;
			break;
		case SET_END:
		case STOP_END:
			any_done = true;
			last_done_begin = open_begin;
			last_done_is_set = e->type == SET_END;
			last_done_deadline = e->deadline;
			break;
		case PSET_BEGIN:
			pset_begin = i;
			pset_any = true;
			break;
		case PSTOP_BEGIN:
			pstop_open = i;
			break;
		case PSTOP_END:
			pstop_done = true;
			pstop_done_begin = pstop_open;
			break;
		case DELIV_SS:
			deliveries++;
			if (e->early_ns == INT64_MIN)
				fail_msg("vcpu %u: set-and-wait deadline %" PRIu64 " never delivered",
					 id, e->deadline);
			if (e->early_ns < 0)
				fail_msg("vcpu %u: deadline %" PRIu64 " delivered %" PRId64 " ns early",
					 id, e->deadline, -e->early_ns);
			/* Deadlines are unique and increasing: each at most once. */
			if (e->deadline <= prev_d_delivered)
				fail_msg("vcpu %u: deadline %" PRIu64 " delivered twice or out of order",
					 id, e->deadline);
			prev_d_delivered = e->deadline;
			/* Find its SET_BEGIN (scan back). */
			set_begin_of_d = UINT64_MAX;
			for (uint64_t k = i; k-- > 0;)
				if (s->log[k].type == SET_BEGIN && s->log[k].deadline == e->deadline) {
					set_begin_of_d = k;
					break;
				}
			if (set_begin_of_d == UINT64_MAX)
				fail_msg("vcpu %u: deadline %" PRIu64 " delivered but never set", id, e->deadline);
			/* Stale: an op that began after its set completed before now. */
			if (any_done && last_done_begin > set_begin_of_d)
				fail_msg("vcpu %u: stale expiry of %" PRIu64 " after a later %s completed",
					 id, e->deadline, last_done_is_set ? "set" : "stop");
			(void)last_done_deadline;
			break;
		case DELIV_PER:
			deliveries++;
			if (e->early_ns < 0)
				fail_msg("vcpu %u: periodic tick %" PRIu64 " %" PRId64 " ns early",
					 id, e->deadline, -e->early_ns);
			if (pstop_done && (!pset_any || pset_begin < pstop_done_begin))
				fail_msg("vcpu %u: periodic tick after stop completed", id);
			break;
		}
	}
	return deliveries;
}

static void stress(void **state)
{
	pthread_t th[VCPUS], per, srv;
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_xen_vm *vm;
	struct pvt_clock_pair p;
	int64_t gr;
	struct pvt_rate r;
	uint64_t total = 0, khz;
	int ep, ret;

	(void)state;
	ret = pvt_hostclock_new_vdso(0, &hc);
	if (ret == -ENOTSUP)
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
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		vs[i].log = calloc(LOG_MAX, sizeof(struct ev));
		assert_non_null(vs[i].log);
		assert_int_equal(pthread_mutex_init(&vs[i].lk, NULL), 0);
		assert_int_equal(pvt_hosttimer_new_timerfd(CLOCK_MONOTONIC, &vs[i].t), 0);
		assert_int_equal(pvt_xen_vcpu_new(vm, i, vs[i].t, &vs[i].v), 0);
		assert_int_equal(pvt_xen_vcpu_set_guest_clock(vs[i].v, &gclock), 0);
		assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, pvt_hosttimer_fd(vs[i].t), &ev), 0);
	}
	assert_int_equal(pthread_create(&srv, NULL, server, &ep), 0);
	assert_int_equal(pthread_create(&per, NULL, periodic_thread, NULL), 0);
	for (unsigned i = 0; i < VCPUS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, vcpu_thread, &vs[i]), 0);
	for (unsigned i = 0; i < VCPUS; i++)
		pthread_join(th[i], NULL);
	pthread_join(per, NULL);
	/* Let armed timers drain, then stop everything. */
	{
		struct timespec ts = { 0, 300000000 };

		nanosleep(&ts, NULL);
	}
	for (unsigned i = 0; i < VCPUS; i++) {
		log_ev(&vs[i], STOP_BEGIN, 0, 0);
		(void)pvt_xen_stop_singleshot(vs[i].v, &gr);
		end_op(&vs[i], STOP_END, 0);
	}
	atomic_store(&stop_server, 1);
	pthread_join(srv, NULL);
	for (unsigned i = 0; i < VCPUS; i++)
		total += check_log(i, &vs[i]);
	printf("# %d vCPUs x %d ops: %" PRIu64 " expiries checked against the model\n",
	       VCPUS, OPS, total);
	assert_true(total > 0);
	for (unsigned i = 0; i < VCPUS; i++) {
		pvt_xen_vcpu_free(vs[i].v);
		pvt_hosttimer_free(vs[i].t);
		pthread_mutex_destroy(&vs[i].lk);
		free(vs[i].log);
	}
	close(ep);
	pvt_xen_vm_free(vm);
	pvt_hostclock_free(hc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

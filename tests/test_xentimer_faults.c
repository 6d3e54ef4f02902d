// SPDX-License-Identifier: MIT
/*
 * Fault injection on the real host (vDSO clock, timerfds, threads): each
 * fault ends with a clean error or a correct delivery, never a lost, early
 * or duplicated timer.
 *  - a timerfd whose read fails: service() still serves what is due,
 *    reports the error, and nothing is doubled once the fd is back;
 *  - an EINTR storm on the thread sleeping in pvt_hosttimer_wait();
 *  - the guest re-registers its kvmclock (set_guest_clock with a new page:
 *    a jump forward, back, a new rate) while its vCPU thread sleeps;
 *  - the VM is torn down while vCPU threads sleep on their timers, in the
 *    order xentimer.h documents (run under ASan and TSan, label "tsan").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "pvtime/guestclock.h"
#include "pvtime/hostclock.h"
#include "pvtime/hosttimer.h"
#include "pvtime/xentimer.h"

#include "clockns.h"

#define MS		1000000ull
#define NVCPUS		4

struct rvm {
	struct pvt_hostclock *hc;
	struct pvt_kvm_clock kvm;
	struct pvt_guest_clock clock;
	struct pvt_xen_vm *vm;
	struct pvt_hosttimer *t[NVCPUS];
	struct pvt_xen_vcpu *v[NVCPUS];
	unsigned n;
};

/* A VM of n vCPUs on the vDSO clock with timerfds; false (skip) off x86-64. */
static bool rvm_init(struct rvm *r, unsigned n)
{
	struct pvt_clock_pair p;
	struct pvt_rate rate;
	struct pvt_tsc_scaling tsc;
	uint64_t khz;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = pvt_hostclock_new_vdso(0, &r->hc);
	if (ret == -ENOTSUP)
		return false;
	assert_int_equal(ret, 0);
	pvt_hostclock_current(r->hc, &p, &rate, NULL);
	khz = 1000000000000000ull / pvt_rate_apply(&rate, 1000000000ull, false);
	assert_int_equal(pvt_kvm_clock_init(&r->kvm, (uint32_t)khz, 48), 0);
	r->kvm.master_tsc = pvt_hostclock_read_tsc(r->hc);
	assert_int_equal(pvt_kvm_tsc_scaling(&r->kvm, (uint32_t)khz, 0, &tsc), 0);
	assert_int_equal(pvt_kvm_guest_clock(&r->kvm, &tsc, &r->clock), 0);
	assert_int_equal(pvt_xen_vm_new(NULL, r->hc, &r->kvm, &r->vm), 0);
	r->n = n;
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(pvt_hosttimer_new_timerfd(CLOCK_MONOTONIC, &r->t[i]), 0);
		assert_int_equal(pvt_xen_vcpu_new(r->vm, i, r->t[i], &r->v[i]), 0);
		assert_int_equal(pvt_xen_vcpu_set_guest_clock(r->v[i], &r->clock), 0);
	}
	return true;
}

/* The documented order: vCPUs, their timers, the VM, the host clock. */
static void rvm_destroy(struct rvm *r)
{
	for (unsigned i = 0; i < r->n; i++) {
		pvt_xen_vcpu_free(r->v[i]);
		pvt_hosttimer_free(r->t[i]);
	}
	pvt_xen_vm_free(r->vm);
	pvt_hostclock_free(r->hc);
}

static uint64_t gnow(struct pvt_xen_vcpu *v)
{
	uint64_t g = 0;

	assert_int_equal(pvt_xen_vcpu_guest_now(v, &g), 0);
	return g;
}

/* ---- a timerfd whose read fails ---- */

/*
 * The timerfd's number is made to refer to a pipe holding 3 bytes (a
 * short read: -EIO; arming it fails too, EINVAL). service() still delivers
 * what is due by the TSC and says -EIO; nothing is delivered early. With
 * the timerfd back, its stale expiry is served without a second delivery,
 * and a periodic timer whose re-arm was lost resumes on its grid with the
 * missed ticks coalesced.
 */
static void timerfd_read_error(void **state)
{
	struct rvm r;
	struct pvt_xen_events ev;
	struct pvt_xen_vcpu_state st;
	int tfd, saved, pfd[2];
	uint64_t d;
	int64_t gr;

	(void)state;
	if (!rvm_init(&r, 1))
		skip();
	tfd = pvt_hosttimer_fd(r.t[0]);
	saved = dup(tfd);
	assert_true(saved >= 0);
	/* Each read takes 3 bytes (-EIO); non-blocking, so an empty pipe is "not fired". */
	assert_int_equal(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);

	d = gnow(r.v[0]) + 200 * MS;	/* far enough that a loaded machine is not there yet */
	assert_int_equal(pvt_xen_set_timer_op(r.v[0], d, &gr), 0);
	assert_int_equal(dup2(pfd[0], tfd), tfd);
	/* Not due yet: an error, no expiry. */
	assert_int_equal(write(pfd[1], "abc", 3), 3);
	assert_int_equal(pvt_xen_vcpu_service(r.v[0], &ev), -EIO);
	assert_int_equal(ev.fired, 0);
	pvt_xen_vcpu_get_state(r.v[0], &st);
	assert_true(st.singleshot_armed);
	/* Due now: delivered although the fd cannot be read, and the error said. */
	sleep_ns(210 * MS);
	assert_int_equal(write(pfd[1], "abc", 3), 3);
	assert_int_equal(pvt_xen_vcpu_service(r.v[0], &ev), -EIO);
	assert_int_equal(ev.fired, PVT_XEN_FIRED_SINGLESHOT);
	assert_int_equal(ev.singleshot_deadline_ns, d);
	assert_true(gnow(r.v[0]) >= d);
	/* The timerfd back (it may still hold an expiry): nothing twice. */
	assert_int_equal(dup2(saved, tfd), tfd);
	assert_int_equal(pvt_xen_vcpu_service(r.v[0], &ev), 0);
	assert_int_equal(pvt_xen_vcpu_take(r.v[0], &ev), 0);

	/* A periodic timer through a broken read and a lost re-arm. */
	assert_int_equal(pvt_xen_set_periodic(r.v[0], 2 * MS, &gr), 0);
	assert_int_equal(gr, 0);
	assert_int_equal(dup2(pfd[0], tfd), tfd);
	sleep_ns(5 * MS);
	assert_int_equal(write(pfd[1], "abc", 3), 3);
	assert_int_equal(pvt_xen_vcpu_service(r.v[0], &ev), -EIO);
	assert_true(ev.fired & PVT_XEN_FIRED_PERIODIC);
	assert_true(gnow(r.v[0]) >= ev.periodic_deadline_ns);
	pvt_xen_vcpu_get_state(r.v[0], &st);
	assert_true(st.periodic_armed);
	assert_false(st.host_armed);		/* the pipe could not be armed */
	assert_int_equal(dup2(saved, tfd), tfd);
	/* A spurious service arms it again; then ticks resume, on the grid, none early. */
	sleep_ns(7 * MS);
	{
		uint64_t last = ev.periodic_deadline_ns, ticks = 0;

		for (int i = 0; i < 3; i++) {
			int ret;

			do {
				ret = pvt_hosttimer_wait(r.t[0], 1000 * MS);
				if (ret == -ETIMEDOUT)
					fail_msg("periodic timer lost after the read error");
			} while (ret);
			ret = pvt_xen_vcpu_service(r.v[0], &ev);
			assert_true(ret == 0 || ret == 1);
			if (!(ev.fired & PVT_XEN_FIRED_PERIODIC))
				continue;
			assert_true(gnow(r.v[0]) >= ev.periodic_deadline_ns);
			assert_int_equal(ev.periodic_deadline_ns,
					 last + ev.periodic_ticks * 2 * MS);
			last = ev.periodic_deadline_ns;
			ticks += ev.periodic_ticks;
		}
		assert_true(ticks >= 3);
	}
	assert_int_equal(pvt_xen_stop_periodic(r.v[0], &gr), 0);
	close(saved);
	close(pfd[0]);
	close(pfd[1]);
	rvm_destroy(&r);
}

/* ---- signals ---- */

static void on_signal(int sig)
{
	(void)sig;
}

static void install_signal(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: ppoll returns EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
}

/* ---- an EINTR storm ---- */

/* Waits that must be interrupted before the storm ends, however loaded the host. */
#define STORM_MIN_EINTR	100

struct storm {
	struct pvt_xen_vcpu *v;
	struct pvt_hosttimer *t;
	uint64_t ss_deadline, period, first_tick;
	uint64_t want_ticks;
	atomic_int done;
	uint64_t eintr, ss, ticks, events, early, bad_grid, last_tick;
	int err;
};

/* The vCPU thread: sleeps on its timerfd, serves, checks each expiry when taken. */
static void *storm_vcpu(void *arg)
{
	struct storm *s = arg;
	struct pvt_xen_events ev;
	uint64_t g;
	int r;

	/* Until the timers are done and the storm really hit the waits. */
	while (s->ss < 1 || s->ticks < s->want_ticks || s->eintr < STORM_MIN_EINTR) {
		r = pvt_hosttimer_wait(s->t, 0);
		if (r == -EINTR) {
			s->eintr++;
			continue;
		}
		if (r) {
			s->err = r;
			break;
		}
		r = pvt_xen_vcpu_service(s->v, &ev);
		if (r < 0) {
			s->err = r;
			break;
		}
		(void)pvt_xen_vcpu_guest_now(s->v, &g);
		if (ev.fired & PVT_XEN_FIRED_SINGLESHOT) {
			s->ss++;
			if (ev.singleshot_deadline_ns != s->ss_deadline || g < s->ss_deadline)
				s->early++;
		}
		if (ev.fired & PVT_XEN_FIRED_PERIODIC) {
			uint64_t expect = (s->events ? s->last_tick : s->first_tick - s->period) +
					  ev.periodic_ticks * s->period;

			if (g < ev.periodic_deadline_ns)
				s->early++;
			if (ev.periodic_deadline_ns != expect)
				s->bad_grid++;
			s->events++;
			s->ticks += ev.periodic_ticks;
			s->last_tick = ev.periodic_deadline_ns;
		}
	}
	atomic_store(&s->done, 1);
	return NULL;
}

/*
 * A signal every ~20 us at the thread sleeping in pvt_hosttimer_wait: each
 * wait returns -EINTR, the thread waits again; the 30 ms singleshot comes
 * once, not early, and 20 ticks of a 2 ms periodic timer on their grid.
 */
static void eintr_storm(void **state)
{
	struct rvm r;
	struct storm s;
	struct pvt_xen_events ev;
	pthread_t th;
	uint64_t kills = 0;
	int64_t gr;

	(void)state;
	if (!rvm_init(&r, 1))
		skip();
	install_signal();
	memset(&s, 0, sizeof(s));
	s.v = r.v[0];
	s.t = r.t[0];
	s.period = 2 * MS;
	s.want_ticks = 20;
	s.ss_deadline = gnow(r.v[0]) + 30 * MS;
	s.first_tick = gnow(r.v[0]) + s.period;
	assert_int_equal(pvt_xen_set_timer_op(r.v[0], s.ss_deadline, &gr), 0);
	assert_int_equal(pvt_xen_set_periodic(r.v[0], s.period, &gr), 0);
	/* set_periodic's own now is a little later than first_tick's: re-read it. */
	{
		struct pvt_xen_vcpu_state st;

		pvt_xen_vcpu_get_state(r.v[0], &st);
		s.first_tick = st.periodic_deadline_ns;
	}
	assert_int_equal(pthread_create(&th, NULL, storm_vcpu, &s), 0);
	while (!atomic_load(&s.done) && kills < 5000000) {
		pthread_kill(th, SIGUSR1);
		kills++;
		sleep_ns(20000);
	}
	pthread_join(th, NULL);
	printf("# EINTR storm: %" PRIu64 " signals, %" PRIu64 " waits interrupted, %" PRIu64
	       " periodic events carrying %" PRIu64 " ticks, %" PRIu64 " singleshot\n",
	       kills, s.eintr, s.events, s.ticks, s.ss);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.ss, 1);
	assert_true(s.ticks >= s.want_ticks);
	assert_int_equal(s.early, 0);
	assert_int_equal(s.bad_grid, 0);
	assert_true(s.eintr >= STORM_MIN_EINTR);
	assert_int_equal(pvt_xen_stop_periodic(r.v[0], &gr), 0);
	assert_int_equal(pvt_xen_vcpu_take(r.v[0], &ev), 0);
	rvm_destroy(&r);
}

/* ---- kvmclock re-registration while the vCPU thread sleeps ---- */

struct rereg {
	struct pvt_hostclock *hc;
	struct pvt_xen_vcpu *v;
	struct pvt_hosttimer *t;
	int event_fd, stop_fd;
	pthread_mutex_t lock;		/* guards the fields below */
	uint64_t deadline;		/* the armed singleshot */
	uint64_t fired, early, wrong;
	int err;
};

/* The vCPU thread: sleeps on its timerfd and its event fd (expiries another thread recorded). */
static void *rereg_vcpu(void *arg)
{
	struct rereg *x = arg;
	struct pollfd p[3] = {
		{ .fd = pvt_hosttimer_fd(x->t), .events = POLLIN },
		{ .fd = x->event_fd, .events = POLLIN },
		{ .fd = x->stop_fd, .events = POLLIN },
	};
	struct pvt_xen_events ev;
	uint64_t g;
	int r;

	for (;;) {
		r = poll(p, 3, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || p[2].revents)
			break;
		r = pvt_xen_vcpu_service(x->v, &ev);
		(void)pvt_xen_vcpu_guest_now(x->v, &g);
		pthread_mutex_lock(&x->lock);
		if (r < 0)
			x->err = r;
		if (ev.fired & PVT_XEN_FIRED_SINGLESHOT) {
			x->fired++;
			if (ev.singleshot_deadline_ns != x->deadline)
				x->wrong++;
			if (g < ev.singleshot_deadline_ns)
				x->early++;
		}
		if (ev.fired & ~PVT_XEN_FIRED_SINGLESHOT)
			x->wrong++;
		pthread_mutex_unlock(&x->lock);
	}
	return NULL;
}

/*
 * Arms a singleshot at guest now + ahead, lets the vCPU thread fall asleep,
 * then registers a new page on *c: continuous at now but for jump_ns, its
 * rate scaled by 2^rate_shift. Exactly one expiry must follow, with its
 * deadline, not early on the new clock, within 2 s.
 */
static void rereg_case(struct rereg *x, struct pvt_guest_clock *c, uint64_t ahead,
		       int64_t jump_ns, int rate_shift)
{
	struct pvt_guest_clock n = *c;
	uint64_t tsc, fired0, t0;
	int64_t gr;

	pthread_mutex_lock(&x->lock);
	fired0 = x->fired;
	x->deadline = gnow(x->v) + ahead;
	assert_int_equal(pvt_xen_set_timer_op(x->v, x->deadline, &gr), 0);
	pthread_mutex_unlock(&x->lock);
	sleep_ns(5 * MS);	/* the vCPU thread is asleep in poll() */
	tsc = pvt_hostclock_read_tsc(x->hc);
	n.page.tsc_timestamp = pvt_guest_tsc(&c->tsc, tsc);
	n.page.system_time = pvt_guest_clock_ns(c, tsc) + (uint64_t)jump_ns;
	n.page.tsc_shift = (int8_t)(n.page.tsc_shift + rate_shift);
	assert_int_equal(pvt_xen_vcpu_set_guest_clock(x->v, &n), 0);
	*c = n;
	t0 = pvt_hostclock_read_mono(x->hc);
	for (;;) {
		pthread_mutex_lock(&x->lock);
		if (x->fired != fired0) {
			pthread_mutex_unlock(&x->lock);
			break;
		}
		pthread_mutex_unlock(&x->lock);
		if (pvt_hostclock_read_mono(x->hc) - t0 > 2000 * MS)
			fail_msg("jump %" PRId64 " rate x2^%d: the timer was lost", jump_ns,
				 rate_shift);
		sleep_ns(MS / 2);
	}
	sleep_ns(10 * MS);
	pthread_mutex_lock(&x->lock);
	assert_int_equal(x->fired, fired0 + 1);
	assert_int_equal(x->early, 0);
	assert_int_equal(x->wrong, 0);
	assert_int_equal(x->err, 0);
	pthread_mutex_unlock(&x->lock);
}

static void reregister_while_blocked(void **state)
{
	struct rvm r;
	struct rereg x;
	struct pvt_guest_clock c;
	pthread_t th;
	uint64_t one = 1;

	(void)state;
	if (!rvm_init(&r, 1))
		skip();
	memset(&x, 0, sizeof(x));
	x.hc = r.hc;
	x.v = r.v[0];
	x.t = r.t[0];
	assert_int_equal(pthread_mutex_init(&x.lock, NULL), 0);
	x.event_fd = pvt_xen_vcpu_event_fd(r.v[0]);
	assert_true(x.event_fd >= 0);
	x.stop_fd = eventfd(0, EFD_CLOEXEC);
	assert_true(x.stop_fd >= 0);
	c = r.clock;
	assert_int_equal(pthread_create(&th, NULL, rereg_vcpu, &x), 0);
	/* Forward past the deadline: recorded by set_guest_clock, woken by the event fd. */
	rereg_case(&x, &c, 200 * MS, 1000 * (int64_t)MS, 0);
	/* Back: the deadline moves 50 ms further away. */
	rereg_case(&x, &c, 30 * MS, -50 * (int64_t)MS, 0);
	/* Half and double the rate. */
	rereg_case(&x, &c, 30 * MS, 0, -1);
	rereg_case(&x, &c, 100 * MS, 0, 1);
	assert_int_equal(write(x.stop_fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	pthread_join(th, NULL);
	close(x.stop_fd);
	pthread_mutex_destroy(&x.lock);
	rvm_destroy(&r);
}

/* ---- teardown while vCPU threads sleep ---- */

struct sleeper {
	struct pvt_xen_vcpu *v;
	struct pvt_hosttimer *t;
	uint64_t slice_ns;		/* pvt_hosttimer_wait timeout, 0 = forever */
	atomic_int *stop;
	atomic_int gone;
	atomic_int served_any;		/* set once served >= 1, read by the main thread */
	uint64_t served;
	int err;
};

static void *sleeper_vcpu(void *arg)
{
	struct sleeper *s = arg;
	struct pvt_xen_events ev;
	int r;

	while (!atomic_load(s->stop)) {
		r = pvt_hosttimer_wait(s->t, s->slice_ns);
		if (r == -EINTR || r == -ETIMEDOUT)
			continue;
		if (r) {
			s->err = r;
			break;
		}
		r = pvt_xen_vcpu_service(s->v, &ev);
		if (r < 0) {
			s->err = r;
			break;
		}
		s->served++;
		atomic_store(&s->served_any, 1);
	}
	atomic_store(&s->gone, 1);
	return NULL;
}

/*
 * Four vCPU threads asleep on their timers (a 1 ms periodic timer, a
 * singleshot 10 s away, nothing armed at all, and one more periodic timer
 * set by another vCPU), with waits forever (signal wake) or in slices
 * (timeout wake). The documented teardown: stop flag, wake each thread
 * until it is gone, join, then free vCPUs, timers, VM, host clock. Clean
 * under ASan and TSan, three rounds each.
 */
static void teardown(uint64_t slice_ns)
{
	for (int round = 0; round < 3; round++) {
		struct rvm r;
		struct sleeper s[NVCPUS];
		pthread_t th[NVCPUS];
		atomic_int stop = 0;
		int64_t gr;

		if (!rvm_init(&r, NVCPUS))
			skip();
		install_signal();
		assert_int_equal(pvt_xen_set_periodic(r.v[0], MS, &gr), 0);
		assert_int_equal(pvt_xen_set_timer_op(r.v[1], gnow(r.v[1]) + 10000 * MS, &gr), 0);
		{
			struct pvt_xen_periodic_arg a = { 3 * MS };

			assert_int_equal(pvt_xen_vcpu_op(r.v[0], r.v[3],
							 PVT_XEN_VCPUOP_set_periodic_timer,
							 &a, sizeof(a), &gr), 0);
			assert_int_equal(gr, 0);
		}
		for (unsigned i = 0; i < NVCPUS; i++) {
			memset(&s[i], 0, sizeof(s[i]));
			s[i].v = r.v[i];
			s[i].t = r.t[i];
			s[i].slice_ns = slice_ns;
			s[i].stop = &stop;
			assert_int_equal(pthread_create(&th[i], NULL, sleeper_vcpu, &s[i]), 0);
		}
		/* Until the 1 ms periodic timer was served (a loaded host may be slow to run it). */
		for (int i = 0; i < 10000 && !atomic_load(&s[0].served_any); i++)
			sleep_ns(MS);
		atomic_store(&stop, 1);
		for (unsigned i = 0; i < NVCPUS; i++) {
			/* A signal can land just before the thread sleeps: repeat until gone. */
			while (!slice_ns && !atomic_load(&s[i].gone)) {
				pthread_kill(th[i], SIGUSR1);
				sleep_ns(MS / 4);
			}
			pthread_join(th[i], NULL);
			assert_int_equal(s[i].err, 0);
		}
		assert_true(s[0].served >= 1);		/* the periodic timer was being served */
		assert_int_equal(s[2].served, 0);	/* nothing armed: never woke but to leave */
		rvm_destroy(&r);
	}
}

static void teardown_while_blocked_signal(void **state)
{
	(void)state;
	teardown(0);
}

static void teardown_while_blocked_timeout(void **state)
{
	(void)state;
	teardown(5 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timerfd_read_error),
		cmocka_unit_test(eintr_storm),
		cmocka_unit_test(reregister_while_blocked),
		cmocka_unit_test(teardown_while_blocked_signal),
		cmocka_unit_test(teardown_while_blocked_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

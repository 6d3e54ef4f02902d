// SPDX-License-Identifier: MIT
/*
 * The Xen timer engine's core: converting guest-clock deadlines to host
 * timer deadlines per algorithm, programming the vCPU's host timer,
 * serving its expiry (recording, exact periodic grid, two-stage re-arm),
 * and the frame of every call (save, finish, take). The other xentimer
 * files call into it; it calls none of them.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "muldiv.h"
#include "ratetrack-div.h"
#include "xentimer-internal.h"

/* TSC ticks that take at least ns at rate r (rounded up; saturates). */
static uint64_t ns_to_tsc_ceil(const struct pvt_rate *r, uint64_t ns)
{
	uint64_t d, rem;
	pvt_u128 q;

	if (r->ns_int >> 32)
		return ns / r->ns_int + 1;	/* < 1 tick per 4 s: coarse is fine */
	/* The rate in 32.32, rounded down: more ticks, never fewer. */
	d = (r->ns_int << 32) | (r->ns_frac >> 32);
	q = pvt_div128_full((pvt_u128)ns << 32, d ? d : 1, &rem);
	q += rem != 0;
	return (q >> 64) ? UINT64_MAX : (uint64_t)q;
}

/* period_ns / PVT_XEN_PERIODIC_MAX_RATE_FACTOR in host TSC ticks (rounded up). */
static uint64_t periodic_gap_tsc(struct pvt_xen_vcpu *v)
{
	struct pvt_clock_pair p;
	struct pvt_rate r;

	pvt_hostclock_current(v->vm->hostclock, &p, &r, NULL);
	return ns_to_tsc_ceil(&r, v->period_ns / PVT_XEN_PERIODIC_MAX_RATE_FACTOR);
}

/*
 * The bound on host wake-ups: the periodic timer is not due before one gap
 * (period_ns / PVT_XEN_PERIODIC_MAX_RATE_FACTOR host ns) after its last
 * delivery, whatever the guest clock says; the grid ticks passed by then
 * are coalesced into that delivery. Kept as a host TSC (it never steps):
 * the earliest TSC at which the periodic timer may be delivered, 0 if none.
 */
static uint64_t periodic_floor_tsc(struct pvt_xen_vcpu *v)
{
	if (!v->per_last_valid)
		return 0;
	return hc_add_sat(v->per_last_tsc, periodic_gap_tsc(v));
}

/*
 * Where the next floor counts from, for a tick delivered now (PVTIME): the
 * instant the tick was due (its target, itself at or after the previous
 * floor), but no more than one gap before now. So a service up to a period
 * late leaves the grid alone, floors stay a gap apart (any T host ns hold
 * at most T / gap + 2 deliveries), and a late service cannot buy an
 * immediate second one.
 */
static uint64_t periodic_last_tsc(struct pvt_xen_vcpu *v)
{
	struct pvt_xen_timer *t = &v->periodic;
	uint64_t now = xt_tsc(v), last;

	if (!t->converted || t->target_tsc > now)
		return now;
	last = hc_sub_floor(now, periodic_gap_tsc(v));
	return t->target_tsc > last ? t->target_tsc : last;
}

/*
 * The same floor on the timer clock (LEGACY, KVM); 0 if none. These know
 * no due TSC: it counts from the delivery, read on the clock it is compared
 * with (a fresh reading). Not from the TSC through the published pairing,
 * which they never refresh: off by all the host clock slewed since, it put
 * the floor in the past and let ticks through back to back.
 */
static uint64_t periodic_floor_ns(struct pvt_xen_vcpu *v)
{
	if (!v->per_last_valid)
		return 0;
	return hc_add_sat(v->per_last_ns, v->period_ns / PVT_XEN_PERIODIC_MAX_RATE_FACTOR);
}

int xt_guest_now(struct pvt_xen_vcpu *v, uint64_t *ns)
{
	struct pvt_xen_vm *vm = v->vm;
	uint64_t tsc;

	if (vm->cfg.algo == PVT_ALGO_LEGACY) {
		if (vm->legacy_now)
			return vm->legacy_now(vm->legacy_now_ctx, ns);
		if (!vm->kvm)
			return -ENODATA;
		*ns = pvt_kvm_clock_legacy_ns(vm->kvm, xt_tsc(v));
		return 0;
	}
	if (!v->clock_valid)
		return -ENODATA;
	tsc = xt_tsc(v);
	*ns = pvt_guest_clock_ns(&v->clock, tsc);
	return 0;
}

/* LEGACY/KVM: host deadline = a host clock reading + the guest-ns delta. */
static bool convert_delta(struct pvt_xen_vcpu *v, struct pvt_xen_timer *t)
{
	struct pvt_xen_vm *vm = v->vm;
	struct pvt_hostclock *hc = vm->hostclock;
	uint64_t guest_now, host_now, floor;
	int64_t delta;

	if (vm->cfg.algo == PVT_ALGO_KVM) {
		struct pvt_clock_pair p;

		/* The seed: one TSC read gives both clocks. */
		if (pvt_hostclock_pair(hc, &p)) {
			p.tsc = xt_tsc(v);
			p.mono_ns = pvt_hostclock_tsc_to_mono_est(hc, p.tsc);
		}
		guest_now = pvt_guest_clock_ns(&v->clock, p.tsc);
		host_now = p.mono_ns;
	} else {
		/* The old order: guest clock, (preemption), host clock. */
		if (xt_guest_now(v, &guest_now))
			return false;
		if (hc->ops->preempt_point)
			hc->ops->preempt_point(hc->ctx);
		host_now = pvt_hostclock_read_mono(hc);
	}
	delta = (int64_t)(t->deadline_ns - guest_now);
	t->host_ns = delta <= 0 ? host_now : hc_add_sat(host_now, (uint64_t)delta);
	if (t == &v->periodic) {
		floor = periodic_floor_ns(v);
		if (floor > t->host_ns)
			t->host_ns = floor;
	}
	t->converted = true;
	return t->host_ns <= host_now;
}

/* Converts t for the current clock; true if it is due now. */
static bool convert(struct pvt_xen_vcpu *v, struct pvt_xen_timer *t)
{
	uint64_t now_tsc, floor;

	t->converted = false;
	/*
	 * Signed guest deadlines: >= 2^63 is in the past, whatever the clock
	 * says. Not the periodic grid, which the engine keeps ahead of now:
	 * near 2^63 its ticks would all be due at once, forever.
	 */
	if (t == &v->singleshot && (int64_t)t->deadline_ns < 0)
		return true;
	if (v->vm->cfg.algo != PVT_ALGO_LEGACY && !v->clock_valid)
		return false;
	if (v->vm->cfg.algo != PVT_ALGO_PVTIME)
		return convert_delta(v, t);
	now_tsc = xt_tsc(v);
	/* -ERANGE leaves UINT64_MAX: a deadline no TSC reaches never fires. */
	(void)pvt_guest_clock_host_tsc_at(&v->clock, now_tsc, t->deadline_ns,
					  &t->target_tsc);
	if (t == &v->periodic) {
		floor = periodic_floor_tsc(v);
		if (floor > t->target_tsc)
			t->target_tsc = floor;
	}
	t->converted = true;
	return t->target_tsc <= now_tsc;
}

void xt_event_signal(struct pvt_xen_vcpu *v)
{
	uint64_t one = 1;

	if (v->event_fd >= 0)
		(void)!write(v->event_fd, &one, sizeof(one));
}

/* Records an expiry of kind (PVT_XEN_FIRED_*) whose guest deadline was deadline_ns. */
static void deliver(struct pvt_xen_vcpu *v, uint32_t kind, uint64_t deadline_ns,
		    bool immediate)
{
	if (!v->ev.fired)
		xt_event_signal(v);
	v->ev.fired |= kind;
	if (kind == PVT_XEN_FIRED_SINGLESHOT) {
		v->ev.singleshot_deadline_ns = deadline_ns;
	} else {
		v->ev.periodic_deadline_ns = deadline_ns;
		v->ev.periodic_ticks++;
	}
	v->stats.delivered++;
	if (immediate)
		v->stats.immediate++;
}

int xt_take(struct pvt_xen_vcpu *v, struct pvt_xen_events *ev)
{
	uint64_t n;

	*ev = v->ev;
	ev->due_tsc = 0;
	if (!v->ev.fired)
		return 0;
	memset(&v->ev, 0, sizeof(v->ev));
	/* Written once on none -> some: one read empties it. */
	if (v->event_fd >= 0)
		(void)!read(v->event_fd, &n, sizeof(n));
	return 1;
}

/* Next periodic deadline after one delivered at guest_now. */
static void periodic_advance(struct pvt_xen_vcpu *v, uint64_t guest_now)
{
	struct pvt_xen_timer *t = &v->periodic;
	uint64_t next, k;

	if (v->vm->cfg.periodic_rephase) {
		t->deadline_ns = guest_now + v->period_ns;	/* Xen: now + period */
		return;
	}
	next = t->deadline_ns + v->period_ns;
	if ((int64_t)(guest_now - next) >= 0) {
		/* Missed ticks: skip them on the grid, one event for all. */
		k = (guest_now - next) / v->period_ns + 1;
		v->stats.coalesced += k;
		v->ev.periodic_ticks += k;
		v->ev.periodic_deadline_ns = next + (k - 1) * v->period_ns;
		next += k * v->period_ns;
	}
	t->deadline_ns = next;
}

/*
 * Conversions of the next periodic tick per delivery. One is the rule; a
 * fresh pairing can make the next tick due at once, and those are folded
 * into the same event. The bound keeps a clock that claims "due" forever
 * from spinning with the lock held: the last tick converted stays armed.
 */
#define PERIODIC_CONVERT_TRIES	4

/* Delivers a due periodic tick and converts the next one until not due. */
static void periodic_fire(struct pvt_xen_vcpu *v, bool immediate)
{
	uint64_t now;

	deliver(v, PVT_XEN_FIRED_PERIODIC, v->periodic.deadline_ns, immediate);
	/* From here the next tick waits for the host-time floor. */
	if (v->vm->cfg.algo == PVT_ALGO_PVTIME)
		v->per_last_tsc = periodic_last_tsc(v);
	else
		v->per_last_ns = pvt_hostclock_read_mono(v->vm->hostclock);
	v->per_last_valid = true;
	for (int i = 0; i < PERIODIC_CONVERT_TRIES; i++) {
		if (i) {
			/* Due again at once (a fresh pairing): folded into this event. */
			v->ev.periodic_ticks++;
			v->ev.periodic_deadline_ns = v->periodic.deadline_ns;
		}
		if (xt_guest_now(v, &now))
			now = v->periodic.deadline_ns;
		periodic_advance(v, now);
		if (!convert(v, &v->periodic))
			return;
	}
}

int xt_singleshot_arm(struct pvt_xen_vcpu *v, uint64_t deadline_ns, bool immediate)
{
	v->singleshot.armed = true;
	v->singleshot.deadline_ns = deadline_ns;
	if (convert(v, &v->singleshot)) {
		v->singleshot.armed = false;
		deliver(v, PVT_XEN_FIRED_SINGLESHOT, deadline_ns, immediate);
	}
	return xt_program(v);
}

int xt_settle(struct pvt_xen_vcpu *v, bool immediate)
{
	if (v->singleshot.armed && convert(v, &v->singleshot)) {
		v->singleshot.armed = false;
		deliver(v, PVT_XEN_FIRED_SINGLESHOT, v->singleshot.deadline_ns, immediate);
	}
	if (v->periodic.armed && convert(v, &v->periodic))
		periodic_fire(v, immediate);
	return xt_program(v);
}

/* PVTIME: timer-clock deadline for t, early by remaining x slew bound when far. */
static uint64_t pvtime_host_ns(struct pvt_xen_vcpu *v, const struct pvt_xen_timer *t,
			       const struct pvt_clock_pair *p,
			       const struct pvt_rate *r, uint64_t now_tsc)
{
	const struct pvt_xen_vm_config *cfg = &v->vm->cfg;
	uint64_t final, now_est, remaining, early;

	if (t->target_tsc == UINT64_MAX)
		return UINT64_MAX;
	final = hc_tsc_to_mono(p, r, t->target_tsc, true);	/* never early */
	now_est = hc_tsc_to_mono(p, r, now_tsc, false);
	if (final <= now_est)
		return hc_add_sat(now_est, 1);	/* not due yet: make progress */
	remaining = final - now_est;
	/*
	 * The rate may change before the deadline by up to the slew bound:
	 * when that could cost more than final_stage_ns, wake up early by
	 * that much and convert again from a fresh pairing.
	 */
	early = (uint64_t)(((pvt_u128)remaining * v->vm->slew_mul) >> 64) + 1;
	/*
	 * A stage at least halves what is left, so a deadline R host ns away
	 * costs at most log2(R / final_stage_ns) stages whatever the slew
	 * bound (log base 1000 of it with the default 1000 ppm).
	 */
	if (early > remaining / 2)
		early = remaining / 2;
	if (early > cfg->final_stage_ns && early < remaining) {
		v->stats.stages++;
		return final - early;
	}
	return final;
}

/*
 * Arms after a step seen in the post-arm poll, at most this many per call.
 * If the clock stepped again during the last of them, the host timer is
 * armed at 1 instead (a time every clock has passed): it wakes at once and
 * service() programs again from a fresh pairing, so no call spins with the
 * lock held and no deadline is left converted from a stale pairing. Each
 * such wake needs STEP_REARMS + 1 host steps: bounded by the host's rate.
 */
#define STEP_REARMS	4

/* The earliest host deadline of v's converted timers; false if none. */
static bool earliest(struct pvt_xen_vcpu *v, const struct pvt_clock_pair *p,
		     const struct pvt_rate *r, uint64_t now_tsc, uint64_t *best)
{
	struct pvt_xen_timer *timers[2] = { &v->singleshot, &v->periodic };
	bool pvtime = v->vm->cfg.algo == PVT_ALGO_PVTIME;
	bool any = false;
	uint64_t h;

	*best = UINT64_MAX;
	for (int i = 0; i < 2; i++) {
		if (!timers[i]->armed || !timers[i]->converted)
			continue;
		h = pvtime ? pvtime_host_ns(v, timers[i], p, r, now_tsc) :
			     timers[i]->host_ns;
		any = true;
		if (h < *best)
			*best = h;
	}
	return any;
}

/*
 * A steppable host clock (CLOCK_REALTIME): the pairing must not predate a
 * step. hc_sync() re-pairs when a step is already known (one
 * atomic load otherwise; a private pairing if the refresh is busy). A step
 * landing after that check but before the timerfd is armed cancels nothing, so after each timerfd arm the step
 * count is polled once (one non-blocking read of the watch fd, ~300 ns, next
 * to the ~550 ns timerfd_settime it follows) and, if it moved past the
 * pairing used, the deadline is converted and armed again. Steps after the
 * arm cancel the armed timer, whose wake-up re-programs. A VMM loop may
 * poll the same fd, but only this synchronous read closes the window.
 * CLOCK_MONOTONIC has no step count: no extra work at all.
 */
int xt_program(struct pvt_xen_vcpu *v)
{
	struct pvt_hostclock *hc = v->vm->hostclock;
	bool pvtime = v->vm->cfg.algo == PVT_ALGO_PVTIME;
	bool steppable = pvtime && hc->ops->steps;
	struct pvt_clock_pair p = { 0 };
	struct pvt_rate r = { 0 };
	uint64_t best, now_tsc = 0, gen = 0;
	int ret;

	for (int round = 0;; round++) {
		bool armed_now = false;

		if (pvtime) {
			now_tsc = xt_tsc(v);
			hc_sync(hc, now_tsc, &p, &r, &gen);
		}
		if (!earliest(v, &p, &r, now_tsc, &best)) {
			/*
			 * A failed disarm only risks a spurious wake, which
			 * service() tolerates (it re-checks what is due).
			 */
			if (v->host_armed)
				(void)pvt_hosttimer_disarm(v->timer);
			v->host_armed = false;
			return 0;
		}
		/* The VMM spins the last advance_ns (service() says due_tsc). */
		if (v->advance_ns && best != UINT64_MAX)
			best = best > v->advance_ns ? best - v->advance_ns : 1;
		if (!v->host_armed || v->host_armed_ns != best) {
			ret = pvt_hosttimer_arm(v->timer, best);
			armed_now = true;
			v->host_armed = !ret;
			v->host_armed_ns = best;
			if (ret)
				return ret;
		}
		/* An arming kept from before was checked when it was made. */
		if (!steppable || !armed_now || hc_steps(hc, true) == gen)
			return 0;
		v->stats.step_rearms++;
		if (round + 1 >= STEP_REARMS) {
			ret = pvt_hosttimer_arm(v->timer, 1);
			v->host_armed = !ret;
			v->host_armed_ns = 1;
			return ret;
		}
	}
}

void xt_save(const struct pvt_xen_vcpu *v, struct xt_saved *s)
{
	s->singleshot = v->singleshot;
	s->periodic = v->periodic;
	s->period_ns = v->period_ns;
	s->clock = v->clock;
	s->clock_valid = v->clock_valid;
	s->port = v->port;
	s->priority = v->priority;
}

int xt_finish(struct pvt_xen_vcpu *v, const struct xt_saved *s, int ret)
{
	if (ret) {
		/*
		 * The host timer could not be armed for the new state: keep
		 * the old one, whose conversions are still valid, and arm for
		 * it again (host_armed is false now, so this really arms). If
		 * even that fails, the call's error already says so.
		 */
		v->singleshot = s->singleshot;
		v->periodic = s->periodic;
		v->period_ns = s->period_ns;
		v->clock = s->clock;
		v->clock_valid = s->clock_valid;
		v->port = s->port;
		v->priority = s->priority;
		(void)xt_program(v);
	}
	xt_unlock(v);
	return ret;
}

/*
 * Whether t is due at this wake-up (now_tsc for PVTIME, now_mono otherwise).
 * PVTIME: target_tsc is where the guest clock reached the deadline as seen
 * from the conversion; it still has at now_tsc only if the clock did not go
 * back below the deadline in between. A sawtooth clock (a shifted delta or
 * a scaled TSC that wraps) does, and a late wake can find it there: so the
 * guest clock at now_tsc decides (the inverse's signed rule, exactly), and
 * a timer it has not reached is converted again from now, to wait for it.
 */
static bool due(struct pvt_xen_vcpu *v, struct pvt_xen_timer *t, uint64_t now_tsc,
		uint64_t now_mono)
{
	if (!t->armed)
		return false;
	if (t == &v->singleshot && (int64_t)t->deadline_ns < 0)
		return true;
	if (!t->converted)
		return false;
	if (v->vm->cfg.algo != PVT_ALGO_PVTIME)
		return now_mono >= t->host_ns;
	if (now_tsc < t->target_tsc)
		return false;
	if ((int64_t)(t->deadline_ns - pvt_guest_clock_ns(&v->clock, now_tsc)) <= 0)
		return true;
	return convert(v, t);
}

/*
 * With an advance, whether the earliest armed PVTIME deadline (not yet due)
 * is within advance_ns of now_tsc: then *due_tsc is it and the host timer
 * is not re-armed, the VMM spins to it.
 */
static bool in_advance(struct pvt_xen_vcpu *v, uint64_t now_tsc, uint64_t *due_tsc)
{
	struct pvt_xen_timer *timers[2] = { &v->singleshot, &v->periodic };
	struct pvt_clock_pair p;
	struct pvt_rate r;
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 2; i++)
		if (timers[i]->armed && timers[i]->converted && timers[i]->target_tsc < best)
			best = timers[i]->target_tsc;
	if (best == UINT64_MAX || best <= now_tsc)
		return false;
	pvt_hostclock_current(v->vm->hostclock, &p, &r, NULL);
	if (pvt_rate_apply(&r, best - now_tsc, true) > v->advance_ns)
		return false;
	*due_tsc = best;
	return true;
}

int pvt_xen_vcpu_service(struct pvt_xen_vcpu *v, struct pvt_xen_events *ev)
{
	struct pvt_hostclock *hc = v->vm->hostclock;
	bool pvtime = v->vm->cfg.algo == PVT_ALGO_PVTIME;
	uint64_t now_tsc = 0, now_mono = 0, due_tsc = 0;
	bool delivered = false, fired = true;
	int ret = 0, read_err = 0, r;

	xt_lock(v);
	if (v->timer->fd >= 0) {
		/* -ECANCELED (a realtime step) also wakes: re-convert and re-arm. */
		r = pvt_hosttimer_drain(v->timer);
		/*
		 * A read error says nothing about the deadlines: serve as if it
		 * fired (what is due is judged by the TSC, never early), re-arm,
		 * and report the error after that.
		 */
		if (r < 0 && r != -ECANCELED)
			read_err = r;
		fired = r != 0;
	}
	if (fired) {
		v->stats.host_fires++;
		v->host_armed = false;
	}
	if (pvtime)
		now_tsc = xt_tsc(v);
	else
		now_mono = pvt_hostclock_read_mono(hc);
	if (due(v, &v->singleshot, now_tsc, now_mono)) {
		v->singleshot.armed = false;
		deliver(v, PVT_XEN_FIRED_SINGLESHOT, v->singleshot.deadline_ns, false);
		delivered = true;
	}
	if (due(v, &v->periodic, now_tsc, now_mono)) {
		periodic_fire(v, false);
		delivered = true;
	}
	if (pvtime && v->advance_ns && !v->host_armed && in_advance(v, now_tsc, &due_tsc)) {
		/* The host timer stays off: the VMM spins and calls again. */
	} else {
		if (fired && !delivered && pvtime &&
		    (v->singleshot.armed || v->periodic.armed)) {
			/* A stage or an early wake: re-pair here, near the deadline. */
			v->stats.early_wakes++;
			(void)pvt_hostclock_refresh(hc);
		}
		/*
		 * Not fired (a spurious or repeated call): the armed host timer
		 * is kept unless the earliest deadline moved.
		 */
		ret = xt_program(v);
	}
	r = xt_take(v, ev);
	ev->due_tsc = due_tsc;
	xt_unlock(v);
	if (read_err)
		return read_err;
	return ret ? ret : r;
}

// SPDX-License-Identifier: MIT
/*
 * Fuzzes the engine with a hostile guest: a sequence of hypercalls decoded
 * from the input (set_timer_op with any deadline, vcpu_op with any
 * cmd/target/argument pointer and length, garbage pvclock pages, ratios and
 * frac bits, saved state) interleaved with simulated time, host slews,
 * preemptions and guest clock steps, on a simulated VM with 2 vCPUs.
 * After every step: return codes are documented ones (the host channel
 * always 0, the guest's Xen result one Xen returns); what is taken after
 * each call and each service never holds a stopped timer nor (PVTIME,
 * valid monotonic clock) an expiry before its guest deadline; time advances are bounded and so are host wake-ups
 * at one instant (no livelock); and host wake-ups are bounded in host time
 * whatever the guest clock does: any three periodic deliveries in a row on
 * one vCPU (same period) span at least period / (2 x
 * PVT_XEN_PERIODIC_MAX_RATE_FACTOR) ns of true time while the host slews
 * within the configured bound (xentimer.h: any T host ns hold at most
 * T x factor / period + 2 deliveries).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_xentimer_vm.h"

#define MAX_OPS		96
#define MAX_ADVANCE_NS	(1ull << 32)	/* ~4.3 s per step */
#define MAX_WAKES	20000		/* per input: then steps end early */
#define MAX_STUCK	1000		/* wake-ups at one instant: a livelock */

struct ctx {
	struct fz_vm *f;
	bool ss_live[FZ_VCPUS];		/* the guest may see a singleshot expiry */
	bool per_live[FZ_VCPUS];	/* ... a periodic one */
	uint64_t pre_tsc;		/* host TSC when the current step began */
	uint64_t pre_true;		/* ... and true time */
	/* Host TSC at or before each timer's last conversion (arm, clock, tick). */
	uint64_t conv_ss[FZ_VCPUS], conv_per[FZ_VCPUS];
	uint64_t wakes;			/* host timer wake-ups so far */
	bool wild_slew;			/* a slew beyond what the engine is told to expect */
	uint64_t delivered;
	/* The last two periodic deliveries per vCPU: true ns and period. */
	uint64_t per_at[FZ_VCPUS][2], per_period[FZ_VCPUS][2];
	unsigned per_seen[FZ_VCPUS];
};

/*
 * The host-time bound: floors a gap (period / factor host ns) apart, each
 * delivery at most a gap after its floor, so deliveries k and k + 2 are at
 * least 2 gaps - 1 gap apart; host rates within +-13 % (the widest
 * non-wild slew) leave more than half a gap of true time. Slack: 3 TSC
 * ticks of rounding.
 */
static void check_bound(struct ctx *x, const struct pvt_xen_vcpu *v)
{
	const struct pvt_simhost *sim = x->f->sim;
	unsigned i = v->id;
	uint64_t now = sim->true_ns, p = v->period_ns;
	uint64_t min_ns = p / (2 * PVT_XEN_PERIODIC_MAX_RATE_FACTOR);
	uint64_t slack = 3 * (1000000 / sim->tsc_khz + 1);

	if (x->per_seen[i] >= 2 && !x->wild_slew && x->per_period[i][0] == p &&
	    x->per_period[i][1] == p && now - x->per_at[i][0] + slack < min_ns) {
		fprintf(stderr, "host wake-ups unbounded on vCPU %u: periodic deliveries at %"
			PRIu64 ", %" PRIu64 ", %" PRIu64 " (period %" PRIu64 ")\n", i,
			x->per_at[i][0], x->per_at[i][1], now, p);
		abort();
	}
	x->per_at[i][0] = x->per_at[i][1];
	x->per_period[i][0] = x->per_period[i][1];
	x->per_at[i][1] = now;
	x->per_period[i][1] = p;
	x->per_seen[i]++;
}

/*
 * Whether v's guest clock moves monotonically (no 64-bit wrap of the scaled
 * or offset guest TSC, of its delta to the page, nor of that delta shifted
 * left by the page's shift) from tsc a to tsc b,
 * by less than 2^62 ns: then signed guest-time comparisons mean "before".
 */
static bool clock_sane(const struct pvt_guest_clock *c, uint64_t a, uint64_t b)
{
	unsigned __int128 fa = ((unsigned __int128)a * c->tsc.ratio) >> c->tsc.frac_bits;
	unsigned __int128 fb = ((unsigned __int128)b * c->tsc.ratio) >> c->tsc.frac_bits;
	uint64_t ga = pvt_guest_tsc(&c->tsc, a), gb = pvt_guest_tsc(&c->tsc, b);
	uint64_t da = ga - c->page.tsc_timestamp, db = gb - c->page.tsc_timestamp;

	if (fb - fa >= ((unsigned __int128)1 << 64) || (uint64_t)(fb - fa) != gb - ga ||
	    db < da)
		return false;
	/* A positive shift that pushes bits out wraps the clock back. */
	if (c->page.tsc_shift > 0 && (db >> (64 - c->page.tsc_shift)))
		return false;
	return pvt_guest_clock_ns(c, b) - pvt_guest_clock_ns(c, a) < (1ull << 62);
}

/* Checks one kind of expiry the VMM took (at the instant it took it). */
static void check_expiry(struct ctx *x, struct pvt_xen_vcpu *v, uint32_t kind,
			 uint64_t deadline)
{
	uint64_t now_tsc, g_pre, g_now;

	x->delivered++;
	if (v->id >= FZ_VCPUS)
		abort();
	if (kind == PVT_XEN_FIRED_SINGLESHOT) {
		if (!x->ss_live[v->id])
			abort();	/* stopped, or delivered twice */
		x->ss_live[v->id] = false;
	} else {
		if (!x->per_live[v->id])
			abort();	/* periodic after stop */
		x->conv_per[v->id] = pvt_simhost_tsc(x->f->sim);	/* the next tick */
		check_bound(x, v);
	}
	/* Never early: only PVTIME promises it (legacy/KVM model the bugs). */
	if (v->vm->cfg.algo != PVT_ALGO_PVTIME || !v->clock_valid)
		return;
	if ((int64_t)deadline < 0)
		return;		/* negative = in the past, by Xen's definition */
	now_tsc = pvt_simhost_tsc(x->f->sim);
	if (!clock_sane(&v->clock, x->pre_tsc, now_tsc))
		return;
	g_pre = pvt_guest_clock_ns(&v->clock, x->pre_tsc);
	g_now = pvt_guest_clock_ns(&v->clock, now_tsc);
	if ((int64_t)(deadline - g_pre) > 0 && g_now - g_pre < deadline - g_pre) {
		fprintf(stderr, "early %s expiry: deadline %" PRIu64 ", guest now %" PRIu64
			" (step began at %" PRIu64 "), host TSC %" PRIu64 "\n",
			kind == PVT_XEN_FIRED_SINGLESHOT ? "singleshot" : "periodic",
			deadline, g_now, g_pre, now_tsc);
		abort();
	}	/* delivered before the guest deadline */
}

/* What a take returned: each kind checked; nothing else may be in it. */
static void on_events(void *cp, struct pvt_xen_vcpu *v, const struct pvt_xen_events *ev)
{
	struct ctx *x = cp;

	if (ev->fired & ~(PVT_XEN_FIRED_SINGLESHOT | PVT_XEN_FIRED_PERIODIC))
		abort();
	if ((ev->fired & PVT_XEN_FIRED_PERIODIC) && !ev->periodic_ticks)
		abort();
	if (ev->fired & PVT_XEN_FIRED_SINGLESHOT)
		check_expiry(x, v, PVT_XEN_FIRED_SINGLESHOT, ev->singleshot_deadline_ns);
	if (ev->fired & PVT_XEN_FIRED_PERIODIC)
		check_expiry(x, v, PVT_XEN_FIRED_PERIODIC, ev->periodic_deadline_ns);
}

/* A deadline: raw, or near guest now (where the interesting cases are). */
static uint64_t deadline_from(struct pvt_xen_vcpu *v, struct fz_in *in)
{
	uint8_t how = fz_u8(in);
	uint64_t now = 0;

	if (how & 1)
		return fz_u64(in);
	(void)pvt_xen_vcpu_guest_now(v, &now);
	if (how & 2)
		return now - fz_take(in, 4);
	return now + (fz_take(in, (how >> 2) % 9) >> ((how >> 5) * 4));
}

static uint64_t period_from(struct fz_in *in)
{
	uint8_t how = fz_u8(in);

	if (how & 1)
		return fz_u64(in);
	return PVT_XEN_PERIOD_MIN_NS - 2 + fz_take(in, 3);
}

/* A clock for set_guest_clock: KVM's with a perturbation, or garbage. */
static void clock_from(struct fz_vm *f, struct fz_in *in, struct pvt_guest_clock *c)
{
	uint8_t how = fz_u8(in);

	*c = f->clock;
	switch (how & 7) {
	case 0:		/* the same clock again */
		break;
	case 1:		/* KVM_SET_CLOCK: the guest clock steps */
		c->page.system_time += (uint64_t)(int64_t)(int32_t)fz_take(in, 4) * 1000;
		break;
	case 2:		/* a TSC write: the offset changes */
		c->tsc.offset += fz_u64(in);
		break;
	case 3:		/* a different frequency */
		c->page.tsc_to_system_mul = (uint32_t)fz_take(in, 4);
		c->page.tsc_shift = (int8_t)fz_u8(in);
		break;
	case 4:		/* a hostile ratio / frac bits */
		c->tsc.ratio = fz_u64(in);
		c->tsc.frac_bits = fz_u8(in);
		break;
	default:	/* a garbage page and scaling */
		fz_bytes(in, &c->page, sizeof(c->page));
		if (how & 8) {
			c->tsc.ratio = fz_u64(in);
			c->tsc.offset = fz_u64(in);
			c->tsc.frac_bits = fz_u8(in);
		}
		break;
	}
}

static bool is_vcpu_op_ret(int r)
{
	return r == 0 || r == -ENOENT || r == -EINVAL || r == -EFAULT || r == -ENOSYS ||
	       r == -ETIME;
}

static void op_vcpu_op(struct ctx *x, struct fz_in *in)
{
	static const int cmds[] = {
		PVT_XEN_VCPUOP_set_periodic_timer, PVT_XEN_VCPUOP_stop_periodic_timer,
		PVT_XEN_VCPUOP_set_singleshot_timer, PVT_XEN_VCPUOP_stop_singleshot_timer,
	};
	uint8_t sel = fz_u8(in), arg[32];
	unsigned ci = sel % FZ_VCPUS, ti = (sel >> 1) % (FZ_VCPUS + 1);
	struct pvt_xen_vcpu *caller = x->f->vcpus[ci];
	struct pvt_xen_vcpu *target = ti < FZ_VCPUS ? x->f->vcpus[ti] : NULL;
	int cmd = (sel & 0x80) ? (int)(uint32_t)fz_take(in, 4) : cmds[(sel >> 3) & 3];
	size_t len = fz_u8(in) % (sizeof(arg) + 1);
	bool ss_prev[FZ_VCPUS], per_prev[FZ_VCPUS];
	int ret;

	memset(arg, 0, sizeof(arg));
	if (fz_u8(in) & 1) {	/* an argument relative to the target's now */
		uint64_t d = deadline_from(target ? target : caller, in);

		memcpy(arg, &d, sizeof(d));
		arg[8] = fz_u8(in);
	} else {
		for (size_t i = 0; i < len; i++)
			arg[i] = fz_u8(in);
	}
	memcpy(ss_prev, x->ss_live, sizeof(ss_prev));
	memcpy(per_prev, x->per_live, sizeof(per_prev));
	/* Before the call: an immediate expiry is recorded by it (and taken after). */
	if (target && cmd == PVT_XEN_VCPUOP_set_singleshot_timer) {
		x->ss_live[ti] = true;
		x->conv_ss[ti] = x->pre_tsc;
	}
	if (target && cmd == PVT_XEN_VCPUOP_stop_singleshot_timer && caller == target)
		x->ss_live[ti] = false;
	if (target && cmd == PVT_XEN_VCPUOP_set_periodic_timer) {
		x->per_live[ti] = true;
		x->conv_per[ti] = x->pre_tsc;
	}
	if (target && cmd == PVT_XEN_VCPUOP_stop_periodic_timer)
		x->per_live[ti] = false;
	/* The host channel must be 0; the guest's result is checked here. */
	x->f->take_after_calls = false;
	ret = fz_vcpu_op(x->f, caller, target, cmd, (sel & 0x40) ? NULL : arg, len);
	x->f->take_after_calls = true;
	if (!is_vcpu_op_ret(ret))
		abort();
	if (ret) {
		/* Rejected: no state changed, so nothing may have been recorded. */
		memcpy(x->ss_live, ss_prev, sizeof(ss_prev));
		memcpy(x->per_live, per_prev, sizeof(per_prev));
	}
	if (target)
		fz_collect(x->f, target);
	fz_collect(x->f, caller);
	if (!target && ret != -ENOENT)
		abort();
}

static void dump_livelock(const struct ctx *x)
{
	const struct pvt_simhost *sim = x->f->sim;

	for (unsigned i = 0; i < FZ_VCPUS; i++) {
		const struct pvt_xen_vcpu *v = x->f->vcpus[i];

		fprintf(stderr, "livelock: vcpu %u algo %d clock %d ss %d/%" PRIu64 "/%" PRIu64
			" per %d/%" PRIu64 "/%" PRIu64 " period %" PRIu64 " host_armed_ns %" PRIu64
			" fires %" PRIu64 " delivered %" PRIu64 " stages %" PRIu64 "\n", i,
			v->vm->cfg.algo, v->clock_valid, v->singleshot.armed,
			v->singleshot.deadline_ns, v->singleshot.target_tsc, v->periodic.armed,
			v->periodic.deadline_ns, v->periodic.target_tsc, v->period_ns,
			v->host_armed_ns, v->stats.host_fires, v->stats.delivered, v->stats.stages);
	}
	fprintf(stderr, "livelock: true %" PRIu64 " tsc %" PRIu64 " mono %" PRIu64 " khz %u\n",
		sim->true_ns, pvt_simhost_tsc(sim), pvt_simhost_mono(sim), sim->tsc_khz);
}

/*
 * Lets simulated time pass (or skips it: a preemption). Many wake-ups are
 * legitimate (2 vCPUs with 1 ms periodic timers wake the host 4000 times a
 * second under the bound, singleshot storms once per hypercall), so steps
 * stop after a budget; what is never legitimate is many wake-ups without
 * time moving: a livelock.
 */
static void advance(struct ctx *x, struct fz_in *in, bool preempt)
{
	struct pvt_simhost *sim = x->f->sim;
	uint64_t dt = fz_take(in, 5) % MAX_ADVANCE_NS, until = sim->true_ns + dt;
	uint64_t stuck = 0, last = sim->true_ns;

	x->pre_tsc = pvt_simhost_tsc(sim);
	if (preempt) {
		pvt_simhost_skip(sim, dt);	/* time passes, timers wait */
		return;
	}
	while (x->wakes < MAX_WAKES && pvt_simhost_step(sim, until)) {
		x->wakes++;
		stuck = sim->true_ns == last ? stuck + 1 : 0;
		last = sim->true_ns;
		if (stuck > MAX_STUCK) {
			dump_livelock(x);
			abort();
		}
	}
}

static void op_restore(struct ctx *x, struct pvt_xen_vcpu *v, struct fz_in *in)
{
	uint8_t blob[PVT_XEN_BLOB_SIZE], sel = fz_u8(in);
	struct fz_state before, after;
	bool ss_prev = x->ss_live[v->id], per_prev = x->per_live[v->id];
	uint64_t delivered = x->delivered;
	int ret;

	if (sel & 1) {	/* a real blob, possibly from the other vCPU */
		if (pvt_xen_vcpu_save(x->f->vcpus[(sel >> 1) % FZ_VCPUS], blob,
				      sizeof(blob)) != PVT_XEN_BLOB_SIZE)
			abort();
		if (sel & 4)
			blob[fz_u8(in) % sizeof(blob)] ^= fz_u8(in);
	} else {
		memset(blob, 0, sizeof(blob));
		for (size_t i = 12; i < 48 && in->left; i++)
			blob[i] = fz_u8(in);
		fz_forge_header(blob);
	}
	if (sel & 8)
		fz_reseal(blob);
	fz_get_state(v, &before);
	x->ss_live[v->id] = blob[12] & 1;
	x->per_live[v->id] = blob[12] & 2;
	x->f->take_after_calls = false;
	ret = pvt_xen_vcpu_restore(v, blob, sizeof(blob));
	x->f->take_after_calls = true;
	if (!ret)
		x->conv_ss[v->id] = x->conv_per[v->id] = x->pre_tsc;
	if (ret) {
		if (ret != -EPROTO && ret != -EBADMSG && ret != -EINVAL && ret != -EMSGSIZE)
			abort();
		x->ss_live[v->id] = ss_prev;
		x->per_live[v->id] = per_prev;
		fz_get_state(v, &after);
		if (!fz_state_same(&before, &after) || x->delivered != delivered)
			abort();	/* lost state */
	}
	/* The blob's pending expiry (which timer is not kept) comes back as restored. */
	{
		struct pvt_xen_events ev;

		if (pvt_xen_vcpu_take(v, &ev)) {
			if ((ev.fired & PVT_XEN_FIRED_RESTORED) && !(blob[12] & 4))
				abort();
			ev.fired &= ~PVT_XEN_FIRED_RESTORED;
			fz_events(x->f, v, &ev);
		}
	}
}

/* Whether t, converted at conv_tsc, was due by host TSC ck_tsc (sane clock only). */
static bool reached(const struct pvt_xen_vcpu *v, const struct pvt_xen_timer *t,
		    uint64_t conv_tsc, uint64_t ck_tsc)
{
	uint64_t g_c, g_ck;

	if ((int64_t)t->deadline_ns < 0 || !clock_sane(&v->clock, conv_tsc, ck_tsc))
		return false;
	g_c = pvt_guest_clock_ns(&v->clock, conv_tsc);
	g_ck = pvt_guest_clock_ns(&v->clock, ck_tsc);
	return (int64_t)(t->deadline_ns - g_c) <= 0 || g_ck - g_c >= t->deadline_ns - g_c;
}

/*
 * PVTIME never loses a timer: after time passed, one whose guest deadline
 * was reached a wake latency + the final stage (+ 10 us of rounding)
 * before now has fired. Its promise holds while the host rate changes by
 * at most the configured slew bound: not after a wilder slew.
 * Also on the CLOCK_REALTIME host clock across steps (it found a timer
 * armed after an idle step firing late by the step: test_hardening_engine).
 */
static void check_not_lost(const struct ctx *x, const struct pvt_xen_vcpu *v)
{
	const struct pvt_simhost *sim = x->f->sim;
	uint64_t slack = sim->wake_latency_ns + v->vm->cfg.final_stage_ns + 10000, ck_tsc;
	uint64_t per_floor, gap;

	if (v->vm->cfg.algo != PVT_ALGO_PVTIME || !v->clock_valid || x->wild_slew ||
	    sim->true_ns < x->pre_true + slack)
		return;
	ck_tsc = pvt_simhost_tsc_at(sim, sim->true_ns - slack);
	/*
	 * The periodic timer also waits for its host-time floor: a gap
	 * (period / factor host ns, at most 15 % more in true time while the
	 * host slews within the bound) after the last delivery.
	 */
	per_floor = x->per_seen[v->id] ? x->per_at[v->id][1] : 0;
	gap = v->period_ns / PVT_XEN_PERIODIC_MAX_RATE_FACTOR;
	per_floor = per_floor + gap + gap / 6 < per_floor ? UINT64_MAX : per_floor + gap + gap / 6;
	if ((x->ss_live[v->id] && reached(v, &v->singleshot, x->conv_ss[v->id], ck_tsc)) ||
	    (x->per_live[v->id] && sim->true_ns - slack >= per_floor &&
	     reached(v, &v->periodic, x->conv_per[v->id], ck_tsc))) {
		fprintf(stderr, "lost timer on vCPU %u: ss %d/%" PRIu64 "/%" PRIu64 " per %d/%"
			PRIu64 "/%" PRIu64 " conv %" PRIu64 "/%" PRIu64 " host %d/%" PRIu64
			" true %" PRIu64 " mono %" PRIu64 " tsc %" PRIu64 " guest %" PRIu64
			" step began %" PRIu64 " rt off %" PRId64 "\n", v->id, v->singleshot.armed,
			v->singleshot.deadline_ns, v->singleshot.target_tsc, v->periodic.armed,
			v->periodic.deadline_ns, v->periodic.target_tsc, x->conv_ss[v->id],
			x->conv_per[v->id], v->host_armed, v->host_armed_ns, sim->true_ns,
			pvt_simhost_mono(sim), pvt_simhost_tsc(sim),
			pvt_guest_clock_ns(&v->clock, pvt_simhost_tsc(sim)), x->pre_true,
			sim->realtime_offset_ns);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct ctx x;
	struct fz_vm f;
	struct pvt_guest_clock clock;
	struct pvt_xen_kvm_timer_attr attr;
	uint8_t boot;
	int ret;

	memset(&x, 0, sizeof(x));
	x.f = &f;
	if (fz_vm_init(&f, &in, on_events, &x))
		return 0;
	boot = fz_u8(&in);
	for (unsigned i = 0; i < FZ_VCPUS; i++)
		if (!(boot & (1u << i)) &&
		    fz_after(&f, f.vcpus[i], pvt_xen_vcpu_set_guest_clock(f.vcpus[i], &f.clock)))
			abort();	/* KVM's own clock must be accepted */

	for (unsigned n = 0; n < MAX_OPS && in.left; n++) {
		uint8_t op = fz_u8(&in);
		struct pvt_xen_vcpu *v = f.vcpus[(op >> 4) % FZ_VCPUS];
		unsigned id = v->id;
		uint64_t d;

		x.pre_tsc = pvt_simhost_tsc(f.sim);
		x.pre_true = f.sim->true_ns;
		switch (op & 15) {
		case 0:
			d = deadline_from(v, &in);
			x.ss_live[id] = d != 0;
			x.conv_ss[id] = x.pre_tsc;
			if (fz_set_timer_op(&f, v, d))
				abort();
			break;
		case 1: {
			bool prev = x.ss_live[id];
			uint32_t flags = (uint32_t)fz_take(&in, 1);

			d = deadline_from(v, &in);
			x.ss_live[id] = true;
			x.conv_ss[id] = x.pre_tsc;
			ret = fz_set_singleshot(&f, v, d, flags);
			if (ret == -ETIME && v->vm->cfg.strict_future)
				x.ss_live[id] = prev;
			else if (ret)
				abort();
			break;
		}
		case 2:
			x.ss_live[id] = false;
			if (fz_stop_singleshot(&f, v))
				abort();
			break;
		case 3: {
			bool prev = x.per_live[id];
			uint64_t p = period_from(&in);

			x.per_live[id] = true;
			x.conv_per[id] = x.pre_tsc;
			ret = fz_set_periodic(&f, v, p);
			if (ret == -EINVAL && (p < PVT_XEN_PERIOD_MIN_NS || p > PVT_XEN_STIME_DELTA_MAX))
				x.per_live[id] = prev;
			else if (ret)
				abort();
			break;
		}
		case 4:
			x.per_live[id] = false;
			if (fz_stop_periodic(&f, v))
				abort();
			break;
		case 5:
		case 6:
			op_vcpu_op(&x, &in);
			break;
		case 7:
			clock_from(&f, &in, &clock);
			ret = fz_after(&f, v, pvt_xen_vcpu_set_guest_clock(v, &clock));
			if (ret != 0 && ret != -EINVAL)
				abort();
			if ((ret == 0) != (pvt_guest_clock_check(&clock) == 0))
				abort();
			if (!ret)
				x.conv_ss[id] = x.conv_per[id] = x.pre_tsc;
			break;
		case 8:
		case 9:
			advance(&x, &in, false);
			for (unsigned i = 0; i < FZ_VCPUS; i++)
				check_not_lost(&x, f.vcpus[i]);
			break;
		case 10:
			advance(&x, &in, true);
			break;
		case 11:
		{
			int64_t ppt = (int64_t)fz_u64(&in) % (2 * PVT_PPT_ONE);
			uint64_t mag;

			if (fz_u8(&in) & 1)	/* mostly NTP-sized: within +-512 ppm */
				ppt %= 512 * PVT_PPT_PER_PPM;
			mag = ppt < 0 ? -(uint64_t)ppt : (uint64_t)ppt;
			ret = pvt_simhost_set_slew(f.sim, ppt);
			if (ret != 0 && ret != -EINVAL)
				abort();
			if (!ret && 2 * mag > f.vm->cfg.slew_bound_ppm * PVT_PPT_PER_PPM)
				x.wild_slew = true;
		}
			break;
		case 12:
			/* Everything was taken after each call: nothing is left. */
			{
				struct pvt_xen_events ev;

				if (pvt_xen_vcpu_take(v, &ev))
					abort();
			}
			break;
		case 13:
			op_restore(&x, v, &in);
			break;
		case 14:
			attr.port = (uint32_t)fz_take(&in, 4);
			attr.priority = 0;
			attr.expires_ns = (fz_u8(&in) & 1) ? 0 : deadline_from(v, &in);
			x.ss_live[id] = attr.expires_ns != 0;
			x.conv_ss[id] = x.pre_tsc;
			if (fz_after(&f, v, pvt_xen_vcpu_import_kvm(v, &attr)))
				abort();
			break;
		default:
			/*
			 * A host wall-clock step (+-2^47 ns): armed realtime timers
			 * are cancelled (cancel-on-set) and wake at the next advance.
			 */
			pvt_simhost_step_realtime(f.sim, (int64_t)fz_u64(&in) >> 16);
			break;
		}
		/* The engine's armed flags are exactly what the guest asked for. */
		for (unsigned i = 0; i < FZ_VCPUS; i++)
			if (f.vcpus[i]->singleshot.armed != x.ss_live[i] ||
			    f.vcpus[i]->periodic.armed != x.per_live[i])
				abort();
	}
	fz_vm_destroy(&f);
	return 0;
}

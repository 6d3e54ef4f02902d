/* SPDX-License-Identifier: MIT */
/*
 * Shared by the xentimer fuzzers: an input cursor and a simulated VM (2
 * vCPUs) whose setup is itself decoded from the input, cleaned up exactly
 * so LeakSanitizer stays quiet on every path.
 */
#ifndef PVTIME_FUZZ_XENTIMER_VM_H
#define PVTIME_FUZZ_XENTIMER_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pvtime/guestclock.h"
#include "pvtime/simhost.h"
#include "pvtime/xentimer.h"
#include "simhost-internal.h"
#include "xentimer-internal.h"

#define FZ_VCPUS	2

struct fz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint64_t fz_take(struct fz_in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

/* Copies up to n bytes (zero-filled past the end of the input). */
static inline void fz_bytes(struct fz_in *in, void *dst, size_t n)
{
	size_t k = in->left < n ? in->left : n;

	memset(dst, 0, n);
	memcpy(dst, in->p, k);
	in->p += k;
	in->left -= k;
}

static inline uint8_t fz_u8(struct fz_in *in)
{
	return (uint8_t)fz_take(in, 1);
}

static inline uint64_t fz_u64(struct fz_in *in)
{
	return fz_take(in, 8);
}

struct fz_vm;

/* What a take returned on vCPU v (called after every call and every service). */
typedef void (*fz_events_fn)(void *ctx, struct pvt_xen_vcpu *v, const struct pvt_xen_events *ev);

/* What a timer's notify hook needs to serve its vCPU. */
struct fz_slot {
	struct fz_vm *f;
	unsigned i;
};

struct fz_vm {
	struct pvt_simhost *sim;
	struct pvt_hostclock *hc;
	struct pvt_kvm_clock kvm;
	struct pvt_guest_clock clock;	/* the clock KVM would give: a sane start */
	struct pvt_xen_vm *vm;
	struct pvt_hosttimer *timers[FZ_VCPUS];	/* CLOCK_REALTIME ones when realtime */
	struct pvt_xen_vcpu *vcpus[FZ_VCPUS];
	struct fz_slot slots[FZ_VCPUS];
	bool realtime;		/* host clock = CLOCK_REALTIME (PVTIME only), steppable */
	fz_events_fn on_events;	/* may be NULL */
	void *ctx;
	bool take_after_calls;	/* the fz_ call wrappers take; else leave it recorded */
};

/* Hands what a take or service returned to the fuzzer. */
static inline void fz_events(struct fz_vm *f, struct pvt_xen_vcpu *v,
			     const struct pvt_xen_events *ev)
{
	if (ev->fired && f->on_events)
		f->on_events(f->ctx, v, ev);
}

/* A host timer fired: the VMM loop serves its vCPU. The queue always has room. */
static inline void fz_notify(void *ctx)
{
	struct fz_slot *s = ctx;
	struct pvt_xen_vcpu *v = s->f->vcpus[s->i];
	struct pvt_xen_events ev;

	if (pvt_xen_vcpu_service(v, &ev) < 0)
		abort();
	fz_events(s->f, v, &ev);
}

static inline void fz_vm_destroy(struct fz_vm *f)
{
	for (unsigned i = 0; i < FZ_VCPUS; i++) {
		pvt_xen_vcpu_free(f->vcpus[i]);
		pvt_hosttimer_free(f->timers[i]);
	}
	pvt_xen_vm_free(f->vm);
	pvt_hostclock_free(f->hc);
	pvt_simhost_free(f->sim);
}

/*
 * Decodes a VM from the input: algorithm, options, host/guest kHz, uptime,
 * wake latency; whether the vCPUs start with a clock. 0 or -errno (then
 * everything is already torn down). Takes go to on_events(ctx).
 */
static inline int fz_vm_init(struct fz_vm *f, struct fz_in *in, fz_events_fn on_events,
			     void *ctx)
{
	static const uint32_t khz[] = { 2596136, 3000000, 1000000, 2200000, 4000000, 999 };
	uint8_t sel = fz_u8(in), opt = fz_u8(in);
	struct pvt_xen_vm_config cfg;
	struct pvt_simhost_config sc;
	struct pvt_tsc_scaling tsc;
	uint64_t uptime_s = fz_u8(in);
	int ret;

	memset(f, 0, sizeof(*f));
	f->on_events = on_events;
	f->ctx = ctx;
	f->take_after_calls = true;
	pvt_xen_vm_config_default(&cfg);
	cfg.algo = (enum pvt_timer_algo)(sel % 3);
	cfg.linux_workaround = !(opt & 1);
	cfg.strict_future = opt & 2;
	cfg.periodic_rephase = opt & 4;
	if (opt & 8)
		cfg.slew_bound_ppm = fz_u8(in) * 1000ull;	/* 0..255000 */
	if (opt & 16)
		cfg.final_stage_ns = fz_take(in, 3);
	memset(&sc, 0, sizeof(sc));
	sc.tsc_khz = khz[(sel >> 2) % 6];
	sc.start_true_ns = uptime_s * 1000000000ull;
	sc.start_mono_ns = sc.start_true_ns;
	sc.wake_latency_ns = (opt & 32) ? fz_take(in, 2) : 0;
	sc.max_timers = FZ_VCPUS;
	if ((ret = pvt_simhost_new(&sc, &f->sim)))
		return ret;
	/* LEGACY and KVM expect CLOCK_MONOTONIC; PVTIME also runs on REALTIME. */
	f->realtime = (opt & 64) && cfg.algo == PVT_ALGO_PVTIME;
	if (f->realtime)
		f->sim->realtime_offset_ns = 1700000000000000000ll;
	if ((ret = f->realtime ? pvt_simhost_hostclock_new_realtime(f->sim, &f->hc) :
				 pvt_simhost_hostclock_new(f->sim, &f->hc)))
		goto fail;
	if ((ret = pvt_kvm_clock_init(&f->kvm, sc.tsc_khz, (sel & 0x80) ? 32 : 48)) ||
	    (ret = pvt_kvm_tsc_scaling(&f->kvm, khz[(sel >> 4) % 6], fz_u8(in) ? 0 : fz_u64(in),
				       &tsc)) ||
	    (ret = pvt_kvm_guest_clock(&f->kvm, &tsc, &f->clock)) ||
	    (ret = pvt_xen_vm_new(&cfg, f->hc, &f->kvm, &f->vm)))
		goto fail;
	for (unsigned i = 0; i < FZ_VCPUS; i++) {
		/* A realtime one is the KVM_GET_CLOCK backend's: cancelled by a step. */
		f->slots[i] = (struct fz_slot){ f, i };
		if ((ret = f->realtime ? pvt_simhost_timer_new_realtime(f->sim, &f->timers[i]) :
					 pvt_simhost_timer_new(f->sim, &f->timers[i])) ||
		    (ret = pvt_simhost_timer_set_notify(f->timers[i], fz_notify, &f->slots[i])) ||
		    (ret = pvt_xen_vcpu_new(f->vm, i, f->timers[i], &f->vcpus[i])))
			goto fail;
	}
	return 0;
fail:
	fz_vm_destroy(f);
	return ret;
}

/* After a call on v: takes (when take_after_calls) and hands it over. */
static inline void fz_collect(struct fz_vm *f, struct pvt_xen_vcpu *v)
{
	struct pvt_xen_events ev;

	if (f->take_after_calls && pvt_xen_vcpu_take(v, &ev))
		fz_events(f, v, &ev);
}

/*
 * The calls, each with the two channels checked apart: the host status
 * must be 0 (the simulated queue always has room, no timerfd can fail);
 * the guest's Xen result comes back. Then what was recorded is collected.
 */
static inline int fz_host_ok(struct fz_vm *f, struct pvt_xen_vcpu *v, int host, int64_t guest)
{
	if (host)
		abort();
	fz_collect(f, v);
	return (int)guest;
}

static inline int fz_set_timer_op(struct fz_vm *f, struct pvt_xen_vcpu *v, uint64_t d)
{
	int64_t g = 1;
	int r = pvt_xen_set_timer_op(v, d, &g);

	return fz_host_ok(f, v, r, g);
}

static inline int fz_set_singleshot(struct fz_vm *f, struct pvt_xen_vcpu *v, uint64_t d,
				    uint32_t flags)
{
	int64_t g = 1;
	int r = pvt_xen_set_singleshot(v, d, flags, &g);

	return fz_host_ok(f, v, r, g);
}

static inline int fz_stop_singleshot(struct fz_vm *f, struct pvt_xen_vcpu *v)
{
	int64_t g = 1;
	int r = pvt_xen_stop_singleshot(v, &g);

	return fz_host_ok(f, v, r, g);
}

static inline int fz_set_periodic(struct fz_vm *f, struct pvt_xen_vcpu *v, uint64_t p)
{
	int64_t g = 1;
	int r = pvt_xen_set_periodic(v, p, &g);

	return fz_host_ok(f, v, r, g);
}

static inline int fz_stop_periodic(struct fz_vm *f, struct pvt_xen_vcpu *v)
{
	int64_t g = 1;
	int r = pvt_xen_stop_periodic(v, &g);

	return fz_host_ok(f, v, r, g);
}

static inline int fz_vcpu_op(struct fz_vm *f, struct pvt_xen_vcpu *caller,
			     struct pvt_xen_vcpu *target, int cmd, const void *arg, size_t len)
{
	int64_t g = 1;
	int r = pvt_xen_vcpu_op(caller, target, cmd, arg, len, &g);

	if (target)
		fz_collect(f, target);
	return fz_host_ok(f, caller, r, g);
}

/* Calls that return 0 or -errno (never a host failure here): collected after. */
static inline int fz_after(struct fz_vm *f, struct pvt_xen_vcpu *v, int ret)
{
	fz_collect(f, v);
	return ret;
}

/* A valid checksum over bytes 0..55 (the library's seal, test_xentimer_save pins it). */
static inline void fz_reseal(uint8_t *b)
{
	xt_blob_seal(b);
}

/* A blob with a valid header (magic, version, length) and checksum over fuzzed fields. */
static inline void fz_forge_header(uint8_t *b)
{
	static const uint8_t hdr[12] = { 'P', 'V', 'T', 'X', 1, 0, 0, 0, 64, 0, 0, 0 };

	memcpy(b, hdr, sizeof(hdr));
}

/* Everything observable about a vCPU's timer state, for "unchanged" checks. */
struct fz_state {
	struct pvt_xen_timer ss, per;
	uint64_t period;
	bool pending;
	struct pvt_xen_vcpu_stats stats;
	uint8_t blob[PVT_XEN_BLOB_SIZE];
};

static inline void fz_get_state(struct pvt_xen_vcpu *v, struct fz_state *s)
{
	memset(s, 0, sizeof(*s));
	xt_snapshot(v, &s->ss, &s->per, &s->period, &s->pending, &s->stats);
	if (pvt_xen_vcpu_save(v, s->blob, sizeof(s->blob)) != PVT_XEN_BLOB_SIZE)
		abort();
}

static inline bool fz_timer_same(const struct pvt_xen_timer *a, const struct pvt_xen_timer *b)
{
	return a->armed == b->armed && a->deadline_ns == b->deadline_ns &&
	       a->target_tsc == b->target_tsc && a->host_ns == b->host_ns &&
	       a->converted == b->converted;
}

static inline bool fz_state_same(const struct fz_state *a, const struct fz_state *b)
{
	return fz_timer_same(&a->ss, &b->ss) && fz_timer_same(&a->per, &b->per) &&
	       a->period == b->period && a->pending == b->pending &&
	       !memcmp(&a->stats, &b->stats, sizeof(a->stats)) &&
	       !memcmp(a->blob, b->blob, sizeof(a->blob));
}

#endif

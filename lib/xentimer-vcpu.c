// SPDX-License-Identifier: MIT
/*
 * A VM's and a vCPU's life in the engine: configuration, setup, the guest
 * clock the vCPU registered, and read-only views of the state. It calls
 * into the core (xentimer.c); the core never calls back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "muldiv.h"
#include "xentimer-internal.h"

#define PPM_ONE		1000000ull

void pvt_xen_vm_config_default(struct pvt_xen_vm_config *cfg)
{
	*cfg = (struct pvt_xen_vm_config){
		.size = sizeof(*cfg),
		.algo = PVT_ALGO_PVTIME,
		.linux_workaround = true,
		.strict_future = false,
		.periodic_rephase = false,
		.slew_bound_ppm = 1000,
		.final_stage_ns = 1000,
	};
}

/* Bytes past what this library knows must be zero (a newer caller's unused options). */
static bool config_ok(const struct pvt_xen_vm_config *cfg)
{
	const unsigned char *p = (const unsigned char *)cfg;

	if (cfg->size < sizeof(*cfg))
		return false;
	for (size_t i = sizeof(*cfg); i < cfg->size; i++)
		if (p[i])
			return false;
	return true;
}

int pvt_xen_vm_new(const struct pvt_xen_vm_config *cfg, struct pvt_hostclock *hostclock,
		   const struct pvt_kvm_clock *kvm, struct pvt_xen_vm **out)
{
	struct pvt_xen_vm_config def;
	struct pvt_xen_vm *vm;
	uint64_t rem;

	if (!cfg) {
		pvt_xen_vm_config_default(&def);
		cfg = &def;
	}
	if (!out || !hostclock || !config_ok(cfg) || cfg->algo > PVT_ALGO_PVTIME ||
	    cfg->slew_bound_ppm >= PPM_ONE)
		return -EINVAL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->cfg = *cfg;
	vm->cfg.size = sizeof(vm->cfg);
	vm->hostclock = hostclock;
	vm->kvm = kvm;
	/* ceil(ppm * 2^64 / 10^6): the staging margin without a division. */
	vm->slew_mul = pvt_div128_64((pvt_u128)cfg->slew_bound_ppm << 64, PPM_ONE, &rem) +
		       (rem != 0);
	*out = vm;
	return 0;
}

void pvt_xen_vm_free(struct pvt_xen_vm *vm)
{
	free(vm);
}

void pvt_xen_vm_set_legacy_now(struct pvt_xen_vm *vm, pvt_xen_legacy_now_fn fn, void *ctx)
{
	vm->legacy_now = fn;
	vm->legacy_now_ctx = ctx;
}

int pvt_xen_vcpu_new(struct pvt_xen_vm *vm, uint32_t id, struct pvt_hosttimer *timer,
		     struct pvt_xen_vcpu **out)
{
	struct pvt_xen_vcpu *v;
	int ret;

	if (!vm || !timer || !out)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ret = pthread_mutex_init(&v->lock, NULL);
	if (ret) {
		free(v);
		return -ret;
	}
	v->vm = vm;
	v->id = id;
	v->timer = timer;
	v->event_fd = -1;
	*out = v;
	return 0;
}

void pvt_xen_vcpu_free(struct pvt_xen_vcpu *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&v->lock);
	v->singleshot.armed = false;
	v->periodic.armed = false;
	if (v->host_armed)
		(void)pvt_hosttimer_disarm(v->timer);
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_destroy(&v->lock);
	if (v->event_fd >= 0)
		close(v->event_fd);
	free(v);
}

uint32_t pvt_xen_vcpu_id(const struct pvt_xen_vcpu *v)
{
	return v->id;
}

int pvt_xen_vcpu_set_guest_clock(struct pvt_xen_vcpu *v,
				 const struct pvt_guest_clock *clock)
{
	struct xt_saved saved;
	uint64_t now;

	if (pvt_guest_clock_check(clock))
		return -EINVAL;
	xt_lock(v);
	xt_save(v, &saved);
	v->clock = *clock;
	v->clock_valid = true;
	/* A periodic timer set before the clock was known starts now. */
	if (v->periodic.armed && !v->periodic.converted &&
	    !v->periodic.deadline_ns && !xt_guest_now(v, &now))
		v->periodic.deadline_ns = now + v->period_ns;
	return xt_finish(v, &saved, xt_settle(v, false));
}

int pvt_xen_vcpu_guest_now(struct pvt_xen_vcpu *v, uint64_t *guest_ns)
{
	int ret;

	xt_lock(v);
	ret = xt_guest_now(v, guest_ns);
	xt_unlock(v);
	return ret;
}

int pvt_xen_vcpu_take(struct pvt_xen_vcpu *v, struct pvt_xen_events *ev)
{
	int ret;

	xt_lock(v);
	ret = xt_take(v, ev);
	xt_unlock(v);
	return ret;
}

int pvt_xen_vcpu_event_fd(struct pvt_xen_vcpu *v)
{
	int fd;

	xt_lock(v);
	if (v->event_fd < 0) {
		fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (fd < 0) {
			fd = -errno;
			xt_unlock(v);
			return fd;
		}
		v->event_fd = fd;
		if (v->ev.fired)
			xt_event_signal(v);
	}
	fd = v->event_fd;
	xt_unlock(v);
	return fd;
}

int pvt_xen_vcpu_set_advance(struct pvt_xen_vcpu *v, uint64_t advance_ns)
{
	if (v->vm->cfg.algo != PVT_ALGO_PVTIME)
		return -EINVAL;
	xt_lock(v);
	v->advance_ns = advance_ns;
	xt_unlock(v);
	return 0;
}

void pvt_xen_vcpu_get_state(struct pvt_xen_vcpu *v, struct pvt_xen_vcpu_state *st)
{
	memset(st, 0, sizeof(*st));
	xt_lock(v);
	st->singleshot_armed = v->singleshot.armed;
	st->periodic_armed = v->periodic.armed;
	st->host_armed = v->host_armed;
	st->pending = v->ev.fired != 0;
	st->singleshot_deadline_ns = v->singleshot.deadline_ns;
	st->periodic_deadline_ns = v->periodic.deadline_ns;
	st->period_ns = v->period_ns;
	st->host_deadline_ns = v->host_armed_ns;
	xt_unlock(v);
}

void pvt_xen_vcpu_get_stats(struct pvt_xen_vcpu *v, struct pvt_xen_vcpu_stats *stats,
			    size_t size)
{
	struct pvt_xen_vcpu_stats s;

	xt_lock(v);
	s = v->stats;
	xt_unlock(v);
	memcpy(stats, &s, size < sizeof(s) ? size : sizeof(s));
}

void xt_snapshot(struct pvt_xen_vcpu *v, struct pvt_xen_timer *singleshot,
		 struct pvt_xen_timer *periodic, uint64_t *period_ns,
		 bool *pending, struct pvt_xen_vcpu_stats *stats)
{
	xt_lock(v);
	if (singleshot)
		*singleshot = v->singleshot;
	if (periodic)
		*periodic = v->periodic;
	if (period_ns)
		*period_ns = v->period_ns;
	if (pending)
		*pending = v->ev.fired != 0;
	if (stats)
		*stats = v->stats;
	xt_unlock(v);
}

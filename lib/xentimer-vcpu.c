// SPDX-License-Identifier: MIT
/*
 * A VM's and a vCPU's life in the engine: configuration, setup, the
 * per-call lock (with its single TSC read), the guest clock the vCPU
 * registered, and read-only views of the state.
 */
#include <errno.h>
#include <string.h>

#include "pvtime/xentimer.h"
#include "muldiv.h"
#include "xentimer-internal.h"

#define PPM_ONE		1000000ull

void pvt_xen_vm_config_default(struct pvt_xen_vm_config *cfg)
{
	*cfg = (struct pvt_xen_vm_config){
		.algo = PVT_ALGO_PVTIME,
		.linux_workaround = true,
		.strict_future = false,
		.periodic_rephase = false,
		.slew_bound_ppm = 1000,
		.final_stage_ns = 1000,
	};
}

int pvt_xen_vm_init(struct pvt_xen_vm *vm, const struct pvt_xen_vm_config *cfg,
		    struct pvt_hostclock *hostclock,
		    const struct pvt_kvm_clock *kvm)
{
	struct pvt_xen_vm_config def;

	if (!cfg) {
		pvt_xen_vm_config_default(&def);
		cfg = &def;
	}
	if (!hostclock || cfg->algo > PVT_ALGO_PVTIME ||
	    cfg->slew_bound_ppm >= PPM_ONE)
		return -EINVAL;
	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->hostclock = hostclock;
	vm->kvm = kvm;
	/* ceil(ppm * 2^64 / 10^6): the staging margin without a division. */
	{
		uint64_t rem;

		vm->slew_mul = pvt_div128_64((pvt_u128)cfg->slew_bound_ppm << 64, PPM_ONE, &rem) +
			       (rem != 0);
	}
	return 0;
}

void xt_lock(struct pvt_xen_vcpu *v)
{
	pthread_mutex_lock(&v->lock);
	v->call_tsc_valid = false;
}

void xt_unlock(struct pvt_xen_vcpu *v)
{
	v->call_tsc_valid = false;
	pthread_mutex_unlock(&v->lock);
}

uint64_t xt_tsc(struct pvt_xen_vcpu *v)
{
	if (!v->call_tsc_valid) {
		v->call_tsc = pvt_hostclock_read_tsc(v->vm->hostclock);
		v->call_tsc_valid = true;
	}
	return v->call_tsc;
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
		 * even that fails, host_error keeps saying so.
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

int pvt_xen_vcpu_host_error(struct pvt_xen_vcpu *v)
{
	int ret;

	xt_lock(v);
	ret = v->host_error;
	v->host_error = 0;
	xt_unlock(v);
	return ret;
}

bool pvt_xen_vcpu_host_deadline(struct pvt_xen_vcpu *v, uint64_t *deadline_ns)
{
	bool armed;

	xt_lock(v);
	armed = v->host_armed;
	*deadline_ns = v->host_armed_ns;
	xt_unlock(v);
	return armed;
}

static void on_fire(void *ctx)
{
	pvt_xen_vcpu_timer_fired(ctx);
}

int pvt_xen_vcpu_init(struct pvt_xen_vcpu *vcpu, struct pvt_xen_vm *vm,
		      uint32_t id, struct pvt_hosttimer *timer,
		      pvt_xen_expiry_fn expiry, void *expiry_ctx)
{
	int ret;

	if (!vm || !timer || !timer->ops)
		return -EINVAL;
	memset(vcpu, 0, sizeof(*vcpu));
	ret = pthread_mutex_init(&vcpu->lock, NULL);
	if (ret)
		return -ret;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->timer = timer;
	vcpu->expiry = expiry;
	vcpu->expiry_ctx = expiry_ctx;
	timer->on_fire = on_fire;
	timer->on_fire_ctx = vcpu;
	return 0;
}

void pvt_xen_vcpu_destroy(struct pvt_xen_vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	vcpu->singleshot.armed = false;
	vcpu->periodic.armed = false;
	if (vcpu->timer && vcpu->timer->ops)
		pvt_hosttimer_disarm(vcpu->timer);
	if (vcpu->timer)
		vcpu->timer->on_fire = NULL;
	pthread_mutex_unlock(&vcpu->lock);
	pthread_mutex_destroy(&vcpu->lock);
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

bool pvt_xen_vcpu_take_pending(struct pvt_xen_vcpu *v)
{
	bool p;

	xt_lock(v);
	p = v->pending;
	v->pending = false;
	xt_unlock(v);
	return p;
}

void pvt_xen_vcpu_snapshot(struct pvt_xen_vcpu *v, struct pvt_xen_timer *singleshot,
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
		*pending = v->pending;
	if (stats)
		*stats = v->stats;
	xt_unlock(v);
}

// SPDX-License-Identifier: MIT
/*
 * Wiring libpvtime's Xen timer engine into the VMM: one host clock for the
 * VM, one timerfd per vCPU served by the vCPU's own thread, expiries taken
 * from the engine after each call and put into the vCPU page, and the
 * guest's registered clock handed over whenever it changes.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "vmm.h"

/* Legacy's guest "now": KVM's own one-step get_kvmclock_ns() via KVM_GET_CLOCK. */
static int legacy_now_kvm(void *ctx, uint64_t *guest_ns)
{
	struct vmm *vm = ctx;
	struct kvm_clock_data data;
	int ret = vmm__get_clock(vm, &data);

	if (!ret)
		*guest_ns = data.clock;
	return ret;
}

/*
 * How late a singleshot expiry reached the guest's event word, on the
 * guest's own clock: the VMM's share of the lateness, free of the guest's
 * exit and post-wake work. Negative would be an early fire.
 */
static void record_delivery(struct vmm_vcpu *vcpu, uint64_t deadline_ns)
{
	struct vmm_vcpu_result *r = &vcpu->res;

	if (r->wake_late && r->n_wake_late < r->cost_cap && vcpu->engine_clock_set)
		r->wake_late[r->n_wake_late++] = (int64_t)(pvt_guest_clock_ns(&vcpu->engine_clock,
					vmm__rdtsc()) - deadline_ns);
}

/* What the engine recorded for vcpu, into its page (any thread; atomics only). */
static void deliver(struct vmm_vcpu *vcpu, const struct pvt_xen_events *ev)
{
	struct pvt_guest_vcpu *page = vcpu->shared;

	if ((ev->fired & PVT_XEN_FIRED_SINGLESHOT) && vcpu->vm->cfg.measure_costs)
		record_delivery(vcpu, ev->singleshot_deadline_ns);
	if (ev->fired & PVT_XEN_FIRED_SINGLESHOT) {
		__atomic_fetch_add(&page->singleshot_fired, 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_or(&page->pending, PVT_EV_SINGLESHOT, __ATOMIC_SEQ_CST);
	}
	if (ev->fired & PVT_XEN_FIRED_PERIODIC) {
		__atomic_fetch_add(&page->periodic_fired, 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_or(&page->pending, PVT_EV_PERIODIC, __ATOMIC_SEQ_CST);
	}
}

void vcpu__take_expiries(struct vmm_vcpu *owner)
{
	struct pvt_xen_events ev;

	if (pvt_xen_vcpu_take(owner->xen, &ev))
		deliver(owner, &ev);
}

int vcpu__serve_timer(struct vmm_vcpu *vcpu)
{
	struct pvt_xen_events ev;
	int ret = pvt_xen_vcpu_service(vcpu->xen, &ev);

	deliver(vcpu, &ev);
	/* The expiry's re-arm (periodic, two-stage) may have failed. */
	return vcpu__check_host_timer(vcpu, vcpu, ret < 0 ? ret : 0);
}

int vmm__engine_init(struct vmm *vm)
{
	struct pvt_xen_vm_config xcfg;
	int ret;

	ret = pvt_hostclock_new_vdso(0, &vm->hostclock);
	if (ret)
		return vmm__fail(vm, ret, "host clock pairing: %s", strerror(-ret));
	ret = pvt_kvm_clock_init(&vm->legacy_model, vm->tsc_khz, PVT_FRAC_BITS_SVM);
	if (ret)
		return vmm__fail(vm, ret, "TSC %u kHz: no clock model", vm->tsc_khz);
	if (vm->cfg.clock_src == PVT_CLK_XEN) {
		ret = vmm__xenclock_publish(vm);
		if (ret)
			return ret;
	}
	pvt_xen_vm_config_default(&xcfg);
	xcfg.algo = vm->cfg.algo;
	ret = pvt_xen_vm_new(&xcfg, vm->hostclock, &vm->legacy_model, &vm->xen);
	if (ret)
		return vmm__fail(vm, ret, "timer engine: %s", strerror(-ret));
	/*
	 * On its own kvmclock the guest's legacy "now" is KVM's real one-step
	 * KVM_GET_CLOCK; on the VMM's Xen page it is the one-step model of that
	 * page's reference (legacy_model, set up by the publisher).
	 */
	if (vm->cfg.clock_src == PVT_CLK_KVM)
		pvt_xen_vm_set_legacy_now(vm->xen, legacy_now_kvm, vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu__engine_init(&vm->vcpus[i]);
		if (ret)
			return vmm__fail(vm, ret, "vCPU %u: %s", i, vm->vcpus[i].error);
	}
	return 0;
}

static struct pvt_guest_clock guest_clock(const struct vmm_vcpu *vcpu,
					  const struct pvt_pvclock_page *page)
{
	/* No TSC scaling on this host: the guest TSC is the host TSC + offset. */
	return (struct pvt_guest_clock){
		.tsc = {
			.ratio = pvt_tsc_ratio_one(PVT_FRAC_BITS_SVM),
			.offset = vcpu->tsc_offset,
			.frac_bits = PVT_FRAC_BITS_SVM,
		},
		.page = *page,
	};
}

int vcpu__check_host_timer(struct vmm_vcpu *vcpu, struct vmm_vcpu *owner, int err)
{
	if (!err)
		return 0;
	return vcpu__fail(vcpu, err,
			  "the host timer of vCPU %u could not be armed (%s): VM stopped, "
			  "the guest's timer would never fire",
			  owner->id, strerror(-err));
}

static int set_clock(struct vmm_vcpu *vcpu, const struct pvt_pvclock_page *page)
{
	struct pvt_guest_clock clock = guest_clock(vcpu, page);
	int ret;

	if (pvt_guest_clock_check(&clock))
		return vcpu__fail(vcpu, -EINVAL, "the guest's clock page is unusable (shift %d, mul %u)",
				  page->tsc_shift, page->tsc_to_system_mul);
	ret = pvt_xen_vcpu_set_guest_clock(vcpu->xen, &clock);
	/* Timers the new clock makes due are recorded by the call. */
	vcpu__take_expiries(vcpu);
	if (ret)
		return vcpu__check_host_timer(vcpu, vcpu, ret);
	vcpu->engine_clock = clock;
	vcpu->engine_clock_set = true;
	vcpu->clock_seen = *page;
	vcpu->clock_set = true;
	return 0;
}

int vcpu__engine_init(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;
	int ret;

	ret = vcpu__get_tsc_offset(vcpu, &vcpu->tsc_offset);
	if (ret)
		return vcpu__fail(vcpu, ret, "reading KVM_VCPU_TSC_OFFSET: %s", strerror(-ret));
	ret = pvt_hosttimer_new_timerfd(pvt_hostclock_clockid(vm->hostclock), &vcpu->timer);
	if (ret)
		return vcpu__fail(vcpu, ret, "timerfd: %s", strerror(-ret));
	ret = pvt_xen_vcpu_new(vm->xen, vcpu->id, vcpu->timer, &vcpu->xen);
	if (ret)
		return vcpu__fail(vcpu, ret, "engine vCPU: %s", strerror(-ret));
	if (vm->cfg.clock_src == PVT_CLK_XEN) {
		vcpu->shared->xen_time = vm->xen_page[vcpu->id];
		return set_clock(vcpu, &vm->xen_page[vcpu->id]);
	}
	return 0;
}

/* Everything but the version: KVM bumps it on every rewrite, even an identical one. */
static bool same_page(const struct pvt_pvclock_page *a, const struct pvt_pvclock_page *b)
{
	return a->tsc_timestamp == b->tsc_timestamp && a->system_time == b->system_time &&
	       a->tsc_to_system_mul == b->tsc_to_system_mul &&
	       a->tsc_shift == b->tsc_shift && a->flags == b->flags;
}

/* A page copy needs no TSC read between the two version reads. */
static uint64_t no_tsc(void *ctx)
{
	(void)ctx;
	return 0;
}

int vcpu__read_guest_page(struct vmm_vcpu *vcpu, struct pvt_pvclock_page *page)
{
	const volatile struct pvt_pvclock_page *src =
		vmm__gpa(vcpu->vm, vcpu->clock_gpa, sizeof(*page));
	uint64_t tsc, ns;
	int ret;

	if (!src)
		return vcpu__fail(vcpu, -EFAULT,
				  "the guest registered its pvclock page at GPA 0x%llx, outside its RAM",
				  (unsigned long long)vcpu->clock_gpa);
	/* The library's seqlock read (acquire loads): KVM rewrites it while this vCPU enters. */
	ret = pvt_pvclock_read(src, no_tsc, NULL, page, &tsc, &ns);
	if (ret == -EAGAIN)
		return vcpu__fail(vcpu, ret, "pvclock page at 0x%llx stays odd (torn)",
				  (unsigned long long)vcpu->clock_gpa);
	if (ret)
		return vcpu__fail(vcpu, ret, "the guest's pvclock page at 0x%llx has an invalid tsc_shift",
				  (unsigned long long)vcpu->clock_gpa);
	return 0;
}

int vcpu__sync_guest_clock(struct vmm_vcpu *vcpu)
{
	struct pvt_pvclock_page page;
	int ret;

	if (vcpu->vm->cfg.clock_src != PVT_CLK_KVM || !vcpu->clock_gpa)
		return 0;
	ret = vcpu__read_guest_page(vcpu, &page);
	if (ret)
		return ret;
	if (vcpu->clock_set && same_page(&page, &vcpu->clock_seen))
		return 0;
	return set_clock(vcpu, &page);
}

int vcpu__poll_timer(struct vmm_vcpu *vcpu)
{
	struct pvt_xen_vcpu_state st;
	struct timespec ts;
	uint64_t now;

	pvt_xen_vcpu_get_state(vcpu->xen, &st);
	if (!st.host_armed)
		return 0;
	clock_gettime(pvt_hosttimer_clockid(vcpu->timer), &ts);
	now = (uint64_t)ts.tv_sec * PVT_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	if (now >= st.host_deadline_ns)
		return vcpu__serve_timer(vcpu);
	return 0;
}

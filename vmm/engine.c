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

#include "clockns.h"
#include "vmm-internal.h"

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
	struct vmm_costs *c = &vcpu->res.cost;
	uint64_t now, i;

	/* The engine's own exact guest clock (under its lock: any thread may deliver). */
	if (!c->wake_late || pvt_xen_vcpu_guest_now(vcpu->xen, &now))
		return;
	/* The irq thread and the vCPU's thread may both deliver: claim a slot. */
	i = __atomic_load_n(&c->n_wake_late, __ATOMIC_RELAXED);
	do {
		if (i >= c->cap)
			return;
	} while (!__atomic_compare_exchange_n(&c->n_wake_late, &i, i + 1, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	c->wake_late[i] = (int64_t)(now - deadline_ns);
}

/*
 * What the engine recorded for vcpu: each fired kind goes through
 * vcpu__raise_upcall() (any thread; raising takes no VMM lock).
 */
static void deliver(struct vmm_vcpu *vcpu, const struct pvt_xen_events *ev)
{
	if ((ev->fired & PVT_XEN_FIRED_SINGLESHOT) && vcpu->vm->cfg.measure_costs)
		record_delivery(vcpu, ev->singleshot_deadline_ns);
	/* A restored pending expiry (not used by this VMM) is a timer event as well. */
	if (ev->fired & (PVT_XEN_FIRED_SINGLESHOT | PVT_XEN_FIRED_RESTORED))
		vcpu__raise_upcall(vcpu, PVT_EV_SINGLESHOT);
	if (ev->fired & PVT_XEN_FIRED_PERIODIC)
		vcpu__raise_upcall(vcpu, PVT_EV_PERIODIC);
}

/*
 * Between taking expiries from the engine and raising them, the engine
 * shows the timer as gone and the page shows nothing pending: block()
 * must not conclude "nothing can ever come" then. Every take/service runs
 * inside this count (see block()).
 */
static void inflight_begin(struct vmm_vcpu *vcpu)
{
	__atomic_fetch_add(&vcpu->inflight, 1, __ATOMIC_SEQ_CST);
}

static void inflight_end(struct vmm_vcpu *vcpu)
{
	__atomic_fetch_sub(&vcpu->inflight, 1, __ATOMIC_SEQ_CST);
}

void vcpu__take_expiries(struct vmm_vcpu *owner)
{
	struct pvt_xen_events ev;

	inflight_begin(owner);
	if (pvt_xen_vcpu_take(owner->xen, &ev))
		deliver(owner, &ev);
	inflight_end(owner);
}

/* Tests only: widens the window between taking an expiry and raising it. */
static void test_delay(const struct vmm_vcpu *vcpu)
{
	uint64_t us = vcpu->vm->cfg.test_raise_delay_us;
	struct timespec ts = timespec_of_ns(us * 1000);

	if (us)
		nanosleep(&ts, NULL);
}

/*
 * The advance controller's sample for a wake-up that found the deadline
 * passed: how late after the advanced instant it ran (advance + overshoot
 * on the guest clock).
 */
static void late_wake(struct vmm_vcpu *vcpu, const struct pvt_xen_events *ev, uint64_t adv)
{
	uint64_t now, dl;

	if (ev->fired & PVT_XEN_FIRED_SINGLESHOT)
		dl = ev->singleshot_deadline_ns;
	else if (ev->fired & PVT_XEN_FIRED_PERIODIC)
		dl = ev->periodic_deadline_ns;
	else
		return;
	if (pvt_xen_vcpu_guest_now(vcpu->xen, &now))
		return;
	vcpu__advance_wake(vcpu, adv + (now > dl ? now - dl : 0));
}

/* Spin-and-serve rounds of one service (one or two when the guest clock is sane). */
#define VMM_SPIN_ROUNDS_MAX	16

int vcpu__service(struct vmm_vcpu *vcpu, unsigned flags)
{
	struct pvt_xen_events ev;
	uint64_t wake_tsc = vmm__rdtsc(), adv = vcpu__advance_ns(vcpu), spin_ns = 0;
	bool woke = flags & VMM_SERVE_WOKE, first = true, held = false;
	unsigned rounds = 0;
	int ret;

	inflight_begin(vcpu);
	ret = pvt_xen_vcpu_service(vcpu->xen, &ev);
	/*
	 * Inside an advance window the engine leaves the host timer off and
	 * names the exact host TSC: spin to it, then service again (the
	 * engine records what is due then, comparing the TSC itself: never
	 * early, however late a preempted spin ends). The in-flight count
	 * stays up meanwhile: block() sees the host timer off.
	 */
	while (ret >= 0 && ev.due_tsc) {
		/*
		 * A guest clock that runs thousands of times faster than the
		 * TSC (a garbage but well-formed page a hostile guest wrote)
		 * makes the next periodic tick due within the window after
		 * every spin: this loop would never end, nor notice a stop.
		 * After a few rounds the expiry goes without the advance: the
		 * engine arms the host timer exactly and the vCPU runs on.
		 */
		if (++rounds > VMM_SPIN_ROUNDS_MAX ||
		    __atomic_load_n(&vcpu->vm->stop, __ATOMIC_SEQ_CST)) {
			if (ev.fired)
				deliver(vcpu, &ev);
			ret = pvt_xen_vcpu_set_advance(vcpu->xen, 0);
			if (!ret)
				ret = pvt_xen_vcpu_service(vcpu->xen, &ev);
			if (vcpu__advance_apply(vcpu) && ret >= 0)
				ret = -EIO;
			break;
		}
		if (ev.fired) {
			test_delay(vcpu);
			deliver(vcpu, &ev);
		}
		if (first && woke) {
			uint64_t left = ev.due_tsc > wake_tsc ?
				(ev.due_tsc - wake_tsc) * 1000000 / vcpu->vm->tsc_khz : 0;

			/* Woke inside the window: this far after the advanced instant. */
			vcpu__advance_wake(vcpu, adv > left ? adv - left : 0);
		}
		if (first && (flags & VMM_SERVE_REMOTE)) {
			vcpu__hold_begin(vcpu, ev.due_tsc);
			held = true;
		}
		first = false;
		spin_ns += vcpu__advance_spin(vcpu, ev.due_tsc);
		ret = pvt_xen_vcpu_service(vcpu->xen, &ev);
	}
	if (ev.fired) {
		if (first && woke && adv)
			late_wake(vcpu, &ev, adv);
		test_delay(vcpu);
		deliver(vcpu, &ev);
		/* Every expiry served with the advance on (0 spin when it came too late). */
		if (adv)
			vcpu__advance_record(vcpu, spin_ns, adv);
	}
	if (held)
		vcpu__hold_end(vcpu);
	inflight_end(vcpu);
	return ret < 0 ? ret : 0;
}

int vcpu__serve_timer(struct vmm_vcpu *vcpu, bool woke)
{
	/* The expiry's re-arm (periodic, two-stage) may have failed. */
	return vcpu__check_host_timer(vcpu, vcpu, vcpu__service(vcpu, woke ? VMM_SERVE_WOKE : 0));
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
	vcpu__advance_init(vcpu);
	ret = vcpu__advance_apply(vcpu);
	if (ret)
		return vcpu__fail(vcpu, ret, "timer advance: %s", strerror(-ret));
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

int vcpu__sync_guest_clock_call(struct vmm_vcpu *vcpu)
{
	const volatile struct pvt_pvclock_page *src;
	struct pvt_pvclock_page page;
	struct pvt_guest_clock clock;
	uint64_t tsc, ns;

	if (vcpu->vm->cfg.clock_src != PVT_CLK_KVM || !vcpu->clock_gpa)
		return 0;
	src = vmm__gpa(vcpu->vm, vcpu->clock_gpa, sizeof(page));
	/*
	 * Only the guest writes its page between KVM's updates, which happen
	 * on this thread's entries: a page that stays odd or has a garbage
	 * shift or mul is the guest's own scribble. The call is refused and
	 * the engine keeps the clock it had; nothing is the VMM's failure.
	 */
	if (!src || pvt_pvclock_read(src, no_tsc, NULL, &page, &tsc, &ns))
		return src ? 1 : vcpu__sync_guest_clock(vcpu);
	if (vcpu->clock_set && same_page(&page, &vcpu->clock_seen))
		return 0;
	clock = guest_clock(vcpu, &page);
	if (pvt_guest_clock_check(&clock))
		return 1;
	return set_clock(vcpu, &page);
}

int vcpu__poll_timer(struct vmm_vcpu *vcpu)
{
	struct pvt_xen_vcpu_state st;

	pvt_xen_vcpu_get_state(vcpu->xen, &st);
	if (!st.host_armed)
		return 0;
	if (clock_now_ns(pvt_hosttimer_clockid(vcpu->timer)) >= st.host_deadline_ns)
		return vcpu__serve_timer(vcpu, false);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * Fuzzes the VMM's own hypercall dispatch (vmm/hypercall.c with
 * vmm/engine.c and the whole library) on a fake vCPU: the registers of
 * each hypercall and the guest's memory (its size, its kvmclock pages,
 * hypercall arguments) come from the input. No /dev/kvm: the few KVM calls
 * below are fakes, the host is simulated (simhost.h), and a guest that
 * blocks sleeps in simulated time. The VMM's two timerfd calls are linked
 * to the fakes here (-Wl,--wrap, tests/fuzz.cmake): each vCPU's "timerfd"
 * is a simulated timer whose notify hook serves it as the vCPU thread would,
 * and a blocking wait steps the simulated host.
 *
 * Whatever the input: no crash, no UB, no access outside guest memory
 * (it is a malloc'd buffer of exactly the guest's size, so ASan sees any
 * byte past it), and every bad argument gets its Xen error (-ENOSYS,
 * -ENOENT, -EINVAL, -EFAULT, -EDEADLK) or, for the VMM's own registration
 * call, a VM stop that says why. Nothing else is ever returned.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm-internal.h"
#include "pvtime/simhost.h"

#include "fuzz_xentimer_vm.h"	/* the input cursor */

#define MAX_VCPUS	4
#define MAX_OPS		128
#define MAX_WAITS	64	/* simulated 100 ms sleeps per input: then the "watchdog" */
#define MAX_WAKES	4096	/* host timer wake-ups per input */

/* ---- the fake environment: one simulated host per input ---- */

static struct pvt_simhost *g_sim;
static unsigned g_waits;
static uint64_t g_offset[MAX_VCPUS];	/* what KVM_VCPU_TSC_OFFSET would read */
static int g_msr_err;			/* KVM_SET_MSRS fails with this (0: works) */
static int g_wait_err;			/* the host timer wait fails with this (0: works) */
static uint64_t g_msr[MAX_VCPUS];	/* last MSR_KVM_SYSTEM_TIME_NEW written */
static struct vmm *g_stop_vm;		/* what the "watchdog" stops */
static bool g_watchdog;			/* it did (a stop without a message) */

int vcpu__get_tsc_offset(struct vmm_vcpu *vcpu, uint64_t *offset)
{
	*offset = g_offset[vcpu->id];
	return 0;
}

int vcpu__set_msr(struct vmm_vcpu *vcpu, uint32_t index, uint64_t value)
{
	if (index != PVT_MSR_KVM_SYSTEM_TIME_NEW)
		abort();	/* the dispatch writes nothing else */
	if (g_msr_err)
		return g_msr_err;
	g_msr[vcpu->id] = value;
	return 0;
}

/* Not reached: the fake VM is set up without vmm__engine_init(). */
int vmm__get_clock(struct vmm *vm, struct kvm_clock_data *data)
{
	(void)vm;
	memset(data, 0, sizeof(*data));
	return -ENODEV;
}

int vmm__xenclock_publish(struct vmm *vm)
{
	(void)vm;
	return -ENODEV;
}

/*
 * The VMM's timerfd (vmm/engine.c) and its blocking wait (vmm/hypercall.c's
 * block), linked here instead of the library's (-Wl,--wrap): a simulated
 * timer in g_sim's queue, and a wait that sleeps in simulated time.
 */
int __wrap_pvt_hosttimer_new_timerfd(clockid_t clockid, struct pvt_hosttimer **out);
int __wrap_pvt_hosttimer_wait(struct pvt_hosttimer *t, uint64_t timeout_ns);

int __wrap_pvt_hosttimer_new_timerfd(clockid_t clockid, struct pvt_hosttimer **out)
{
	if (clockid != CLOCK_MONOTONIC)
		abort();	/* the fake VM's host clock is the simulated monotonic one */
	return pvt_simhost_timer_new(g_sim, out);
}

int __wrap_pvt_hosttimer_wait(struct pvt_hosttimer *t, uint64_t timeout_ns)
{
	(void)t;
	if (++g_waits > MAX_WAITS) {
		/* A guest sleeping for hours: what the VMM's watchdog is for. */
		g_watchdog = true;
		__atomic_store_n(&g_stop_vm->stop, 1, __ATOMIC_SEQ_CST);
		return -EINTR;
	}
	if (g_wait_err)
		return g_wait_err;
	/* Whichever timer fired has been served by its notify hook (serve_timer). */
	return pvt_simhost_step(g_sim, pvt_simhost_now_ns(g_sim) + timeout_ns) ? 0 : -ETIMEDOUT;
}

/* A vCPU's simulated timer fired: its thread serves it (a failed re-arm stops the VM). */
static void serve(void *ctx)
{
	struct vmm_vcpu *v = ctx;

	if (!__atomic_load_n(&v->vm->stop, __ATOMIC_SEQ_CST))
		(void)vcpu__serve_timer(v, true);
}

/* ---- the fake VM ---- */

struct fake {
	struct vmm vm;
	struct vmm_vcpu vcpus[MAX_VCPUS];
	struct pvt_guest_clock sane;	/* a page KVM would write, ratio one */
};

static void fake_destroy(struct fake *f)
{
	for (unsigned i = 0; i < f->vm.nr_vcpus; i++) {
		pvt_xen_vcpu_free(f->vcpus[i].xen);
		pvt_hosttimer_free(f->vcpus[i].timer);
	}
	pvt_xen_vm_free(f->vm.xen);
	pvt_hostclock_free(f->vm.hostclock);
	pvt_simhost_free(g_sim);
	g_sim = NULL;
	free(f->vm.mem);
}

/*
 * Decodes the VM: vCPUs, algorithm, clock source, RAM size (so that
 * arguments straddle its end), TSC kHz and offsets, and for the VMM's Xen
 * clock the pages it publishes (garbage allowed: then init fails cleanly).
 */
static int fake_init(struct fake *f, struct fz_in *in)
{
	static const uint32_t khz[] = { 2596136, 3000000, 1000000, 999 };
	uint8_t sel = fz_u8(in), opt = fz_u8(in);
	struct pvt_simhost_config sc;
	struct pvt_xen_vm_config xcfg;
	struct pvt_tsc_scaling tsc;
	struct vmm *vm = &f->vm;
	int ret;

	memset(f, 0, sizeof(*f));
	g_stop_vm = vm;
	g_waits = 0;
	g_watchdog = false;
	g_msr_err = (opt & 0x80) ? -EIO : 0;
	g_wait_err = (opt & 0x40) ? -EIO : 0;
	memset(g_msr, 0, sizeof(g_msr));
	vm->cfg.nr_vcpus = 1 + sel % MAX_VCPUS;
	vm->cfg.algo = (enum pvt_timer_algo)((sel >> 2) % 3);
	vm->cfg.clock_src = (sel & 0x10) ? PVT_CLK_XEN : PVT_CLK_KVM;
	vm->cfg.measure_costs = false;
	vm->nr_vcpus = vm->cfg.nr_vcpus;
	vm->vcpus = f->vcpus;
	/* Just past the vCPU pages, up to past both kvmclock page sets. */
	vm->mem_size = PVT_GPA_VCPU_PAGE(MAX_VCPUS) + fz_take(in, 3) % 0x50000;
	vm->cfg.mem_size = vm->mem_size;
	vm->mem = calloc(1, vm->mem_size);
	if (!vm->mem)
		abort();
	vm->tsc_khz = khz[(sel >> 5) & 3];

	memset(&sc, 0, sizeof(sc));
	sc.tsc_khz = vm->tsc_khz;
	sc.start_true_ns = fz_u8(in) * 1000000000ull;
	sc.start_mono_ns = sc.start_true_ns;
	sc.wake_latency_ns = (opt & 1) ? fz_take(in, 2) : 0;
	/* One queue slot for several vCPUs: arming fails, as a host timer can. */
	sc.max_timers = (opt & 8) ? 1 : MAX_VCPUS;
	if ((ret = pvt_simhost_new(&sc, &g_sim)) ||
	    (ret = pvt_simhost_hostclock_new(g_sim, &vm->hostclock)))
		goto fail;
	if ((ret = pvt_kvm_clock_init(&vm->legacy_model, vm->tsc_khz, PVT_FRAC_BITS_SVM)) ||
	    (ret = pvt_kvm_tsc_scaling(&vm->legacy_model, vm->tsc_khz, 0, &tsc)) ||
	    (ret = pvt_kvm_guest_clock(&vm->legacy_model, &tsc, &f->sane)))
		goto fail;
	pvt_xen_vm_config_default(&xcfg);
	xcfg.algo = vm->cfg.algo;
	if ((ret = pvt_xen_vm_new(&xcfg, vm->hostclock, &vm->legacy_model, &vm->xen)))
		goto fail;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vmm_vcpu *v = &f->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->fd = -1;
		v->shared = vmm__gpa(vm, PVT_GPA_VCPU_PAGE(i), 4096);
		g_offset[i] = (opt & 2) ? fz_u64(in) : 0;
		vm->xen_page[i] = f->sane.page;
		if (opt & 4)
			fz_bytes(in, &vm->xen_page[i], sizeof(vm->xen_page[i]));
		if ((ret = vcpu__engine_init(v))) {
			/* Only a guest-made page may be refused, and then with a message. */
			if (vm->cfg.clock_src != PVT_CLK_XEN || !(opt & 4) || !v->error[0])
				abort();
			goto fail;
		}
		if ((ret = pvt_simhost_timer_set_notify(v->timer, serve, v)))
			abort();
	}
	return 0;
fail:
	fake_destroy(f);
	return ret;
}

/* ---- the guest ---- */

/* Copies input bytes into guest memory at an offset near an interesting place. */
static void op_write(struct fake *f, struct fz_in *in)
{
	static const uint64_t where[] = {
		PVT_GPA_KVMCLOCK(0), PVT_GPA_KVMCLOCK(1), PVT_GPA_KVMCLOCK_ALT(0),
		PVT_GPA_VCPU_PAGE(0), 0, 0x30000,
	};
	uint8_t how = fz_u8(in), buf[64];
	uint64_t gpa = (how & 8) ? f->vm.mem_size - 1 - fz_take(in, 1) % 64 :
				  where[how % 6] + fz_take(in, 1);
	size_t len = fz_u8(in) % sizeof(buf);

	fz_bytes(in, buf, len);
	if (gpa >= f->vm.mem_size)
		return;
	if (len > f->vm.mem_size - gpa)
		len = f->vm.mem_size - gpa;
	memcpy(f->vm.mem + gpa, buf, len);
}

/*
 * The guest's kvmclock: KVM writes the page where MSR_KVM_SYSTEM_TIME_NEW
 * points, and the guest's CLOCK ucall tells the VMM (vmm/ucall.c, which
 * refuses a GPA outside RAM). The page is the sane one, or perturbed.
 */
static void op_kvmclock(struct fake *f, struct vmm_vcpu *v, struct fz_in *in)
{
	uint8_t how = fz_u8(in);
	uint64_t gpa = (how & 1) ? g_msr[v->id] & ~1ull :
		       (how & 2) ? f->vm.mem_size - fz_take(in, 1) : fz_take(in, 3);
	struct pvt_pvclock_page page = f->sane.page;
	void *dst;

	if (how & 4)
		fz_bytes(in, &page, sizeof(page));
	else if (how & 8)
		page.tsc_timestamp -= g_offset[v->id] - fz_take(in, 4);
	dst = vmm__gpa(&f->vm, gpa, sizeof(page));
	if (!dst)
		return;
	memcpy(dst, &page, sizeof(page));
	if (f->vm.cfg.clock_src == PVT_CLK_KVM)
		v->clock_gpa = gpa;
}

/* A GPA for an argument of len bytes: inside, straddling the end, or anywhere. */
static uint64_t arg_gpa(struct fake *f, struct fz_in *in, uint64_t len, const void *arg)
{
	uint8_t how = fz_u8(in);
	uint64_t gpa;

	switch (how & 3) {
	case 0:		/* a real argument, written where the guest keeps it */
		gpa = 0x30000 + fz_take(in, 1);
		if (gpa + len <= f->vm.mem_size)
			memcpy(f->vm.mem + gpa, arg, len);
		return gpa;
	case 1:		/* up to the last byte of RAM, or just past it */
		return f->vm.mem_size - len + 1 - fz_take(in, 1) % 4;
	case 2:
		return UINT64_MAX - fz_take(in, 1);
	default:
		return fz_u64(in);
	}
}

static bool in_ram(const struct fake *f, uint64_t gpa, uint64_t len)
{
	return gpa <= f->vm.mem_size && len <= f->vm.mem_size - gpa;
}

static uint64_t zero_tsc(void *ctx)
{
	(void)ctx;
	return 0;
}

/*
 * The guest scribbled its registered kvmclock page into garbage (stays odd,
 * a shift out of range, an unusable clock): its timer hypercalls are refused
 * with -EINVAL and the VMM keeps the clock it had (vmm/engine.c). A page
 * outside RAM is not this case: that stops the VM.
 */
static bool clock_garbage(const struct fake *f, const struct vmm_vcpu *v)
{
	const volatile struct pvt_pvclock_page *src;
	struct pvt_pvclock_page page;
	struct pvt_guest_clock clock;
	uint64_t tsc, ns;

	if (f->vm.cfg.clock_src != PVT_CLK_KVM || !v->clock_gpa ||
	    !in_ram(f, v->clock_gpa, sizeof(page)))
		return false;
	src = (const volatile struct pvt_pvclock_page *)(f->vm.mem + v->clock_gpa);
	if (pvt_pvclock_read(src, zero_tsc, NULL, &page, &tsc, &ns))
		return true;
	clock.tsc.ratio = pvt_tsc_ratio_one(PVT_FRAC_BITS_SVM);
	clock.tsc.offset = v->tsc_offset;
	clock.tsc.frac_bits = PVT_FRAC_BITS_SVM;
	clock.page = page;
	return pvt_guest_clock_check(&clock) != 0;
}

static bool is_xen_ret(int64_t r)
{
	return r == 0 || r == -PVT_XEN_ENOENT || r == -PVT_XEN_EFAULT || r == -PVT_XEN_EINVAL ||
	       r == -PVT_XEN_ENOSYS || r == -PVT_XEN_EDEADLK;
}

/* One hypercall from registers decoded from the input; checks its result. */
static bool op_hypercall(struct fake *f, struct vmm_vcpu *v, struct fz_in *in)
{
	static const uint64_t nrs[] = {
		PVT_XEN_set_timer_op, PVT_XEN_vcpu_op, PVT_XEN_vcpu_op, PVT_XEN_sched_op,
		PVT_HC_kvmclock_register, 0, 0x10001, UINT64_MAX,
	};
	uint8_t sel = fz_u8(in);
	uint64_t nr = (sel & 0x80) ? fz_u64(in) : nrs[sel & 7], a0 = 0, a1 = 0, a2 = 0;
	uint64_t now = 0, len = 0, period = 0;
	uint8_t arg[sizeof(struct pvt_xen_singleshot_arg)];
	int64_t ret, want = INT64_MIN;	/* INT64_MIN: any Xen result */
	bool garbage = clock_garbage(f, v);

	(void)pvt_xen_vcpu_guest_now(v->xen, &now);
	memset(arg, 0, sizeof(arg));
	switch (nr) {
	case PVT_XEN_set_timer_op:
		a0 = (sel & 8) ? fz_u64(in) : now + fz_take(in, 4);
		want = garbage ? -PVT_XEN_EINVAL : 0;	/* Xen has no bad argument here */
		break;
	case PVT_XEN_vcpu_op:
		a0 = (sel & 0x40) ? fz_u64(in) : 6 + fz_u8(in) % 5;	/* 10: unknown */
		a1 = (sel & 0x20) ? fz_u64(in) : fz_u8(in) % (MAX_VCPUS + 1);
		if (a0 == PVT_VCPUOP_set_singleshot_timer) {
			len = sizeof(struct pvt_xen_singleshot_arg);
			fz_bytes(in, arg, len);
			if (sel & 8) {
				uint64_t d = now + fz_take(in, 4);

				memcpy(arg, &d, sizeof(d));
			}
		} else if (a0 == PVT_VCPUOP_set_periodic_timer) {
			len = sizeof(struct pvt_xen_periodic_arg);
			period = PVT_XEN_PERIOD_MIN_NS - 2 + fz_take(in, 3);
			if (sel & 8)
				period = fz_u64(in);
			memcpy(arg, &period, sizeof(period));
		}
		a2 = arg_gpa(f, in, len ? len : 8, arg);
		if (len && in_ram(f, a2, len))	/* what the VMM will read */
			memcpy(&period, f->vm.mem + a2, sizeof(period));
		/* Xen's order: command, target, caller (singleshot), argument, value. */
		if (a0 < 6 || a0 > 9)
			want = -PVT_XEN_ENOSYS;
		else if (a1 >= f->vm.nr_vcpus)
			want = -PVT_XEN_ENOENT;
		else if ((a0 == 8 || a0 == 9) && a1 != v->id)
			want = -PVT_XEN_EINVAL;
		else if (len && !in_ram(f, a2, len))
			want = -PVT_XEN_EFAULT;
		else if (a0 == PVT_VCPUOP_set_periodic_timer &&
			 (period < PVT_XEN_PERIOD_MIN_NS || period > PVT_XEN_STIME_DELTA_MAX))
			want = -PVT_XEN_EINVAL;
		if (garbage)
			want = -PVT_XEN_EINVAL;	/* checked before the arguments */
		break;
	case PVT_XEN_sched_op:
		a0 = (sel & 8) ? fz_u64(in) : fz_u8(in) % 3;
		if (a0 > PVT_SCHEDOP_block)
			want = -PVT_XEN_ENOSYS;
		break;
	case PVT_HC_kvmclock_register:
		a0 = (sel & 8) ? fz_u64(in) : f->vm.mem_size - fz_take(in, 2);
		break;
	default:
		a0 = fz_u64(in);
		want = -PVT_XEN_ENOSYS;
		break;
	}
	ret = vcpu__hypercall_dispatch(v, nr, a0, a1, a2);
	if (v->res.status) {
		/* A stop is the VMM's business, never the guest's result: it says why. */
		if (!f->vm.error[0] || !v->error[0] || !f->vm.stop)
			abort();
		if (nr == PVT_HC_kvmclock_register && !in_ram(f, a0, sizeof(struct pvt_pvclock_page)) &&
		    (v->res.status != -EFAULT || !strstr(v->error, "outside")))
			abort();
		return false;
	}
	if (f->vm.stop) {
		/* The watchdog ended a block, or another vCPU's timer stopped the VM. */
		if (!g_watchdog && !f->vm.error[0])
			abort();
		return false;
	}
	if (nr == PVT_HC_kvmclock_register) {
		if (!in_ram(f, a0, sizeof(struct pvt_pvclock_page)))
			abort();	/* must have stopped the VM */
		if (ret != (g_msr_err ? -PVT_XEN_EINVAL : 0) || (!g_msr_err && g_msr[v->id] != (a0 | 1)))
			abort();
		return true;
	}
	if (!is_xen_ret(ret))
		abort();
	if (want != INT64_MIN && ret != want) {
		fprintf(stderr, "hypercall %llu (%llu, %llu, 0x%llx) on vCPU %u of %u: %lld, want %lld\n",
			(unsigned long long)nr, (unsigned long long)a0, (unsigned long long)a1,
			(unsigned long long)a2, v->id, f->vm.nr_vcpus, (long long)ret, (long long)want);
		abort();
	}
	/* Errors of the valid commands are the ones above: anything else succeeds. */
	if (want == INT64_MIN && ret && !(nr == PVT_XEN_sched_op && ret == -PVT_XEN_EDEADLK) &&
	    !(nr == PVT_XEN_vcpu_op && a0 == 8 && ret == -PVT_XEN_EINVAL))
		abort();
	return true;
}

/* Simulated time passes: host timers fire and deliver into the vCPU pages. */
static bool op_advance(struct fake *f, struct fz_in *in, unsigned *wakes)
{
	uint64_t until = pvt_simhost_now_ns(g_sim) + fz_take(in, 4) * 16;

	while (*wakes < MAX_WAKES && !f->vm.stop && pvt_simhost_step(g_sim, until))
		++*wakes;
	if (!f->vm.stop)
		return true;
	/* Only a failed re-arm stops the VM here, and it says why. */
	if (!f->vm.error[0])
		abort();
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct fake f;
	unsigned wakes = 0;

	if (fake_init(&f, &in))
		return 0;
	for (unsigned n = 0; n < MAX_OPS && in.left; n++) {
		uint8_t op = fz_u8(&in);
		struct vmm_vcpu *v = &f.vcpus[(op >> 4) % f.vm.nr_vcpus];
		bool go_on = true;

		switch (op & 7) {
		case 0:
		case 1:
		case 2:
			go_on = op_hypercall(&f, v, &in);
			break;
		case 3:
			op_write(&f, &in);
			break;
		case 4:
			op_kvmclock(&f, v, &in);
			break;
		case 5:
			go_on = op_advance(&f, &in, &wakes);
			break;
		case 6:		/* the guest takes its events */
			(void)__atomic_exchange_n(&v->shared->pending, 0, __ATOMIC_SEQ_CST);
			break;
		default:	/* KVM rewrites nothing; the guest re-reads: a no-op exit */
			go_on = op_hypercall(&f, v, &in);
			break;
		}
		if (!go_on)
			break;	/* the VM stopped */
	}
	fake_destroy(&f);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * Timer advance: the engine arms a vCPU's host timer advance_ns before the
 * exact instant its guest clock reaches the deadline; the thread woken
 * inside that window spins on the TSC to the exact host TSC the engine
 * names (events.due_tsc), then services the timer again, so the expiry is
 * recorded at the deadline and never before it (the engine compares the
 * TSC itself). The wake-up's own latency is hidden when it is shorter than
 * the advance; what is left is the spin, CPU time spent waiting.
 *
 * Modes (per vCPU, PVTIME only: LEGACY and KVM model in-kernel KVM's Xen
 * timers, which have no advance):
 *  - off;
 *  - fixed: a constant advance_ns;
 *  - adaptive: the advance follows the measured wake-up lateness (how late
 *    after its programmed instant the host timer's waiter ran), toward its
 *    ADV_PERCENTILE-th percentile over the last ADV_WINDOW wake-ups,
 *    re-computed every ADV_EVERY wake-ups, starting at ADV_START_NS (as
 *    KVM's lapic_timer_advance) and capped at ADV_CAP_NS. This host's
 *    wake-ups take 10-30 us (nested kvm_pvm); a cap below that would let
 *    most of them land after the deadline, a higher one would spin long
 *    after the rare slow wake-up. Past the cap an expiry is simply late.
 * A wake-up that came after the deadline counts as lateness advance +
 * overshoot, so a too-small advance grows by what it missed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clockns.h"
#include "vmm-internal.h"

#define ADV_START_NS	1000ull
#define ADV_CAP_NS	30000ull
#define ADV_PERCENTILE	90
#define ADV_WINDOW	128u
#define ADV_EVERY	16u

void vcpu__advance_init(struct vmm_vcpu *vcpu)
{
	struct vmm_advance *a = &vcpu->adv;
	const struct vmm_config *cfg = &vcpu->vm->cfg;

	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->inited = true;
	a->mode = cfg->algo == PVT_ALGO_PVTIME ? cfg->advance_mode : VMM_ADV_OFF;
	if (a->mode == VMM_ADV_FIXED)
		a->cur_ns = cfg->advance_ns;
	else if (a->mode == VMM_ADV_ADAPTIVE)
		a->cur_ns = ADV_START_NS;
	a->cap_ns = ADV_CAP_NS;
}

void vcpu__advance_destroy(struct vmm_vcpu *vcpu)
{
	if (vcpu->adv.inited)
		pthread_mutex_destroy(&vcpu->adv.lock);
	vcpu->adv.inited = false;
}

int vcpu__advance_apply(struct vmm_vcpu *vcpu)
{
	uint64_t ns = __atomic_load_n(&vcpu->adv.cur_ns, __ATOMIC_RELAXED);

	if (vcpu->adv.mode == VMM_ADV_OFF)
		return 0;
	return pvt_xen_vcpu_set_advance(vcpu->xen, ns);
}

uint64_t vcpu__advance_ns(const struct vmm_vcpu *vcpu)
{
	return vcpu->adv.mode == VMM_ADV_OFF ? 0 :
	       __atomic_load_n(&vcpu->adv.cur_ns, __ATOMIC_RELAXED);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The controller's step: the window's percentile, capped. Under a->lock. */
static void adapt(struct vmm_advance *a)
{
	uint64_t sorted[ADV_WINDOW], v;
	uint32_t n = a->count < ADV_WINDOW ? a->count : ADV_WINDOW;

	memcpy(sorted, a->window, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), cmp_u64);
	v = sorted[(n - 1) * ADV_PERCENTILE / 100];
	if (v > a->cap_ns)
		v = a->cap_ns;
	__atomic_store_n(&a->cur_ns, v, __ATOMIC_RELAXED);
}

void vcpu__advance_wake(struct vmm_vcpu *vcpu, uint64_t lateness_ns)
{
	struct vmm_advance *a = &vcpu->adv;

	if (a->mode != VMM_ADV_ADAPTIVE)
		return;
	/* The irq thread and the vCPU's own may both wake: one updates, the other skips. */
	if (pthread_mutex_trylock(&a->lock))
		return;
	a->window[a->count % ADV_WINDOW] = lateness_ns;
	a->count++;
	if (a->count % ADV_EVERY == 0 || a->count == 4)
		adapt(a);
	pthread_mutex_unlock(&a->lock);
	/* Takes effect at the next arming (the guest's next timer, a periodic re-arm). */
	(void)vcpu__advance_apply(vcpu);
}

/* Tests only: a spin "preempted" half-way (a sleep), which must only make it late. */
static void test_preempt(const struct vmm_vcpu *vcpu, uint64_t due_tsc)
{
	uint64_t us = vcpu->vm->cfg.test_spin_sleep_us;
	struct timespec ts = timespec_of_ns(us * 1000);

	if (!us || vmm__rdtsc() >= due_tsc)
		return;
	nanosleep(&ts, NULL);
}

uint64_t vcpu__advance_spin(struct vmm_vcpu *vcpu, uint64_t due_tsc)
{
	uint64_t start = vmm__rdtsc(), end;

	test_preempt(vcpu, due_tsc);
	end = vmm__spin_until_tsc(due_tsc);
	return end > start ? (end - start) * 1000000 / vcpu->vm->tsc_khz : 0;
}

void vcpu__advance_record(struct vmm_vcpu *vcpu, uint64_t spin_ns, uint64_t advance_ns)
{
	struct vmm_vcpu_result *r = &vcpu->res;
	uint64_t i;

	__atomic_fetch_add(&r->spins, spin_ns ? 1 : 0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->spin_total_ns, spin_ns, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->advanced_expiries, 1, __ATOMIC_RELAXED);
	if (!r->spin_ns || !r->advance_ns)
		return;
	i = __atomic_load_n(&r->n_spin, __ATOMIC_RELAXED);
	do {
		if (i >= r->cost.cap)
			return;
	} while (!__atomic_compare_exchange_n(&r->n_spin, &i, i + 1, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	r->spin_ns[i] = spin_ns;
	r->advance_ns[i] = advance_ns;
}

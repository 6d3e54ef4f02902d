// SPDX-License-Identifier: MIT
/*
 * Running the VM: one thread per vCPU looping on KVM_RUN, a watchdog that
 * kicks them all out (signal + immediate_exit) when the run takes too long,
 * and the results copied out of guest memory at the end.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clockns.h"
#include "vmm-internal.h"

/* Per kind and vCPU: a long run keeps its first million cost samples. */
#define VMM_COST_MAX_SAMPLES	(1ull << 20)
/*
 * Cost samples kept per kind: room for two exits of a kind per loop (a
 * timerlat loop makes one timer hypercall and one block), plus some for the
 * exits outside the loops.
 */
#define COST_EXITS_PER_LOOP	2
#define COST_SLACK		64

/* How often join_all() looks again, and re-kicks once a stop was asked (see there why). */
#define KICK_REPEAT_NS	50000000ull	/* 50 ms */

/* Extra entries after DONE to settle a suspect oracle (a) check. */
#define VMM_SETTLE_RUNS	4

/* The last exit's enum vmm_cost_kind, or none to record. */
enum { COST_NONE = -1 };

/*
 * The calling vCPU thread's kvm_run, for the kick's signal handler
 * (initial-exec: no lazy TLS allocation inside a signal handler).
 */
static __thread struct kvm_run *tls_run __attribute__((tls_model("initial-exec")));

static bool stopping(struct vmm *vm)
{
	return __atomic_load_n(&vm->stop, __ATOMIC_SEQ_CST);
}

static void record_cost(struct vmm_vcpu *vcpu, enum vmm_cost_kind kind, uint64_t ticks)
{
	struct vmm_costs *c = &vcpu->res.cost;

	if (c->ticks[kind] && c->n[kind] < c->cap)
		c->ticks[kind][c->n[kind]++] = ticks;
}

/* What kind of exit this was, for the handling-cost figures. */
static int hypercall_kind(const struct kvm_run *run)
{
	uint64_t nr = run->s.regs.regs.rax, a1 = run->s.regs.regs.rdi;

	if (nr == PVT_XEN_set_timer_op || nr == PVT_XEN_vcpu_op)
		return VMM_COST_TIMER;
	if (nr == PVT_XEN_sched_op && a1 == PVT_SCHEDOP_block)
		return VMM_COST_BLOCK;
	return COST_NONE;
}

/* One exit; 1 when the guest is done, 0 to go on, -errno to stop. */
static int handle_exit(struct vmm_vcpu *vcpu, int *kind)
{
	struct kvm_run *run = vcpu->run;
	uint64_t port;

	*kind = COST_NONE;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		port = run->io.port;
		if (run->io.direction != KVM_EXIT_IO_OUT)
			break;
		if (port == PVT_NULL_PORT) {
			*kind = VMM_COST_NULL;
			return 0;
		}
		if (port == PVT_HC_PORT) {
			*kind = hypercall_kind(run);
			vcpu->res.hypercalls++;
			return vcpu__hypercall(vcpu);
		}
		if (port == PVT_UCALL_PORT)
			return vcpu__ucall(vcpu);
		break;
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:	/* injected before the next entry */
		return 0;
	case KVM_EXIT_HLT:
		return vcpu__fail(vcpu, -EPROTO, "guest halted without reporting DONE (rip 0x%llx)",
				  (unsigned long long)run->s.regs.regs.rip);
	case KVM_EXIT_SHUTDOWN:
		return vcpu__fail(vcpu, -EFAULT, "guest triple-faulted (rip 0x%llx)",
				  (unsigned long long)run->s.regs.regs.rip);
	case KVM_EXIT_MMIO:
		return vcpu__fail(vcpu, -EFAULT,
				  "guest accessed GPA 0x%llx outside its %llu MiB of RAM (rip 0x%llx)",
				  (unsigned long long)run->mmio.phys_addr,
				  (unsigned long long)(vcpu->vm->mem_size >> 20),
				  (unsigned long long)run->s.regs.regs.rip);
	case KVM_EXIT_FAIL_ENTRY:
		return vcpu__fail(vcpu, -EIO, "VM entry failed (reason 0x%llx)",
				  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return vcpu__fail(vcpu, -EIO, "KVM internal error %u", run->internal.suberror);
	default:
		break;
	}
	if (run->exit_reason == KVM_EXIT_IO)
		return vcpu__fail(vcpu, -EPROTO, "unexpected port I/O: %s port 0x%x",
				  run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
				  run->io.port);
	return vcpu__fail(vcpu, -EPROTO, "unexpected exit reason %u", run->exit_reason);
}

static void vcpu_loop(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	int kind = COST_NONE;
	unsigned settle_runs = 0;
	int ret;

	run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	for (;;) {
		if (stopping(vm)) {
			if (!vcpu->res.status)
				vcpu->res.status = -ECANCELED;
			return;
		}
		vcpu__irq_before_entry(vcpu);
		if (vcpu->res.status)
			return;
		vcpu->entry_tsc = vmm__rdtsc();
		if (!vcpu->oracle.bracket_tsc)
			vcpu->oracle.bracket_tsc = vcpu->entry_tsc;
		if (kind != COST_NONE && vm->cfg.measure_costs)
			record_cost(vcpu, kind, vcpu->entry_tsc -
				    (kind == VMM_COST_BLOCK ? vcpu->wake_tsc : vcpu->exit_tsc));
		ret = ioctl(vcpu->fd, KVM_RUN, 0);
		vcpu->exit_tsc = vmm__rdtsc();
		vcpu__irq_after_exit(vcpu);
		run->kvm_dirty_regs = 0;
		if (ret < 0) {
			kind = COST_NONE;
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vcpu__fail(vcpu, -errno, "KVM_RUN: %s", strerror(errno));
			return;
		}
		vcpu->res.exits++;
		vcpu->wake_tsc = vcpu->exit_tsc;
		if (vm->cfg.roundtrip_per_mille && vcpu__soak_exit(vcpu))
			return;
		/* KVM_EXIT_INTR may come back without the vCPU having entered. */
		if (run->exit_reason != KVM_EXIT_INTR && vcpu__confirm_page(vcpu))
			return;
		if (vm->cfg.check_samples && vcpu__check_samples(vcpu))
			return;
		/* Port I/O is synchronous: no sample can straddle it. */
		if (run->exit_reason == KVM_EXIT_IO)
			vcpu->oracle.bracket_tsc = 0;
		ret = handle_exit(vcpu, &kind);
		/*
		 * A suspect page check is settled by one more entry: the guest
		 * repeats DONE. A page KVM rewrites at every entry stays unsettled
		 * and counts as a mismatch (vcpu__page_unsettled).
		 */
		if (ret > 0 && vcpu->oracle.page_suspect && settle_runs++ < VMM_SETTLE_RUNS)
			continue;
		if (ret > 0)
			return;
		if (ret < 0) {
			if (!vcpu->res.status)
				vcpu__fail(vcpu, ret, "exit handling failed: %s", strerror(-ret));
			return;
		}
	}
}

static void gather(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;
	const struct pvt_guest_config *cfg = vmm__gpa(vm, PVT_GPA_CONFIG, sizeof(*cfg));
	uint64_t n = vcpu->shared->nr_samples;
	const struct pvt_guest_sample *src;

	vcpu->res.loops_done = vcpu->shared->loops_done;
	vcpu->res.early_wakeups = vcpu->shared->early_wakeups;
	vcpu->res.singleshot_fired = vcpu->shared->singleshot_fired;
	vcpu->res.periodic_fired = vcpu->shared->periodic_fired;
	vcpu->res.upcalls = vcpu->shared->upcalls;
	vcpu->res.upcalls_direct = vcpu->shared->upcalls_direct;
	vcpu->res.timers_fired = vcpu->shared->timers_fired;
	vcpu->res.timers_armed = vcpu->shared->timers_armed;
	/* Sizes from the VMM's own copy: the guest may have scribbled on its config page. */
	if (vm->irq_mode) {
		uint64_t k = vcpu->shared->nr_irq_recs;
		const struct pvt_guest_irq_rec *rec;

		if (k > vm->irq_recs_per_vcpu)
			k = vm->irq_recs_per_vcpu;
		rec = vmm__gpa(vm, vm->irq_recs_gpa + vcpu->id * vm->irq_recs_per_vcpu *
			       sizeof(*rec), k * sizeof(*rec));
		vcpu->res.irq_recs = k && rec ? malloc(k * sizeof(*rec)) : NULL;
		if (vcpu->res.irq_recs) {
			memcpy(vcpu->res.irq_recs, rec, k * sizeof(*rec));
			vcpu->res.nr_irq_recs = k;
		}
	}
	vcpu->res.tsc_offset = vcpu->tsc_offset;
	if (n > cfg->samples_per_vcpu)
		n = cfg->samples_per_vcpu;
	src = vmm__gpa(vm, PVT_GPA_SAMPLES + vcpu->id * cfg->samples_per_vcpu *
		       sizeof(*src), n * sizeof(*src));
	vcpu->res.samples = n && src ? malloc(n * sizeof(*src)) : NULL;
	if (vcpu->res.samples) {
		memcpy(vcpu->res.samples, src, n * sizeof(*src));
		vcpu->res.nr_samples = n;
	}
}

static void vcpu_thread(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;
	int ret;

	pvt_thread_set_timerslack(1);
	if (vm->cfg.fifo_priority > 0) {
		ret = pvt_thread_set_fifo(vm->cfg.fifo_priority);
		if (ret) {
			vcpu__fail(vcpu, ret, "SCHED_FIFO %d: %s", vm->cfg.fifo_priority,
				   strerror(-ret));
			return;
		}
	}
	tls_run = vcpu->run;
	__atomic_store_n(&vcpu->tid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	vcpu_loop(vcpu);
	__atomic_store_n(&vcpu->tid, 0, __ATOMIC_SEQ_CST);
	tls_run = NULL;
	vcpu__page_unsettled(vcpu);
}

void *vcpu__thread(void *arg)
{
	struct vmm_vcpu *vcpu = arg;
	struct vmm *vm = vcpu->vm;

	vcpu_thread(vcpu);
	/* The watchdog's wait (join_all) ends here; pthread_join then only reaps. */
	pthread_mutex_lock(&vm->exit_lock);
	vcpu->exited = true;
	pthread_cond_broadcast(&vm->exit_cond);
	pthread_mutex_unlock(&vm->exit_lock);
	return NULL;
}

/*
 * Waits until vcpu's thread has finished its work or the CLOCK_MONOTONIC
 * instant until passed (a condvar on that clock, not pthread_clockjoin_np:
 * ThreadSanitizer does not know that call, and loses track of the threads).
 */
static bool wait_exited(struct vmm *vm, struct vmm_vcpu *vcpu, const struct timespec *until)
{
	bool exited;

	pthread_mutex_lock(&vm->exit_lock);
	while (!vcpu->exited && pthread_cond_timedwait(&vm->exit_cond, &vm->exit_lock, until) !=
						ETIMEDOUT)
		;
	exited = vcpu->exited;
	pthread_mutex_unlock(&vm->exit_lock);
	return exited;
}

static void kick(int sig)
{
	int saved_errno = errno;
	struct kvm_run *run = tls_run;

	(void)sig;
	/*
	 * Interrupts KVM_RUN and poll with EINTR; immediate_exit makes a kick
	 * that lands between the last look at the events and KVM_RUN count too.
	 */
	if (run)
		__atomic_store_n(&run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	errno = saved_errno;
}

static void alloc_costs(struct vmm_vcpu *vcpu)
{
	/* Enough for every exit of a normal run; long runs keep the first million. */
	uint64_t want = vcpu->vm->cfg.loops * COST_EXITS_PER_LOOP + COST_SLACK;
	uint64_t cap = want < VMM_COST_MAX_SAMPLES ? want : VMM_COST_MAX_SAMPLES;
	struct vmm_vcpu_result *r = &vcpu->res;

	bool ok = true;

	r->cost.cap = cap;
	for (unsigned k = 0; k < VMM_COST_EXIT_KINDS; k++) {
		r->cost.ticks[k] = calloc(cap, sizeof(uint64_t));
		ok = ok && r->cost.ticks[k];
	}
	r->cost.wake_late = calloc(cap, sizeof(int64_t));
	r->spin_ns = calloc(cap, sizeof(uint64_t));
	r->advance_ns = calloc(cap, sizeof(uint64_t));
	if (!ok || !r->cost.wake_late || !r->spin_ns || !r->advance_ns)
		r->cost.cap = 0;
}

/* Stops every started vCPU: out of KVM_RUN (immediate_exit) and out of a blocked poll (SIGUSR1). */
static void kick_all(struct vmm *vm)
{
	__atomic_store_n(&vm->stop, 1, __ATOMIC_SEQ_CST);
	for (unsigned k = 0; k < vm->nr_vcpus; k++) {
		if (!vm->vcpus[k].thread_started)
			continue;
		__atomic_store_n(&vm->vcpus[k].run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(vm->vcpus[k].thread, SIGUSR1);
	}
}

/*
 * Waits for all vCPU threads, kicking them when the watchdog expires or
 * vm->poll_stop asks (then again every 50 ms: a vCPU may have been between
 * its stop check and a blocking call when the signal came).
 */
static bool join_all(struct vmm *vm)
{
	/* CLOCK_MONOTONIC: a wall-clock step must neither fire nor hold off the watchdog. */
	uint64_t deadline_ns = clock_now_ns(CLOCK_MONOTONIC) + vm->cfg.watchdog_ms * 1000000;
	bool kicked = false, requested = false;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vmm_vcpu *vcpu = &vm->vcpus[i];
		if (!vcpu->thread_started)
			continue;
		while (!kicked && (vm->cfg.watchdog_ms || vm->poll_stop)) {
			uint64_t until_ns = clock_now_ns(CLOCK_MONOTONIC) + KICK_REPEAT_NS;
			struct timespec until;

			if (!vm->poll_stop || (vm->cfg.watchdog_ms && deadline_ns < until_ns))
				until_ns = deadline_ns;
			until = timespec_of_ns(until_ns);
			if (wait_exited(vm, vcpu, &until))
				break;
			if (vm->cfg.watchdog_ms && clock_now_ns(CLOCK_MONOTONIC) >= deadline_ns) {
				vm->watchdog_fired = true;
				vmm__fail(vm, -ETIMEDOUT, "watchdog: the guest did not finish within %llu ms",
					  (unsigned long long)vm->cfg.watchdog_ms);
				kick_all(vm);
				kicked = true;
			} else if (vm->poll_stop && (requested || vm->poll_stop(vm->poll_ctx))) {
				requested = true;
				kick_all(vm);
			}
		}
		pthread_join(vcpu->thread, NULL);
		vcpu->thread_started = false;
	}
	return kicked;
}

/* The vCPU threads' exit signal, on CLOCK_MONOTONIC (a wall-clock step moves no wait). */
static int exit_sync_init(struct vmm *vm)
{
	pthread_condattr_t attr;
	int r;

	r = pthread_condattr_init(&attr);
	if (r)
		return -r;
	r = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!r)
		r = pthread_cond_init(&vm->exit_cond, &attr);
	pthread_condattr_destroy(&attr);
	if (r)
		return -r;
	r = pthread_mutex_init(&vm->exit_lock, NULL);
	if (r) {
		pthread_cond_destroy(&vm->exit_cond);
		return -r;
	}
	return 0;
}

int vmm_run(struct vmm *vm)
{
	struct sigaction sa = { .sa_handler = kick };
	int ret = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: KVM_RUN returns EINTR */
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (vm->cfg.measure_costs)
			alloc_costs(&vm->vcpus[i]);
	}
	ret = vmm__irq_start(vm);
	if (ret)
		return ret;
	ret = exit_sync_init(vm);
	if (ret) {
		vmm__irq_stop(vm);
		return vmm__fail(vm, ret, "the vCPUs' exit condvar: %s", strerror(-ret));
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vmm_vcpu *vcpu = &vm->vcpus[i];

		vcpu->exited = false;
		ret = pthread_create(&vcpu->thread, NULL, vcpu__thread, vcpu);
		if (ret) {
			vmm__fail(vm, -ret, "pthread_create: %s", strerror(ret));
			__atomic_store_n(&vm->stop, 1, __ATOMIC_SEQ_CST);
			break;
		}
		vcpu->thread_started = true;
	}
	/* A watchdog stop is the run's result, whatever each vCPU saw. */
	ret = join_all(vm) ? -ETIMEDOUT : 0;
	pthread_cond_destroy(&vm->exit_cond);
	pthread_mutex_destroy(&vm->exit_lock);
	vmm__irq_stop(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		int status = vm->vcpus[i].res.status;

		gather(&vm->vcpus[i]);
		/* The vCPU that failed, not one that was stopped because of it. */
		if (status && (!ret || ret == -ECANCELED))
			ret = status;
	}
	if (ret && !vm->error[0])
		vmm__fail(vm, ret, "a vCPU stopped: %s", strerror(-ret));
	return ret;
}

// SPDX-License-Identifier: MIT
/*
 * Running the VMM under run control: a watcher thread stops the vCPUs when
 * SIGINT/SIGTERM arrived or --duration has passed, the same way the VMM's
 * own watchdog does (stop flag, immediate_exit, a SIGUSR1 kick out of
 * KVM_RUN or the blocked poll), so vmm_run() returns with every vCPU thread
 * joined and the loops done so far gathered from guest memory. The signal
 * handler itself only records the signal (runctl.c).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "runctl.h"
#include "vmm-cli.h"

struct watch {
	struct vmm *vm;
	struct runctl rc;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;		/* vmm_run() returned */
	bool stopping;
};

static uint64_t loops_done(const struct vmm *vm)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].shared)
			n += __atomic_load_n(&vm->vcpus[i].shared->loops_done, __ATOMIC_RELAXED);
	return n;
}

static void kick_all(struct vmm *vm)
{
	__atomic_store_n(&vm->stop, 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vmm_vcpu *v = &vm->vcpus[i];

		if (v->run)
			__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		/* Only once vmm_run() installed its SIGUSR1 handler and started it. */
		if (__atomic_load_n(&v->thread_started, __ATOMIC_SEQ_CST))
			pthread_kill(v->thread, SIGUSR1);
	}
}

static void *watcher(void *arg)
{
	struct watch *w = arg;

	pthread_mutex_lock(&w->lock);
	while (!w->done) {
		struct timespec ts;
		/* 100 ms: a prompt Ctrl-C without disturbing what is measured. */
		long step_ns = w->stopping ? 10000000 : 100000000;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += step_ns;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		if (w->done)
			break;
		if (!w->stopping && runctl_should_stop(&w->rc, loops_done(w->vm), runctl_now_ns()))
			w->stopping = true;
		/* Again until vmm_run() returns: a vCPU may enter KVM_RUN after a kick. */
		if (w->stopping)
			kick_all(w->vm);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int vmm_cli_run_ctl(const char *prog, struct vmm *vm, const struct vmm_config *cfg,
		    uint64_t duration_ns, bool quiet, bool *stopped)
{
	struct vmm_config c = *cfg;
	struct watch w = { .vm = vm };
	pthread_condattr_t ca;
	pthread_t tid;
	sigset_t block, old;
	int ret;

	*stopped = false;
	if (vmm_create(vm, &c))
		return runtime_error("%s: %s", prog, vm->error);
	if (runctl_signal()) {
		*stopped = true;	/* nothing ran: an empty report */
		return 0;
	}
	runctl_start(&w.rc, prog, duration_ns ? 0 : cfg->loops * cfg->nr_vcpus, duration_ns,
		     quiet);
	pthread_mutex_init(&w.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cond, &ca);
	pthread_condattr_destroy(&ca);
	/* The watcher takes no signals: SIGINT lands on a thread that can be interrupted. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	ret = pthread_create(&tid, NULL, watcher, &w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		pthread_cond_destroy(&w.cond);
		pthread_mutex_destroy(&w.lock);
		return runtime_error("%s: pthread_create: %s", prog, strerror(ret));
	}
	ret = vmm_run(vm);
	pthread_mutex_lock(&w.lock);
	w.done = true;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	pthread_join(tid, NULL);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	runctl_end(&w.rc);
	/* Stopped on purpose: the vCPUs report -ECANCELED, which is no failure here. */
	if (w.stopping && (ret == -ECANCELED || !ret)) {
		*stopped = true;
		vm->error[0] = '\0';
		return 0;
	}
	if (ret)
		return runtime_error("%s: %s", prog, vm->error);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * The simulation driver. Three event sources, always taken earliest first
 * (ties: host timers, then guests, then the master clock): the simulated
 * host's timer heap (lib simhost), the guests' run queue (a vCPU becomes
 * runnable wake latency after its expiry was delivered) and periodic master
 * clock re-snapshots. Each guest runs the seed's loop: read its clock, ask
 * for a timer interval ahead, block; when it runs again it reads its clock
 * and reports what it observed. A host timer firing reaches the engine as
 * a VMM loop's would: the timer's notify hook serves the vCPU and takes
 * what fired; every other call is followed by a take.
 */
#include <errno.h>
#include <stdlib.h>

#include "pvtime/simhost.h"
#include "pvtime/xentimer.h"
#include "sim-queue.h"
#include "sim-rng.h"
#include "sim.h"

/*
 * cfg->poll (may a signal stop the run?) is asked every this many loops, a
 * power of two for the mask: at millions of loops per second a stop still
 * lands within a few milliseconds, and the call stays off the hot path.
 */
#define SIM_POLL_LOOPS	4096u

struct sim;

struct sim_vcpu {
	struct sim *sim;
	uint32_t id;
	struct pvt_hosttimer *timer;	/* in the simulated host's heap */
	struct pvt_xen_vcpu *xen;	/* the library's engine for this vCPU */
	uint64_t loops_done;
	uint64_t start_ns;		/* guest clock when the current sleep began */
	bool sleeping;			/* a timer was asked for, not yet observed */
	bool queued;			/* in the run queue */
};

struct sim {
	const struct sim_config *cfg;
	struct timerlat_report *report;	/* NULL: record nothing */
	struct pvt_simhost *host;
	struct pvt_hostclock *hostclock;
	struct pvt_kvm_clock kvm;	/* master clock; legacy's one-step model */
	struct pvt_tsc_scaling tsc;	/* every vCPU's (matched) TSC scaling */
	struct pvt_guest_clock clock;	/* the pvclock every vCPU reads */
	struct pvt_xen_vm *vm;
	struct sim_vcpu *vcpus;
	struct sim_queue runq;
	struct sim_rng rng;
	uint32_t active;		/* vCPUs with loops left */
	uint32_t engines;		/* vCPUs whose engine state is initialized */
	uint64_t next_resnap_ns;	/* UINT64_MAX: never */
	uint64_t resnapshots;
	uint64_t start_true_ns;		/* for cfg->duration_ns */
	uint64_t loops_done;		/* all vCPUs, for cfg->poll */
	bool stopped;
	int error;
};


static uint64_t preempt_ns(void *ctx)
{
	const struct sim *s = ctx;

	return s->cfg->preempt_ns;
}

/* The engine recorded VIRQ_TIMER: the guest runs after the host's wake-up latency. */
static void on_expiry(struct sim_vcpu *v)
{
	struct sim *s = v->sim;
	uint64_t wake = s->cfg->wake_latency_ns;
	int ret;

	if (v->queued)
		return;
	if (s->cfg->wake_jitter_ns)
		wake += sim_rng_upto(&s->rng, s->cfg->wake_jitter_ns);
	ret = sim_queue_push(&s->runq, pvt_simhost_now_ns(s->host) + wake, v->id);
	if (ret)
		s->error = ret;
	v->queued = true;
}

/* After a call on v (or its service): what fired wakes the guest. */
static void take(struct sim_vcpu *v)
{
	struct pvt_xen_events ev;

	if (pvt_xen_vcpu_take(v->xen, &ev))
		on_expiry(v);
}

/* The vCPU's simulated host timer fired: the loop serves it. */
static void on_timer(void *ctx)
{
	struct sim_vcpu *v = ctx;
	struct pvt_xen_events ev;
	int ret = pvt_xen_vcpu_service(v->xen, &ev);

	if (ret < 0)
		v->sim->error = ret;
	else if (ret)
		on_expiry(v);
}

static void guest_run(struct sim *s, struct sim_vcpu *v)
{
	const struct sim_config *cfg = s->cfg;
	uint64_t now_ns = pvt_guest_clock_ns(&s->clock, pvt_simhost_tsc(s->host));
	uint64_t deadline_ns;
	int64_t guest_ret;
	int ret;

	v->queued = false;
	if (v->sleeping) {
		v->sleeping = false;
		v->loops_done++;
		if (s->report) {
			char tag[24];

			snprintf(tag, sizeof(tag), " vcpu %u", v->id);
			if (timerlat_report_add_tagged(s->report, now_ns - v->start_ns,
						       cfg->vcpus > 1 ? tag : NULL))
				s->error = -ENOMEM;
		}
		if (cfg->poll && !(++s->loops_done & (SIM_POLL_LOOPS - 1)) &&
		    cfg->poll(cfg->poll_ctx, s->loops_done))
			s->stopped = true;
		if (v->loops_done == cfg->loops || (cfg->duration_ns &&
		    pvt_simhost_now_ns(s->host) - s->start_true_ns >= cfg->duration_ns)) {
			s->active--;
			return;
		}
	}
	/* The seed's loop: t0 = now, sleep until t0 + interval. */
	v->start_ns = now_ns;
	v->sleeping = true;
	deadline_ns = now_ns + cfg->interval_ns;
	if (cfg->hypercall == SIM_HC_SET_TIMER_OP)
		ret = pvt_xen_set_timer_op(v->xen, deadline_ns, &guest_ret);
	else
		ret = pvt_xen_set_singleshot(v->xen, deadline_ns, 0, &guest_ret);
	if (ret)
		s->error = ret;	/* the host queue has a slot per vCPU: never */
	take(v);
}

/* KVM re-snapshots its master clock: the guest page is rewritten from the host's ns. */
static void resnapshot(struct sim *s)
{
	uint64_t now_tsc = pvt_simhost_tsc(s->host);
	int ret;

	s->kvm.master_ns = pvt_kvm_clock_legacy_ns(&s->kvm, now_tsc);
	s->kvm.master_tsc = now_tsc;
	ret = pvt_kvm_guest_clock(&s->kvm, &s->tsc, &s->clock);
	for (uint32_t i = 0; !ret && i < s->cfg->vcpus; i++) {
		ret = pvt_xen_vcpu_set_guest_clock(s->vcpus[i].xen, &s->clock);
		take(&s->vcpus[i]);
	}
	if (ret)
		s->error = ret;
	s->resnapshots++;
	s->next_resnap_ns += s->cfg->resnapshot_s * PVT_NSEC_PER_SEC;
}

static int setup_clocks(struct sim *s)
{
	const struct sim_config *cfg = s->cfg;
	struct pvt_simhost_config host = {
		.tsc_khz = cfg->host_khz,
		.start_true_ns = cfg->uptime_s * PVT_NSEC_PER_SEC,
		.start_mono_ns = cfg->uptime_s * PVT_NSEC_PER_SEC,
		.slew_ppt = cfg->ntp_ppt,
		.max_timers = cfg->vcpus,
	};
	struct pvt_xen_vm_config vmcfg;
	int ret;

	/* tsc_base 0: the first loop runs at host TSC uptime * H * 1000, as tsdrift. */
	ret = pvt_kvm_clock_init(&s->kvm, cfg->host_khz, cfg->frac_bits);
	if (!ret)
		ret = pvt_kvm_tsc_scaling(&s->kvm, cfg->guest_khz, 0, &s->tsc);
	if (!ret)
		ret = pvt_kvm_guest_clock(&s->kvm, &s->tsc, &s->clock);
	if (!ret)
		ret = pvt_simhost_new(&host, &s->host);
	if (ret)
		return ret;
	pvt_simhost_set_preempt(s->host, preempt_ns, s);
	ret = pvt_simhost_hostclock_new(s->host, &s->hostclock);
	if (ret)
		return ret;
	pvt_xen_vm_config_default(&vmcfg);
	vmcfg.algo = cfg->algo;
	return pvt_xen_vm_new(&vmcfg, s->hostclock, &s->kvm, &s->vm);
}

static int setup_vcpus(struct sim *s)
{
	const struct sim_config *cfg = s->cfg;
	uint64_t start = pvt_simhost_now_ns(s->host);
	int ret;

	s->vcpus = calloc(cfg->vcpus, sizeof(*s->vcpus));
	if (!s->vcpus)
		return -ENOMEM;
	ret = sim_queue_init(&s->runq, cfg->vcpus);
	for (uint32_t i = 0; !ret && i < cfg->vcpus; i++) {
		struct sim_vcpu *v = &s->vcpus[i];
		/* vCPU 0 starts at the uptime exactly; the others at random phases. */
		uint64_t phase = i ? sim_rng_upto(&s->rng, cfg->interval_ns - 1) : 0;

		v->sim = s;
		v->id = i;
		ret = pvt_simhost_timer_new(s->host, &v->timer);
		if (!ret)
			ret = pvt_simhost_timer_set_notify(v->timer, on_timer, v);
		if (!ret)
			ret = pvt_xen_vcpu_new(s->vm, i, v->timer, &v->xen);
		if (!ret)
			s->engines++;
		if (!ret)
			ret = pvt_xen_vcpu_set_guest_clock(v->xen, &s->clock);
		if (!ret)
			take(v);
		if (!ret)
			ret = sim_queue_push(&s->runq, start + phase, i);
		v->queued = true;
		s->active++;
	}
	return ret;
}

static void teardown(struct sim *s)
{
	for (uint32_t i = 0; i < s->engines; i++)
		pvt_xen_vcpu_free(s->vcpus[i].xen);
	for (uint32_t i = 0; s->vcpus && i < s->cfg->vcpus; i++)
		pvt_hosttimer_free(s->vcpus[i].timer);
	free(s->vcpus);
	sim_queue_free(&s->runq);
	pvt_xen_vm_free(s->vm);
	pvt_hostclock_free(s->hostclock);
	pvt_simhost_free(s->host);
}

static void advance_to(struct sim *s, uint64_t true_ns)
{
	uint64_t now = pvt_simhost_now_ns(s->host);

	if (true_ns > now)
		pvt_simhost_skip(s->host, true_ns - now);
}

/* Runs events until every vCPU has done its loops. */
static void run(struct sim *s)
{
	while (s->active && !s->error && !s->stopped) {
		uint64_t host_ns = pvt_simhost_next_fire(s->host);
		uint64_t guest_ns = sim_queue_next(&s->runq);

		if (host_ns == UINT64_MAX && guest_ns == UINT64_MAX) {
			s->error = -EDEADLK;	/* nobody left to wake anybody */
			break;
		}
		/* Nothing fires before the chosen event, so time can simply move there. */
		if (s->next_resnap_ns < host_ns && s->next_resnap_ns < guest_ns) {
			advance_to(s, s->next_resnap_ns);
			resnapshot(s);
		} else if (host_ns <= guest_ns) {
			pvt_simhost_step(s->host, host_ns);
		} else {
			struct sim_wake w = sim_queue_pop(&s->runq);

			advance_to(s, w.true_ns);
			guest_run(s, &s->vcpus[w.vcpu]);
		}
	}
}

int sim_run(const struct sim_config *cfg, struct timerlat_report *r,
	    struct sim_result *res)
{
	struct sim s = { .cfg = cfg, .report = r, .next_resnap_ns = UINT64_MAX };
	int ret;

	sim_rng_seed(&s.rng, cfg->seed);
	ret = setup_clocks(&s);
	if (!ret)
		ret = setup_vcpus(&s);
	if (!ret) {
		if (cfg->resnapshot_s)
			s.next_resnap_ns = pvt_simhost_now_ns(s.host) +
					   cfg->resnapshot_s * PVT_NSEC_PER_SEC;
		s.start_true_ns = pvt_simhost_now_ns(s.host);
		run(&s);
		ret = s.error;
	}
	if (res) {
		res->events = s.host ? pvt_simhost_fired(s.host) : 0;
		res->end_true_ns = s.host ? pvt_simhost_now_ns(s.host) : 0;
		res->resnapshots = s.resnapshots;
		res->stopped = s.stopped;
	}
	teardown(&s);
	return ret;
}

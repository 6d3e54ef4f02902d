// SPDX-License-Identifier: MIT
/* hostile and soak: the VMM's long runs (see vmm-soak.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clockns.h"
#include "runctl.h"
#include "vmm-run.h"
#include "vmm-soak.h"

#define LOST_AFTER_NS		1000000000ull
#define SOAK_RSS_SLACK_KB	4096ull
#define SOAK_ROUNDTRIP_PER_MILLE 20u	/* save/restore at 2 % of exits */

/*
 * AddressSanitizer keeps freed memory in a quarantine (up to 256 MiB) so
 * that a use after free is caught: RSS grows by design there. Such a build
 * reports RSS but does not judge it; LeakSanitizer judges leaks at exit.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SOAK_RSS_JUDGED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_RSS_JUDGED 0
#endif
#endif
#ifndef SOAK_RSS_JUDGED
#define SOAK_RSS_JUDGED 1
#endif

static void add_vcpu(struct vmm_long_totals *t, const struct vmm_vcpu *vcpu)
{
	const struct pvt_guest_vcpu *p = vcpu->shared;
	uint64_t dl = __atomic_load_n(&p->wait_deadline_ns, __ATOMIC_SEQ_CST), now;

	t->loops += p->loops_done;
	t->timers += p->timers_checked;
	t->lost += p->lost_timers;
	t->early += p->early_wakeups;
	t->dups += p->duplicate_expiries;
	t->roundtrips += vcpu->res.roundtrips;
	t->exits += vcpu->res.exits;
	t->hypercalls += vcpu->res.hypercalls;
	/* Blocked on a timer when the run stopped: lost if 1 s overdue on its clock. */
	if (dl && !pvt_xen_vcpu_guest_now(vcpu->xen, &now) && (int64_t)(now - dl) > (int64_t)LOST_AFTER_NS) {
		t->lost++;
		t->blocked_lost++;
	}
}

/* ---------------- hostile ---------------- */

int vmm_hostile_run(const struct vmm_config *cfg, uint64_t duration_ns,
		    struct vmm_hostile_result *r)
{
	struct vmm vm;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = vmm_run_ctl(&vm, cfg, "vmm", duration_ns, true, &r->stopped);
	if (vm.vcpus) {
		for (unsigned i = 0; i < vm.nr_vcpus; i++) {
			const struct pvt_guest_vcpu *p = vm.vcpus[i].shared;

			if (!p)
				continue;
			if (i == 0) {
				r->t.hostile_calls = p->hostile_calls;
				r->t.exits += vm.vcpus[i].res.exits;
				continue;
			}
			add_vcpu(&r->t, &vm.vcpus[i]);
		}
	}
	snprintf(r->error, sizeof(r->error), "%s", vm.error);
	vmm_destroy(&vm);
	return ret;
}

/* ---------------- soak ---------------- */

struct soak;

struct slot {
	struct soak *s;
	unsigned idx;
	pthread_t thread;
	bool started;
	uint64_t rng;
	/* under s->lock */
	bool running;			/* a VM is up and its vCPUs run */
	bool dead;			/* failed: creates no more VMs */
	uint64_t gen_end_ns;		/* when this VM is re-created */
	bool gen_over;			/* poll_stop said so */
	/* this thread only, summed by the main thread after the join */
	struct vmm_long_totals t;
	uint64_t vms_created;
	char error[VMM_ERROR_LEN + 256];
};

struct soak {
	const struct vmm_config *cfg;
	unsigned vms;
	pthread_mutex_t lock;
	bool ending;			/* no more generation ends: the end sample comes */
	int stop;			/* atomic: all VMs stop */
	struct slot *slots;
};

static uint64_t slot_rnd(struct slot *sl)
{
	uint64_t x = sl->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sl->rng = x;
	return x * 2685821657736338717ull;
}

static bool slot_poll_stop(void *ctx)
{
	struct slot *sl = ctx;
	struct soak *s = sl->s;
	bool stop;

	if (__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST) || runctl_signal())
		return true;
	pthread_mutex_lock(&s->lock);
	if (!sl->gen_over)
		sl->running = true;
	if (!s->ending && runctl_now_ns() >= sl->gen_end_ns) {
		/* Not up any more as far as sampling goes: it is about to be torn down. */
		sl->running = false;
		sl->gen_over = true;
	}
	stop = sl->gen_over;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

static void slot_set(struct slot *sl, bool running, bool dead)
{
	pthread_mutex_lock(&sl->s->lock);
	sl->running = running;
	sl->dead = dead;
	pthread_mutex_unlock(&sl->s->lock);
}

static void *slot_thread(void *arg)
{
	struct slot *sl = arg;
	struct soak *s = sl->s;

	while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST) && !runctl_signal()) {
		struct vmm_config cfg = *s->cfg;
		struct vmm vm;
		bool requested;
		int ret;

		cfg.seed = s->cfg->seed + 1000003ull * sl->idx + sl->vms_created;
		cfg.roundtrip_per_mille = SOAK_ROUNDTRIP_PER_MILLE;
		pthread_mutex_lock(&s->lock);
		sl->gen_end_ns = runctl_now_ns() +
				 (VMM_SOAK_GEN_MIN_MS + slot_rnd(sl) % VMM_SOAK_GEN_SPAN_MS) * 1000000ull;
		sl->gen_over = false;
		pthread_mutex_unlock(&s->lock);
		ret = vmm_create(&vm, &cfg);
		if (ret) {
			snprintf(sl->error, sizeof(sl->error),
				 "VM %u (%u vCPUs) could not be created: %.400s (%u VMs x %u vCPUs may exceed this host's KVM or memory limits)",
				 sl->idx, cfg.nr_vcpus, vm.error, s->vms, cfg.nr_vcpus);
			vmm_destroy(&vm);
			slot_set(sl, false, true);
			return NULL;
		}
		sl->vms_created++;
		vm.poll_stop = slot_poll_stop;
		vm.poll_ctx = sl;
		ret = vmm_run(&vm);
		pthread_mutex_lock(&s->lock);
		requested = sl->gen_over || __atomic_load_n(&s->stop, __ATOMIC_SEQ_CST) ||
			    runctl_signal();
		sl->running = false;
		pthread_mutex_unlock(&s->lock);
		for (unsigned i = 0; i < vm.nr_vcpus; i++)
			add_vcpu(&sl->t, &vm.vcpus[i]);
		/*
		 * Stopped on our request, every vCPU reports -ECANCELED. The same
		 * code without a request (a vCPU thread that could not be
		 * started stops the others) or any other result is a failure.
		 */
		if (!requested || (ret && ret != -ECANCELED)) {
			if (!vm.error[0])
				snprintf(vm.error, sizeof(vm.error), "its vCPUs ended by themselves (%s)",
					 ret ? strerror(-ret) : "guest said DONE");
			snprintf(sl->error, sizeof(sl->error), "VM %u (generation %" PRIu64 ") stopped: %.400s",
				 sl->idx, sl->vms_created, vm.error);
			vmm_destroy(&vm);
			slot_set(sl, false, true);
			return NULL;
		}
		vmm_destroy(&vm);
	}
	return NULL;
}

/* Resident set, kB (/proc/self/statm's second field, in pages). */
static uint64_t rss_kb(void)
{
	unsigned long long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

/* Open fds, not counting the directory stream that counts them. */
static uint64_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n ? n - 1 : 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = timespec_of_ns((uint64_t)ms * 1000000);

	nanosleep(&ts, NULL);
}

/* Waits (bounded) until every live slot has a VM up; false if none is. */
static bool all_up(struct soak *s, unsigned timeout_ms)
{
	for (unsigned waited = 0;; waited += 20) {
		unsigned up = 0, live = 0;

		pthread_mutex_lock(&s->lock);
		for (unsigned i = 0; i < s->vms; i++) {
			live += !s->slots[i].dead;
			up += s->slots[i].running && !s->slots[i].dead;
		}
		pthread_mutex_unlock(&s->lock);
		if (live && up == live)
			return true;
		if (!live || waited >= timeout_ms || runctl_signal())
			return false;
		sleep_ms(20);
	}
}

int vmm_soak_run(const struct vmm_config *cfg, unsigned vms, uint64_t duration_ns,
		 struct vmm_soak_result *r)
{
	struct soak s = { .cfg = cfg, .vms = vms };
	struct vmm_long_totals *t = &r->t;
	uint64_t end;
	bool sampled0;

	memset(r, 0, sizeof(*r));
	s.slots = calloc(vms, sizeof(*s.slots));
	if (!s.slots)
		return -ENOMEM;
	pthread_mutex_init(&s.lock, NULL);
	end = runctl_now_ns() + duration_ns;
	for (unsigned i = 0; i < vms; i++) {
		struct slot *sl = &s.slots[i];

		*sl = (struct slot){ .s = &s, .idx = i, .rng = (cfg->seed ^ (i + 1) * 0xd1b54a32d192ed03ull) | 1 };
		if (pthread_create(&sl->thread, NULL, slot_thread, sl)) {
			snprintf(sl->error, sizeof(sl->error), "VM %u: its thread could not be created", i);
			sl->dead = true;
			continue;
		}
		sl->started = true;
	}
	/* Steady state: every VM up, then a moment for the first allocations to settle. */
	sampled0 = all_up(&s, 30000);
	if (sampled0) {
		sleep_ms(500);
		r->rss_kb_start = rss_kb();
		r->fds_start = open_fds();
	}
	while (runctl_now_ns() < end && !runctl_signal()) {
		bool any_live = false;

		pthread_mutex_lock(&s.lock);
		for (unsigned i = 0; i < vms; i++)
			any_live |= !s.slots[i].dead;
		pthread_mutex_unlock(&s.lock);
		if (!any_live)
			break;
		sleep_ms(50);
	}
	/* The end sample, with every VM up again: none is re-created from here on. */
	pthread_mutex_lock(&s.lock);
	s.ending = true;
	pthread_mutex_unlock(&s.lock);
	if (sampled0 && all_up(&s, 30000)) {
		r->rss_kb_end = rss_kb();
		r->fds_end = open_fds();
		r->sampled = true;
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < vms; i++) {
		struct slot *sl = &s.slots[i];

		if (sl->started)
			pthread_join(sl->thread, NULL);
		t->hostile_calls += sl->t.hostile_calls;
		t->loops += sl->t.loops;
		t->timers += sl->t.timers;
		t->lost += sl->t.lost;
		t->early += sl->t.early;
		t->dups += sl->t.dups;
		t->roundtrips += sl->t.roundtrips;
		t->exits += sl->t.exits;
		t->blocked_lost += sl->t.blocked_lost;
		r->vms_created += sl->vms_created;
		if (sl->error[0]) {
			if (!r->failures)
				snprintf(r->first_error, sizeof(r->first_error), "%s", sl->error);
			r->failures++;
		}
	}
	r->rss_judged = SOAK_RSS_JUDGED;
	r->rss_flat = r->sampled &&
		      (!SOAK_RSS_JUDGED ||
		       r->rss_kb_end <= r->rss_kb_start + (r->rss_kb_start / 10 > SOAK_RSS_SLACK_KB ?
							   r->rss_kb_start / 10 : SOAK_RSS_SLACK_KB));
	r->fds_flat = r->sampled && r->fds_end == r->fds_start;
	pthread_mutex_destroy(&s.lock);
	free(s.slots);
	return 0;
}

void vmm_hostile_json(struct json *j, const struct vmm_config *cfg, uint64_t duration_ns,
		      const struct vmm_hostile_result *r, bool failed)
{
	json_string(j, "scenario", "hostile");
	json_u64(j, "seed", cfg->seed);
	json_u64(j, "vcpus", cfg->nr_vcpus);
	json_double(j, "duration_s", duration_ns / 1e9);
	json_u64(j, "hostile_hypercalls", r->t.hostile_calls);
	json_u64(j, "timerlat_loops", r->t.loops);
	json_u64(j, "timers", r->t.timers);
	json_u64(j, "early_wakeups", r->t.early);
	json_u64(j, "lost_timers", r->t.lost);
	json_u64(j, "duplicate_expiries", r->t.dups);
	json_u64(j, "exits", r->t.exits);
	json_bool(j, "vm_stopped", failed);
	if (failed)
		json_string(j, "stop_reason", r->error[0] ? r->error : "the run did not end by its duration");
}

void vmm_soak_json(struct json *j, const struct vmm_config *cfg, unsigned vms, uint64_t duration_ns,
		   const struct vmm_soak_result *r)
{
	json_string(j, "scenario", "soak");
	json_u64(j, "seed", cfg->seed);
	json_u64(j, "vms", vms);
	json_u64(j, "vcpus", cfg->nr_vcpus);
	json_double(j, "duration_s", duration_ns / 1e9);
	json_u64(j, "vms_created", r->vms_created);
	json_u64(j, "rounds", r->t.loops);
	json_u64(j, "timers", r->t.timers);
	json_u64(j, "lost_timers", r->t.lost);
	json_u64(j, "early_wakeups", r->t.early);
	json_u64(j, "duplicate_expiries", r->t.dups);
	json_u64(j, "roundtrips", r->t.roundtrips);
	json_u64(j, "exits", r->t.exits);
	json_u64(j, "rss_kb_start", r->rss_kb_start);
	json_u64(j, "rss_kb_end", r->rss_kb_end);
	json_u64(j, "fds_start", r->fds_start);
	json_u64(j, "fds_end", r->fds_end);
	json_bool(j, "rss_flat", r->rss_flat);
	json_bool(j, "rss_judged", r->rss_judged);
	json_bool(j, "fds_flat", r->fds_flat);
	json_u64(j, "vm_failures", r->failures);
	if (r->first_error[0])
		json_string(j, "first_error", r->first_error);
}

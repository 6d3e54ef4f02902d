// SPDX-License-Identifier: MIT
/*
 * pvtime vmm --scenario hostile and --scenario soak: long runs that judge
 * the VMM rather than measure it.
 *
 * hostile: one VM, vCPU 0 a seeded random hypercall source, the others
 * timerlat (vmm/guest/hostile.c). It passes when the run ends because the
 * duration did (no vCPU stopped, no watchdog), and the timerlat vCPUs saw
 * no early, lost or doubled timer.
 *
 * soak: --vms VMs side by side in this process, one thread each, every VM
 * re-created every few seconds (create/destroy leaks show in RSS and
 * fds), its vCPUs running the checked timer mix while the VMM round-trips
 * their timer state through save/restore at random exits (vmm/soak.c).
 * RSS and the open fds are sampled when every VM is up, at the start and
 * again at the end; "flat" is: the same fds, RSS within
 * max(SOAK_RSS_SLACK_KB, 10 % of the start).
 *
 * A timer a vCPU was blocked on when its VM stopped is judged here: lost
 * if its guest clock (the engine's, for that vCPU) is 1 s past it.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "clockns.h"
#include "cmdline.h"
#include "runctl.h"
#include "vmm-cli.h"

#define LOST_AFTER_NS		1000000000ull
#define SOAK_RSS_SLACK_KB	4096ull
#define SOAK_GEN_MIN_MS		2000u	/* each VM lives 2..6 s, then is re-created */
#define SOAK_GEN_SPAN_MS	4000u
#define SOAK_ROUNDTRIP_PER_MILLE 20u	/* save/restore at 2 % of exits */
#define HANG_SLACK_MS		30000ull	/* watchdog past the duration: a hang */

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

int vmm_cli_parse_long_run(const char *prog, struct vmm_cli *cli, bool loops_set)
{
	bool soak = cli->cfg.scenario == PVT_SCN_SOAK;

	if (strcmp(prog, "vmm"))
		return usage_error("%s: --scenario hostile|soak: only with pvtime vmm", prog);
	if (loops_set)
		return usage_error("%s: --scenario %s runs for --duration, not -n", prog,
				   soak ? "soak" : "hostile");
	if (cli->vms && !soak)
		return usage_error("%s: --vms: only with --scenario soak", prog);
	if (!soak && cli->cfg.nr_vcpus < 2)
		return usage_error("%s: --scenario hostile needs --vcpus 2 or more", prog);
	if (cli->plot)
		return usage_error("%s: --plot: not with --scenario hostile|soak", prog);
	if (!cli->duration_ns)
		cli->duration_ns = VMM_LONG_RUN_DEFAULT_NS;
	if (!cli->vms)
		cli->vms = 2;
	if (!cli->seed_set) {
		uint64_t s = 0;

		if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
			s = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
		cli->cfg.seed = s;
	}
	/* The guests run until stopped: no per-loop records, no per-exit oracle. */
	cli->cfg.loops = 1;
	cli->cfg.check_samples = false;
	cli->cfg.measure_costs = false;
	cli->cfg.watchdog_ms = cli->duration_ns / 1000000 + HANG_SLACK_MS;
	return 0;
}

/* Per-run totals read from the guests' pages (and the engine's clock). */
struct long_totals {
	uint64_t hostile_calls, loops, timers, lost, early, dups, roundtrips;
	uint64_t exits, hypercalls, blocked_lost;
};

static void add_vcpu(struct long_totals *t, const struct vmm_vcpu *vcpu)
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

int vmm_cli_hostile(int argc, char **argv, struct vmm_cli *cli)
{
	struct long_totals t = { 0 };
	struct vmm vm;
	struct json j;
	bool stopped = false, failed;
	int ret;

	(void)argc;	/* the JSON's "command" is main()'s argv (cmdline.h) */
	(void)argv;
	if (!cli->quiet && !cli->out.json)
		printf("# hostile: seed %" PRIu64 " (--seed %" PRIu64 " repeats it), %u vCPUs, %.1f s\n",
		       cli->cfg.seed, cli->cfg.seed, cli->cfg.nr_vcpus, cli->duration_ns / 1e9);
	fflush(stdout);
	ret = vmm_cli_run_ctl("vmm", &vm, &cli->cfg, cli->duration_ns, true, &stopped);
	/* Only the duration (or a signal) may end it: any other stop came from guest input. */
	failed = ret || !stopped;
	if (vm.vcpus) {
		for (unsigned i = 0; i < vm.nr_vcpus; i++) {
			const struct pvt_guest_vcpu *p = vm.vcpus[i].shared;

			if (!p)
				continue;
			if (i == 0) {
				t.hostile_calls = p->hostile_calls;
				t.exits += vm.vcpus[i].res.exits;
				continue;
			}
			add_vcpu(&t, &vm.vcpus[i]);
		}
	}
	if (cli->out.json) {
		json_begin(&j, stdout);
		cmdline_json_header(&j);
		runctl_json(&j);
		json_string(&j, "scenario", "hostile");
		json_u64(&j, "seed", cli->cfg.seed);
		json_u64(&j, "vcpus", cli->cfg.nr_vcpus);
		json_double(&j, "duration_s", cli->duration_ns / 1e9);
		json_u64(&j, "hostile_hypercalls", t.hostile_calls);
		json_u64(&j, "timerlat_loops", t.loops);
		json_u64(&j, "timers", t.timers);
		json_u64(&j, "early_wakeups", t.early);
		json_u64(&j, "lost_timers", t.lost);
		json_u64(&j, "duplicate_expiries", t.dups);
		json_u64(&j, "exits", t.exits);
		json_bool(&j, "vm_stopped", failed);
		if (failed)
			json_string(&j, "stop_reason", vm.error[0] ? vm.error : "the run did not end by its duration");
		json_end(&j);
	} else {
		runctl_text(stdout, UINT64_MAX);
		printf("hostile hypercalls (vCPU 0):  %" PRIu64 "\n", t.hostile_calls);
		printf("timerlat (vCPUs 1..%u):       %" PRIu64 " loops, %" PRIu64 " timers checked\n",
		       cli->cfg.nr_vcpus - 1, t.loops, t.timers);
		printf("early wake-ups:               %" PRIu64 "\n", t.early);
		printf("lost timers:                  %" PRIu64 "%s\n", t.lost,
		       t.blocked_lost ? " (some blocked past deadline + 1 s at the end)" : "");
		printf("duplicate expiries:           %" PRIu64 "\n", t.dups);
		printf("VM stopped:                   %s%s\n", failed ? "yes: " : "no (ran to its duration)",
		       failed ? (vm.error[0] ? vm.error : "the run did not end by its duration") : "");
	}
	if (!ret && failed)
		ret = runtime_error("vmm: hostile: the VM stopped before its duration: %s", vm.error);
	else if (!ret && (t.early || t.lost || t.dups || !t.loops || !t.hostile_calls))
		ret = runtime_error("vmm: hostile: %" PRIu64 " early, %" PRIu64 " lost, %" PRIu64
				    " duplicated timers, %" PRIu64 " timerlat loops, %" PRIu64 " hypercalls",
				    t.early, t.lost, t.dups, t.loops, t.hostile_calls);
	vmm_destroy(&vm);
	return runctl_final(ret);
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
	struct long_totals t;
	uint64_t vms_created;
	char error[VMM_ERROR_LEN + 256];
};

struct soak {
	const struct vmm_cli *cli;
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
	const struct vmm_cli *cli = s->cli;

	while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST) && !runctl_signal()) {
		struct vmm_config cfg = cli->cfg;
		struct vmm vm;
		bool requested;
		int ret;

		cfg.seed = cli->cfg.seed + 1000003ull * sl->idx + sl->vms_created;
		cfg.roundtrip_per_mille = SOAK_ROUNDTRIP_PER_MILLE;
		pthread_mutex_lock(&s->lock);
		sl->gen_end_ns = runctl_now_ns() +
				 (SOAK_GEN_MIN_MS + slot_rnd(sl) % SOAK_GEN_SPAN_MS) * 1000000ull;
		sl->gen_over = false;
		pthread_mutex_unlock(&s->lock);
		ret = vmm_create(&vm, &cfg);
		if (ret) {
			snprintf(sl->error, sizeof(sl->error),
				 "VM %u (%u vCPUs) could not be created: %.400s (%u VMs x %u vCPUs may exceed this host's KVM or memory limits)",
				 sl->idx, cfg.nr_vcpus, vm.error, cli->vms, cfg.nr_vcpus);
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
		for (unsigned i = 0; i < s->cli->vms; i++) {
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

int vmm_cli_soak(int argc, char **argv, struct vmm_cli *cli)
{
	struct soak s = { .cli = cli };
	struct long_totals t = { 0 };
	uint64_t rss0 = 0, rss1 = 0, fds0 = 0, fds1 = 0, created = 0, start, end;
	bool sampled0, sampled1 = false, rss_flat, fds_flat;
	unsigned failures = 0;
	const char *first_error = NULL;
	struct json j;
	int ret = 0;

	(void)argc;	/* the JSON's "command" is main()'s argv (cmdline.h) */
	(void)argv;
	s.slots = calloc(cli->vms, sizeof(*s.slots));
	if (!s.slots)
		return runtime_error("vmm: soak: out of memory");
	pthread_mutex_init(&s.lock, NULL);
	if (!cli->quiet && !cli->out.json)
		printf("# soak: %u VMs x %u vCPUs, %.1f s, seed %" PRIu64 "\n", cli->vms,
		       cli->cfg.nr_vcpus, cli->duration_ns / 1e9, cli->cfg.seed);
	fflush(stdout);
	start = runctl_now_ns();
	end = start + cli->duration_ns;
	for (unsigned i = 0; i < cli->vms; i++) {
		struct slot *sl = &s.slots[i];

		*sl = (struct slot){ .s = &s, .idx = i, .rng = (cli->cfg.seed ^ (i + 1) * 0xd1b54a32d192ed03ull) | 1 };
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
		rss0 = rss_kb();
		fds0 = open_fds();
	}
	while (runctl_now_ns() < end && !runctl_signal()) {
		bool any_live = false;

		pthread_mutex_lock(&s.lock);
		for (unsigned i = 0; i < cli->vms; i++)
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
		rss1 = rss_kb();
		fds1 = open_fds();
		sampled1 = true;
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < cli->vms; i++) {
		struct slot *sl = &s.slots[i];

		if (sl->started)
			pthread_join(sl->thread, NULL);
		t.hostile_calls += sl->t.hostile_calls;
		t.loops += sl->t.loops;
		t.timers += sl->t.timers;
		t.lost += sl->t.lost;
		t.early += sl->t.early;
		t.dups += sl->t.dups;
		t.roundtrips += sl->t.roundtrips;
		t.exits += sl->t.exits;
		t.blocked_lost += sl->t.blocked_lost;
		created += sl->vms_created;
		if (sl->error[0]) {
			failures++;
			if (!first_error)
				first_error = sl->error;
		}
	}
	rss_flat = sampled1 && (!SOAK_RSS_JUDGED ||
				rss1 <= rss0 + (rss0 / 10 > SOAK_RSS_SLACK_KB ? rss0 / 10 : SOAK_RSS_SLACK_KB));
	fds_flat = sampled1 && fds1 == fds0;
	if (cli->out.json) {
		json_begin(&j, stdout);
		cmdline_json_header(&j);
		runctl_json(&j);
		json_string(&j, "scenario", "soak");
		json_u64(&j, "seed", cli->cfg.seed);
		json_u64(&j, "vms", cli->vms);
		json_u64(&j, "vcpus", cli->cfg.nr_vcpus);
		json_double(&j, "duration_s", cli->duration_ns / 1e9);
		json_u64(&j, "vms_created", created);
		json_u64(&j, "rounds", t.loops);
		json_u64(&j, "timers", t.timers);
		json_u64(&j, "lost_timers", t.lost);
		json_u64(&j, "early_wakeups", t.early);
		json_u64(&j, "duplicate_expiries", t.dups);
		json_u64(&j, "roundtrips", t.roundtrips);
		json_u64(&j, "exits", t.exits);
		json_u64(&j, "rss_kb_start", rss0);
		json_u64(&j, "rss_kb_end", rss1);
		json_u64(&j, "fds_start", fds0);
		json_u64(&j, "fds_end", fds1);
		json_bool(&j, "rss_flat", rss_flat);
		json_bool(&j, "rss_judged", SOAK_RSS_JUDGED);
		json_bool(&j, "fds_flat", fds_flat);
		json_u64(&j, "vm_failures", failures);
		if (first_error)
			json_string(&j, "first_error", first_error);
		json_end(&j);
	} else {
		runctl_text(stdout, UINT64_MAX);
		printf("VMs created:          %" PRIu64 " (%u side by side, re-created every %u..%u s)\n",
		       created, cli->vms, SOAK_GEN_MIN_MS / 1000, (SOAK_GEN_MIN_MS + SOAK_GEN_SPAN_MS) / 1000);
		printf("timers checked:       %" PRIu64 " in %" PRIu64 " rounds\n", t.timers, t.loops);
		printf("lost timers:          %" PRIu64 "\n", t.lost);
		printf("early wake-ups:       %" PRIu64 "\n", t.early);
		printf("duplicate expiries:   %" PRIu64 "\n", t.dups);
		printf("save/restore trips:   %" PRIu64 "\n", t.roundtrips);
		if (!sampled1) {
			printf("RSS, open fds:        not sampled (not every VM was up at the start and the end)\n");
		} else {
			printf("RSS:                  %" PRIu64 " kB -> %" PRIu64 " kB (%s)\n", rss0, rss1,
			       !SOAK_RSS_JUDGED ? "not judged: ASan's quarantine" :
			       rss_flat ? "flat" : "GREW");
			printf("open fds:             %" PRIu64 " -> %" PRIu64 " (%s)\n", fds0, fds1,
			       fds_flat ? "flat" : "CHANGED");
		}
		printf("VM failures:          %u%s%s\n", failures, first_error ? ": " : "",
		       first_error ? first_error : "");
	}
	if (first_error)
		ret = runtime_error("vmm: soak: %s", first_error);
	else if (runctl_signal())
		ret = 0;
	else if (t.lost || t.early || t.dups || !t.timers)
		ret = runtime_error("vmm: soak: %" PRIu64 " lost, %" PRIu64 " early, %" PRIu64
				    " duplicated of %" PRIu64 " timers", t.lost, t.early, t.dups, t.timers);
	else if (!rss_flat || !fds_flat)
		ret = runtime_error("vmm: soak: not flat: RSS %" PRIu64 " -> %" PRIu64 " kB, fds %" PRIu64
				    " -> %" PRIu64, rss0, rss1, fds0, fds1);
	pthread_mutex_destroy(&s.lock);
	free(s.slots);
	return runctl_final(ret);
}

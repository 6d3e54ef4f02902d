/* SPDX-License-Identifier: MIT */
/*
 * The VMM's long runs that judge it rather than measure it (`pvtime vmm
 * --scenario hostile|soak`).
 *
 * hostile: one VM, vCPU 0 a seeded random hypercall source, the others
 * timerlat (vmm/guest/hostile.c). It passes when the run ends because the
 * duration did (no vCPU stopped, no watchdog), and the timerlat vCPUs saw
 * no early, lost or doubled timer.
 *
 * soak: several VMs side by side in this process, one thread each, every VM
 * re-created every few seconds (create/destroy leaks show in RSS and fds),
 * its vCPUs running the checked timer mix while the VMM round-trips their
 * timer state through save/restore at random exits (vmm/soak.c). RSS and
 * the open fds are sampled when every VM is up, at the start and again at
 * the end; "flat" is: the same fds, RSS within max(4 MiB, 10 % of the start).
 *
 * A timer a vCPU was blocked on when its VM stopped is judged here: lost if
 * its guest clock (the engine's, for that vCPU) is 1 s past it.
 */
#ifndef PVTIME_MEASURE_VMM_SOAK_H
#define PVTIME_MEASURE_VMM_SOAK_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "vmm.h"

#define VMM_SOAK_GEN_MIN_MS	2000u	/* each VM lives 2..6 s, then is re-created */
#define VMM_SOAK_GEN_SPAN_MS	4000u

/* Per-run totals read from the guests' pages (and the engine's clock). */
struct vmm_long_totals {
	uint64_t hostile_calls, loops, timers, lost, early, dups, roundtrips;
	uint64_t exits, hypercalls;
	uint64_t blocked_lost;		/* of lost: blocked past deadline + 1 s at the end */
};

struct vmm_hostile_result {
	struct vmm_long_totals t;	/* t.loops, t.timers...: the timerlat vCPUs 1.. */
	bool stopped;			/* the duration or a signal ended it (the only good end) */
	char error[VMM_ERROR_LEN];	/* the VM's error when something else did ("" if none) */
};

/*
 * Runs cfg (PVT_SCN_HOSTILE) under run control for duration_ns. 0, or
 * -errno when the VM could not be created or failed (r->error says why);
 * r is filled either way.
 */
int vmm_hostile_run(const struct vmm_config *cfg, uint64_t duration_ns,
		    struct vmm_hostile_result *r);

struct vmm_soak_result {
	struct vmm_long_totals t;
	uint64_t vms_created;
	uint64_t rss_kb_start, rss_kb_end, fds_start, fds_end;
	bool sampled;			/* both samples taken (every VM up at the start and the end) */
	bool rss_judged;		/* false in an ASan build: its quarantine grows RSS by design */
	bool rss_flat, fds_flat;
	unsigned failures;		/* VMs that failed (and were not re-created) */
	char first_error[VMM_ERROR_LEN + 256];	/* the first failure's line, "" if none */
};

/*
 * Runs vms VMs of cfg (PVT_SCN_SOAK; cfg->seed seeds them all) side by side
 * for duration_ns, or until SIGINT/SIGTERM (runctl) or every VM failed.
 * 0, or -ENOMEM before anything ran; VM failures are in r, not the return.
 */
int vmm_soak_run(const struct vmm_config *cfg, unsigned vms, uint64_t duration_ns,
		 struct vmm_soak_result *r);

/*
 * The runs as JSON members of j's open object (`pvtime vmm --scenario
 * hostile|soak --json`); failed: the hostile VM stopped before its duration.
 */
void vmm_hostile_json(struct json *j, const struct vmm_config *cfg, uint64_t duration_ns,
		      const struct vmm_hostile_result *r, bool failed);
void vmm_soak_json(struct json *j, const struct vmm_config *cfg, unsigned vms, uint64_t duration_ns,
		   const struct vmm_soak_result *r);

#endif

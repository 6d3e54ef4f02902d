/* SPDX-License-Identifier: MIT */
/*
 * Shared by `pvtime vmm`, `pvtime timerlat --vmm`, `pvtime bench vmm` and
 * the demo: the VMM's command-line options, running it with a clear error
 * when /dev/kvm is unusable, and turning guest samples into figures.
 */
#ifndef PVTIME_CLI_VMM_CLI_H
#define PVTIME_CLI_VMM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "options.h"
#include "timerlat-report.h"
#include "vmm.h"

struct vmm_cli {
	struct vmm_config cfg;
	bool quiet;
	const char *plot;
	struct cli_output out;	/* --json, --format, --metrics */
	uint64_t duration_ns;	/* --duration: cfg.loops is then an upper bound */
	bool seed_set;		/* --seed (hostile/soak; else a fresh one) */
	unsigned vms;		/* --vms (soak) */
};

/* ---- --scenario hostile and soak (cli/vmm-soak.c) ---- */
#define VMM_SOAK_MAX_VMS	64
#define VMM_LONG_RUN_DEFAULT_NS	10000000000ull	/* --duration's default for both */

/* The checks after parsing for hostile/soak (defaults, conflicts). 0 or 2 after a message. */
int vmm_cli_parse_long_run(const char *prog, struct vmm_cli *cli, bool loops_set);
/* pvtime vmm --scenario hostile / soak, parsed: run, report, exit status. */
int vmm_cli_hostile(int argc, char **argv, struct vmm_cli *cli);
int vmm_cli_soak(int argc, char **argv, struct vmm_cli *cli);

/*
 * Parses the VMM options after argv[0] (prog names the command in errors).
 * Returns 0, or an exit code (2 after a usage message, or OPTS_HELP after
 * printing usage to stdout: the caller exits 0).
 */
int vmm_cli_parse(const char *prog, int argc, char **argv, struct vmm_cli *cli);

/* The largest fixed --advance, ns. */
#define VMM_ADVANCE_MAX_NS	1000000ull

/* --advance off|adaptive|NS into a struct vmm_config (an OPT_CUSTOM parser). 0, or -1 after a message. */
int vmm_cli_parse_advance(const char *spelled, const char *arg, void *vmm_config);

/* --guest idle|busy|mixed (the scenario each means) and --irq auto|chip|user. */
extern const struct opt_choice vmm_cli_guest_choices[];
extern const struct opt_choice vmm_cli_irq_choices[];

/* "off", "adaptive" or the fixed ns (in buf) as cfg's algo will use it. */
const char *vmm_advance_name(const struct vmm_config *cfg, char *buf, size_t len);

/* The usage text for the shared options. */
void vmm_cli_usage(FILE *out, const char *prog);

/* Checks /dev/kvm; prints why and returns 1 when unusable, else 0. */
int vmm_cli_require_kvm(const char *prog);

/* Creates and runs a VM. 0, or 1 after printing vm->error (vm stays valid to destroy). */
int vmm_cli_run(const char *prog, struct vmm *vm, const struct vmm_config *cfg);

/*
 * vmm_cli_run() under run control (cli/vmm-runctl.c): SIGINT/SIGTERM or
 * duration_ns (0: none) stop the vCPUs; the VM keeps what they did
 * (*stopped set, 0 returned). A progress line on a terminal unless quiet.
 */
int vmm_cli_run_ctl(const char *prog, struct vmm *vm, const struct vmm_config *cfg,
		    uint64_t duration_ns, bool quiet, bool *stopped);

/* "its own kvmclock ..." / "the VMM's Xen vcpu_time_info ..." for the output. */
const char *vmm_cli_clock_name(const struct vmm_config *cfg);

/* Adds every timerlat loop of every vCPU (latency = t1.ns - t0.ns) to r. */
int vmm_timerlat_report(struct vmm *vm, struct timerlat_report *r);

/* Totals over vCPUs. */
struct vmm_totals {
	uint64_t loops, early_wakeups, exits, hypercalls;
	uint64_t lost_timers;		/* vCPUs the watchdog found still asleep on a timer */
	uint64_t page_checks, page_mismatches, sample_checks, sample_mismatches;
	uint64_t singleshot_fired, periodic_fired;
	const char *first_mismatch;	/* NULL when none */
};
void vmm_totals(const struct vmm *vm, struct vmm_totals *t);
/*
 * 1 when vCPU c of a timer scenario still had loops to do when the watchdog
 * ended the run: it was asleep on a timer that never came (a lost timer).
 */
uint64_t vmm_vcpu_lost(const struct vmm *vm, unsigned c);

/* The timer advance over all vCPUs (on = some expiry was served with one). */
struct vmm_advance_summary {
	bool on;
	uint64_t expiries, spins;	/* expiries served with an advance; those that spun */
	int64_t advance_p50, advance_p99;	/* the advance each was armed with, ns */
	int64_t spin_p50, spin_p99;	/* CPU spent spinning per expiry (0 when woken late), ns */
	double spin_mean;		/* ns, over every expiry */
};
int vmm_advance_summary(const struct vmm *vm, struct vmm_advance_summary *s);
/* One text line / JSON members ("advance", advance_ns {p50,p99}, spin_ns {p50,p99,mean}). */
void vmm_cli_advance_print(FILE *out, const struct vmm *vm);
void vmm_cli_advance_json(struct json *j, const struct vmm *vm);
void vmm_cli_advance_summary_json(struct json *j, const struct vmm_advance_summary *a);

/* Text lines: per vCPU, the oracles, the clock. */
void vmm_cli_print(FILE *out, const struct vmm *vm);
/* The same as JSON members into an open object. */
void vmm_cli_json(struct json *j, const struct vmm *vm);

/*
 * Handling cost samples in ns (exit to resume, sleep excluded) into an
 * initialised-here stats: VMM_COST_TIMER timer hypercalls, _BLOCK (wake to
 * resume), _NULL bare null-port exits, _DELIVERY how late each singleshot
 * expiry was delivered on the guest's clock (signed). -ENOMEM, -EINVAL.
 */
int vmm_cost(const struct vmm *vm, enum vmm_cost_kind kind, struct stats *s);

/* ---- upcalls (busy/mixed; vmm-irq.c) ---- */
struct vmm_irq_totals {
	uint64_t raises, kicks, injections, msis, windows, blocks;
	uint64_t upcalls, upcalls_direct, timers_fired, timers_armed;
};
/* p50 of each stage of the interrupt path, ns (-1: no sample). */
struct vmm_irq_breakdown {
	size_t n;			/* upcalls that came by interrupt */
	int64_t wake_ns, kick_ns, inject_ns, entry_ns, handler_ns, raise_to_fire_ns;
};
const char *vmm_irq_name(const struct vmm *vm);
/* "idle", "busy", "mixed" (or the scenario's name). */
const char *vmm_guest_name(const struct vmm_config *cfg);
/* The software timers' lateness on the guest clock (deadline to fire), ns. */
int vmm_irq_lateness(const struct vmm *vm, struct stats *s);
int vmm_irq_breakdown(const struct vmm *vm, struct vmm_irq_breakdown *b);
void vmm_irq_totals(const struct vmm *vm, struct vmm_irq_totals *t);
void vmm_cli_irq_print(FILE *out, const struct vmm *vm);
void vmm_cli_irq_json(struct json *j, const struct vmm *vm);
void vmm_cli_irq_json_breakdown(struct json *j, const struct vmm_irq_breakdown *b);

/* ns from host TSC ticks at the VM's TSC rate. */
uint64_t vmm_tsc_to_ns(const struct vmm *vm, uint64_t ticks);

#endif

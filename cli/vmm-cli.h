/* SPDX-License-Identifier: MIT */
/*
 * Shared by `pvtime vmm`, `pvtime timerlat --vmm`, `pvtime bench vmm` and
 * the demo: the VMM's command-line options, running it with a clear error
 * when /dev/kvm is unusable, and printing a VM's results as text and JSON
 * (the figures are vmm/results.h's, the runs measure/'s).
 */
#ifndef PVTIME_CLI_VMM_CLI_H
#define PVTIME_CLI_VMM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "options.h"
#include "results.h"
#include "timerlat-report.h"
#include "vmm-run.h"
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

/* The usage text for the shared options. */
void vmm_cli_usage(FILE *out, const char *prog);

/* Checks /dev/kvm; prints why and returns 1 when unusable, else 0. */
int vmm_cli_require_kvm(const char *prog);

/* vmm_run_ctl() (measure/vmm-run.h) that prints vm->error: 0, or 1 after the message. */
int vmm_cli_run_ctl(const char *prog, struct vmm *vm, const struct vmm_config *cfg,
		    uint64_t duration_ns, bool quiet, bool *stopped);

/*
 * Text lines (their JSON twins are vmm/results.h's vmm_json() & co): the
 * timer advance, the whole VM (per vCPU, the oracles, the clock), the
 * upcalls of busy/mixed (vmm-report.c).
 */
void vmm_cli_advance_print(FILE *out, const struct vmm *vm);
void vmm_cli_print(FILE *out, const struct vmm *vm);
void vmm_cli_irq_print(FILE *out, const struct vmm *vm);

#endif

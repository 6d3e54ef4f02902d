/* SPDX-License-Identifier: MIT */
/*
 * Run control for the long-running commands (timerlat, sim, vmm, bench,
 * demo): SIGINT/SIGTERM end a run cleanly so the loops measured so far are
 * still reported (cyclictest does the same), --duration S as an alternative
 * to a loop count, and a one-line progress indicator on stderr when stderr
 * is a terminal (never in pipes, never with --quiet).
 *
 * The signal handler only stores the signal number; loops poll
 * runctl_signal() (a clock_nanosleep or poll interrupted by it returns
 * EINTR: the handler is installed without SA_RESTART). SA_RESETHAND: a
 * second Ctrl-C kills a run that does not stop by itself.
 */
#ifndef PVTIME_MEASURE_RUNCTL_H
#define PVTIME_MEASURE_RUNCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"


/* Installs the SIGINT and SIGTERM handlers (idempotent). */
void runctl_install(void);

/* The signal number that asked to stop (SIGINT, SIGTERM), or 0; any thread. */
int runctl_signal(void);

/* "SIGINT", "SIGTERM" (for output). */
const char *runctl_signal_name(int sig);

/* The conventional exit status of a run ended by sig: 128 + sig (130, 143). */
int runctl_exit_status(int sig);

/* Exit status after the report: the signal's status when interrupted, else ret. */
int runctl_final(int ret);

/*
 * "# interrupted by SIGINT after N loops" on out (loops UINT64_MAX: no
 * count, e.g. a benchmark of several parts); nothing when not
 * interrupted. JSON: "interrupted": "SIGINT" (only when interrupted).
 */
void runctl_text(FILE *out, uint64_t loops);
void runctl_json(struct json *j);

/* Progress and duration of one measurement loop. */
struct runctl {
	const char *what;	/* "timerlat", ... */
	uint64_t start_ns;	/* CLOCK_MONOTONIC */
	uint64_t duration_ns;	/* 0: bounded by loops only */
	uint64_t loops;		/* target, 0 = unknown (duration) */
	bool progress;		/* stderr is a terminal and not --quiet */
	bool drawn;		/* a progress line is on the terminal */
	uint64_t next_draw_ns;
};

uint64_t runctl_now_ns(void);

/* Starts the clock; progress only when stderr is a terminal and !quiet. */
void runctl_start(struct runctl *rc, const char *what, uint64_t loops,
		  uint64_t duration_ns, bool quiet);

/*
 * Whether the loop must stop now (a signal, or --duration elapsed at
 * now_ns); also redraws the progress line at most 5 times a second.
 */
bool runctl_should_stop(struct runctl *rc, uint64_t loops_done, uint64_t now_ns);

/* Clears the progress line (call before printing the report). */
void runctl_end(struct runctl *rc);

#endif

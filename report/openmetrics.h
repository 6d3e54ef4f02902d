/* SPDX-License-Identifier: MIT */
/*
 * OpenMetrics text exposition (the format Prometheus scrapes and
 * node_exporter's textfile collector reads) for timerlat, bench vmm and
 * tsdrift: `--format openmetrics` on stdout, or `--metrics FILE` written
 * atomically (a temporary file in the same directory, fsync'd, renamed over
 * FILE), so a collector never reads half a file.
 *
 * Metric families are written once each, with one metric point per label
 * set (e.g. the guest and its host baseline). Values in seconds are exact
 * decimals of the ns they come from.
 */
#ifndef PVTIME_REPORT_OPENMETRICS_H
#define PVTIME_REPORT_OPENMETRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "timerlat-report.h"

/* A text buffer the metrics are built in (open_memstream). */
struct om {
	FILE *f;
	char *buf;
	size_t len;
	bool interrupted;	/* a signal ended the run: pvtime_timerlat_interrupted 1 */
};

int om_open(struct om *om);
/* Ends with "# EOF" and writes to stdout (path NULL) or atomically to path; 0 or -errno. */
int om_finish(struct om *om, const char *path);
void om_discard(struct om *om);

/* One timerlat series: a report and the labels that tell it apart. */
struct om_timerlat {
	const char *target;		/* host, sim, vmm */
	const char *algo;		/* legacy, kvm, pvtime, none (host) */
	const char *vcpu;		/* "0".., or "all" when summed over vCPUs */
	const char *guest_clock;	/* kvm, xen, none (host) */
	struct timerlat_report *r;
	uint64_t early_wakeups;		/* as counted by the guest (or lateness < 0) */
	uint64_t lost_timers;		/* timers asked for that never fired */
};

/*
 * pvtime_timerlat_lateness_seconds (histogram; early wake-ups observed as 0),
 * pvtime_timerlat_loops_total, _early_wakeups_total, _lost_timers_total,
 * pvtime_timerlat_interval_seconds and min/p50/p99/max lateness gauges,
 * pvtime_timerlat_interrupted (1 when a signal ended the run).
 */
void om_timerlat(struct om *om, const struct om_timerlat *s, unsigned n);

/* Samples with lateness < 0 in r (early wake-ups where nobody else counts them). */
uint64_t om_count_early(struct timerlat_report *r);

/* Writes v ns as an exact decimal number of seconds ("-0.000001234"). */
void om_seconds(FILE *f, int64_t ns);

/* Escapes a label value (backslash, quote, newline). */
void om_label_value(FILE *f, const char *v);

/* "# TYPE name type", "# UNIT" when unit is set, "# HELP". */
void om_family(struct om *om, const char *name, const char *type, const char *unit,
	       const char *help);

/* Parses --format's value for commands whose choices are text|json|openmetrics. */
enum om_format { OM_FMT_TEXT, OM_FMT_JSON, OM_FMT_OPENMETRICS };

#endif

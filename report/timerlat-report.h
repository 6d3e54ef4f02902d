/* SPDX-License-Identifier: MIT */
/*
 * What every timerlat target (host, simulator, real KVM guest) reports: the
 * seed's per-loop line, a text summary with a '#' histogram, the JSON
 * summary documented in doc/pvtime.1, and an SVG histogram.
 *
 * Only lateness (latency - interval) is stored, as an exact value -> count
 * distribution (a billion simulated loops with a few distinct values take a
 * few entries); latency figures are derived from it. Every lateness in loop
 * order is kept too, only when keep_order is set (tests: 8 bytes per loop).
 */
#ifndef PVTIME_REPORT_TIMERLAT_REPORT_H
#define PVTIME_REPORT_TIMERLAT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "stats.h"

struct timerlat_report {
	const char *algo;	/* "host", "legacy", "kvm", "pvtime", "vmm", ... */
	uint64_t interval_ns;	/* the sleep asked for */
	FILE *out;		/* per-loop lines; NULL or quiet: none */
	bool quiet;
	uint64_t loops;		/* samples recorded */
	struct stats lateness;	/* latency - interval, signed ns */
	bool keep_order;	/* also fill order[] (default false) */
	int64_t *order;		/* order[i]: loop i's lateness, i < ordered */
	size_t ordered, order_capacity;
};

/*
 * Starts an empty report; out receives the per-loop lines unless quiet.
 * Set keep_order before the first sample to keep the loop order too.
 */
void timerlat_report_init(struct timerlat_report *r, const char *algo,
			  uint64_t interval_ns, FILE *out, bool quiet);
void timerlat_report_free(struct timerlat_report *r);

/*
 * Formats the seed's line "00000000 latency 103243/100000 (3.2430%)" (no
 * newline; the percentage is (latency - interval) / interval, signed,
 * rounded half away from zero). Returns snprintf's result.
 */
int timerlat_format_line(char *buf, size_t len, uint64_t loop,
			 uint64_t latency_ns, uint64_t interval_ns);

/* Records one observed sleep and prints its line (unless quiet). -1 when out of memory. */
int timerlat_report_add(struct timerlat_report *r, uint64_t latency_ns);

/* Same, with a suffix after the seed's line (e.g. " vcpu 3"); suffix may be NULL. */
int timerlat_report_add_tagged(struct timerlat_report *r, uint64_t latency_ns,
			       const char *suffix);

/* Text summary: "key=value" lines for latency and lateness, then a '#' histogram. */
void timerlat_report_summary(struct timerlat_report *r, FILE *out);

/*
 * The JSON summary keys into an open object: algo, loops, interval_ns,
 * latency_ns and lateness_ns (each min, mean, max, p50, p99, p999).
 */
void timerlat_report_json(struct timerlat_report *r, struct json *j);

/* A histogram bucket width (1, 2 or 5 x 10^k ns) giving about target rows up to p99. */
int64_t timerlat_bucket_ns(struct timerlat_report *r, unsigned target_rows);

/*
 * Lateness histogram rows of bucket_ns from the bucket holding the minimum:
 * from_ns[i] and count[i] for i < *rows <= max_rows, the last row holding
 * everything beyond. 0, or -1 when out of memory.
 */
int timerlat_report_buckets(struct timerlat_report *r, int64_t bucket_ns, unsigned max_rows,
			    int64_t *from_ns, uint64_t *count, unsigned *rows);

/* Writes the lateness histogram as an SVG bar chart; 0 or -errno. */
int timerlat_report_plot(struct timerlat_report *r, const char *path,
			 const char *title);

#endif

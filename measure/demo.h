/* SPDX-License-Identifier: MIT */
/*
 * pvtime demo's simulations: legacy vs kvm vs pvtime in the simulator, in
 * both regimes of docs/design.md ("How large the first bug gets") and under
 * NTP slew. demo-run.c chooses and runs the cells; the CLI prints the table
 * (cli/cmd-demo.c) and writes the plots (cli/demo-plot.c).
 */
#ifndef PVTIME_MEASURE_DEMO_H
#define PVTIME_MEASURE_DEMO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "json.h"
#include "sim.h"

#define DEMO_MAX_ROWS		6
#define DEMO_MAX_SECTIONS	4
/* The seed's 103 243 ns for a 100 us sleep. */
#define DEMO_SEED_LATENESS_NS	3243

/* One algorithm's result in one configuration. */
struct demo_cell {
	double mean_ns;			/* mean lateness */
	int64_t min_ns, max_ns;
};

struct demo_row {
	uint64_t uptime_s;
	int64_t ntp_ppt;
	const char *label;		/* set for special rows (e.g. the seed's 3.2 %) */
	struct demo_cell cell[SIM_ALGOS];
};

struct demo_section {
	const char *title;
	uint32_t host_khz, guest_khz;
	uint64_t advertised_khz;
	uint64_t interval_ns;
	bool seed_reached;		/* the seed's 3.2 % within 100 years */
	uint64_t seed_uptime_s;		/* first integer uptime where it is */
	int64_t seed_error_ns;		/* tsdrift's error_ns there */
	const char *note;		/* one line of explanation, or NULL */
	unsigned row_count;
	struct demo_row rows[DEMO_MAX_ROWS];
};

struct demo {
	uint32_t host_khz;		/* this machine's */
	const char *host_khz_source;
	uint64_t loops;			/* per cell */
	bool progress;			/* on a terminal: progress on stderr */
	unsigned section_count;
	struct demo_section sections[DEMO_MAX_SECTIONS];
	unsigned cells_done, cells_total;
	bool interrupted;		/* SIGINT/SIGTERM: sections/rows cut to what was run */
};

/*
 * Fills and runs every section. 0 or -errno. A SIGINT/SIGTERM (runctl)
 * stops it with the completed rows kept and d->interrupted set.
 */
int demo_run(struct demo *d);

/*
 * The first integer uptime (s) at which |tsdrift error_ns| for the
 * configuration reaches target_ns, searched up to max_s; false if never.
 */
bool demo_uptime_reaching(const struct sim_config *cfg, int64_t target_ns,
			  uint64_t max_s, uint64_t *uptime_s, int64_t *error_ns);

/* The host, the loops and every section as JSON members of j's open object. */
void demo_json(struct json *j, const struct demo *d);

#endif

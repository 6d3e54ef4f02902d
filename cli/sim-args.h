/* SPDX-License-Identifier: MIT */
/* `pvtime sim` options: the command line onto a sim_config (sim/sim.h). */
#ifndef PVTIME_CLI_SIM_ARGS_H
#define PVTIME_CLI_SIM_ARGS_H

#include <stdbool.h>

#include "sim.h"

/* Parses `pvtime sim` options (argv[0] is "sim"). 0, an exit code, or -1 after --help. */
struct sim_cli {
	struct sim_config cfg;
	bool quiet, json, openmetrics;
	const char *plot;
	const char *metrics;	/* --metrics FILE */
};
int sim_parse(int argc, char **argv, struct sim_cli *cli);

#endif

/* SPDX-License-Identifier: MIT */
/* `pvtime sim` options: the command line onto a sim_config (sim/sim.h). */
#ifndef PVTIME_CLI_SIM_ARGS_H
#define PVTIME_CLI_SIM_ARGS_H

#include <stdbool.h>

#include "options.h"
#include "sim.h"

struct sim_cli {
	struct sim_config cfg;
	bool quiet;
	const char *plot;
	struct cli_output out;
};

/* Parses `pvtime sim` options (argv[0] is "sim"). 0, an exit code, or OPTS_HELP. */
int sim_parse(int argc, char **argv, struct sim_cli *cli);

#endif

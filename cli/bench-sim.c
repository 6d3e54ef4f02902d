// SPDX-License-Identifier: MIT
#include "args.h"
#include "commands.h"

int bench_sim(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return runtime_error("bench sim: not implemented yet");
}

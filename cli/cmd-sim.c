// SPDX-License-Identifier: MIT
#include "args.h"
#include "commands.h"

int cmd_sim(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return runtime_error("sim: not implemented yet");
}

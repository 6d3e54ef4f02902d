// SPDX-License-Identifier: MIT
#include "args.h"
#include "commands.h"

int cmd_timerlat(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return runtime_error("timerlat: not implemented yet");
}

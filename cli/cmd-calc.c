// SPDX-License-Identifier: MIT
#include "args.h"
#include "commands.h"

int cmd_calc(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return runtime_error("calc: not implemented yet");
}

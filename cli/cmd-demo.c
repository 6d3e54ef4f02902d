// SPDX-License-Identifier: MIT
#include "args.h"
#include "commands.h"

int cmd_demo(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return runtime_error("demo: not implemented yet");
}

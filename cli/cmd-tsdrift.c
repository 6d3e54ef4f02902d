// SPDX-License-Identifier: MIT
#include "args.h"
#include "commands.h"

int cmd_tsdrift(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return runtime_error("tsdrift: not implemented yet");
}

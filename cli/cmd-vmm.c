// SPDX-License-Identifier: MIT
#include "args.h"
#include "commands.h"

int cmd_vmm(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return runtime_error("vmm: not implemented yet");
}

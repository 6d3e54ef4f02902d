// SPDX-License-Identifier: MIT
#include "args.h"
#include "commands.h"

int bench_vmm(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return runtime_error("bench vmm: not implemented yet");
}

// SPDX-License-Identifier: MIT
#include "args.h"
#include "commands.h"

int bench_conversion(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return runtime_error("bench conversion: not implemented yet");
}

// SPDX-License-Identifier: MIT
#include "args.h"
#include "commands.h"

int bench_timer(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return runtime_error("bench timer: not implemented yet");
}

// SPDX-License-Identifier: MIT
#include "cmdline.h"

/* The CLI's one piece of process state: set once by main(), read only. */
static int cmdline_argc;
static char **cmdline_argv;

void cmdline_set(int argc, char **argv)
{
	cmdline_argc = argc;
	cmdline_argv = argv;
}

void cmdline_json_header(struct json *j)
{
	json_header(j, cmdline_argc, cmdline_argv);
}

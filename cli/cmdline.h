/* SPDX-License-Identifier: MIT */
/* The command line as main() got it, for the JSON reports' "command" field. */
#ifndef PVTIME_CLI_CMDLINE_H
#define PVTIME_CLI_CMDLINE_H

#include "json.h"

/* Remembers main()'s argc/argv (the program name first). */
void cmdline_set(int argc, char **argv);

/*
 * json_header() with the full argv: every command, at whatever depth it
 * parses its own arguments, reports the same "command".
 */
void cmdline_json_header(struct json *j);

#endif

/* SPDX-License-Identifier: MIT */
/* The command's messages on stderr and its exit codes. */
#ifndef PVTIME_CLI_ARGS_H
#define PVTIME_CLI_ARGS_H

#define PVT_EXIT_OK		0
#define PVT_EXIT_RUNTIME	1
#define PVT_EXIT_USAGE		2
#ifndef PVT_VERSION_STRING
#error "PVT_VERSION_STRING comes from CMakeLists.txt's project(VERSION)"
#endif

/* Prints "pvtime: <message>" on stderr and returns PVT_EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "pvtime: <message>" on stderr and returns PVT_EXIT_RUNTIME. */
int runtime_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

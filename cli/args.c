// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include "args.h"

static void vreport(const char *fmt, va_list ap)
{
	fputs("pvtime: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return PVT_EXIT_USAGE;
}

int runtime_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return PVT_EXIT_RUNTIME;
}

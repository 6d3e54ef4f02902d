// SPDX-License-Identifier: MIT
#include <errno.h>

#include "timerlat-report.h"

/* Placeholder until cli/svgplot.c lands: plotting reports ENOSYS. */
int timerlat_report_plot(struct timerlat_report *r, const char *path,
			 const char *title)
{
	(void)r;
	(void)path;
	(void)title;
	return -ENOSYS;
}

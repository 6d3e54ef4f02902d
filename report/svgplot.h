/* SPDX-License-Identifier: MIT */
/* Plain SVG line and bar plots for bug reports: no dependencies, readable axes. */
#ifndef PVTIME_REPORT_SVGPLOT_H
#define PVTIME_REPORT_SVGPLOT_H

#include <stddef.h>

struct svg_series {
	const char *name;	/* legend text */
	const double *x, *y;	/* count points, x ascending */
	size_t count;
};

struct svg_plot {
	const char *title;
	const char *x_label;	/* with unit, e.g. "guest uptime (days)" */
	const char *y_label;	/* with unit, e.g. "error (us)" */
	const struct svg_series *series;
	size_t series_count;
	int bars;		/* 1: draw series as a bar chart (histograms) */
};

/* Writes the plot to path; 0 or -errno (the CLI reports it). */
int svg_plot_write(const char *path, const struct svg_plot *plot);

#endif

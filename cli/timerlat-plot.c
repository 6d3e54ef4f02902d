// SPDX-License-Identifier: MIT
/* The lateness histogram as an SVG bar chart (cli/svgplot.h). */
#include <errno.h>

#include "svgplot.h"
#include "timerlat-report.h"

#define PLOT_MAX_BARS	40

int timerlat_report_plot(struct timerlat_report *r, const char *path,
			 const char *title)
{
	double x[PLOT_MAX_BARS], y[PLOT_MAX_BARS];
	int64_t from[PLOT_MAX_BARS];
	uint64_t count[PLOT_MAX_BARS];
	unsigned rows;

	if (!r->loops)
		return -ENODATA;
	if (timerlat_report_buckets(r, timerlat_bucket_ns(r, PLOT_MAX_BARS / 2), PLOT_MAX_BARS,
				    from, count, &rows))
		return -ENOMEM;
	for (unsigned i = 0; i < rows; i++) {
		x[i] = (double)from[i];
		y[i] = (double)count[i];
	}

	struct svg_series series = { .name = r->algo, .x = x, .y = y, .count = rows };
	struct svg_plot plot = {
		.title = title,
		.x_label = "lateness = latency - interval (ns, bucket start)",
		.y_label = "loops",
		.series = &series,
		.series_count = 1,
		.bars = 1,
	};
	return svg_plot_write(path, &plot);
}

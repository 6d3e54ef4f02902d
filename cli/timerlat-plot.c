// SPDX-License-Identifier: MIT
/* The lateness histogram as an SVG bar chart (cli/svgplot.h). */
#include <errno.h>
#include <stdlib.h>

#include "svgplot.h"
#include "timerlat-report.h"

#define PLOT_MAX_BARS	40

int timerlat_report_plot(struct timerlat_report *r, const char *path,
			 const char *title)
{
	struct stats *s = &r->lateness;
	double x[PLOT_MAX_BARS], y[PLOT_MAX_BARS];
	int64_t bucket, lo;
	size_t n = 0, i = 0;

	if (!s->count)
		return -ENODATA;
	bucket = timerlat_bucket_ns(r, PLOT_MAX_BARS / 2);
	lo = stats_min(s);	/* sorts */
	lo -= ((lo % bucket) + bucket) % bucket;
	/* The last bar also holds everything beyond it (the tail past p99). */
	while (i < s->count && n < PLOT_MAX_BARS) {
		size_t count = 0;
		int last = n + 1 == PLOT_MAX_BARS;

		while (i < s->count && (last || s->samples[i] < lo + bucket)) {
			count++;
			i++;
		}
		x[n] = (double)lo;
		y[n] = (double)count;
		n++;
		lo += bucket;
	}

	struct svg_series series = { .name = r->algo, .x = x, .y = y, .count = n };
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

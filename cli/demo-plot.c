// SPDX-License-Identifier: MIT
/* The demo's plots: lateness over uptime per regime, and long timers under slew. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "demo-vmm.h"
#include "svgplot.h"

#define CURVE_POINTS	13

/* mkdir -p for a relative or absolute path. */
static int make_dir(const char *dir)
{
	char path[512];
	size_t len = strlen(dir);

	if (!len || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0777) && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

/* Mean lateness (us) of 5 sleeps of a section's configuration at an uptime. */
static int mean_us(const struct demo_section *s, enum pvt_timer_algo algo, uint64_t uptime_s,
		   double *out)
{
	struct sim_config cfg;
	struct timerlat_report r;
	int ret;

	sim_config_default(&cfg);
	cfg.algo = algo;
	cfg.host_khz = s->host_khz;
	cfg.guest_khz = s->guest_khz;
	cfg.uptime_s = uptime_s;
	cfg.interval_ns = s->interval_ns;
	cfg.loops = 5;
	timerlat_report_init(&r, pvt_timer_algo_name(algo), cfg.interval_ns, NULL, true);
	ret = sim_run(&cfg, &r, NULL);
	*out = stats_mean(&r.lateness) / 1000.0;
	timerlat_report_free(&r);
	return ret;
}

/* Lateness of all algorithms over uptime [0, span_s] for sections sec[0..n). */
static int uptime_plot(const char *path, const char *title, const struct demo_section *sec,
		       unsigned n, uint64_t span_s, double unit_s, const char *x_label)
{
	char names[2][SIM_ALGOS][32];	/* the algorithm, "(2nd)" for the second section */
	double x[CURVE_POINTS], y[2][SIM_ALGOS][CURVE_POINTS];
	struct svg_series series[2 * SIM_ALGOS];
	size_t count = 0;

	for (unsigned i = 0; i < CURVE_POINTS; i++)
		x[i] = (double)(span_s * i / (CURVE_POINTS - 1)) / unit_s;
	for (unsigned k = 0; k < n && k < 2; k++)
		for (int a = 0; a < SIM_ALGOS; a++) {
			for (unsigned i = 0; i < CURVE_POINTS; i++) {
				int ret = mean_us(&sec[k], (enum pvt_timer_algo)a,
						  span_s * i / (CURVE_POINTS - 1), &y[k][a][i]);

				if (ret)
					return ret;
			}
			snprintf(names[k][a], sizeof(names[k][a]), "%s%s",
				 pvt_timer_algo_name((enum pvt_timer_algo)a), k ? " (2nd)" : "");
			series[count++] = (struct svg_series){
				.name = names[k][a], .x = x, .y = y[k][a], .count = CURVE_POINTS,
			};
		}
	return svg_plot_write(path, &(struct svg_plot){
		.title = title, .x_label = x_label,
		.y_label = "mean lateness of a 100 us sleep (us)",
		.series = series, .series_count = count,
	});
}

/* Long timers: lateness per slew (bars), from the table's rows. */
static int slew_plot(const char *path, const struct demo_section *s)
{
	double x[DEMO_MAX_ROWS], y[SIM_ALGOS][DEMO_MAX_ROWS];
	unsigned order[DEMO_MAX_ROWS], n = s->row_count;
	struct svg_series series[SIM_ALGOS];

	/* Rows sorted by slew: the plot wants x ascending. */
	for (unsigned i = 0; i < n; i++)
		order[i] = i;
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && s->rows[order[j]].ntp_ppt < s->rows[order[j - 1]].ntp_ppt; j--) {
			unsigned t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int a = 0; a < SIM_ALGOS; a++) {
		for (unsigned i = 0; i < n; i++) {
			x[i] = (double)s->rows[order[i]].ntp_ppt / 1e6;
			y[a][i] = s->rows[order[i]].cell[a].mean_ns / 1000.0;
		}
		series[a] = (struct svg_series){
			.name = pvt_timer_algo_name(a), .x = x, .y = y[a], .count = n,
		};
	}
	return svg_plot_write(path, &(struct svg_plot){
		.title = "10 s timers: lateness under NTP slew of CLOCK_MONOTONIC",
		.x_label = "NTP slew (ppm)", .y_label = "mean lateness (us)",
		.series = series, .series_count = SIM_ALGOS, .bars = 1,
	});
}

int demo_plots(const struct demo *d, const char *dir, char paths[][512], unsigned *count)
{
	int ret = make_dir(dir);

	*count = 0;
	if (ret)
		return ret;
	snprintf(paths[0], 512, "%s/demo-rounded-uptime.svg", dir);
	ret = uptime_plot(paths[0], "kHz-rounded 3 GHz guest: 100 us sleeps over one day of uptime",
			  &d->sections[0], 1, 86400, 3600.0, "guest uptime (hours)");
	if (ret)
		return ret;
	snprintf(paths[1], 512, "%s/demo-exact-uptime.svg", dir);
	ret = uptime_plot(paths[1], "guest = host / 2: 100 us sleeps over one year of uptime",
			  &d->sections[1], 1, 365 * 86400ull, 86400.0, "guest uptime (days)");
	if (ret)
		return ret;
	snprintf(paths[2], 512, "%s/demo-slew.svg", dir);
	ret = slew_plot(paths[2], &d->sections[2]);
	if (ret)
		return ret;
	*count = 3;
	return 0;
}

// SPDX-License-Identifier: MIT
/* Plain SVG line and bar plots (see svgplot.h): axes with round ticks, a legend, no dependencies. */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "svgplot.h"

#define W		860.0
#define H		520.0
#define LEFT		90.0
#define RIGHT		30.0
#define TOP		50.0
#define BOTTOM		70.0
#define PLOT_W		(W - LEFT - RIGHT)
#define PLOT_H		(H - TOP - BOTTOM)

static const char *const colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b" };

struct axis {
	double lo, hi, step;	/* rounded range and tick spacing */
};

/* A 1, 2 or 5 times 10^k step giving about 6 ticks over span. */
static double nice_step(double span)
{
	double raw = span / 6, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static struct axis make_axis(double lo, double hi, int include_zero)
{
	struct axis a;

	if (include_zero) {
		lo = fmin(lo, 0);
		hi = fmax(hi, 0);
	}
	if (!(hi > lo)) {	/* one value, or none: give it some room */
		double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;

		lo -= pad;
		hi += pad;
	}
	a.step = nice_step(hi - lo);
	a.lo = floor(lo / a.step) * a.step;
	a.hi = ceil(hi / a.step) * a.step;
	return a;
}

static double px(const struct axis *a, double x)
{
	return LEFT + (x - a->lo) / (a->hi - a->lo) * PLOT_W;
}

static double py(const struct axis *a, double y)
{
	return TOP + PLOT_H - (y - a->lo) / (a->hi - a->lo) * PLOT_H;
}

static void put_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* Tick label without float noise (e.g. 0.30000000000000004 -> 0.3). */
static void tick_label(char *buf, size_t n, double v, double step)
{
	if (fabs(v) < step * 1e-9)
		v = 0;
	snprintf(buf, n, "%.*f", step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9), v);
}

static void draw_axes(FILE *f, const struct svg_plot *p, const struct axis *ax, const struct axis *ay)
{
	char label[64];

	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" stroke=\"#333\"/>\n",
		LEFT, TOP, PLOT_W, PLOT_H);
	for (double v = ax->lo; v <= ax->hi + ax->step * 1e-6; v += ax->step) {
		double x = px(ax, v);

		tick_label(label, sizeof(label), v, ax->step);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
			x, TOP, x, TOP + PLOT_H);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			x, TOP + PLOT_H + 18, label);
	}
	for (double v = ay->lo; v <= ay->hi + ay->step * 1e-6; v += ay->step) {
		double y = py(ay, v);

		tick_label(label, sizeof(label), v, ay->step);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
			LEFT, y, LEFT + PLOT_W, y, fabs(v) < ay->step * 1e-9 ? "#888" : "#ddd");
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			LEFT - 6, y + 4, label);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"28\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">",
		W / 2);
	put_text(f, p->title);
	fprintf(f, "</text>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", LEFT + PLOT_W / 2, H - 20);
	put_text(f, p->x_label);
	fprintf(f, "</text>\n<text transform=\"translate(22,%.1f) rotate(-90)\" text-anchor=\"middle\">",
		TOP + PLOT_H / 2);
	put_text(f, p->y_label);
	fputs("</text>\n", f);
}

static void draw_lines(FILE *f, const struct svg_plot *p, const struct axis *ax, const struct axis *ay)
{
	for (size_t s = 0; s < p->series_count; s++) {
		const struct svg_series *se = &p->series[s];
		const char *color = colors[s % (sizeof(colors) / sizeof(colors[0]))];

		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
		for (size_t i = 0; i < se->count; i++)
			if (isfinite(se->x[i]) && isfinite(se->y[i]))
				fprintf(f, "%.2f,%.2f ", px(ax, se->x[i]), py(ay, se->y[i]));
		fputs("\"/>\n", f);
		/* Markers only while they stay readable. */
		for (size_t i = 0; se->count <= 60 && i < se->count; i++)
			if (isfinite(se->x[i]) && isfinite(se->y[i]))
				fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n",
					px(ax, se->x[i]), py(ay, se->y[i]), color);
	}
}

static void draw_bars(FILE *f, const struct svg_plot *p, const struct axis *ax, const struct axis *ay)
{
	double gap = INFINITY;

	/* The slot is the narrowest spacing between neighbouring x values. */
	for (size_t s = 0; s < p->series_count; s++)
		for (size_t i = 1; i < p->series[s].count; i++)
			if (p->series[s].x[i] > p->series[s].x[i - 1])
				gap = fmin(gap, p->series[s].x[i] - p->series[s].x[i - 1]);
	if (!isfinite(gap))
		gap = (ax->hi - ax->lo) / 10;
	double slot = px(ax, ax->lo + gap) - px(ax, ax->lo);
	double bar_w = slot * 0.85 / (double)(p->series_count ? p->series_count : 1);

	for (size_t s = 0; s < p->series_count; s++) {
		const struct svg_series *se = &p->series[s];

		for (size_t i = 0; i < se->count; i++) {
			double x, y0, y1;

			if (!isfinite(se->x[i]) || !isfinite(se->y[i]))
				continue;
			x = px(ax, se->x[i]) - slot * 0.425 + bar_w * (double)s;
			y0 = py(ay, fmax(ay->lo, fmin(0, se->y[i])));
			y1 = py(ay, fmax(0, se->y[i]));
			fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n",
				x, y1, fmax(bar_w, 0.5), fmax(y0 - y1, 0),
				colors[s % (sizeof(colors) / sizeof(colors[0]))]);
		}
	}
}

static void draw_legend(FILE *f, const struct svg_plot *p)
{
	double y = TOP + 16;

	for (size_t s = 0; s < p->series_count; s++, y += 18) {
		if (!p->series[s].name)
			continue;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\"/>\n",
			LEFT + 12, y - 9, colors[s % (sizeof(colors) / sizeof(colors[0]))]);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", LEFT + 32, y);
		put_text(f, p->series[s].name);
		fputs("</text>\n", f);
	}
}

int svg_plot_write(const char *path, const struct svg_plot *p)
{
	double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
	struct axis ax, ay;
	FILE *f;
	int err;

	if (!path || !p || (p->series_count && !p->series))
		return -EINVAL;
	for (size_t s = 0; s < p->series_count; s++)
		for (size_t i = 0; i < p->series[s].count; i++) {
			double x = p->series[s].x[i], y = p->series[s].y[i];

			if (!isfinite(x) || !isfinite(y))
				continue;
			xlo = fmin(xlo, x);
			xhi = fmax(xhi, x);
			ylo = fmin(ylo, y);
			yhi = fmax(yhi, y);
		}
	if (!isfinite(xlo)) {
		xlo = ylo = 0;
		xhi = yhi = 1;
	}
	if (p->bars && p->series_count) {
		/* Half a slot of room either side so the outer bars are whole. */
		double pad = (xhi > xlo ? (xhi - xlo) : 1) / (double)(p->series[0].count > 1 ? p->series[0].count - 1 : 1) / 2;

		xlo -= pad;
		xhi += pad;
	}
	ax = make_axis(xlo, xhi, 0);
	ay = make_axis(ylo, yhi, 1);

	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H, W, H);
	draw_axes(f, p, &ax, &ay);
	if (p->bars)
		draw_bars(f, p, &ax, &ay);
	else
		draw_lines(f, p, &ax, &ay);
	draw_legend(f, p);
	fputs("</svg>\n", f);
	err = ferror(f) ? -EIO : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "openmetrics.h"

int om_open(struct om *om)
{
	*om = (struct om){ 0 };
	om->f = open_memstream(&om->buf, &om->len);
	return om->f ? 0 : -errno;
}

void om_discard(struct om *om)
{
	if (om->f)
		fclose(om->f);
	free(om->buf);
	*om = (struct om){ 0 };
}

/* Writes all of buf to fd; 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The textfile collector reads FILE at any time: build it aside, then rename. */
static int write_atomic(const char *path, const char *buf, size_t len)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	int fd, ret;

	if (!tmp)
		return -ENOMEM;
	/* Same directory: rename() is atomic only within one file system. */
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		free(tmp);
		return ret;
	}
	/* mkstemp makes it 0600; the collector may run as another user. */
	ret = fchmod(fd, 0644) ? -errno : 0;
	if (!ret)
		ret = write_all(fd, buf, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

int om_finish(struct om *om, const char *path)
{
	int ret;

	fputs("# EOF\n", om->f);
	if (fclose(om->f)) {
		om->f = NULL;
		return -ENOMEM;
	}
	om->f = NULL;
	if (path) {
		ret = write_atomic(path, om->buf, om->len);
	} else {
		ret = fwrite(om->buf, 1, om->len, stdout) == om->len ? 0 : -EIO;
		if (fflush(stdout))
			ret = -EIO;
	}
	free(om->buf);
	om->buf = NULL;
	return ret;
}

void om_seconds(FILE *f, int64_t ns)
{
	uint64_t mag = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;

	fprintf(f, "%s%" PRIu64 ".%09" PRIu64, ns < 0 ? "-" : "", mag / 1000000000u,
		mag % 1000000000u);
}

void om_label_value(FILE *f, const char *v)
{
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

void om_family(struct om *om, const char *name, const char *type, const char *unit,
	       const char *help)
{
	fprintf(om->f, "# TYPE %s %s\n", name, type);
	if (unit)
		fprintf(om->f, "# UNIT %s %s\n", name, unit);
	fprintf(om->f, "# HELP %s %s\n", name, help);
}

static void labels(FILE *f, const struct om_timerlat *s, const char *le_ns_or_null)
{
	fputs("{target=", f);
	om_label_value(f, s->target);
	fputs(",algo=", f);
	om_label_value(f, s->algo);
	fputs(",vcpu=", f);
	om_label_value(f, s->vcpu);
	fputs(",guest_clock=", f);
	om_label_value(f, s->guest_clock);
	if (le_ns_or_null)
		fprintf(f, ",le=\"%s\"", le_ns_or_null);
	fputc('}', f);
}

/*
 * Bucket bounds in ns: 0 (on time or early), then 1-2-5 steps from 1 us to
 * 10 s: a host wakes within tens of us, a guest through a VM exit within
 * hundreds, and the seed's bug reaches ms to s after days of uptime.
 */
static const int64_t bounds_ns[] = {
	0, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000,
	1000000, 2000000, 5000000, 10000000, 20000000, 50000000, 100000000,
	200000000, 500000000, 1000000000, 2000000000, 5000000000, 10000000000,
};
#define NR_BOUNDS (sizeof(bounds_ns) / sizeof(bounds_ns[0]))

static void histogram(struct om *om, const struct om_timerlat *s)
{
	uint64_t cum[NR_BOUNDS] = { 0 }, sum_ns = 0, n = s->r->lateness.count;
	const struct stats_entry *e = NULL;
	size_t ne = 0;

	if (n)
		e = stats_sorted(&s->r->lateness, &ne);
	for (size_t i = 0; e && i < ne; i++) {
		/* Early wake-ups are counted on their own; here they are "0 late". */
		int64_t v = e[i].value > 0 ? e[i].value : 0;

		sum_ns += (uint64_t)v * e[i].count;
		for (size_t b = 0; b < NR_BOUNDS; b++)
			if (v <= bounds_ns[b])
				cum[b] += e[i].count;
	}
	if (n && !e)
		n = 0;	/* out of memory: an empty, still valid, histogram */
	for (size_t b = 0; b < NR_BOUNDS; b++) {
		char le[32];
		FILE *f = om->f;

		snprintf(le, sizeof(le), "%" PRId64 ".%09" PRId64, bounds_ns[b] / 1000000000,
			 bounds_ns[b] % 1000000000);
		fputs("pvtime_timerlat_lateness_seconds_bucket", f);
		labels(f, s, le);
		fprintf(f, " %" PRIu64 "\n", cum[b]);
	}
	fputs("pvtime_timerlat_lateness_seconds_bucket", om->f);
	labels(om->f, s, "+Inf");
	fprintf(om->f, " %" PRIu64 "\n", n);
	fputs("pvtime_timerlat_lateness_seconds_count", om->f);
	labels(om->f, s, NULL);
	fprintf(om->f, " %" PRIu64 "\n", n);
	fputs("pvtime_timerlat_lateness_seconds_sum", om->f);
	labels(om->f, s, NULL);
	fputc(' ', om->f);
	om_seconds(om->f, n ? (int64_t)sum_ns : 0);
	fputc('\n', om->f);
}

static void counter(struct om *om, const char *name, const char *help,
		    const struct om_timerlat *s, unsigned n, int which)
{
	om_family(om, name, "counter", NULL, help);
	for (unsigned i = 0; i < n; i++) {
		uint64_t v = which == 0 ? s[i].r->loops : which == 1 ? s[i].early_wakeups :
			     s[i].lost_timers;

		fprintf(om->f, "%s_total", name);
		labels(om->f, &s[i], NULL);
		fprintf(om->f, " %" PRIu64 "\n", v);
	}
}

void om_timerlat(struct om *om, const struct om_timerlat *s, unsigned n)
{
	static const struct { const char *name, *help; int pct, per; } gauges[] = {
		{ "pvtime_timerlat_lateness_min_seconds", "smallest lateness (negative: early)", 0, 0 },
		{ "pvtime_timerlat_lateness_p50_seconds", "median lateness (nearest rank)", 50, 100 },
		{ "pvtime_timerlat_lateness_p99_seconds", "99th percentile lateness (nearest rank)", 99, 100 },
		{ "pvtime_timerlat_lateness_max_seconds", "largest lateness", 100, 100 },
	};

	om_family(om, "pvtime_timerlat_lateness_seconds", "histogram", "seconds",
		  "timer lateness (wake-up minus deadline); early wake-ups observed as 0");
	for (unsigned i = 0; i < n; i++)
		histogram(om, &s[i]);
	counter(om, "pvtime_timerlat_loops", "sleeps measured", s, n, 0);
	counter(om, "pvtime_timerlat_early_wakeups", "wake-ups before the deadline", s, n, 1);
	counter(om, "pvtime_timerlat_lost_timers", "timers asked for that never fired", s, n, 2);
	om_family(om, "pvtime_timerlat_interval_seconds", "gauge", "seconds",
		  "the sleep each loop asked for");
	for (unsigned i = 0; i < n; i++) {
		fputs("pvtime_timerlat_interval_seconds", om->f);
		labels(om->f, &s[i], NULL);
		fputc(' ', om->f);
		om_seconds(om->f, (int64_t)s[i].r->interval_ns);
		fputc('\n', om->f);
	}
	for (unsigned g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
		om_family(om, gauges[g].name, "gauge", "seconds", gauges[g].help);
		for (unsigned i = 0; i < n; i++) {
			struct stats *h = &s[i].r->lateness;
			int64_t v;

			if (!h->count)
				continue;	/* no loops: no figure (not a made-up 0) */
			v = gauges[g].pct == 0 ? stats_min(h) : gauges[g].pct == 100 ? stats_max(h) :
			    stats_percentile(h, (unsigned)gauges[g].pct, (unsigned)gauges[g].per);
			fputs(gauges[g].name, om->f);
			labels(om->f, &s[i], NULL);
			fputc(' ', om->f);
			om_seconds(om->f, v);
			fputc('\n', om->f);
		}
	}
	om_family(om, "pvtime_timerlat_interrupted", "gauge", NULL,
		  "1 when SIGINT/SIGTERM ended the run before its loops or duration");
	for (unsigned i = 0; i < n; i++) {
		fputs("pvtime_timerlat_interrupted", om->f);
		labels(om->f, &s[i], NULL);
		fprintf(om->f, " %d\n", om->interrupted ? 1 : 0);
	}
}

uint64_t om_count_early(struct timerlat_report *r)
{
	const struct stats_entry *e;
	uint64_t c = 0;
	size_t n;

	if (!r->lateness.count || stats_min(&r->lateness) >= 0)
		return 0;
	e = stats_sorted(&r->lateness, &n);
	for (size_t i = 0; e && i < n && e[i].value < 0; i++)
		c += e[i].count;
	return c;
}

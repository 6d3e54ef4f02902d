// SPDX-License-Identifier: MIT
/* OpenMetrics text for the engine's per-vCPU statistics (include/pvtime/metrics.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "pvtime/metrics.h"
#include "pvtime/xentimer.h"

/* An appender that counts what it could not store, like snprintf. */
struct out {
	char *buf;
	size_t len, pos;
	int err;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	size_t room = o->pos < o->len ? o->len - o->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		o->err = -EINVAL;
	else
		o->pos += (size_t)n;
}

static void put_label(struct out *o, const char *sep, const char *name, const char *v)
{
	if (!v)
		return;
	put(o, "%s%s=\"", sep, name);
	/* Label values escape backslash, double quote and newline. */
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			put(o, "\\%c", *v);
		else if (*v == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *v);
	}
	put(o, "\"");
}

#define FIELD(f, help) { #f, help, offsetof(struct pvt_xen_vcpu_stats, f) }

static const struct {
	const char *name, *help;
	size_t off;
} fields[] = {
	FIELD(delivered, "timer expiries delivered to the guest"),
	FIELD(immediate, "expiries delivered from the hypercall itself (deadline already reached)"),
	FIELD(host_fires, "host timer wake-ups"),
	FIELD(early_wakes, "host timer fired before the guest deadline and was re-armed"),
	FIELD(stages, "early (two-stage) host timer arms"),
	FIELD(coalesced, "periodic ticks folded into one event"),
	FIELD(step_rearms, "host clock steps caught while arming (re-paired, re-armed)"),
};

int pvt_metrics_xen_vcpus(char *buf, size_t len, const struct pvt_metrics_vcpu *v,
			  size_t n, unsigned flags)
{
	struct out o = { .buf = buf, .len = buf ? len : 0 };

	if (!v || !n || (flags & ~PVT_METRICS_EOF))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!v[i].stats)
			return -EINVAL;
	if (o.len)
		o.buf[0] = '\0';
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		/* One family at a time: OpenMetrics forbids interleaving families. */
		put(&o, "# TYPE pvtime_xen_%s counter\n# HELP pvtime_xen_%s %s\n",
		    fields[f].name, fields[f].name, fields[f].help);
		for (size_t i = 0; i < n; i++) {
			const uint64_t *val = (const uint64_t *)(const void *)
					      ((const char *)v[i].stats + fields[f].off);

			put(&o, "pvtime_xen_%s_total{vcpu=\"%" PRIu32 "\"", fields[f].name, v[i].vcpu);
			put_label(&o, ",", "algo", v[i].algo);
			put_label(&o, ",", "target", v[i].target);
			put_label(&o, ",", "guest_clock", v[i].guest_clock);
			put_label(&o, ",", "vm", v[i].vm);
			put(&o, "} %" PRIu64 "\n", *val);
		}
	}
	if (flags & PVT_METRICS_EOF)
		put(&o, "# EOF\n");
	if (o.err)
		return o.err;
	return o.pos > INT_MAX ? -EOVERFLOW : (int)o.pos;
}

int pvt_metrics_xen_vcpu(char *buf, size_t len, const struct pvt_metrics_vcpu *v,
			 unsigned flags)
{
	return pvt_metrics_xen_vcpus(buf, len, v, 1, flags);
}

// SPDX-License-Identifier: MIT
/*
 * pvtime tsdrift: how far KVM's legacy one-step host TSC -> ns conversion
 * drifts from the guest's own two-step clock as uptime grows (docs/design.md,
 * "The two bugs"; CSV contract in doc/pvtime.1), plus how far the guest clock
 * itself runs from true host time because of KVM's kHz rounding.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvtime/guestclock.h"

#include "args.h"
#include "cmdline.h"
#include "commands.h"
#include "drift.h"
#include "json.h"
#include "openmetrics.h"
#include "options.h"
#include "svgplot.h"

static void uptime_text(char *buf, size_t n, uint64_t s)
{
	if (s >= 86400)
		snprintf(buf, n, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 86400,
			 s % 86400 / 3600, s % 3600 / 60, s % 60);
	else
		snprintf(buf, n, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s % 3600 / 60, s % 60);
}

static void print_table(const struct drift *d, uint32_t guest_khz)
{
	uint64_t adv = pvt_kvm_advertised_khz(&d->kvm, &d->tsc);
	struct drift_row last = drift_row_at(d, d->duration_s - d->duration_s % d->step_s);
	char up[32];

	printf("# pvtime tsdrift: host %u kHz, guest %u kHz, %u fraction bits (%s), master TSC %" PRIu64 "\n",
	       d->kvm.host_khz, guest_khz, d->tsc.frac_bits,
	       d->tsc.frac_bits == PVT_FRAC_BITS_VMX ? "Intel VMX" : "AMD SVM", d->kvm.master_tsc);
	printf("# KVM scales the guest TSC: %s, ratio %" PRIu64 "\n",
	       drift_scaled(d) ? "yes (outside +-250 ppm)" : "no (within +-250 ppm: guest TSC = host TSC)", d->tsc.ratio);
	printf("# page advertises %" PRIu64 " kHz (asked %u): mul %u shift %d; one-step uses host mul %u shift %d\n",
	       adv, guest_khz, d->clock.page.tsc_to_system_mul, d->clock.page.tsc_shift, d->kvm.host_mul,
	       d->kvm.host_shift);
	if (last.true_ns)
		printf("# guest clock vs true host time (host_tsc x 10^6 / H): %+.4f ppm (%+" PRId64 " ns after %" PRIu64 " s)\n",
		       (double)last.guest_minus_true_ns * 1e6 / (double)last.true_ns, last.guest_minus_true_ns,
		       last.elapsed_s);
	printf("# error = one-step - kvmclock (negative: legacy KVM timers fire late)\n\n");
	/* "µ" takes two bytes but one column: its header gets one byte more. */
	printf("%14s %14s %20s %20s %20s %20s %14s %15s %16s\n", "elapsed_s", "uptime", "host_tsc",
	       "guest_tsc", "kvmclock (ns)", "one-step (ns)", "error (ns)", "error (\u00b5s)", "guest-true (ns)");
	for (uint64_t e = 0; e <= d->duration_s; e += d->step_s) {
		struct drift_row r = drift_row_at(d, e);

		uptime_text(up, sizeof(up), e);
		printf("%14" PRIu64 " %14s %20" PRIu64 " %20" PRIu64 " %20" PRIu64 " %20" PRIu64 " %14" PRId64
		       " %14.3f %16" PRId64 "\n", e, up, r.host_tsc, r.guest_tsc, r.kvmclock_ns, r.onestep_ns,
		       r.error_ns, (double)r.error_ns / 1000, r.guest_minus_true_ns);
		if (d->duration_s - e < d->step_s)
			break;
	}
	uptime_text(up, sizeof(up), last.elapsed_s);
	printf("\nafter %s: one-step error %+" PRId64 " ns (%+.3f ms); guest clock %+" PRId64 " ns from true time\n",
	       up, last.error_ns, (double)last.error_ns / 1e6, last.guest_minus_true_ns);
}

static void print_csv(const struct drift *d)
{
	printf("elapsed_s,host_tsc,guest_tsc,kvmclock_ns,onestep_ns,error_ns\n");
	for (uint64_t e = 0; e <= d->duration_s; e += d->step_s) {
		struct drift_row r = drift_row_at(d, e);

		printf("%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRId64 "\n", e,
		       r.host_tsc, r.guest_tsc, r.kvmclock_ns, r.onestep_ns, r.error_ns);
		if (d->duration_s - e < d->step_s)
			break;
	}
}

static void print_json(const struct drift *d, uint32_t guest_khz)
{
	struct json j;

	json_begin(&j, stdout);
	cmdline_json_header(&j);
	drift_json(&j, d, guest_khz);
	json_end(&j);
}

static int write_plot(const struct drift *d, const char *path, uint32_t guest_khz)
{
	uint64_t rows = d->duration_s / d->step_s + 1;
	double *x = calloc(rows, sizeof(*x)), *err = calloc(rows, sizeof(*err));
	double *rate = calloc(rows, sizeof(*rate)), unit = 1;
	const char *xl = "guest uptime since the master clock reference (s)";
	char title[160];
	int ret;

	if (!x || !err || !rate) {
		free(x), free(err), free(rate);
		return runtime_error("tsdrift: out of memory for the plot");
	}
	if (d->duration_s >= 3 * 86400)
		unit = 86400, xl = "guest uptime since the master clock reference (days)";
	else if (d->duration_s >= 3 * 3600)
		unit = 3600, xl = "guest uptime since the master clock reference (hours)";
	else if (d->duration_s >= 3 * 60)
		unit = 60, xl = "guest uptime since the master clock reference (minutes)";
	for (uint64_t k = 0; k < rows; k++) {
		struct drift_row r = drift_row_at(d, k * d->step_s);

		x[k] = (double)r.elapsed_s / unit;
		err[k] = (double)r.error_ns / 1000;
		rate[k] = (double)r.guest_minus_true_ns / 1000;
	}
	snprintf(title, sizeof(title), "KVM one-step kvmclock error: host %u kHz, guest %u kHz, %u frac bits",
		 d->kvm.host_khz, guest_khz, d->tsc.frac_bits);
	const struct svg_series series[] = {
		{ "one-step - guest clock (negative: legacy timers fire late)", x, err, rows },
		{ "guest clock - true host time", x, rate, rows },
	};
	const struct svg_plot plot = { title, xl, "error (\u00b5s)", series, 2, 0 };

	ret = svg_plot_write(path, &plot);
	free(x), free(err), free(rate);
	if (ret)
		return runtime_error("--plot: cannot write '%s': %s", path, strerror(-ret));
	return 0;
}

static int write_openmetrics(const struct drift *d, uint32_t guest_khz, const char *path)
{
	struct om om;
	int err = om_open(&om);

	if (err)
		return err;
	drift_openmetrics(&om, d, guest_khz);
	return om_finish(&om, path);
}

static const struct opt_choice tsdrift_formats[] = {
	{ "table", CLI_FMT_TEXT }, { "csv", CLI_FMT_CSV }, { "json", CLI_FMT_JSON },
	{ "openmetrics", CLI_FMT_OPENMETRICS }, { NULL, 0 },
};

int cmd_tsdrift(int argc, char **argv)
{
	struct tsdrift_args {
		uint32_t host_khz, guest_khz;
		unsigned frac_bits;
		uint64_t master_tsc, duration_s, step_s;
		const char *plot;
		struct cli_output out;
	} a = { .frac_bits = PVT_FRAC_BITS_VMX, .duration_s = 86400, .step_s = 3600 };
	struct opt o[] = {
		{ .name = "host-khz", .kind = OPT_UINT, OPT_FIELD(a.host_khz), .min = 1, .max = UINT32_MAX,
		  .required = true, .help = "host TSC kHz" },
		{ .name = "guest-khz", .kind = OPT_UINT, OPT_FIELD(a.guest_khz), .min = 1, .max = UINT32_MAX,
		  .required = true, .help = "guest TSC kHz the vCPU asked for" },
		{ OPT_FRAC_BITS(a.frac_bits) },
		{ .name = "master-tsc", .kind = OPT_UINT, OPT_FIELD(a.master_tsc), .max = UINT64_MAX,
		  .help = "host TSC at the master clock reference (default 0)" },
		{ .name = "duration", .kind = OPT_UINT, OPT_FIELD(a.duration_s), .max = UINT64_MAX,
		  .help = "seconds of uptime to cover (default 86400)" },
		{ .name = "step", .kind = OPT_UINT, OPT_FIELD(a.step_s), .min = 1, .max = UINT64_MAX,
		  .help = "seconds between rows (default 3600)" },
		{ OPT_PLOT(a.plot) },
		OPT_OUTPUT_CHOICES(a.out, tsdrift_formats),
		OPT_TABLE_END,
	};
	struct drift d;
	char why[160];
	bool table;
	int ret = opts_parse("tsdrift", "pvtime tsdrift --host-khz H --guest-khz G [--frac-bits 48] [--master-tsc M]\n"
			     "       [--duration S] [--step S] [--format table|csv|json|openmetrics]\n"
			     "       [--plot FILE.svg] [--metrics FILE]", o, argc, argv);

	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	if (drift_init(&d, a.host_khz, a.guest_khz, a.frac_bits, a.master_tsc, a.duration_s, a.step_s,
		       why, sizeof(why)))
		return usage_error("%s", why);

	table = !a.out.csv && !a.out.json && !a.out.openmetrics;
	if (a.out.csv)
		print_csv(&d);
	else if (a.out.json)
		print_json(&d, a.guest_khz);
	else if (a.out.openmetrics && (ret = write_openmetrics(&d, a.guest_khz, NULL)))
		return runtime_error("tsdrift: --format openmetrics: %s", strerror(-ret));
	else if (table)
		print_table(&d, a.guest_khz);
	if (a.plot && (ret = write_plot(&d, a.plot, a.guest_khz)))
		return ret;
	if (table && a.plot)
		printf("plot written to %s\n", a.plot);
	if (a.out.metrics && (ret = write_openmetrics(&d, a.guest_khz, a.out.metrics)))
		return runtime_error("tsdrift: --metrics %s: %s", a.out.metrics, strerror(-ret));
	return fflush(stdout) ? runtime_error("tsdrift: cannot write output") : PVT_EXIT_OK;
}

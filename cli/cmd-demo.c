// SPDX-License-Identifier: MIT
/* pvtime demo: the seed's bug and each fix side by side, in one table. */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cmdline.h"
#include "commands.h"
#include "demo.h"
#include "demo-vmm.h"
#include "vmm-cli.h"
#include "json.h"
#include "options.h"
#include "pvtime/hostinfo.h"
#include "runctl.h"

#define DEMO_MAX_PLOTS	4

static void format_uptime(char *buf, size_t len, uint64_t s)
{
	if (s && s % 86400 == 0)
		snprintf(buf, len, "%" PRIu64 " d", s / 86400);
	else if (s && s % 3600 == 0)
		snprintf(buf, len, "%" PRIu64 " h", s / 3600);
	else
		snprintf(buf, len, "%" PRIu64 " s", s);
}

static void print_cell(FILE *out, const struct demo_cell *c, uint64_t interval_ns)
{
	/* Enough decimals that a 3.3 us error on a 10 s timer still shows. */
	fprintf(out, "  %+12.1f ns %+*.*f%%", c->mean_ns, interval_ns > 1000000000 ? 11 : 10,
		interval_ns > 1000000000 ? 7 : 4, c->mean_ns * 100.0 / (double)interval_ns);
}

static void print_section(FILE *out, unsigned idx, const struct demo_section *s)
{
	char up[32];

	fprintf(out, "\n%u. %s\n", idx + 1, s->title);
	fprintf(out, "   host %" PRIu32 " kHz, guest %" PRIu32 " kHz, pvclock advertises %" PRIu64
		" kHz; %" PRIu64 " %s sleeps\n", s->host_khz, s->guest_khz, s->advertised_khz,
		s->interval_ns >= 1000000000 ? s->interval_ns / 1000000000 : s->interval_ns / 1000,
		s->interval_ns >= 1000000000 ? "s" : "us");
	for (unsigned r = 0; r < s->row_count; r++) {
		const struct demo_row *row = &s->rows[r];
		char label[64];

		format_uptime(up, sizeof(up), row->uptime_s);
		if (row->ntp_ppt)
			snprintf(label, sizeof(label), "ntp %+.0f ppm", (double)row->ntp_ppt / 1e6);
		else if (s->interval_ns > 1000000000)
			snprintf(label, sizeof(label), "ntp 0 ppm");
		else if (row->label)
			snprintf(label, sizeof(label), "uptime %s (%s)", up, row->label);
		else
			snprintf(label, sizeof(label), "uptime %s", up);
		fprintf(out, "   %-27s", label);
		for (int a = 0; a < SIM_ALGOS; a++)
			print_cell(out, &row->cell[a], s->interval_ns);
		fputc('\n', out);
	}
	if (s->interval_ns <= 1000000000) {
		if (s->seed_reached) {
			format_uptime(up, sizeof(up), s->seed_uptime_s);
			fprintf(out, "   -> legacy reaches the seed's 3.243 %% (%s%d ns) at uptime %s"
				" (tsdrift error_ns %" PRId64 " there)\n",
				s->seed_error_ns > 0 ? "-" : "+", DEMO_SEED_LATENESS_NS, up,
				s->seed_error_ns);
		} else {
			fprintf(out, "   -> legacy never reaches the seed's 3.243 %% within 100 years\n");
		}
	}
	if (s->note)
		fprintf(out, "   (%s)\n", s->note);
}

static void print_table(FILE *out, const struct demo *d)
{
	fprintf(out, "pvtime demo: when does a Xen-style guest timer fire? (simulated, deterministic)\n");
	fprintf(out, "host TSC %" PRIu32 " kHz (%s). Each cell: mean lateness of the sleeps\n"
		"(observed by the guest - asked), in ns and %% of the sleep; %" PRIu64
		" sleeps per cell (3 for 10 s timers).\n", d->host_khz, d->host_khz_source, d->loops);
	fprintf(out, "\n   %-27s  %27s  %27s  %27s\n", "", "legacy (KVM before the seed)",
		"kvm (the seed's fix)", "pvtime");
	for (unsigned i = 0; i < d->section_count; i++)
		print_section(out, i, &d->sections[i]);
}

/* Returns demo_vmm_section()'s code, or 1 (unavailable) when kvm_loops is 0. */
static int print_json(const struct demo *d, char paths[][512],
		      unsigned plots, uint64_t kvm_loops, enum pvt_guest_scenario scn,
		      enum vmm_irq_pref irq, const struct vmm_config *adv)
{
	struct json j;
	int ret;

	json_begin(&j, stdout);
	cmdline_json_header(&j);
	demo_json(&j, d);
	json_array_begin(&j, "plots");
	for (unsigned i = 0; i < plots; i++)
		json_string(&j, NULL, paths[i]);
	json_array_end(&j);
	ret = kvm_loops && !runctl_signal() ? demo_vmm_section(NULL, &j, kvm_loops, scn, irq, adv) : 1;
	runctl_json(&j);	/* last: the real-KVM section may be the part interrupted */
	json_end(&j);
	return ret;
}

/* Sleeps per cell in the real-KVM section: enough for a stable p50, well under a minute. */
#define DEMO_KVM_LOOPS	200

/* Below this no TSC is plausible (and the model's mul/shift would not exist). */
#define DEMO_MIN_HOST_KHZ	4
#define DEMO_MAX_KVM_LOOPS	100000

static const char usage_text[] =
	"pvtime demo [--out DIR] [-n LOOPS] [--host-khz H] [--kvm-loops N | --no-kvm]\n"
	"        [--guest idle|busy|mixed] [--irq auto|chip|user] [--advance off|adaptive|NS]\n"
	"        [--json]\n"
	"legacy vs kvm vs pvtime in the simulator on this host's TSC frequency, then\n"
	"in a real KVM guest when /dev/kvm is usable (N sleeps per cell, default 200);\n"
	"plots go to DIR (default ./results). --host-khz replaces the detected rate.\n"
	"--guest/--irq: the real guest's scenario, as for pvtime vmm; --advance:\n"
	"pvtime's timer advance there (default adaptive).";

int cmd_demo(int argc, char **argv)
{
	struct demo d = { .loops = 200 };
	const char *out_dir = "results";
	char paths[DEMO_MAX_PLOTS][512];
	unsigned plots = 0;
	uint64_t kvm_loops = DEMO_KVM_LOOPS;
	enum pvt_guest_scenario scn = PVT_SCN_TIMERLAT;
	enum vmm_irq_pref irq = VMM_IRQ_AUTO;
	struct vmm_config adv = { .algo = PVT_ALGO_PVTIME, .advance_mode = VMM_ADV_ADAPTIVE };
	bool json = false, irq_set = false, no_kvm = false, khz_given = false;
	struct opt o[] = {
		{ .name = "out", .kind = OPT_STRING, .field = &out_dir },
		{ OPT_LOOPS(d.loops) },
		{ .name = "host-khz", .kind = OPT_UINT, OPT_FIELD(d.host_khz), .min = DEMO_MIN_HOST_KHZ,
		  .max = UINT32_MAX, .seen = &khz_given },
		{ .name = "kvm-loops", .kind = OPT_UINT, OPT_FIELD(kvm_loops), .min = 1,
		  .max = DEMO_MAX_KVM_LOOPS, .excludes = "no-kvm" },
		{ .name = "no-kvm", .kind = OPT_FLAG, .field = &no_kvm },
		{ .name = "guest", .kind = OPT_CHOICE, OPT_FIELD(scn), .choices = vmm_cli_guest_choices },
		{ .name = "irq", .kind = OPT_CHOICE, OPT_FIELD(irq), .choices = vmm_cli_irq_choices,
		  .seen = &irq_set },
		{ .name = "advance", .kind = OPT_CUSTOM, .field = &adv, .parse = vmm_cli_parse_advance },
		{ OPT_JSON(json) },
		OPT_TABLE_END,
	};
	int ret, kvm_ret = 1;

	if ((ret = opts_parse("demo", usage_text, o, argc, argv)))
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	if (no_kvm)
		kvm_loops = 0;
	if (khz_given)
		d.host_khz_source = "--host-khz";
	if (irq_set && scn == PVT_SCN_TIMERLAT)
		return usage_error("demo: --irq: only with --guest busy|mixed");
	if (!d.host_khz) {
		enum pvt_tsc_khz_source src;

		if (pvt_host_tsc_khz(&d.host_khz, &src))
			return runtime_error("demo: cannot determine this host's TSC frequency (try --host-khz)");
		d.host_khz_source = pvt_tsc_khz_source_name(src);
	}
	if (d.host_khz < 4)
		return runtime_error("demo: implausible host TSC frequency %" PRIu32 " kHz", d.host_khz);

	d.progress = isatty(STDERR_FILENO);
	runctl_install();
	ret = demo_run(&d);
	if (ret)
		return runtime_error("demo: simulation failed: %s", strerror(-ret));
	if (!json)
		print_table(stdout, &d);

	/* The same sleeps in a real guest; a note only when /dev/kvm is unusable. */
	if (!json && kvm_loops && !runctl_signal()) {
		fflush(stdout);
		kvm_ret = demo_vmm_section(stdout, NULL, kvm_loops, scn, irq, &adv);
	}

	/* The plots simulate whole curves: not after an interrupt (the table has the figures). */
	if (!runctl_signal()) {
		ret = demo_plots(&d, out_dir, paths, &plots);
		if (ret)
			return runtime_error("demo: --out %s: cannot write plots: %s", out_dir,
					     strerror(-ret));
	}
	if (json) {
		kvm_ret = print_json(&d, paths, plots, kvm_loops, scn, irq, &adv);
	} else if (runctl_signal()) {
		printf("\nplots not written: interrupted\n");
		runctl_text(stdout, d.cells_done * d.loops);
	} else {
		printf("\nplots written to %s/:", out_dir);
		for (unsigned i = 0; i < plots; i++)
			printf(" %s", strrchr(paths[i], '/') + 1);
		printf("\n");
	}
	return runctl_final(kvm_ret == 2 ? PVT_EXIT_RUNTIME : PVT_EXIT_OK);
}

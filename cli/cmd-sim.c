// SPDX-License-Identifier: MIT
/* pvtime sim: the seed's timerlat in a deterministic simulated host + guest. */
#include <inttypes.h>
#include <string.h>

#include "args.h"
#include "cmdline.h"
#include "commands.h"
#include "json.h"
#include "openmetrics.h"
#include "runctl.h"
#include "sim-args.h"

/* ppt as a decimal ppm string ("-12.5"), exact. */
static void format_ppm(char *buf, size_t len, int64_t ppt)
{
	uint64_t mag = ppt < 0 ? 0 - (uint64_t)ppt : (uint64_t)ppt;
	int n = snprintf(buf, len, "%s%" PRIu64, ppt < 0 ? "-" : "", mag / 1000000);
	uint64_t frac = mag % 1000000;

	if (frac && n > 0 && (size_t)n < len) {
		char digits[8];

		snprintf(digits, sizeof(digits), "%06" PRIu64, frac);
		for (int i = 5; i > 0 && digits[i] == '0'; i--)
			digits[i] = '\0';
		snprintf(buf + n, len - (size_t)n, ".%s", digits);
	}
}

static void print_header(FILE *out, const struct sim_config *cfg, const struct sim_model *m)
{
	char ppm[40];

	format_ppm(ppm, sizeof(ppm), cfg->ntp_ppt);
	fprintf(out, "# pvtime sim: algo=%s hypercall=%s vcpus=%u seed=%" PRIu64 "\n",
		pvt_timer_algo_name(cfg->algo), sim_hypercall_names[cfg->hypercall],
		cfg->vcpus, cfg->seed);
	fprintf(out, "# host %" PRIu32 " kHz, guest %" PRIu32 " kHz, frac %u: ratio %" PRIu64
		" (%s), pvclock advertises %" PRIu64 " kHz\n", cfg->host_khz, cfg->guest_khz,
		cfg->frac_bits, m->ratio, m->scaled ? "scaled" : "unscaled, within 250 ppm",
		m->advertised_khz);
	fprintf(out, "# uptime %" PRIu64 " s: host TSC %" PRIu64 ", one-step error %" PRId64
		" ns (tsdrift error_ns)\n", cfg->uptime_s, m->start_host_tsc, m->onestep_error_ns);
	fprintf(out, "# interval %" PRIu64 " ns, wake latency %" PRIu64 " ns + jitter [0, %" PRIu64
		"], preempt %" PRIu64 " ns, ntp %s ppm, resnapshot %" PRIu64 " s\n",
		cfg->interval_ns, cfg->wake_latency_ns, cfg->wake_jitter_ns, cfg->preempt_ns,
		ppm, cfg->resnapshot_s);
}

static void print_json(const struct sim_config *cfg,
		       const struct sim_model *m, const struct sim_result *res,
		       struct timerlat_report *r)
{
	char ppm[40];
	struct json j;

	format_ppm(ppm, sizeof(ppm), cfg->ntp_ppt);
	json_begin(&j, stdout);
	cmdline_json_header(&j);
	json_string(&j, "target", "sim");
	runctl_json(&j);
	timerlat_report_json(r, &j);
	json_object_begin(&j, "config");
	json_string(&j, "hypercall", sim_hypercall_names[cfg->hypercall]);
	json_u64(&j, "host_khz", cfg->host_khz);
	json_u64(&j, "guest_khz", cfg->guest_khz);
	json_u64(&j, "frac_bits", cfg->frac_bits);
	json_u64(&j, "uptime_s", cfg->uptime_s);
	json_u64(&j, "vcpus", cfg->vcpus);
	json_u64(&j, "loops_per_vcpu", cfg->loops);
	if (cfg->duration_ns)
		json_u64(&j, "duration_ns", cfg->duration_ns);
	json_u64(&j, "wake_latency_ns", cfg->wake_latency_ns);
	json_u64(&j, "wake_jitter_ns", cfg->wake_jitter_ns);
	json_string(&j, "ntp_ppm", ppm);
	json_u64(&j, "preempt_ns", cfg->preempt_ns);
	json_u64(&j, "resnapshot_s", cfg->resnapshot_s);
	json_u64(&j, "seed", cfg->seed);
	json_object_end(&j);
	json_object_begin(&j, "model");
	json_u64(&j, "ratio", m->ratio);
	json_bool(&j, "scaled", m->scaled);
	json_u64(&j, "advertised_khz", m->advertised_khz);
	json_u64(&j, "start_host_tsc", m->start_host_tsc);
	json_u64(&j, "start_guest_ns", m->start_guest_ns);
	json_i64(&j, "onestep_error_ns", m->onestep_error_ns);
	json_object_end(&j);
	json_u64(&j, "events", res->events);
	json_u64(&j, "resnapshots", res->resnapshots);
	json_u64(&j, "end_true_ns", res->end_true_ns);
	json_end(&j);
}

/* cfg->poll: Ctrl-C and the progress line, every few thousand simulated loops. */
static bool poll_run(void *ctx, uint64_t loops_done)
{
	return runctl_should_stop(ctx, loops_done, runctl_now_ns());
}

static int write_metrics(const struct sim_cli *cli, struct timerlat_report *r)
{
	struct om_timerlat series = {
		.target = "sim", .algo = pvt_timer_algo_name(cli->cfg.algo), .vcpu = "all",
		.guest_clock = "kvm", .r = r, .early_wakeups = om_count_early(r),
	};
	struct om om;
	int err;

	for (int pass = 0; pass < 2; pass++) {
		const char *path = pass ? cli->out.metrics : NULL;

		if (pass ? !cli->out.metrics : !cli->out.openmetrics)
			continue;
		err = om_open(&om);
		if (!err) {
			om.interrupted = runctl_signal() != 0;
			om_timerlat(&om, &series, 1);
			err = om_finish(&om, path);
		}
		if (err)
			return runtime_error("sim: %s%s: %s", pass ? "--metrics " : "--format openmetrics",
					     pass ? path : "", strerror(-err));
	}
	return 0;
}

int cmd_sim(int argc, char **argv)
{
	struct sim_cli cli;
	struct sim_model model;
	struct sim_result res = { 0 };
	struct timerlat_report r;
	struct runctl rc;
	bool text;
	int ret;

	ret = sim_parse(argc, argv, &cli);
	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	if (sim_model(&cli.cfg, &model))
		return usage_error("sim: this configuration has no valid guest clock");
	text = !cli.out.json && !cli.out.openmetrics;

	runctl_install();
	timerlat_report_init(&r, pvt_timer_algo_name(cli.cfg.algo), cli.cfg.interval_ns, stdout,
			     cli.quiet || !text);
	if (text)
		print_header(stdout, &cli.cfg, &model);
	runctl_start(&rc, "sim", cli.cfg.duration_ns ? 0 : cli.cfg.loops * cli.cfg.vcpus, 0,
		     cli.quiet);
	cli.cfg.poll = poll_run;
	cli.cfg.poll_ctx = &rc;
	ret = sim_run(&cli.cfg, &r, &res);
	runctl_end(&rc);
	if (ret) {
		ret = runtime_error("sim: simulation failed after %" PRIu64 " loops: %s",
				    r.loops, strerror(-ret));
		goto out;
	}
	if (cli.plot) {
		char title[96];
		int err;

		snprintf(title, sizeof(title), "pvtime sim (%s, uptime %" PRIu64 " s): lateness",
			 pvt_timer_algo_name(cli.cfg.algo), cli.cfg.uptime_s);
		err = timerlat_report_plot(&r, cli.plot, title);
		if (err) {
			ret = runtime_error("--plot %s: %s", cli.plot, strerror(-err));
			goto out;
		}
	}
	if (cli.out.json) {
		print_json(&cli.cfg, &model, &res, &r);
	} else if (text) {
		runctl_text(stdout, r.loops);
		timerlat_report_summary(&r, stdout);
		printf("events=%" PRIu64 " resnapshots=%" PRIu64 " end_true_ns=%" PRIu64 "\n",
		       res.events, res.resnapshots, res.end_true_ns);
	}
	ret = write_metrics(&cli, &r);
out:
	timerlat_report_free(&r);
	return runctl_final(ret);
}

// SPDX-License-Identifier: MIT
/* pvtime timerlat: the seed's measurement with real statistics, on the host by default. */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <string.h>

#include "args.h"
#include "cmdline.h"
#include "commands.h"
#include "json.h"
#include "openmetrics.h"
#include "options.h"
#include "runctl.h"
#include "timerlat-host.h"
#include "timerlat-report.h"
#include "vmm-timerlat.h"

/* The host measurement's --duration ceiling: a year. */
#define TIMERLAT_MAX_DURATION_S	(366ull * 86400)

struct timerlat_cli {
	struct timerlat_host_opts host;
	bool quiet;
	const char *plot;
	struct cli_output out;
};

static const char usage_text[] =
	"pvtime timerlat [-n LOOPS | --duration S] [-i INTERVAL_NS] [--quiet]\n"
	"                       [--json | --format text|json|openmetrics] [--metrics FILE]\n"
	"                       [--plot FILE.svg] [--fifo PRIO] [--cpu N]\n"
	"       pvtime timerlat --sim SIM-OPTIONS   (the simulator: see pvtime sim --help)\n"
	"       pvtime timerlat --vmm ...           (a real KVM guest)\n"
	"Each loop: t0 = now, sleep until t0 + interval (CLOCK_MONOTONIC, absolute),\n"
	"latency = now - t0, printed as the seed did. Defaults: -n 1000 -i 100000.\n"
	"SIGINT/SIGTERM end the run: the loops done are reported, exit 130/143.";

static int parse(int argc, char **argv, struct timerlat_cli *cli)
{
	struct opt o[] = {
		{ OPT_LOOPS(cli->host.loops) },
		{ OPT_INTERVAL(cli->host.interval_ns) },
		{ OPT_DURATION(cli->host.duration_ns, TIMERLAT_MAX_DURATION_S) },
		{ OPT_QUIET(cli->quiet) },
		{ OPT_PLOT(cli->plot) },
		{ OPT_FIFO(cli->host.fifo_priority) },
		{ .name = "cpu", .kind = OPT_UINT, OPT_FIELD(cli->host.cpu), .max = CPU_SETSIZE - 1 },
		OPT_OUTPUT(cli->out),
		OPT_TABLE_END,
	};
	int ret;

	*cli = (struct timerlat_cli){
		.host = { .loops = 1000, .interval_ns = 100000, .cpu = -1 },
	};
	if ((ret = opts_parse("timerlat", usage_text, o, argc, argv)))
		return ret;
	if (cli->host.duration_ns)
		cli->host.loops = UINT64_MAX;
	cli->host.progress = !cli->quiet;
	return 0;
}

static void print_env(FILE *out, const struct timerlat_cli *cli,
		      const struct timerlat_host_env *env)
{
	fprintf(out, "# timerlat host: CLOCK_MONOTONIC, clock_nanosleep absolute\n");
	fprintf(out, "# timer slack: %s\n", env->timer_slack_1ns ? "1 ns" : "default (prctl failed)");
	fprintf(out, "# mlockall: %s\n", env->mlocked ? "yes" : strerror(env->mlock_errno));
	if (env->dma_latency_held)
		fprintf(out, "# cpu_dma_latency: held at 0\n");
	else
		fprintf(out, "# cpu_dma_latency: not held (%s)\n", strerror(env->dma_latency_errno));
	if (cli->host.fifo_priority)
		fprintf(out, "# scheduler: SCHED_FIFO %d\n", cli->host.fifo_priority);
	else
		fprintf(out, "# scheduler: SCHED_OTHER\n");
	if (cli->host.cpu >= 0)
		fprintf(out, "# cpu: %d\n", cli->host.cpu);
	else
		fprintf(out, "# cpu: not pinned\n");
}

static void print_json(const struct timerlat_cli *cli,
		       const struct timerlat_host_env *env, struct timerlat_report *r)
{
	struct json j;

	json_begin(&j, stdout);
	cmdline_json_header(&j);
	json_string(&j, "target", "host");
	runctl_json(&j);
	timerlat_report_json(r, &j);
	json_object_begin(&j, "environment");
	json_string(&j, "clock", "CLOCK_MONOTONIC");
	json_bool(&j, "timer_slack_1ns", env->timer_slack_1ns);
	json_bool(&j, "mlockall", env->mlocked);
	json_bool(&j, "cpu_dma_latency_held", env->dma_latency_held);
	json_string(&j, "scheduler", cli->host.fifo_priority ? "SCHED_FIFO" : "SCHED_OTHER");
	json_i64(&j, "fifo_priority", cli->host.fifo_priority);
	json_i64(&j, "cpu", cli->host.cpu);
	json_object_end(&j);
	json_end(&j);
}

/* The simulator target: `timerlat --sim ARGS` is `sim ARGS`. */
static int timerlat_sim(int argc, char **argv, int at)
{
	char *args[argc];
	int n = 0;

	args[n++] = "sim";
	for (int i = 1; i < argc; i++)
		if (i != at)
			args[n++] = argv[i];
	return cmd_sim(n, args);
}

/* OpenMetrics of the host target on stdout (path NULL) or to path; 0 or -errno. */
static int om_write(struct timerlat_report *r, const char *path)
{
	struct om_timerlat series = {
		.target = "host", .algo = "none", .vcpu = "all", .guest_clock = "none", .r = r,
		.early_wakeups = om_count_early(r),
	};
	struct om om;
	int err = om_open(&om);

	if (err)
		return err;
	om.interrupted = runctl_signal() != 0;
	om_timerlat(&om, &series, 1);
	return om_finish(&om, path);
}

/* --format openmetrics / --metrics FILE for the host target. */
static int write_metrics(const struct timerlat_cli *cli, struct timerlat_report *r)
{
	int err;

	if (cli->out.openmetrics && (err = om_write(r, NULL)))
		return runtime_error("timerlat: --format openmetrics: %s", strerror(-err));
	if (cli->out.metrics && (err = om_write(r, cli->out.metrics)))
		return runtime_error("timerlat: --metrics %s: %s", cli->out.metrics, strerror(-err));
	return 0;
}

int cmd_timerlat(int argc, char **argv)
{
	struct timerlat_cli cli;
	struct timerlat_host_env env;
	struct timerlat_report r;
	FILE *text = stdout;
	bool text_out;
	int ret;

	/*
	 * Other targets take the whole command line: the real KVM guest
	 * (cli/vmm-timerlat.c, which reuses timerlat-report.h) and the simulator.
	 */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--vmm"))
			return timerlat_vmm(argc, argv);
		if (!strcmp(argv[i], "--sim"))
			return timerlat_sim(argc, argv, i);
	}

	ret = parse(argc, argv, &cli);
	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	text_out = !cli.out.json && !cli.out.openmetrics;

	runctl_install();
	timerlat_report_init(&r, "host", cli.host.interval_ns, stdout, cli.quiet || !text_out);
	ret = timerlat_host_setup(&cli.host, &env);
	if (ret) {
		ret = runtime_error("%s", env.error);
		goto out;
	}
	if (text_out)
		print_env(text, &cli, &env);
	ret = timerlat_host_measure(&cli.host, &r);
	timerlat_host_teardown(&env);
	if (ret) {
		ret = runtime_error("timerlat: after %" PRIu64 " loops: %s", r.loops, strerror(-ret));
		goto out;
	}

	if (cli.plot) {
		int err = timerlat_report_plot(&r, cli.plot, "pvtime timerlat (host): lateness");

		if (err) {
			ret = runtime_error("--plot %s: %s", cli.plot, strerror(-err));
			goto out;
		}
	}
	if (cli.out.json) {
		print_json(&cli, &env, &r);
	} else if (text_out) {
		runctl_text(text, r.loops);
		timerlat_report_summary(&r, text);
	}
	ret = write_metrics(&cli, &r);
out:
	timerlat_report_free(&r);
	return runctl_final(ret);
}

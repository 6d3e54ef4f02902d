// SPDX-License-Identifier: MIT
/* pvtime timerlat: the seed's measurement with real statistics, on the host by default. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <string.h>

#include "args.h"
#include "cmdline.h"
#include "commands.h"
#include "json.h"
#include "openmetrics.h"
#include "runctl.h"
#include "timerlat-host.h"
#include "timerlat-report.h"
#include "vmm-timerlat.h"

#define TIMERLAT_MAX_LOOPS	1000000000ull
#define TIMERLAT_MAX_INTERVAL	3600000000000ull	/* one hour */
#define TIMERLAT_MAX_DURATION_S	(366ull * 86400)	/* a year */

struct timerlat_cli {
	struct timerlat_host_opts host;
	bool quiet, json, openmetrics;
	const char *plot;
	const char *metrics;	/* --metrics FILE: OpenMetrics, written atomically */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pvtime timerlat [-n LOOPS | --duration S] [-i INTERVAL_NS] [--quiet]\n"
		"                       [--json | --format text|json|openmetrics] [--metrics FILE]\n"
		"                       [--plot FILE.svg] [--fifo PRIO] [--cpu N]\n"
		"       pvtime timerlat --sim SIM-OPTIONS   (the simulator: see pvtime sim --help)\n"
		"       pvtime timerlat --vmm ...           (a real KVM guest)\n"
		"Each loop: t0 = now, sleep until t0 + interval (CLOCK_MONOTONIC, absolute),\n"
		"latency = now - t0, printed as the seed did. Defaults: -n 1000 -i 100000.\n"
		"SIGINT/SIGTERM end the run: the loops done are reported, exit 130/143.\n");
}

/* getopt's own message would not name the argument the way the contract wants. */
static int bad_option(char **argv, int opt)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		return usage_error("timerlat: %s: missing value", arg);
	return usage_error("timerlat: unknown option '%s' (try --help)", arg);
}

static int parse(int argc, char **argv, struct timerlat_cli *cli)
{
	enum { OPT_JSON = 256, OPT_PLOT, OPT_FIFO, OPT_CPU, OPT_HELP, OPT_DURATION, OPT_FORMAT,
	       OPT_METRICS };
	static const char *const formats[] = { "text", "json", "openmetrics" };
	static const struct option longopts[] = {
		{ "loops", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "fifo", required_argument, NULL, OPT_FIFO },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ 0 },
	};
	bool loops_set = false;
	int format = -1;
	uint64_t v;
	int opt;

	*cli = (struct timerlat_cli){
		.host = { .loops = 1000, .interval_ns = 100000, .cpu = -1 },
	};
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:i:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (arg_u64("-n", optarg, 0, TIMERLAT_MAX_LOOPS, &cli->host.loops))
				return PVT_EXIT_USAGE;
			if (!cli->host.loops)
				return usage_error("-n: must be at least 1");
			loops_set = true;
			break;
		case OPT_DURATION:
			if (runctl_parse_duration("--duration", optarg, TIMERLAT_MAX_DURATION_S,
						  &cli->host.duration_ns))
				return PVT_EXIT_USAGE;
			break;
		case OPT_FORMAT:
			if ((format = arg_choice("--format", optarg, formats, 3)) < 0)
				return PVT_EXIT_USAGE;
			break;
		case OPT_METRICS:
			if (!*optarg)
				return usage_error("--metrics: missing file name");
			cli->metrics = optarg;
			break;
		case 'i':
			if (arg_u64("-i", optarg, 0, TIMERLAT_MAX_INTERVAL, &cli->host.interval_ns))
				return PVT_EXIT_USAGE;
			if (!cli->host.interval_ns)
				return usage_error("-i: interval must be at least 1 ns");
			break;
		case 'q':
			cli->quiet = true;
			break;
		case OPT_JSON:
			cli->json = true;
			break;
		case OPT_PLOT:
			cli->plot = optarg;
			break;
		case OPT_FIFO:
			if (arg_u64("--fifo", optarg, 0, 99, &v))
				return PVT_EXIT_USAGE;
			if (!v)
				return usage_error("--fifo: priority must be 1..99");
			cli->host.fifo_priority = (int)v;
			break;
		case OPT_CPU:
			if (arg_u64("--cpu", optarg, 0, CPU_SETSIZE - 1, &v))
				return PVT_EXIT_USAGE;
			cli->host.cpu = (int)v;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return -1;
		default:
			return bad_option(argv, opt);
		}
	}
	if (optind < argc)
		return usage_error("timerlat: unexpected argument '%s'", argv[optind]);
	if (loops_set && cli->host.duration_ns)
		return usage_error("timerlat: --duration and -n are alternatives: give one");
	if (cli->host.duration_ns)
		cli->host.loops = UINT64_MAX;
	if (format >= 0 && cli->json && format != OM_FMT_JSON)
		return usage_error("timerlat: --json and --format %s: choose one", formats[format]);
	if (format == OM_FMT_JSON)
		cli->json = true;
	cli->openmetrics = format == OM_FMT_OPENMETRICS;
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

/* --format openmetrics / --metrics FILE for the host target. */
static int write_metrics(const struct timerlat_cli *cli, struct timerlat_report *r)
{
	struct om_timerlat series = {
		.target = "host", .algo = "none", .vcpu = "all", .guest_clock = "none", .r = r,
	};
	struct om om;
	int err;

	series.early_wakeups = om_count_early(r);
	if (cli->openmetrics) {
		if ((err = om_open(&om)) || (om_timerlat(&om, &series, 1), err = om_finish(&om, NULL)))
			return runtime_error("timerlat: --format openmetrics: %s", strerror(-err));
	}
	if (cli->metrics) {
		if ((err = om_open(&om)) || (om_timerlat(&om, &series, 1),
					     err = om_finish(&om, cli->metrics)))
			return runtime_error("timerlat: --metrics %s: %s", cli->metrics, strerror(-err));
	}
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
		return ret < 0 ? PVT_EXIT_OK : ret;
	text_out = !cli.json && !cli.openmetrics;

	runctl_install();
	timerlat_report_init(&r, "host", cli.host.interval_ns, stdout, cli.quiet || !text_out);
	ret = timerlat_host_setup(&cli.host, &env);
	if (ret)
		goto out;
	if (text_out)
		print_env(text, &cli, &env);
	ret = timerlat_host_measure(&cli.host, &r);
	timerlat_host_teardown(&env);
	if (ret)
		goto out;

	if (cli.plot) {
		int err = timerlat_report_plot(&r, cli.plot, "pvtime timerlat (host): lateness");

		if (err) {
			ret = runtime_error("--plot %s: %s", cli.plot, strerror(-err));
			goto out;
		}
	}
	if (cli.json) {
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

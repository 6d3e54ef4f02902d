// SPDX-License-Identifier: MIT
/* `pvtime sim` options (the defaults and checks are sim/sim-config.c). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "args.h"
#include "openmetrics.h"
#include "pvtime/guestclock.h"
#include "sim-args.h"

/* Signed ns values must stay below 2^63: deadlines are compared as signed. */
#define NS_LIMIT	((uint64_t)INT64_MAX)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pvtime sim --algo legacy|kvm|pvtime --host-khz H --guest-khz G\n"
		"                  [--frac-bits 48|32] [--uptime S] [-n LOOPS] [-i INTERVAL_NS]\n"
		"                  [--vcpus N] [--hypercall set_timer_op|singleshot]\n"
		"                  [--wake-latency NS] [--wake-jitter NS] [--ntp-ppm P]\n"
		"                  [--preempt NS] [--resnapshot S] [--seed N]\n"
		"                  [--quiet] [--json | --format text|json|openmetrics]\n"
		"                  [--metrics FILE] [--plot FILE.svg] [--duration S]\n"
		"The simulated guest runs the seed's timerlat loop on each vCPU: read its\n"
		"clock, ask for a timer interval ahead, block, wake, read its clock again.\n"
		"--uptime: seconds since the master clock reference (first loop at host TSC\n"
		"uptime*H*1000). --ntp-ppm: CLOCK_MONOTONIC runs (1 + P/10^6) ns per true ns.\n"
		"--wake-jitter adds a uniform [0, NS] random delay per wake-up (seeded).\n"
		"--resnapshot S: KVM re-takes its master clock every S s of simulated time\n"
		"(the guest clock steps by legacy's accumulated error; armed timers are\n"
		"re-converted). --preempt: time between legacy's two clock reads.\n"
		"-n is per vCPU; vCPUs other than 0 start at a random phase (seeded).\n"
		"--duration S instead of -n: S seconds of simulated time (a decimal).\n"
		"SIGINT/SIGTERM end the run: the loops done are reported, exit 130/143.\n");
}

enum {
	OPT_ALGO = 256, OPT_HOST_KHZ, OPT_GUEST_KHZ, OPT_FRAC, OPT_UPTIME, OPT_WAKE,
	OPT_JITTER, OPT_NTP, OPT_PREEMPT, OPT_SEED, OPT_VCPUS, OPT_HC, OPT_RESNAP,
	OPT_JSON, OPT_PLOT, OPT_HELP, OPT_DURATION, OPT_FORMAT, OPT_METRICS,
};

static const char *const formats[] = { "text", "json", "openmetrics" };

static const struct option longopts[] = {
	{ "algo", required_argument, NULL, OPT_ALGO },
	{ "host-khz", required_argument, NULL, OPT_HOST_KHZ },
	{ "guest-khz", required_argument, NULL, OPT_GUEST_KHZ },
	{ "frac-bits", required_argument, NULL, OPT_FRAC },
	{ "uptime", required_argument, NULL, OPT_UPTIME },
	{ "loops", required_argument, NULL, 'n' },
	{ "interval", required_argument, NULL, 'i' },
	{ "wake-latency", required_argument, NULL, OPT_WAKE },
	{ "wake-jitter", required_argument, NULL, OPT_JITTER },
	{ "ntp-ppm", required_argument, NULL, OPT_NTP },
	{ "preempt", required_argument, NULL, OPT_PREEMPT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "hypercall", required_argument, NULL, OPT_HC },
	{ "resnapshot", required_argument, NULL, OPT_RESNAP },
	{ "quiet", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ 0 },
};

/* One option's value into the config; 0 or PVT_EXIT_USAGE (message printed). */
static int parse_one(struct sim_cli *cli, int opt, const char *arg, unsigned *seen)
{
	struct sim_config *cfg = &cli->cfg;
	uint64_t v;
	int64_t si;
	int c;

	switch (opt) {
	case OPT_ALGO:
		if (pvt_timer_algo_parse(arg, &cfg->algo))
			return usage_error("--algo: '%s' is not one of legacy|kvm|pvtime", arg);
		*seen |= 1;
		return 0;
	case OPT_HOST_KHZ:
	case OPT_GUEST_KHZ:
		if (arg_u64(opt == OPT_HOST_KHZ ? "--host-khz" : "--guest-khz", arg, 0,
			    UINT32_MAX, &v))
			return PVT_EXIT_USAGE;
		if (opt == OPT_HOST_KHZ)
			cfg->host_khz = (uint32_t)v;
		else
			cfg->guest_khz = (uint32_t)v;
		*seen |= opt == OPT_HOST_KHZ ? 2 : 4;
		return 0;
	case OPT_FRAC:
		if (arg_u64("--frac-bits", arg, 0, 64, &v))
			return PVT_EXIT_USAGE;
		cfg->frac_bits = (unsigned)v;
		return 0;
	case OPT_UPTIME:
		return arg_u64("--uptime", arg, 0, UINT64_MAX, &cfg->uptime_s) ? PVT_EXIT_USAGE : 0;
	case 'n':
		*seen |= 8;
		return arg_u64("-n", arg, 0, SIM_MAX_LOOPS, &cfg->loops) ? PVT_EXIT_USAGE : 0;
	case OPT_DURATION:
		/* Seconds of simulated time, exact to the ns: no floating point. */
		if (arg_fixed("--duration", arg, 9, 0, 10ll * 365 * 86400 * 1000000000ll, &si))
			return PVT_EXIT_USAGE;
		if (si <= 0)
			return usage_error("--duration: must be more than 0 s");
		cfg->duration_ns = (uint64_t)si;
		return 0;
	case OPT_FORMAT:
		if ((c = arg_choice("--format", arg, formats, 3)) < 0)
			return PVT_EXIT_USAGE;
		if (*seen & 16 && c != OM_FMT_JSON)
			return usage_error("sim: --json and --format %s: choose one", formats[c]);
		*seen |= 32;
		cli->json = c == OM_FMT_JSON;
		cli->openmetrics = c == OM_FMT_OPENMETRICS;
		return 0;
	case OPT_METRICS:
		if (!*arg)
			return usage_error("--metrics: missing file name");
		cli->metrics = arg;
		return 0;
	case 'i':
		return arg_u64("-i", arg, 0, NS_LIMIT / 4, &cfg->interval_ns) ? PVT_EXIT_USAGE : 0;
	case OPT_WAKE:
		return arg_u64("--wake-latency", arg, 0, NS_LIMIT / 4,
			       &cfg->wake_latency_ns) ? PVT_EXIT_USAGE : 0;
	case OPT_JITTER:
		return arg_u64("--wake-jitter", arg, 0, NS_LIMIT / 4,
			       &cfg->wake_jitter_ns) ? PVT_EXIT_USAGE : 0;
	case OPT_NTP:
		return arg_fixed("--ntp-ppm", arg, 6, -SIM_MAX_PPM * 1000000ll,
				 SIM_MAX_PPM * 1000000ll, &cfg->ntp_ppt) ? PVT_EXIT_USAGE : 0;
	case OPT_PREEMPT:
		return arg_u64("--preempt", arg, 0, NS_LIMIT / 4, &cfg->preempt_ns) ?
		       PVT_EXIT_USAGE : 0;
	case OPT_SEED:
		return arg_u64("--seed", arg, 0, UINT64_MAX, &cfg->seed) ? PVT_EXIT_USAGE : 0;
	case OPT_VCPUS:
		if (arg_u64("--vcpus", arg, 0, SIM_MAX_VCPUS, &v))
			return PVT_EXIT_USAGE;
		cfg->vcpus = (unsigned)v;
		return 0;
	case OPT_HC:
		if ((c = arg_choice("--hypercall", arg, sim_hypercall_names, SIM_HC_COUNT)) < 0)
			return PVT_EXIT_USAGE;
		cfg->hypercall = (enum sim_hypercall)c;
		return 0;
	case OPT_RESNAP:
		return arg_u64("--resnapshot", arg, 0, UINT32_MAX, &cfg->resnapshot_s) ?
		       PVT_EXIT_USAGE : 0;
	case 'q':
		cli->quiet = true;
		return 0;
	case OPT_JSON:
		if (cli->openmetrics)
			return usage_error("sim: --json and --format openmetrics: choose one");
		cli->json = true;
		*seen |= 16;
		return 0;
	case OPT_PLOT:
		cli->plot = arg;
		return 0;
	}
	return PVT_EXIT_USAGE;
}

int sim_parse(int argc, char **argv, struct sim_cli *cli)
{
	unsigned seen = 0;
	int opt, ret;

	*cli = (struct sim_cli){ 0 };
	sim_config_default(&cli->cfg);
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:i:q", longopts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			usage(stdout);
			return -1;
		}
		if (opt == ':')
			return usage_error("sim: %s: missing value", argv[optind - 1]);
		if (opt == '?')
			return usage_error("sim: unknown option '%s' (try --help)", argv[optind - 1]);
		ret = parse_one(cli, opt, optarg, &seen);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return usage_error("sim: unexpected argument '%s'", argv[optind]);
	if (!(seen & 1))
		return usage_error("--algo: required (legacy|kvm|pvtime)");
	if (!(seen & 2))
		return usage_error("--host-khz: required");
	if (!(seen & 4))
		return usage_error("--guest-khz: required");
	if (cli->cfg.duration_ns) {
		if (seen & 8)
			return usage_error("sim: --duration and -n are alternatives: give one");
		/* An upper bound (a loop may end early); the duration ends the run. */
		uint64_t bound = cli->cfg.duration_ns / (cli->cfg.interval_ns ? cli->cfg.interval_ns : 1);

		cli->cfg.loops = bound < SIM_MAX_LOOPS / 2 - 2 ? bound * 2 + 2 : SIM_MAX_LOOPS;
	}
	return sim_config_check(&cli->cfg);
}

// SPDX-License-Identifier: MIT
/* `pvtime sim` options: parsing, defaults and the up-front overflow checks. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "args.h"
#include "openmetrics.h"
#include "pvtime/guestclock.h"
#include "sim.h"

const char *const sim_algo_names[SIM_ALGO_COUNT] = { "legacy", "kvm", "pvtime" };
const char *const sim_hypercall_names[SIM_HC_COUNT] = { "set_timer_op", "singleshot" };

/* Slack per loop beyond the interval: set_timer_op's 100 ms workaround, legacy's drift. */
#define SIM_LOOP_SLACK_NS	200000000ull

void sim_config_default(struct sim_config *cfg)
{
	*cfg = (struct sim_config){
		.algo = SIM_ALGO_PVTIME,
		.hypercall = SIM_HC_SET_TIMER_OP,
		.frac_bits = PVT_FRAC_BITS_VMX,
		.loops = 1000,
		.interval_ns = 100000,
		.vcpus = 1,
	};
}

/* Signed ns values must stay below 2^63: deadlines are compared as signed. */
#define NS_LIMIT	((uint64_t)INT64_MAX)

/* The host -> guest -> ns chain at host TSC x fits 64 bits (and 2^63 for ns)? */
static const char *overflow_at(const struct pvt_kvm_clock *kvm,
			       const struct pvt_guest_clock *gc,
			       unsigned __int128 host_tsc)
{
	unsigned __int128 guest_tsc;
	uint64_t g;

	if (host_tsc > UINT64_MAX)
		return "host TSC";
	guest_tsc = (host_tsc * gc->tsc.ratio) >> gc->tsc.frac_bits;
	if (guest_tsc > UINT64_MAX)
		return "guest TSC";
	g = (uint64_t)guest_tsc;
	/* With a positive shift the delta is shifted left before the multiply. */
	if (gc->page.tsc_shift > 0 && (g >> (64 - gc->page.tsc_shift)))
		return "guest ns";
	if (pvt_guest_clock_ns(gc, (uint64_t)host_tsc) > NS_LIMIT)
		return "guest ns";
	if (kvm->host_shift > 0 && ((uint64_t)host_tsc >> (64 - kvm->host_shift)))
		return "host kvmclock ns";
	if (pvt_kvm_clock_legacy_ns(kvm, (uint64_t)host_tsc) > NS_LIMIT)
		return "host kvmclock ns";
	return NULL;
}

int sim_config_check(const struct sim_config *cfg)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock gc;
	unsigned __int128 start_ns, run_ns, end_ns, slewed;
	const char *what;

	if (!cfg->host_khz)
		return usage_error("--host-khz: must be a positive kHz value");
	if (!cfg->guest_khz)
		return usage_error("--guest-khz: must be a positive kHz value");
	if (!pvt_frac_bits_valid(cfg->frac_bits))
		return usage_error("--frac-bits: %u is not 32 or 48", cfg->frac_bits);
	if (!cfg->interval_ns)
		return usage_error("-i: interval must be at least 1 ns");
	if (!cfg->loops)
		return usage_error("-n: must be at least 1");
	if (!cfg->vcpus || cfg->vcpus > SIM_MAX_VCPUS)
		return usage_error("--vcpus: must be 1..%u", SIM_MAX_VCPUS);
	if (pvt_kvm_clock_init(&kvm, cfg->host_khz, cfg->frac_bits))
		return usage_error("--host-khz: %" PRIu32 " has no kvmclock scale", cfg->host_khz);
	if (pvt_kvm_tsc_scaling(&kvm, cfg->guest_khz, 0, &tsc))
		return usage_error("--guest-khz: %" PRIu32 " cannot be scaled from %" PRIu32
				   " kHz with %u fractional bits", cfg->guest_khz,
				   cfg->host_khz, cfg->frac_bits);
	if (pvt_kvm_guest_clock(&kvm, &tsc, &gc))
		return usage_error("--guest-khz: %" PRIu32 " gives no valid pvclock scale",
				   cfg->guest_khz);

	start_ns = (unsigned __int128)cfg->uptime_s * PVT_NSEC_PER_SEC;
	what = overflow_at(&kvm, &gc, (unsigned __int128)cfg->uptime_s * cfg->host_khz * 1000);
	if (!what && start_ns > NS_LIMIT)
		what = "host ns";
	if (what)
		return usage_error("--uptime: %" PRIu64 " s overflows the 64-bit %s",
				   cfg->uptime_s, what);

	/* A generous bound on how far the run goes past the start. */
	run_ns = (unsigned __int128)cfg->loops *
		 ((unsigned __int128)cfg->interval_ns * 2 + cfg->wake_latency_ns +
		  cfg->wake_jitter_ns + cfg->preempt_ns + SIM_LOOP_SLACK_NS) +
		 cfg->interval_ns;	/* vCPU start stagger */
	end_ns = start_ns + run_ns;
	slewed = end_ns + end_ns / 5;	/* |slew| <= 10 % */
	what = overflow_at(&kvm, &gc, end_ns * cfg->host_khz / 1000000);
	if (!what && slewed > NS_LIMIT)
		what = "host ns";
	if (what)
		return usage_error("--uptime/-n/-i: a run of %" PRIu64 " loops of %" PRIu64
				   " ns from %" PRIu64 " s may overflow the 64-bit %s",
				   cfg->loops, cfg->interval_ns, cfg->uptime_s, what);
	return 0;
}

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
		if ((c = arg_choice("--algo", arg, sim_algo_names, SIM_ALGO_COUNT)) < 0)
			return PVT_EXIT_USAGE;
		cfg->algo = (enum sim_algo)c;
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

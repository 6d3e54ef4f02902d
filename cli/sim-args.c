// SPDX-License-Identifier: MIT
/* `pvtime sim` options (the defaults and checks are sim/sim-config.c). */
#include <inttypes.h>
#include <stdio.h>

#include "args.h"
#include "options.h"
#include "pvtime/guestclock.h"
#include "sim-args.h"

/* Signed ns values must stay below 2^63: deadlines are compared as signed. */
#define NS_LIMIT	((uint64_t)INT64_MAX)

static const char usage_text[] =
	"pvtime sim --algo legacy|kvm|pvtime --host-khz H --guest-khz G\n"
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
	"SIGINT/SIGTERM end the run: the loops done are reported, exit 130/143.";

static const struct opt_choice hypercall_choices[] = {
	{ "set_timer_op", SIM_HC_SET_TIMER_OP }, { "singleshot", SIM_HC_SINGLESHOT }, { NULL, 0 },
};

/* The longest simulated run --duration takes: ten years, exact to the ns. */
#define SIM_MAX_DURATION_S	(10ull * 365 * 86400)

int sim_parse(int argc, char **argv, struct sim_cli *cli)
{
	struct sim_config *cfg = &cli->cfg;
	bool loops_set = false;
	struct opt o[] = {
		{ OPT_ALGO(cfg->algo), .required = true },
		{ .name = "host-khz", .kind = OPT_UINT, OPT_FIELD(cfg->host_khz), .max = UINT32_MAX,
		  .required = true },
		{ .name = "guest-khz", .kind = OPT_UINT, OPT_FIELD(cfg->guest_khz), .max = UINT32_MAX,
		  .required = true },
		{ OPT_FRAC_BITS(cfg->frac_bits) },
		{ .name = "uptime", .kind = OPT_UINT, OPT_FIELD(cfg->uptime_s), .max = UINT64_MAX },
		{ OPT_LOOPS(cfg->loops), .seen = &loops_set },
		{ OPT_INTERVAL(cfg->interval_ns) },
		{ .name = "wake-latency", .kind = OPT_UINT, OPT_FIELD(cfg->wake_latency_ns), .max = NS_LIMIT / 4 },
		{ .name = "wake-jitter", .kind = OPT_UINT, OPT_FIELD(cfg->wake_jitter_ns), .max = NS_LIMIT / 4 },
		{ .name = "ntp-ppm", .kind = OPT_FIXED, OPT_FIELD(cfg->ntp_ppt), .frac_digits = 6,
		  .smin = -SIM_MAX_PPM * 1000000ll, .smax = SIM_MAX_PPM * 1000000ll },
		{ .name = "preempt", .kind = OPT_UINT, OPT_FIELD(cfg->preempt_ns), .max = NS_LIMIT / 4 },
		{ .name = "seed", .kind = OPT_UINT, OPT_FIELD(cfg->seed), .max = UINT64_MAX },
		{ .name = "vcpus", .kind = OPT_UINT, OPT_FIELD(cfg->vcpus), .min = 1, .max = SIM_MAX_VCPUS },
		{ .name = "hypercall", .kind = OPT_CHOICE, OPT_FIELD(cfg->hypercall), .choices = hypercall_choices },
		{ .name = "resnapshot", .kind = OPT_UINT, OPT_FIELD(cfg->resnapshot_s), .max = UINT32_MAX },
		{ OPT_QUIET(cli->quiet) },
		{ OPT_PLOT(cli->plot) },
		{ OPT_DURATION(cfg->duration_ns, SIM_MAX_DURATION_S) },
		OPT_OUTPUT(cli->out),
		OPT_TABLE_END,
	};
	int ret;

	*cli = (struct sim_cli){ 0 };
	sim_config_default(&cli->cfg);
	ret = opts_parse("sim", usage_text, o, argc, argv);
	if (ret)
		return ret;
	if (cfg->duration_ns) {
		/* An upper bound (a loop may end early); the duration ends the run. */
		uint64_t bound = cfg->duration_ns / cfg->interval_ns;

		cfg->loops = bound < SIM_MAX_LOOPS / 2 - 2 ? bound * 2 + 2 : SIM_MAX_LOOPS;
	}
	return sim_config_check(cfg);
}

// SPDX-License-Identifier: MIT
/* Options, running and reporting shared by the VMM's subcommands. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "args.h"
#include "openmetrics.h"
#include "runctl.h"
#include "vmm-cli.h"

#define VMM_MAX_LOOPS		10000000ull
#define VMM_MAX_INTERVAL	10000000000ull	/* 10 s */

static const char *const algo_names[] = { "legacy", "kvm", "pvtime" };
static const char *const clock_names[] = { "kvm", "xen" };
static const char *const api_names[] = { "set_timer_op", "singleshot" };
static const char *const scenario_names[] = {
	"timerlat", "clockcheck", "timers", "bad", "nullcall", "cross", "busy", "mixed",
	"hostile", "soak"
};
static const char *const guest_names[] = { "idle", "busy", "mixed" };
static const char *const irq_names[] = { "auto", "chip", "user" };
static const char *const bad_names[] = {
	"unknown-hypercall", "unknown-vcpuop", "bad-gpa", "period-zero",
	"block-no-timer", "other-vcpu", "kvmclock-outside", "unknown-schedop",
	"timer-no-clock", "fault",
};

void vmm_cli_usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: pvtime %s [--algo legacy|kvm|pvtime] [--vcpus N] [-n LOOPS] [-i NS]\n"
		"        [--clock kvm|xen] [--advertise-khz K] [--uptime S] [--api set_timer_op|singleshot]\n"
		"        [--tsc-offset O] [--tsc-offset-step S]\n"
		"        [--scenario timerlat|clockcheck|timers|bad|nullcall|cross|busy|mixed|hostile|soak]\n"
		"        [--guest idle|busy|mixed] [--irq auto|chip|user] [--advance off|adaptive|NS]\n"
		"        [--bad CASE] [--burst N] [--no-check] [--fifo PRIO] [--watchdog MS] [--kernel-mode]\n"
		"        [--plot FILE.svg] [--quiet] [--json | --format text|json|openmetrics]\n"
		"        [--metrics FILE] [--duration S (instead of -n)] [--seed N] [--vms N]\n"
		"A real KVM guest (/dev/kvm) reads its own clock and sleeps on Xen-style timers\n"
		"served by libpvtime. --clock kvm: its kvmclock page, written by KVM; --clock xen:\n"
		"a Xen vcpu_time_info the VMM publishes with --advertise-khz (default: TSC kHz - 1)\n"
		"and a reference point --uptime seconds back (default 10). The guest measures in\n"
		"its user mode (CPL 3); --kernel-mode keeps it at CPL 0, which kvm_pvm emulates.\n"
		"--guest idle: the task sleeps and the vCPU blocks (= --scenario timerlat); busy:\n"
		"the vCPU computes and only the timer interrupt (the Xen upcall vector) tells it\n"
		"its timer fired; mixed: several timers per vCPU, computing and blocking.\n"
		"--irq: how the upcall is injected: the in-kernel irqchip (MSI), userspace\n"
		"KVM_INTERRUPT with a signal kick, or auto (irqchip when KVM has one).\n"
		"--advance (algo pvtime only): arm the host timer early and spin on the TSC to\n"
		"the exact deadline; adaptive (default) follows the measured wake-up lateness\n"
		"(p90, cap 30000 ns), NS is a fixed advance (1..1000000), off disables it.\n"
		"Bad cases: unknown-hypercall unknown-vcpuop bad-gpa period-zero block-no-timer\n"
		"           other-vcpu kvmclock-outside unknown-schedop timer-no-clock\n"
		"           fault\n"
		"--scenario hostile (2+ vCPUs, --duration, default 10 s): vCPU 0 issues seeded\n"
		"random hypercalls and scribbles on its own pages, the others run timerlat and\n"
		"count early, lost and doubled timers; --seed N (default: a fresh one, printed).\n"
		"--scenario soak --vms N (1..64, default 2): N VMs in this process, each vCPU a\n"
		"mix of checked timers, save/restore round trips at random exits, VMs re-created\n"
		"every few seconds; RSS and open fds sampled at the start and the end.\n"
		"SIGINT/SIGTERM stop the vCPUs and report the loops done (exit 130/143).\n", prog);
}

int vmm_cli_parse_advance(const char *arg, struct vmm_config *cfg)
{
	uint64_t v;

	if (!strcmp(arg, "off")) {
		cfg->advance_mode = VMM_ADV_OFF;
		return 0;
	}
	if (!strcmp(arg, "adaptive")) {
		cfg->advance_mode = VMM_ADV_ADAPTIVE;
		return 0;
	}
	if (arg[0] < '0' || arg[0] > '9') {
		usage_error("--advance: '%s': expected off, adaptive or a number of ns", arg);
		return -1;
	}
	if (arg_u64_range("--advance", arg, 1, VMM_ADVANCE_MAX_NS, &v))
		return -1;
	cfg->advance_mode = VMM_ADV_FIXED;
	cfg->advance_ns = v;
	return 0;
}

const char *vmm_cli_advance_name(const struct vmm_config *cfg, char *buf, size_t len)
{
	if (cfg->algo != PVT_ALGO_PVTIME || cfg->advance_mode == VMM_ADV_OFF)
		return "off";
	if (cfg->advance_mode == VMM_ADV_ADAPTIVE)
		return "adaptive";
	snprintf(buf, len, "%llu", (unsigned long long)cfg->advance_ns);
	return buf;
}

static int bad_option(const char *prog, char **argv, int opt)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		return usage_error("%s: %s: missing value", prog, arg);
	return usage_error("%s: unknown option '%s' (try --help)", prog, arg);
}

int vmm_cli_parse(const char *prog, int argc, char **argv, struct vmm_cli *cli)
{
	enum {
		O_ALGO = 256, O_VCPUS, O_CLOCK, O_ADV, O_UPTIME, O_API, O_OFF, O_STEP,
		O_SCN, O_BAD, O_BURST, O_NOCHECK, O_FIFO, O_WD, O_JSON, O_HELP, O_VMM,
		O_PLOT, O_KMODE, O_GUEST, O_IRQ, O_DURATION, O_FORMAT, O_METRICS, O_ADVANCE,
		O_SEED, O_VMS,
	};
	static const char *const formats[] = { "text", "json", "openmetrics" };
	static const struct option longopts[] = {
		{ "algo", required_argument, NULL, O_ALGO },
		{ "vcpus", required_argument, NULL, O_VCPUS },
		{ "loops", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "clock", required_argument, NULL, O_CLOCK },
		{ "advertise-khz", required_argument, NULL, O_ADV },
		{ "uptime", required_argument, NULL, O_UPTIME },
		{ "api", required_argument, NULL, O_API },
		{ "tsc-offset", required_argument, NULL, O_OFF },
		{ "tsc-offset-step", required_argument, NULL, O_STEP },
		{ "scenario", required_argument, NULL, O_SCN },
		{ "bad", required_argument, NULL, O_BAD },
		{ "burst", required_argument, NULL, O_BURST },
		{ "no-check", no_argument, NULL, O_NOCHECK },
		{ "fifo", required_argument, NULL, O_FIFO },
		{ "watchdog", required_argument, NULL, O_WD },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, O_JSON },
		{ "plot", required_argument, NULL, O_PLOT },
		{ "vmm", no_argument, NULL, O_VMM },
		{ "kernel-mode", no_argument, NULL, O_KMODE },
		{ "guest", required_argument, NULL, O_GUEST },
		{ "irq", required_argument, NULL, O_IRQ },
		{ "advance", required_argument, NULL, O_ADVANCE },
		{ "help", no_argument, NULL, O_HELP },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "metrics", required_argument, NULL, O_METRICS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "vms", required_argument, NULL, O_VMS },
		{ 0 },
	};
	bool adv_set = false, uptime_set = false, irq_set = false, loops_set = false, wd_set = false;
	int format = -1;
	uint64_t v;
	int opt, idx;

	memset(cli, 0, sizeof(*cli));
	vmm_config_default(&cli->cfg);
	cli->cfg.uptime_s = 10;
	cli->cfg.advance_mode = VMM_ADV_ADAPTIVE;	/* pvtime only; legacy and kvm never use it */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:i:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case O_ALGO:
			if ((idx = arg_choice("--algo", optarg, algo_names, 3)) < 0)
				return PVT_EXIT_USAGE;
			cli->cfg.algo = (enum pvt_timer_algo)idx;
			break;
		case O_VCPUS:
			if (arg_u64_range("--vcpus", optarg, 1, PVT_GUEST_MAX_VCPUS, &v))
				return PVT_EXIT_USAGE;
			cli->cfg.nr_vcpus = (unsigned)v;
			break;
		case 'n':
			if (arg_u64_range("-n", optarg, 1, VMM_MAX_LOOPS, &cli->cfg.loops))
				return PVT_EXIT_USAGE;
			loops_set = true;
			break;
		case O_DURATION:
			if (runctl_parse_duration("--duration", optarg, 86400, &cli->duration_ns))
				return PVT_EXIT_USAGE;
			break;
		case O_FORMAT:
			if ((format = arg_choice("--format", optarg, formats, 3)) < 0)
				return PVT_EXIT_USAGE;
			break;
		case O_METRICS:
			if (!*optarg)
				return usage_error("%s: --metrics: missing file name", prog);
			cli->metrics = optarg;
			break;
		case 'i':
			if (arg_u64_range("-i", optarg, 1, VMM_MAX_INTERVAL, &cli->cfg.interval_ns))
				return PVT_EXIT_USAGE;
			break;
		case O_CLOCK:
			if ((idx = arg_choice("--clock", optarg, clock_names, 2)) < 0)
				return PVT_EXIT_USAGE;
			cli->cfg.clock_src = idx ? PVT_CLK_XEN : PVT_CLK_KVM;
			break;
		case O_ADV:
			if (arg_u64_range("--advertise-khz", optarg, 1000, UINT32_MAX, &v))
				return PVT_EXIT_USAGE;
			cli->cfg.advertise_khz = (uint32_t)v;
			adv_set = true;
			break;
		case O_UPTIME:
			if (arg_u64("--uptime", optarg, 0, 100ull * 365 * 86400, &cli->cfg.uptime_s))
				return PVT_EXIT_USAGE;
			uptime_set = true;
			break;
		case O_API:
			if ((idx = arg_choice("--api", optarg, api_names, 2)) < 0)
				return PVT_EXIT_USAGE;
			cli->cfg.timer_api = idx ? PVT_API_SINGLESHOT : PVT_API_SET_TIMER_OP;
			break;
		case O_OFF:
			if (arg_u64("--tsc-offset", optarg, 1, UINT64_MAX, &cli->cfg.tsc_offset))
				return PVT_EXIT_USAGE;
			cli->cfg.set_tsc_offset = true;
			break;
		case O_STEP:
			if (arg_u64("--tsc-offset-step", optarg, 1, UINT64_MAX, &cli->cfg.tsc_offset_step))
				return PVT_EXIT_USAGE;
			cli->cfg.set_tsc_offset = true;
			break;
		case O_SCN:
			if ((idx = arg_choice("--scenario", optarg, scenario_names,
					       (int)(sizeof(scenario_names) / sizeof(scenario_names[0])))) < 0)
				return PVT_EXIT_USAGE;
			cli->cfg.scenario = (enum pvt_guest_scenario)(idx + 1);
			break;
		case O_BAD:
			if ((idx = arg_choice("--bad", optarg, bad_names, 10)) < 0)
				return PVT_EXIT_USAGE;
			cli->cfg.bad_case = (enum pvt_guest_bad_case)(idx + 1);
			cli->cfg.scenario = PVT_SCN_BAD;
			break;
		case O_BURST:
			if (arg_u64_range("--burst", optarg, 1, 100000, &cli->cfg.burst))
				return PVT_EXIT_USAGE;
			break;
		case O_NOCHECK:
			cli->cfg.check_samples = false;
			break;
		case O_FIFO:
			if (arg_u64("--fifo", optarg, 0, 99, &v))
				return PVT_EXIT_USAGE;
			cli->cfg.fifo_priority = (int)v;
			break;
		case O_WD:
			if (arg_u64("--watchdog", optarg, 0, 86400000, &cli->cfg.watchdog_ms))
				return PVT_EXIT_USAGE;
			wd_set = true;
			break;
		case 'q':
			cli->quiet = true;
			break;
		case O_JSON:
			cli->json = true;
			break;
		case O_PLOT:
			cli->plot = optarg;
			break;
		case O_VMM:
			break;
		case O_KMODE:
			cli->cfg.kernel_mode = true;
			break;
		case O_GUEST:
			if ((idx = arg_choice("--guest", optarg, guest_names, 3)) < 0)
				return PVT_EXIT_USAGE;
			cli->cfg.scenario = idx == 0 ? PVT_SCN_TIMERLAT :
					    idx == 1 ? PVT_SCN_BUSY : PVT_SCN_MIXED;
			break;
		case O_IRQ:
			if ((idx = arg_choice("--irq", optarg, irq_names, 3)) < 0)
				return PVT_EXIT_USAGE;
			cli->cfg.irq_pref = (enum vmm_irq_pref)idx;
			irq_set = true;
			break;
		case O_ADVANCE:
			if (vmm_cli_parse_advance(optarg, &cli->cfg))
				return PVT_EXIT_USAGE;
			break;
		case O_SEED:
			if (arg_u64("--seed", optarg, 1, UINT64_MAX, &cli->cfg.seed))
				return PVT_EXIT_USAGE;
			cli->seed_set = true;
			break;
		case O_VMS:
			if (arg_u64_range("--vms", optarg, 1, VMM_SOAK_MAX_VMS, &v))
				return PVT_EXIT_USAGE;
			cli->vms = (unsigned)v;
			break;
		case 'h':
		case O_HELP:
			vmm_cli_usage(stdout, prog);
			return -1;
		default:
			return bad_option(prog, argv, opt);
		}
	}
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s'", prog, argv[optind]);
	if (cli->cfg.bad_case && cli->cfg.scenario != PVT_SCN_BAD)
		return usage_error("%s: --bad: only with --scenario bad", prog);
	if (cli->cfg.scenario == PVT_SCN_BAD && !cli->cfg.bad_case)
		return usage_error("%s: --scenario bad needs --bad CASE", prog);
	if (cli->cfg.scenario == PVT_SCN_CROSS && cli->cfg.nr_vcpus < 2)
		return usage_error("%s: --scenario cross needs --vcpus 2 or more", prog);
	if (irq_set && cli->cfg.scenario != PVT_SCN_BUSY && cli->cfg.scenario != PVT_SCN_MIXED)
		return usage_error("%s: --irq: only with --guest busy|mixed", prog);
	if ((adv_set || uptime_set) && cli->cfg.clock_src != PVT_CLK_XEN)
		return usage_error("%s: --advertise-khz/--uptime need --clock xen", prog);
	if (format >= 0 && cli->json && format != OM_FMT_JSON)
		return usage_error("%s: --json and --format %s: choose one", prog, formats[format]);
	if (format == OM_FMT_JSON)
		cli->json = true;
	cli->openmetrics = format == OM_FMT_OPENMETRICS;
	if ((cli->openmetrics || cli->metrics) && cli->cfg.scenario != PVT_SCN_TIMERLAT)
		return usage_error("%s: OpenMetrics output is for --scenario timerlat", prog);
	if (cli->cfg.scenario == PVT_SCN_HOSTILE || cli->cfg.scenario == PVT_SCN_SOAK)
		return vmm_cli_parse_long_run(prog, cli, loops_set);
	if (cli->seed_set || cli->vms)
		return usage_error("%s: --seed and --vms are for --scenario hostile|soak", prog);
	if (cli->duration_ns) {
		if (loops_set)
			return usage_error("%s: --duration and -n are alternatives: give one", prog);
		if (cli->cfg.scenario != PVT_SCN_TIMERLAT)
			return usage_error("%s: --duration is for --scenario timerlat", prog);
		/* Each loop sleeps at least the interval: an upper bound on the loops. */
		uint64_t bound = cli->duration_ns / cli->cfg.interval_ns + 1;

		cli->cfg.loops = bound < VMM_MAX_LOOPS ? bound : VMM_MAX_LOOPS;
		/* The default watchdog (a hung guest) must outlast the run it watches. */
		if (!wd_set && cli->cfg.watchdog_ms)
			cli->cfg.watchdog_ms += cli->duration_ns / 1000000;
	}
	return 0;
}

int vmm_cli_require_kvm(const char *prog)
{
	char msg[256];

	if (vmm_probe(msg, sizeof(msg)))
		return runtime_error("%s: /dev/kvm is not usable: %s", prog, msg);
	return 0;
}

int vmm_cli_run(const char *prog, struct vmm *vm, const struct vmm_config *cfg)
{
	struct vmm_config c = *cfg;

	if (vmm_create(vm, &c))
		return runtime_error("%s: %s", prog, vm->error);
	if (vmm_run(vm))
		return runtime_error("%s: %s", prog, vm->error);
	return 0;
}

const char *vmm_cli_clock_name(const struct vmm_config *cfg)
{
	if (cfg->clock_src == PVT_CLK_XEN)
		return "the VMM's Xen vcpu_time_info (advertised kHz, reference point in the past)";
	return "its own kvmclock (the pvclock page KVM writes, MSR_KVM_SYSTEM_TIME_NEW)";
}

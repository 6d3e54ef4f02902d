// SPDX-License-Identifier: MIT
/* Options, running and reporting shared by the VMM's subcommands. */
#include <errno.h>
#include <string.h>

#include "args.h"
#include "options.h"
#include "runctl.h"
#include "vmm-cli.h"

/* --duration sizes the guest's sample area from this many loops at most. */
#define VMM_DURATION_MAX_LOOPS	10000000ull
#define VMM_MAX_DURATION_S	86400ull
#define VMM_MAX_UPTIME_S	(100ull * 365 * 86400)
#define VMM_MAX_WATCHDOG_MS	86400000ull
#define VMM_MAX_BURST_READS	100000ull
#define VMM_MIN_ADVERTISE_KHZ	1000ull

static const struct opt_choice clock_choices[] = {
	{ "kvm", PVT_CLK_KVM }, { "xen", PVT_CLK_XEN }, { NULL, 0 },
};
static const struct opt_choice api_choices[] = {
	{ "set_timer_op", PVT_API_SET_TIMER_OP }, { "singleshot", PVT_API_SINGLESHOT }, { NULL, 0 },
};
static const struct opt_choice scenario_choices[] = {
	{ "timerlat", PVT_SCN_TIMERLAT }, { "clockcheck", PVT_SCN_CLOCKCHECK },
	{ "timers", PVT_SCN_TIMERS }, { "bad", PVT_SCN_BAD }, { "nullcall", PVT_SCN_NULLCALL },
	{ "cross", PVT_SCN_CROSS }, { "busy", PVT_SCN_BUSY }, { "mixed", PVT_SCN_MIXED },
	{ "hostile", PVT_SCN_HOSTILE }, { "soak", PVT_SCN_SOAK }, { NULL, 0 },
};
const struct opt_choice vmm_cli_guest_choices[] = {
	{ "idle", PVT_SCN_TIMERLAT }, { "busy", PVT_SCN_BUSY }, { "mixed", PVT_SCN_MIXED }, { NULL, 0 },
};
const struct opt_choice vmm_cli_irq_choices[] = {
	{ "auto", VMM_IRQ_AUTO }, { "chip", VMM_IRQ_CHIP }, { "user", VMM_IRQ_USER }, { NULL, 0 },
};
static const struct opt_choice bad_choices[] = {
	{ "unknown-hypercall", PVT_BAD_UNKNOWN_HC }, { "unknown-vcpuop", PVT_BAD_UNKNOWN_VCPUOP },
	{ "bad-gpa", PVT_BAD_ARG_GPA }, { "period-zero", PVT_BAD_PERIOD_ZERO },
	{ "block-no-timer", PVT_BAD_BLOCK_NO_TIMER }, { "other-vcpu", PVT_BAD_OTHER_VCPU },
	{ "kvmclock-outside", PVT_BAD_KVMCLOCK_GPA }, { "unknown-schedop", PVT_BAD_SCHEDOP },
	{ "timer-no-clock", PVT_BAD_TIMER_NO_CLOCK }, { "fault", PVT_BAD_FAULT }, { NULL, 0 },
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

int vmm_cli_parse_advance(const char *spelled, const char *arg, void *vmm_config)
{
	struct vmm_config *cfg = vmm_config;
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
		usage_error("%s: '%s': expected off, adaptive or a number of ns", spelled, arg);
		return -1;
	}
	if (opt_uint(spelled, arg, 1, VMM_ADVANCE_MAX_NS, &v))
		return -1;
	cfg->advance_mode = VMM_ADV_FIXED;
	cfg->advance_ns = v;
	return 0;
}

/* Which options the command line gave (the checks between options need it). */
struct vmm_cli_given {
	bool loops, scenario, bad_case, irq, advertise_khz, uptime, watchdog;
};

/* Checks between options; 0 or 2 after a message. */
static int check(const char *prog, struct vmm_cli *cli, const struct vmm_cli_given *given)
{
	struct vmm_config *cfg = &cli->cfg;

	if (given->bad_case && given->scenario && cfg->scenario != PVT_SCN_BAD)
		return usage_error("%s: --bad: only with --scenario bad", prog);
	if (given->bad_case)
		cfg->scenario = PVT_SCN_BAD;
	if (cfg->scenario == PVT_SCN_BAD && !cfg->bad_case)
		return usage_error("%s: --scenario bad needs --bad CASE", prog);
	if (cfg->scenario == PVT_SCN_CROSS && cfg->nr_vcpus < 2)
		return usage_error("%s: --scenario cross needs --vcpus 2 or more", prog);
	if (given->irq && cfg->scenario != PVT_SCN_BUSY && cfg->scenario != PVT_SCN_MIXED)
		return usage_error("%s: --irq: only with --guest busy|mixed", prog);
	if ((given->advertise_khz || given->uptime) && cfg->clock_src != PVT_CLK_XEN)
		return usage_error("%s: --advertise-khz/--uptime need --clock xen", prog);
	if ((cli->out.openmetrics || cli->out.metrics) && cfg->scenario != PVT_SCN_TIMERLAT)
		return usage_error("%s: OpenMetrics output is for --scenario timerlat", prog);
	if (cfg->scenario == PVT_SCN_HOSTILE || cfg->scenario == PVT_SCN_SOAK)
		return vmm_cli_parse_long_run(prog, cli, given->loops);
	if (cli->seed_set || cli->vms)
		return usage_error("%s: --seed and --vms are for --scenario hostile|soak", prog);
	if (cli->duration_ns) {
		if (cfg->scenario != PVT_SCN_TIMERLAT)
			return usage_error("%s: --duration is for --scenario timerlat", prog);
		/* Each loop sleeps at least the interval: an upper bound on the loops. */
		uint64_t bound = cli->duration_ns / cfg->interval_ns + 1;

		cfg->loops = bound < VMM_DURATION_MAX_LOOPS ? bound : VMM_DURATION_MAX_LOOPS;
		/* The default watchdog (a hung guest) must outlast the run it watches. */
		if (!given->watchdog && cfg->watchdog_ms)
			cfg->watchdog_ms += cli->duration_ns / 1000000;
	}
	return 0;
}

int vmm_cli_parse(const char *prog, int argc, char **argv, struct vmm_cli *cli)
{
	struct vmm_config *cfg = &cli->cfg;
	struct vmm_cli_given given = { 0 };
	bool no_check = false, timerlat_vmm = false;
	struct opt o[] = {
		{ OPT_ALGO(cfg->algo) },
		{ .name = "vcpus", .kind = OPT_UINT, OPT_FIELD(cfg->nr_vcpus), .min = 1, .max = PVT_GUEST_MAX_VCPUS },
		{ OPT_LOOPS(cfg->loops), .seen = &given.loops },
		{ OPT_INTERVAL(cfg->interval_ns) },
		{ .name = "clock", .kind = OPT_CHOICE, OPT_FIELD(cfg->clock_src), .choices = clock_choices },
		{ .name = "advertise-khz", .kind = OPT_UINT, OPT_FIELD(cfg->advertise_khz),
		  .min = VMM_MIN_ADVERTISE_KHZ, .max = UINT32_MAX, .seen = &given.advertise_khz },
		{ .name = "uptime", .kind = OPT_UINT, OPT_FIELD(cfg->uptime_s), .max = VMM_MAX_UPTIME_S,
		  .seen = &given.uptime },
		{ .name = "api", .kind = OPT_CHOICE, OPT_FIELD(cfg->timer_api), .choices = api_choices },
		{ .name = "tsc-offset", .kind = OPT_UINT, OPT_FIELD(cfg->tsc_offset), .max = UINT64_MAX,
		  .seen = &cfg->set_tsc_offset },
		{ .name = "tsc-offset-step", .kind = OPT_UINT, OPT_FIELD(cfg->tsc_offset_step), .max = UINT64_MAX,
		  .seen = &cfg->set_tsc_offset },
		{ .name = "scenario", .kind = OPT_CHOICE, OPT_FIELD(cfg->scenario), .choices = scenario_choices,
		  .seen = &given.scenario },
		{ .name = "guest", .kind = OPT_CHOICE, OPT_FIELD(cfg->scenario), .choices = vmm_cli_guest_choices },
		{ .name = "bad", .kind = OPT_CHOICE, OPT_FIELD(cfg->bad_case), .choices = bad_choices,
		  .seen = &given.bad_case },
		{ .name = "burst", .kind = OPT_UINT, OPT_FIELD(cfg->burst), .min = 1, .max = VMM_MAX_BURST_READS },
		{ .name = "no-check", .kind = OPT_FLAG, .field = &no_check },
		{ OPT_FIFO(cfg->fifo_priority) },
		{ .name = "watchdog", .kind = OPT_UINT, OPT_FIELD(cfg->watchdog_ms), .max = VMM_MAX_WATCHDOG_MS,
		  .seen = &given.watchdog },
		{ .name = "kernel-mode", .kind = OPT_FLAG, .field = &cfg->kernel_mode },
		{ .name = "irq", .kind = OPT_CHOICE, OPT_FIELD(cfg->irq_pref), .choices = vmm_cli_irq_choices,
		  .seen = &given.irq },
		{ .name = "advance", .kind = OPT_CUSTOM, .field = cfg, .parse = vmm_cli_parse_advance },
		{ .name = "seed", .kind = OPT_UINT, OPT_FIELD(cfg->seed), .max = UINT64_MAX, .seen = &cli->seed_set },
		{ .name = "vms", .kind = OPT_UINT, OPT_FIELD(cli->vms), .min = 1, .max = VMM_SOAK_MAX_VMS },
		{ .name = "vmm", .kind = OPT_FLAG, .field = &timerlat_vmm },	/* timerlat --vmm passes it on */
		{ OPT_QUIET(cli->quiet) },
		{ OPT_PLOT(cli->plot) },
		{ OPT_DURATION(cli->duration_ns, VMM_MAX_DURATION_S) },
		OPT_OUTPUT(cli->out),
		OPT_TABLE_END,
	};
	int ret;

	memset(cli, 0, sizeof(*cli));
	vmm_config_default(cfg);
	cfg->uptime_s = 10;
	cfg->advance_mode = VMM_ADV_ADAPTIVE;	/* pvtime only; legacy and kvm never use it */
	ret = opts_parse(prog, NULL, o, argc, argv);
	if (ret == OPTS_HELP)
		vmm_cli_usage(stdout, prog);
	if (ret)
		return ret;
	if (no_check)
		cfg->check_samples = false;
	return check(prog, cli, &given);
}

int vmm_cli_require_kvm(const char *prog)
{
	char msg[256];

	if (vmm_probe(msg, sizeof(msg)))
		return runtime_error("%s: /dev/kvm is not usable: %s", prog, msg);
	return 0;
}

int vmm_cli_run_ctl(const char *prog, struct vmm *vm, const struct vmm_config *cfg,
		    uint64_t duration_ns, bool quiet, bool *stopped)
{
	if (vmm_run_ctl(vm, cfg, prog, duration_ns, quiet, stopped))
		return runtime_error("%s: %s", prog, vm->error);
	return 0;
}


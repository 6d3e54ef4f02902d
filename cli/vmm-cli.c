// SPDX-License-Identifier: MIT
/* Options, running and reporting shared by the VMM's subcommands. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "vmm-cli.h"

#define VMM_MAX_LOOPS		10000000ull
#define VMM_MAX_INTERVAL	10000000000ull	/* 10 s */

static const char *const algo_names[] = { "legacy", "kvm", "pvtime" };
static const char *const clock_names[] = { "kvm", "xen" };
static const char *const api_names[] = { "set_timer_op", "singleshot" };
static const char *const scenario_names[] = {
	"timerlat", "clockcheck", "timers", "bad", "nullcall"
};
static const char *const bad_names[] = {
	"unknown-hypercall", "unknown-vcpuop", "bad-gpa", "period-zero",
	"block-no-timer", "other-vcpu", "kvmclock-outside", "unknown-schedop",
};

void vmm_cli_usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: pvtime %s [--algo legacy|kvm|pvtime] [--vcpus N] [-n LOOPS] [-i NS]\n"
		"        [--clock kvm|xen] [--advertise-khz K] [--uptime S] [--api set_timer_op|singleshot]\n"
		"        [--tsc-offset O] [--tsc-offset-step S] [--scenario timerlat|clockcheck|timers|bad|nullcall]\n"
		"        [--bad CASE] [--burst N] [--no-check] [--fifo PRIO] [--watchdog MS] [--kernel-mode]\n"
		"        [--quiet] [--json]\n"
		"A real KVM guest (/dev/kvm) reads its own clock and sleeps on Xen-style timers\n"
		"served by libpvtime. --clock kvm: its kvmclock page, written by KVM; --clock xen:\n"
		"a Xen vcpu_time_info the VMM publishes with --advertise-khz (default: TSC kHz - 1)\n"
		"and a reference point --uptime seconds back (default 10). The guest measures in\n"
		"its user mode (CPL 3); --kernel-mode keeps it at CPL 0, which kvm_pvm emulates.\n"
		"Bad cases: unknown-hypercall unknown-vcpuop bad-gpa period-zero block-no-timer\n"
		"           other-vcpu kvmclock-outside unknown-schedop\n", prog);
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
		O_PLOT, O_KMODE,
	};
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
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	bool adv_set = false, uptime_set = false;
	uint64_t v;
	int opt, idx;

	memset(cli, 0, sizeof(*cli));
	vmm_config_default(&cli->cfg);
	cli->cfg.uptime_s = 10;
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
			if (arg_u64("--vcpus", optarg, 0, PVT_GUEST_MAX_VCPUS, &v))
				return PVT_EXIT_USAGE;
			if (!v)
				return usage_error("--vcpus: must be 1..%d", PVT_GUEST_MAX_VCPUS);
			cli->cfg.nr_vcpus = (unsigned)v;
			break;
		case 'n':
			if (arg_u64("-n", optarg, 0, VMM_MAX_LOOPS, &cli->cfg.loops))
				return PVT_EXIT_USAGE;
			if (!cli->cfg.loops)
				return usage_error("-n: must be at least 1");
			break;
		case 'i':
			if (arg_u64("-i", optarg, 0, VMM_MAX_INTERVAL, &cli->cfg.interval_ns))
				return PVT_EXIT_USAGE;
			if (!cli->cfg.interval_ns)
				return usage_error("-i: interval must be at least 1 ns");
			break;
		case O_CLOCK:
			if ((idx = arg_choice("--clock", optarg, clock_names, 2)) < 0)
				return PVT_EXIT_USAGE;
			cli->cfg.clock_src = idx ? PVT_CLK_XEN : PVT_CLK_KVM;
			break;
		case O_ADV:
			if (arg_u64("--advertise-khz", optarg, 0, UINT32_MAX, &v))
				return PVT_EXIT_USAGE;
			if (v < 1000)
				return usage_error("--advertise-khz: must be at least 1000 (1 MHz)");
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
			if ((idx = arg_choice("--scenario", optarg, scenario_names, 5)) < 0)
				return PVT_EXIT_USAGE;
			cli->cfg.scenario = (enum pvt_guest_scenario)(idx + 1);
			break;
		case O_BAD:
			if ((idx = arg_choice("--bad", optarg, bad_names, 8)) < 0)
				return PVT_EXIT_USAGE;
			cli->cfg.bad_case = (enum pvt_guest_bad_case)(idx + 1);
			cli->cfg.scenario = PVT_SCN_BAD;
			break;
		case O_BURST:
			if (arg_u64("--burst", optarg, 0, 100000, &cli->cfg.burst))
				return PVT_EXIT_USAGE;
			if (!cli->cfg.burst)
				return usage_error("--burst: must be at least 1");
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
	if (cli->cfg.scenario == PVT_SCN_BAD && !cli->cfg.bad_case)
		return usage_error("%s: --scenario bad needs --bad CASE", prog);
	if ((adv_set || uptime_set) && cli->cfg.clock_src != PVT_CLK_XEN)
		return usage_error("%s: --advertise-khz/--uptime need --clock xen", prog);
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

/* kvm_pvm runs guests without VMX/SVM: worth a line in every report. */
static bool kvm_is_pvm(void)
{
	return !access("/sys/module/kvm_pvm", F_OK);
}

const char *vmm_cli_clock_name(const struct vmm_config *cfg)
{
	if (cfg->clock_src == PVT_CLK_XEN)
		return "the VMM's Xen vcpu_time_info (advertised kHz, reference point in the past)";
	return "its own kvmclock (the pvclock page KVM writes, MSR_KVM_SYSTEM_TIME_NEW)";
}

uint64_t vmm_cli_tsc_to_ns(const struct vmm *vm, uint64_t ticks)
{
	return (uint64_t)((unsigned __int128)ticks * 1000000 / vm->tsc_khz);
}

int vmm_cli_timerlat_report(struct vmm *vm, struct timerlat_report *r)
{
	char tag[32];

	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *res = &vm->vcpus[c].res;

		snprintf(tag, sizeof(tag), " vcpu %u", c);
		for (uint64_t i = 0; i + 1 < res->nr_samples && i / 2 < res->loops_done; i += 2) {
			uint64_t lat = res->samples[i + 1].ns - res->samples[i].ns;

			if (timerlat_report_add_tagged(r, lat, vm->nr_vcpus > 1 ? tag : NULL))
				return -ENOMEM;
		}
	}
	return 0;
}

void vmm_cli_totals(const struct vmm *vm, struct vmm_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		t->loops += r->loops_done;
		t->early_wakeups += r->early_wakeups;
		t->exits += r->exits;
		t->hypercalls += r->hypercalls;
		t->page_checks += r->page_checks;
		t->page_mismatches += r->page_mismatches;
		t->sample_checks += r->sample_checks;
		t->sample_mismatches += r->sample_mismatches;
		t->singleshot_fired += r->singleshot_fired;
		t->periodic_fired += r->periodic_fired;
		if (!t->first_mismatch && r->mismatch[0])
			t->first_mismatch = r->mismatch;
	}
}

void vmm_cli_print(FILE *out, const struct vmm *vm)
{
	struct vmm_totals t;

	vmm_cli_totals(vm, &t);
	fprintf(out, "# guest clock: %s\n", vmm_cli_clock_name(&vm->cfg));
	if (vm->cfg.clock_src == PVT_CLK_XEN)
		fprintf(out, "# advertised %u kHz (TSC %u kHz), reference %llu s in the past\n",
			vm->cfg.advertise_khz ? vm->cfg.advertise_khz : vm->tsc_khz,
			vm->tsc_khz, (unsigned long long)vm->cfg.uptime_s);
	fprintf(out, "# algo %s, %u vCPUs, TSC %u kHz, guest measures at CPL %d\n",
		pvt_timer_algo_name(vm->cfg.algo), vm->nr_vcpus, vm->tsc_khz,
		vm->cfg.kernel_mode ? 0 : 3);
	if (kvm_is_pvm())
		fprintf(out, "# KVM here is kvm_pvm (no VMX/SVM): guest CPL 0 is emulated, CPL 3 native;\n"
			"# the guest TSC is the host TSC (TSC offsets are ignored)\n");
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		fprintf(out, "vcpu %u: loops %llu early_wakeups %llu singleshot_fired %llu "
			"periodic_fired %llu exits %llu tsc_offset %lld master_clock %s\n",
			c, (unsigned long long)r->loops_done,
			(unsigned long long)r->early_wakeups,
			(unsigned long long)r->singleshot_fired,
			(unsigned long long)r->periodic_fired,
			(unsigned long long)r->exits, (long long)r->tsc_offset,
			r->master_clock ? "yes" : "no");
	}
	fprintf(out, "oracle (a) KVM page vs model: %llu checks, %llu mismatches\n",
		(unsigned long long)t.page_checks, (unsigned long long)t.page_mismatches);
	fprintf(out, "oracle (b) guest samples vs host bracket + model ns: %llu checks, %llu mismatches\n",
		(unsigned long long)t.sample_checks, (unsigned long long)t.sample_mismatches);
	if (t.first_mismatch)
		fprintf(out, "first mismatch: %s\n", t.first_mismatch);
	if (vm->cfg.measure_costs) {
		static const char *const names[] = {
			"timer hypercall", "block (wake to resume)", "null exit",
			"expiry delivery lateness on the guest clock",
		};

		for (int k = 0; k < 4; k++) {
			struct stats s;

			if (vmm_cli_cost(vm, k, &s) || !s.count) {
				stats_free(&s);
				continue;
			}
			fprintf(out, "%s %s: n=%zu p50=%lld ns p99=%lld ns\n",
				k < 3 ? "handling cost" : "VMM", names[k],
				s.count, (long long)stats_percentile(&s, 50, 100),
				(long long)stats_percentile(&s, 99, 100));
			stats_free(&s);
		}
	}
}

void vmm_cli_json(struct json *j, const struct vmm *vm)
{
	struct vmm_totals t;

	vmm_cli_totals(vm, &t);
	json_string(j, "guest_clock", vm->cfg.clock_src == PVT_CLK_XEN ? "xen" : "kvm");
	json_string(j, "guest_clock_description", vmm_cli_clock_name(&vm->cfg));
	json_u64(j, "tsc_khz", vm->tsc_khz);
	if (vm->cfg.clock_src == PVT_CLK_XEN) {
		json_u64(j, "advertise_khz", vm->cfg.advertise_khz ? vm->cfg.advertise_khz : vm->tsc_khz);
		json_u64(j, "uptime_s", vm->cfg.uptime_s);
	}
	json_u64(j, "vcpus", vm->nr_vcpus);
	json_u64(j, "guest_cpl", vm->cfg.kernel_mode ? 0 : 3);
	json_string(j, "kvm_backend", kvm_is_pvm() ? "kvm_pvm" : "kvm");
	json_u64(j, "early_wakeups", t.early_wakeups);
	json_u64(j, "exits", t.exits);
	json_u64(j, "hypercalls", t.hypercalls);
	json_object_begin(j, "oracle");
	json_u64(j, "page_checks", t.page_checks);
	json_u64(j, "page_mismatches", t.page_mismatches);
	json_u64(j, "sample_checks", t.sample_checks);
	json_u64(j, "sample_mismatches", t.sample_mismatches);
	if (t.first_mismatch)
		json_string(j, "first_mismatch", t.first_mismatch);
	json_object_end(j);
	json_array_begin(j, "vcpu");
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		json_object_begin(j, NULL);
		json_u64(j, "id", c);
		json_u64(j, "loops", r->loops_done);
		json_u64(j, "early_wakeups", r->early_wakeups);
		json_u64(j, "singleshot_fired", r->singleshot_fired);
		json_u64(j, "periodic_fired", r->periodic_fired);
		json_u64(j, "tsc_offset", r->tsc_offset);
		json_bool(j, "master_clock", r->master_clock);
		json_u64(j, "page_checks", r->page_checks);
		json_u64(j, "page_mismatches", r->page_mismatches);
		json_u64(j, "sample_checks", r->sample_checks);
		json_u64(j, "sample_mismatches", r->sample_mismatches);
		json_object_end(j);
	}
	json_array_end(j);
}

int vmm_cli_cost(const struct vmm *vm, int kind, struct stats *s)
{
	stats_init(s);
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;
		const uint64_t *a = kind == 0 ? r->cost_timer : kind == 1 ? r->cost_block : r->cost_null;
		uint64_t n = kind == 0 ? r->n_cost_timer : kind == 1 ? r->n_cost_block : r->n_cost_null;

		if (kind == 3) {
			for (uint64_t i = 0; i < r->n_wake_late; i++)
				if (stats_add(s, r->wake_late[i]))
					return -ENOMEM;
			continue;
		}
		for (uint64_t i = 0; i < n; i++)
			if (stats_add(s, (int64_t)vmm_cli_tsc_to_ns(vm, a[i])))
				return -ENOMEM;
	}
	return 0;
}

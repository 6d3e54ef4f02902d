// SPDX-License-Identifier: MIT
/*
 * pvtime bench timer: what arming a Xen timer costs next to rdtsc,
 * clock_gettime and KVM_GET_CLOCK, pairing cost and uncertainty per
 * backend, and delivery latency (measure/bench-timer.c). KVM_GET_CLOCK's
 * uncertainty is the backend's constant bound: labelled a bound
 * ("uncertainty_is_bound"), never presented as a measurement.
 */
#include <inttypes.h>
#include <stdio.h>

#include "args.h"
#include "bench-timer.h"
#include "cmdline.h"
#include "commands.h"
#include "json.h"
#include "runctl.h"
#include "options.h"

static void print_json(const struct bench_timer_config *cfg, struct bench_timer_result *r)
{
	struct json j;

	json_begin(&j, stdout);
	cmdline_json_header(&j);
	json_string(&j, "bench", "timer");
	runctl_json(&j);
	bench_timer_json(&j, cfg, r);
	json_end(&j);
}

static const char *yes(bool ok)
{
	return ok ? "yes" : "NO";
}

static void print_text(struct bench_timer_result *r)
{
	runctl_text(stdout, UINT64_MAX);
	printf("# pvtime bench timer: clocksource %s, host %u kHz, guest %u kHz (scaled, VMX), "
	       "median of %d runs\n", r->clocksource, r->host_khz, r->guest_khz, BENCH_TIMER_REPEAT);
	printf("%-44s %8.1f ns/op\n", "rdtsc", r->rdtsc_ns);
	printf("%-44s %8.1f ns/op\n", "clock_gettime(CLOCK_MONOTONIC)", r->clock_gettime_ns);
	if (r->have_kvm)
		printf("%-44s %8.1f ns/op\n", "KVM_GET_CLOCK ioctl", r->kvm_get_clock_ns);
	else
		printf("%-44s  skipped: %s\n", "KVM_GET_CLOCK ioctl", r->kvm_why);
	for (int i = 0; i < BENCH_TIMER_ALGOS; i++) {
		char label[64];

		snprintf(label, sizeof(label), "arm, no syscall (%s)", pvt_timer_algo_name(r->algos[i]));
		printf("%-44s %8.1f ns/op\n", label, r->arm_ns[i]);
	}
	printf("%-44s %8.1f ns/op\n", "arm + timerfd_settime (pvtime)", r->arm_timerfd_ns);
	printf("%-44s p50 %6" PRId64 " ns, p99 %7" PRId64 " ns late (guest clock, %" PRIu64
	       " x %llu us)\n", "delivery: timerfd -> service/take (pvtime)",
	       stats_percentile(&r->service_late_ns, 1, 2), stats_percentile(&r->service_late_ns, 99, 100),
	       r->delivery_samples, BENCH_TIMER_DELIVERY_AHEAD_NS / 1000);
	printf("%-44s p50 %6" PRId64 " ns, p99 %7" PRId64 " ns late (CLOCK_MONOTONIC)\n",
	       "delivery: bare timerfd wake", stats_percentile(&r->timerfd_late_ns, 1, 2),
	       stats_percentile(&r->timerfd_late_ns, 99, 100));
	printf("%-44s %8.1f ns/call  uncertainty p50 %" PRId64 " ns, p99 %" PRId64 " ns\n",
	       "pairing: vDSO sandwich", r->pair_vdso_ns, stats_percentile(&r->vdso_uncertainty_ns, 1, 2),
	       stats_percentile(&r->vdso_uncertainty_ns, 99, 100));
	if (r->have_kvm_clock)
		printf("%-44s %8.1f ns/call  uncertainty <= %" PRId64 " ns: a constant bound, "
		       "not measured\n", "pairing: KVM_GET_CLOCK", r->pair_kvm_ns,
		       stats_percentile(&r->kvm_uncertainty_ns, 100, 100));
	else
		printf("%-44s  skipped: %s\n", "pairing: KVM_GET_CLOCK",
		       r->have_kvm ? "no KVM_CLOCK_HOST_TSC (no master clock)" : r->kvm_why);
	printf("targets: arm <= 100 ns: %s; arm >= 3x cheaper than KVM_GET_CLOCK: %s; "
	       "vDSO uncertainty p50 <= 20 ns: %s; delivery adds <= 1 us p50: %s (%" PRId64 " ns)\n",
	       yes(r->arm_le_100ns), r->have_kvm ? yes(r->arm_3x_cheaper_than_kvm_get_clock) : "n/a",
	       yes(r->vdso_uncertainty_p50_le_20ns), yes(r->delivery_adds_le_1us_p50),
	       r->delivery_added_p50_ns);
}

int bench_timer(int argc, char **argv)
{
	struct bench_timer_config cfg = { .iterations = 200000 };
	bool json = false;
	struct opt o[] = {
		{ .name = "iterations", .kind = OPT_UINT, OPT_FIELD(cfg.iterations),
		  .min = BENCH_TIMER_MIN_ITERATIONS, .max = 100000000ull,
		  .help = "operations per timed run (default 200000; syscalls and pairings use /10)" },
		{ OPT_JSON(json) }, OPT_TABLE_END,
	};
	struct bench_timer_result res;
	int ret = opts_parse("bench timer", "pvtime bench timer [--iterations N] [--json]", o, argc, argv);

	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	/* About a second: a SIGINT lets it finish and report, then exits 130. */
	runctl_install();
	ret = bench_timer_measure(&cfg, &res);
	if (ret) {
		bench_timer_result_free(&res);
		return runtime_error("bench timer: %s", res.error);
	}
	if (json)
		print_json(&cfg, &res);
	else
		print_text(&res);
	bench_timer_result_free(&res);
	return runctl_final(fflush(stdout) ? runtime_error("bench timer: cannot write output")
					   : PVT_EXIT_OK);
}

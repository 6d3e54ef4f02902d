// SPDX-License-Identifier: MIT
/* A simulation's defaults and the up-front overflow checks, before anything runs. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "pvtime/guestclock.h"
#include "sim.h"

/* The exit status the CLI gives bad usage (its PVT_EXIT_USAGE). */
#define SIM_EXIT_USAGE	2

/* "pvtime: <message>" on stderr, as the CLI reports bad arguments. */
__attribute__((format(printf, 1, 2)))
static int config_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("pvtime: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return SIM_EXIT_USAGE;
}

const char *const sim_hypercall_names[SIM_HC_COUNT] = { "set_timer_op", "singleshot" };

/* Slack per loop beyond the interval: set_timer_op's 100 ms workaround, legacy's drift. */
#define SIM_LOOP_SLACK_NS	200000000ull

/*
 * CLOCK_MONOTONIC's ns at the run's end may run ahead of true ns by the
 * slew, |--ntp-ppm| <= SIM_MAX_PPM (10 %): bound it by end + end / this,
 * twice the largest slew.
 */
#define SIM_SLEW_MARGIN_DIV	5

void sim_config_default(struct sim_config *cfg)
{
	*cfg = (struct sim_config){
		.algo = PVT_ALGO_PVTIME,
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
		return config_error("--host-khz: must be a positive kHz value");
	if (!cfg->guest_khz)
		return config_error("--guest-khz: must be a positive kHz value");
	if (!pvt_frac_bits_valid(cfg->frac_bits))
		return config_error("--frac-bits: %u is not 32 or 48", cfg->frac_bits);
	if (!cfg->interval_ns)
		return config_error("-i: interval must be at least 1 ns");
	if (!cfg->loops)
		return config_error("-n: must be at least 1");
	if (!cfg->vcpus || cfg->vcpus > SIM_MAX_VCPUS)
		return config_error("--vcpus: must be 1..%u", SIM_MAX_VCPUS);
	if (pvt_kvm_clock_init(&kvm, cfg->host_khz, cfg->frac_bits))
		return config_error("--host-khz: %" PRIu32 " has no kvmclock scale", cfg->host_khz);
	if (pvt_kvm_tsc_scaling(&kvm, cfg->guest_khz, 0, &tsc))
		return config_error("--guest-khz: %" PRIu32 " cannot be scaled from %" PRIu32
				   " kHz with %u fractional bits", cfg->guest_khz,
				   cfg->host_khz, cfg->frac_bits);
	if (pvt_kvm_guest_clock(&kvm, &tsc, &gc))
		return config_error("--guest-khz: %" PRIu32 " gives no valid pvclock scale",
				   cfg->guest_khz);

	start_ns = (unsigned __int128)cfg->uptime_s * PVT_NSEC_PER_SEC;
	what = overflow_at(&kvm, &gc, (unsigned __int128)cfg->uptime_s * cfg->host_khz * 1000);
	if (!what && start_ns > NS_LIMIT)
		what = "host ns";
	if (what)
		return config_error("--uptime: %" PRIu64 " s overflows the 64-bit %s",
				   cfg->uptime_s, what);

	/* A generous bound on how far the run goes past the start. */
	run_ns = (unsigned __int128)cfg->loops *
		 ((unsigned __int128)cfg->interval_ns * 2 + cfg->wake_latency_ns +
		  cfg->wake_jitter_ns + cfg->preempt_ns + SIM_LOOP_SLACK_NS) +
		 cfg->interval_ns;	/* vCPU start stagger */
	end_ns = start_ns + run_ns;
	slewed = end_ns + end_ns / SIM_SLEW_MARGIN_DIV;
	what = overflow_at(&kvm, &gc, end_ns * cfg->host_khz / 1000000);
	if (!what && slewed > NS_LIMIT)
		what = "host ns";
	if (what)
		return config_error("--uptime/-n/-i: a run of %" PRIu64 " loops of %" PRIu64
				   " ns from %" PRIu64 " s may overflow the 64-bit %s",
				   cfg->loops, cfg->interval_ns, cfg->uptime_s, what);
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * pvtime calc: the pvclock and TSC-scaling arithmetic one value at a time,
 * bit-exact with KVM (docs/design.md, "The arithmetic"). Output is key=value
 * lines, or one JSON object with --json.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pvtime/guestclock.h"

#include "args.h"
#include "cmdline.h"
#include "commands.h"
#include "json.h"
#include "options.h"

#define U64(n, f, req, h)	{ .name = n, .kind = OPT_UINT, OPT_FIELD(f), .max = UINT64_MAX, .required = req, .help = h }
#define KHZ(n, f, h)		{ .name = n, .kind = OPT_UINT, OPT_FIELD(f), .min = 1, .max = UINT32_MAX, .required = true, .help = h }

/* Collects key=value output, or JSON when asked. */
struct out {
	bool json;
	struct json j;
};

static void out_begin(struct out *o)
{
	if (o->json) {
		json_begin(&o->j, stdout);
		cmdline_json_header(&o->j);
	}
}

static void out_u64(struct out *o, const char *key, uint64_t v)
{
	if (o->json)
		json_u64(&o->j, key, v);
	else
		printf("%s=%" PRIu64 "\n", key, v);
}

static void out_i64(struct out *o, const char *key, int64_t v)
{
	if (o->json)
		json_i64(&o->j, key, v);
	else
		printf("%s=%" PRId64 "\n", key, v);
}

static void out_bool(struct out *o, const char *key, bool v)
{
	if (o->json)
		json_bool(&o->j, key, v);
	else
		printf("%s=%s\n", key, v ? "yes" : "no");
}

static int out_end(struct out *o)
{
	if (o->json)
		json_end(&o->j);
	return fflush(stdout) ? runtime_error("calc: cannot write output") : PVT_EXIT_OK;
}

/* The options of every calculation; each table names the ones it takes. */
struct calc_args {
	uint64_t base_hz, scaled_hz;
	uint64_t tsc_timestamp, system_time, tsc;
	uint32_t mul;
	int8_t shift;
	uint64_t host_tsc, ratio, offset;
	/* the VM: page and deadline (ratio takes the kHz and fraction bits) */
	uint32_t host_khz, guest_khz;
	unsigned frac_bits;
	uint64_t tsc_offset, master_tsc, master_ns;
	int64_t kvmclock_offset_ns;
	uint64_t now_tsc, deadline_ns;
};

#define CALC_ARGS_DEFAULT	{ .frac_bits = PVT_FRAC_BITS_VMX }

/* 0 to go on; otherwise *exit_code is what the calculation returns (--help: 0). */
static bool calc_parse(const char *cmd, const char *usage, struct opt *opts, int argc, char **argv,
		       int *exit_code)
{
	int ret = opts_parse(cmd, usage, opts, argc, argv);

	*exit_code = ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	return ret == 0;
}

static int calc_scale(int argc, char **argv)
{
	struct calc_args a = CALC_ARGS_DEFAULT;
	struct out out = { 0 };
	struct opt o[] = {
		{ .name = "base-hz", .kind = OPT_UINT, OPT_FIELD(a.base_hz), .min = 1, .max = UINT64_MAX,
		  .required = true, .help = "frequency of the ticks to convert (Hz)" },
		{ .name = "scaled-hz", .kind = OPT_UINT, OPT_FIELD(a.scaled_hz), .min = 1, .max = UINT64_MAX,
		  .required = true, .help = "target units per second (10^9 for ns)" },
		{ OPT_JSON(out.json) }, OPT_TABLE_END,
	};
	uint32_t mul;
	int8_t shift;
	int ret;

	if (!calc_parse("calc scale", "pvtime calc scale --base-hz B --scaled-hz S", o, argc, argv, &ret))
		return ret;
	if (pvt_time_scale(a.scaled_hz, a.base_hz, &mul, &shift))
		return usage_error("--scaled-hz: %" PRIu64 " over --base-hz %" PRIu64
				   " has no mul/shift with |shift| <= 63", a.scaled_hz, a.base_hz);
	if (out.json) {
		out_begin(&out);
		out_u64(&out, "base_hz", a.base_hz);
		out_u64(&out, "scaled_hz", a.scaled_hz);
		out_u64(&out, "mul", mul);
		out_i64(&out, "shift", shift);
		return out_end(&out);
	}
	printf("mul=%u shift=%d\n", mul, shift);
	return out_end(&out);
}

static int calc_read(int argc, char **argv)
{
	struct calc_args a = CALC_ARGS_DEFAULT;
	struct out out = { 0 };
	struct opt o[] = {
		U64("tsc-timestamp", a.tsc_timestamp, true, "page tsc_timestamp (guest TSC)"),
		U64("system-time", a.system_time, true, "page system_time (ns)"),
		{ .name = "mul", .kind = OPT_UINT, OPT_FIELD(a.mul), .max = UINT32_MAX, .required = true,
		  .help = "page tsc_to_system_mul (32 bits)" },
		{ .name = "shift", .kind = OPT_INT, OPT_FIELD(a.shift), .smin = -PVT_SHIFT_MAX,
		  .smax = PVT_SHIFT_MAX, .required = true, .help = "page tsc_shift (-63..63)" },
		U64("tsc", a.tsc, true, "guest TSC to convert"),
		{ OPT_JSON(out.json) }, OPT_TABLE_END,
	};
	struct pvt_pvclock_page page;
	uint64_t ns;
	int ret;

	if (!calc_parse("calc read", "pvtime calc read --tsc-timestamp T --system-time S --mul M --shift SH --tsc X",
			o, argc, argv, &ret))
		return ret;
	page = (struct pvt_pvclock_page){
		.tsc_timestamp = a.tsc_timestamp, .system_time = a.system_time,
		.tsc_to_system_mul = a.mul, .tsc_shift = a.shift,
	};
	ns = pvt_pvclock_ns(&page, a.tsc);
	if (out.json) {
		out_begin(&out);
		out_u64(&out, "tsc_timestamp", page.tsc_timestamp);
		out_u64(&out, "system_time", page.system_time);
		out_u64(&out, "mul", page.tsc_to_system_mul);
		out_i64(&out, "shift", page.tsc_shift);
		out_u64(&out, "tsc", a.tsc);
		out_u64(&out, "ns", ns);
		return out_end(&out);
	}
	printf("ns=%" PRIu64 "\n", ns);
	return out_end(&out);
}

static int calc_ratio(int argc, char **argv)
{
	struct calc_args a = CALC_ARGS_DEFAULT;
	struct out out = { 0 };
	struct opt o[] = {
		KHZ("host-khz", a.host_khz, "host TSC kHz"), KHZ("guest-khz", a.guest_khz, "guest TSC kHz"),
		{ OPT_FRAC_BITS(a.frac_bits) }, { OPT_JSON(out.json) }, OPT_TABLE_END,
	};
	uint64_t ratio;
	int ret;

	if (!calc_parse("calc ratio", "pvtime calc ratio --host-khz H --guest-khz G [--frac-bits 48]",
			o, argc, argv, &ret))
		return ret;
	if (pvt_tsc_ratio(a.host_khz, a.guest_khz, a.frac_bits, &ratio))
		return usage_error("--guest-khz: %" PRIu32 " over --host-khz %" PRIu32
				   " gives a ratio above 64 bits", a.guest_khz, a.host_khz);
	if (out.json) {
		out_begin(&out);
		out_u64(&out, "host_khz", a.host_khz);
		out_u64(&out, "guest_khz", a.guest_khz);
		out_u64(&out, "frac_bits", a.frac_bits);
		out_u64(&out, "ratio", ratio);
		return out_end(&out);
	}
	printf("ratio=%" PRIu64 "\n", ratio);
	return out_end(&out);
}

static int calc_guest_tsc(int argc, char **argv)
{
	struct calc_args a = CALC_ARGS_DEFAULT;
	struct out out = { 0 };
	struct opt o[] = {
		U64("host-tsc", a.host_tsc, true, "host TSC value"),
		U64("ratio", a.ratio, true, "TSC ratio in frac-bits fixed point"),
		{ OPT_FRAC_BITS(a.frac_bits) },
		U64("offset", a.offset, false, "TSC offset added after scaling (mod 2^64, default 0)"),
		{ OPT_JSON(out.json) }, OPT_TABLE_END,
	};
	struct pvt_tsc_scaling tsc;
	int ret;

	if (!calc_parse("calc guest-tsc", "pvtime calc guest-tsc --host-tsc X --ratio R [--frac-bits 48] [--offset O]",
			o, argc, argv, &ret))
		return ret;
	tsc = (struct pvt_tsc_scaling){ .ratio = a.ratio, .offset = a.offset,
					.frac_bits = (uint8_t)a.frac_bits };
	if (out.json) {
		out_begin(&out);
		out_u64(&out, "host_tsc", a.host_tsc);
		out_u64(&out, "ratio", tsc.ratio);
		out_u64(&out, "frac_bits", tsc.frac_bits);
		out_u64(&out, "offset", tsc.offset);
		out_u64(&out, "guest_tsc", pvt_guest_tsc(&tsc, a.host_tsc));
		return out_end(&out);
	}
	printf("guest_tsc=%" PRIu64 "\n", pvt_guest_tsc(&tsc, a.host_tsc));
	return out_end(&out);
}

/* The VM options shared by page and deadline, first in their tables. */
#define VM_OPTS(a)                                                                            \
	KHZ("host-khz", (a).host_khz, "host TSC kHz"),                                        \
	KHZ("guest-khz", (a).guest_khz, "guest TSC kHz the vCPU asked for"),                  \
	{ OPT_FRAC_BITS((a).frac_bits) },                                                        \
	U64("tsc-offset", (a).tsc_offset, false, "vCPU TSC offset (default 0)"),              \
	U64("master-tsc", (a).master_tsc, false, "host TSC at the master clock reference (default 0)"), \
	U64("master-ns", (a).master_ns, false, "host ns at the master clock reference (default 0)"),    \
	{ .name = "kvmclock-offset", .kind = OPT_INT, OPT_FIELD((a).kvmclock_offset_ns),      \
	  .smin = INT64_MIN, .smax = INT64_MAX, .help = "kvmclock offset in ns, signed (default 0)" }

/* The clock KVM gives a vCPU configured by the VM options. */
static int build_vm(const struct calc_args *a, struct pvt_kvm_clock *kvm, struct pvt_tsc_scaling *tsc,
		    struct pvt_guest_clock *clock)
{
	if (pvt_kvm_clock_init(kvm, a->host_khz, a->frac_bits))
		return usage_error("--host-khz: %" PRIu32 " kHz has no valid mul/shift", a->host_khz);
	kvm->master_tsc = a->master_tsc;
	kvm->master_ns = a->master_ns;
	kvm->kvmclock_offset_ns = a->kvmclock_offset_ns;
	if (pvt_kvm_tsc_scaling(kvm, a->guest_khz, a->tsc_offset, tsc))
		return usage_error("--guest-khz: %" PRIu32 " kHz cannot be scaled from %" PRIu32
				   " kHz with %u fraction bits", a->guest_khz, a->host_khz, a->frac_bits);
	if (pvt_kvm_guest_clock(kvm, tsc, clock))
		return usage_error("--guest-khz: KVM would advertise %" PRIu64 " kHz, which has no mul/shift",
				   pvt_kvm_advertised_khz(kvm, tsc));
	return 0;
}

static void put_vm(struct out *out, const struct pvt_kvm_clock *kvm, const struct pvt_tsc_scaling *tsc,
		   const struct pvt_guest_clock *clock)
{
	out_bool(out, "scaling", tsc->ratio != pvt_tsc_ratio_one(tsc->frac_bits));
	out_u64(out, "ratio", tsc->ratio);
	out_u64(out, "frac_bits", tsc->frac_bits);
	out_u64(out, "tsc_offset", tsc->offset);
	out_u64(out, "advertised_khz", pvt_kvm_advertised_khz(kvm, tsc));
	out_u64(out, "host_mul", kvm->host_mul);
	out_i64(out, "host_shift", kvm->host_shift);
	out_u64(out, "version", clock->page.version);
	out_u64(out, "tsc_timestamp", clock->page.tsc_timestamp);
	out_u64(out, "system_time", clock->page.system_time);
	out_u64(out, "tsc_to_system_mul", clock->page.tsc_to_system_mul);
	out_i64(out, "tsc_shift", clock->page.tsc_shift);
	out_u64(out, "flags", clock->page.flags);
}

static int calc_page(int argc, char **argv)
{
	struct calc_args a = CALC_ARGS_DEFAULT;
	struct out out = { 0 };
	struct opt o[] = { VM_OPTS(a), { OPT_JSON(out.json) }, OPT_TABLE_END };
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;
	int ret;

	if (!calc_parse("calc page",
			"pvtime calc page --host-khz H --guest-khz G [--frac-bits 48] [--tsc-offset O]\n"
			"       [--master-tsc M] [--master-ns N] [--kvmclock-offset K]",
			o, argc, argv, &ret))
		return ret;
	if ((ret = build_vm(&a, &kvm, &tsc, &clock)))
		return ret;
	out_begin(&out);
	put_vm(&out, &kvm, &tsc, &clock);
	return out_end(&out);
}

static int calc_deadline(int argc, char **argv)
{
	struct calc_args a = CALC_ARGS_DEFAULT;
	struct out out = { 0 };
	struct opt o[] = {
		VM_OPTS(a),
		U64("now-tsc", a.now_tsc, true, "host TSC now (the answer is never earlier)"),
		U64("deadline-ns", a.deadline_ns, true,
		    "guest clock deadline (ns; signed comparison with the clock now)"),
		{ OPT_JSON(out.json) }, OPT_TABLE_END,
	};
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;
	uint64_t now, h = 0;
	int ret;

	if (!calc_parse("calc deadline",
			"pvtime calc deadline --host-khz H --guest-khz G --now-tsc T --deadline-ns D\n"
			"       [--frac-bits 48] [--tsc-offset O] [--master-tsc M] [--master-ns N] [--kvmclock-offset K]",
			o, argc, argv, &ret))
		return ret;
	if ((ret = build_vm(&a, &kvm, &tsc, &clock)))
		return ret;
	now = a.now_tsc;
	ret = pvt_guest_clock_host_tsc_at(&clock, now, a.deadline_ns, &h);
	if (ret && ret != -ERANGE)
		return runtime_error("calc deadline: %s", strerror(-ret));
	out_begin(&out);
	out_u64(&out, "now_tsc", now);
	out_u64(&out, "now_ns", pvt_guest_clock_ns(&clock, now));
	out_u64(&out, "deadline_ns", a.deadline_ns);
	out_bool(&out, "reachable", !ret);
	/* Saturated: no 64-bit host TSC reaches the deadline. */
	out_u64(&out, "host_tsc", h);
	if (!ret) {
		out_u64(&out, "wait_tsc", h - now);
		out_u64(&out, "ns_at_host_tsc", pvt_guest_clock_ns(&clock, h));
		if (h > now)
			out_u64(&out, "ns_one_tick_before", pvt_guest_clock_ns(&clock, h - 1));
		out_u64(&out, "guest_tsc", pvt_guest_tsc(&tsc, h));
	}
	out_u64(&out, "advertised_khz", pvt_kvm_advertised_khz(&kvm, &tsc));
	out_u64(&out, "ratio", tsc.ratio);
	return out_end(&out);
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} calcs[] = {
	{ "scale", calc_scale, "time_scale: mul/shift converting base-hz ticks to scaled-hz units" },
	{ "read", calc_read, "guest ns from a pvclock page and a guest TSC" },
	{ "ratio", calc_ratio, "raw TSC scaling ratio floor(2^frac * guest / host)" },
	{ "guest-tsc", calc_guest_tsc, "guest TSC at a host TSC: ((host * ratio) >> frac) + offset" },
	{ "page", calc_page, "the pvclock page KVM would give a vCPU" },
	{ "deadline", calc_deadline, "first host TSC at which the guest clock reaches a deadline" },
};

int cmd_calc(int argc, char **argv)
{
	size_t n = sizeof(calcs) / sizeof(calcs[0]);

	if (argc < 2)
		return usage_error("calc: missing what to calculate (pvtime calc --help)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: pvtime calc <what> [options] [--json]   (pvtime calc <what> --help)\n\n");
		for (size_t i = 0; i < n; i++)
			printf("  %-10s %s\n", calcs[i].name, calcs[i].summary);
		return PVT_EXIT_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[1], calcs[i].name)) {
			return calcs[i].run(argc - 1, argv + 1);
		}
	return usage_error("calc: unknown calculation '%s' (scale, read, ratio, guest-tsc, page, deadline)",
			   argv[1]);
}

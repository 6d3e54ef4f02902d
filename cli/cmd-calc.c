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
#include "optspec.h"

#define KHZ_MAX		0xffffffffull
#define NOPTS(a)	((int)(sizeof(a) / sizeof((a)[0])))
#define U64(n, req, h)	{ .name = n, .kind = OPT_U64, .umax = UINT64_MAX, .required = req, .help = h }
#define KHZ(n, h)	{ .name = n, .kind = OPT_U64, .umin = 1, .umax = KHZ_MAX, .required = true, .help = h }
#define FRAC		{ .name = "frac-bits", .kind = OPT_FRAC_BITS, .help = "TSC ratio fraction bits: 48 (VMX, default) or 32 (SVM)" }

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

static unsigned frac_of(struct optspec *opts, int n)
{
	struct optspec *f = optspec_get(opts, n, "frac-bits");

	return f->set ? (unsigned)f->u : PVT_FRAC_BITS_VMX;
}

static int calc_scale(int argc, char **argv)
{
	struct optspec o[] = {
		{ .name = "base-hz", .kind = OPT_U64, .umin = 1, .umax = UINT64_MAX, .required = true,
		  .help = "frequency of the ticks to convert (Hz)" },
		{ .name = "scaled-hz", .kind = OPT_U64, .umin = 1, .umax = UINT64_MAX, .required = true,
		  .help = "target units per second (10^9 for ns)" },
	};
	struct out out = { 0 };
	uint32_t mul;
	int8_t shift;
	int ret = optspec_parse(argc, argv, "calc scale", "pvtime calc scale --base-hz B --scaled-hz S", o, NOPTS(o), &out.json);

	if (ret)
		return ret == 1 ? PVT_EXIT_OK : ret;
	if (pvt_time_scale(o[1].u, o[0].u, &mul, &shift))
		return usage_error("--scaled-hz: %" PRIu64 " over --base-hz %" PRIu64
				   " has no mul/shift with |shift| <= 63", o[1].u, o[0].u);
	if (out.json) {
		out_begin(&out);
		out_u64(&out, "base_hz", o[0].u);
		out_u64(&out, "scaled_hz", o[1].u);
		out_u64(&out, "mul", mul);
		out_i64(&out, "shift", shift);
		return out_end(&out);
	}
	printf("mul=%u shift=%d\n", mul, shift);
	return out_end(&out);
}

static int calc_read(int argc, char **argv)
{
	struct optspec o[] = {
		U64("tsc-timestamp", true, "page tsc_timestamp (guest TSC)"),
		U64("system-time", true, "page system_time (ns)"),
		{ .name = "mul", .kind = OPT_U64, .umax = 0xffffffffull, .required = true,
		  .help = "page tsc_to_system_mul (32 bits)" },
		{ .name = "shift", .kind = OPT_I64, .imin = -PVT_SHIFT_MAX, .imax = PVT_SHIFT_MAX,
		  .required = true, .help = "page tsc_shift (-63..63)" },
		U64("tsc", true, "guest TSC to convert"),
	};
	struct out out = { 0 };
	struct pvt_pvclock_page page;
	uint64_t ns;
	int ret = optspec_parse(argc, argv, "calc read", "pvtime calc read --tsc-timestamp T --system-time S --mul M --shift SH --tsc X",
				o, NOPTS(o), &out.json);

	if (ret)
		return ret == 1 ? PVT_EXIT_OK : ret;
	page = (struct pvt_pvclock_page){
		.tsc_timestamp = o[0].u, .system_time = o[1].u,
		.tsc_to_system_mul = (uint32_t)o[2].u, .tsc_shift = (int8_t)o[3].i,
	};
	ns = pvt_pvclock_ns(&page, o[4].u);
	if (out.json) {
		out_begin(&out);
		out_u64(&out, "tsc_timestamp", page.tsc_timestamp);
		out_u64(&out, "system_time", page.system_time);
		out_u64(&out, "mul", page.tsc_to_system_mul);
		out_i64(&out, "shift", page.tsc_shift);
		out_u64(&out, "tsc", o[4].u);
		out_u64(&out, "ns", ns);
		return out_end(&out);
	}
	printf("ns=%" PRIu64 "\n", ns);
	return out_end(&out);
}

static int calc_ratio(int argc, char **argv)
{
	struct optspec o[] = { KHZ("host-khz", "host TSC kHz"), KHZ("guest-khz", "guest TSC kHz"), FRAC };
	struct out out = { 0 };
	uint64_t ratio;
	unsigned frac;
	int ret = optspec_parse(argc, argv, "calc ratio", "pvtime calc ratio --host-khz H --guest-khz G [--frac-bits 48]",
				o, NOPTS(o), &out.json);

	if (ret)
		return ret == 1 ? PVT_EXIT_OK : ret;
	frac = frac_of(o, NOPTS(o));
	if (pvt_tsc_ratio((uint32_t)o[0].u, (uint32_t)o[1].u, frac, &ratio))
		return usage_error("--guest-khz: %" PRIu64 " over --host-khz %" PRIu64
				   " gives a ratio above 64 bits", o[1].u, o[0].u);
	if (out.json) {
		out_begin(&out);
		out_u64(&out, "host_khz", o[0].u);
		out_u64(&out, "guest_khz", o[1].u);
		out_u64(&out, "frac_bits", frac);
		out_u64(&out, "ratio", ratio);
		return out_end(&out);
	}
	printf("ratio=%" PRIu64 "\n", ratio);
	return out_end(&out);
}

static int calc_guest_tsc(int argc, char **argv)
{
	struct optspec o[] = {
		U64("host-tsc", true, "host TSC value"),
		U64("ratio", true, "TSC ratio in frac-bits fixed point"),
		FRAC,
		U64("offset", false, "TSC offset added after scaling (mod 2^64, default 0)"),
	};
	struct out out = { 0 };
	struct pvt_tsc_scaling tsc;
	int ret = optspec_parse(argc, argv, "calc guest-tsc", "pvtime calc guest-tsc --host-tsc X --ratio R [--frac-bits 48] [--offset O]",
				o, NOPTS(o), &out.json);

	if (ret)
		return ret == 1 ? PVT_EXIT_OK : ret;
	tsc = (struct pvt_tsc_scaling){ .ratio = o[1].u, .offset = o[3].u,
					.frac_bits = (uint8_t)frac_of(o, NOPTS(o)) };
	if (out.json) {
		out_begin(&out);
		out_u64(&out, "host_tsc", o[0].u);
		out_u64(&out, "ratio", tsc.ratio);
		out_u64(&out, "frac_bits", tsc.frac_bits);
		out_u64(&out, "offset", tsc.offset);
		out_u64(&out, "guest_tsc", pvt_guest_tsc(&tsc, o[0].u));
		return out_end(&out);
	}
	printf("guest_tsc=%" PRIu64 "\n", pvt_guest_tsc(&tsc, o[0].u));
	return out_end(&out);
}

/* The VM options shared by page and deadline, first in their spec arrays. */
#define VM_OPTS                                                                              \
	KHZ("host-khz", "host TSC kHz"), KHZ("guest-khz", "guest TSC kHz the vCPU asked for"),  \
	FRAC, U64("tsc-offset", false, "vCPU TSC offset (default 0)"),                           \
	U64("master-tsc", false, "host TSC at the master clock reference (default 0)"),          \
	U64("master-ns", false, "host ns at the master clock reference (default 0)"),            \
	{ .name = "kvmclock-offset", .kind = OPT_I64, .imin = INT64_MIN, .imax = INT64_MAX,      \
	  .help = "kvmclock offset in ns, signed (default 0)" }
#define VM_NOPTS	7

/* The clock KVM gives a vCPU configured by the VM options. */
static int build_vm(struct optspec *o, struct pvt_kvm_clock *kvm, struct pvt_tsc_scaling *tsc,
		    struct pvt_guest_clock *clock)
{
	if (pvt_kvm_clock_init(kvm, (uint32_t)o[0].u, frac_of(o, VM_NOPTS)))
		return usage_error("--host-khz: %" PRIu64 " kHz has no valid mul/shift", o[0].u);
	kvm->master_tsc = o[4].u;
	kvm->master_ns = o[5].u;
	kvm->kvmclock_offset_ns = o[6].i;
	if (pvt_kvm_tsc_scaling(kvm, (uint32_t)o[1].u, o[3].u, tsc))
		return usage_error("--guest-khz: %" PRIu64 " kHz cannot be scaled from %" PRIu64
				   " kHz with %u fraction bits", o[1].u, o[0].u, frac_of(o, VM_NOPTS));
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
	struct optspec o[] = { VM_OPTS };
	struct out out = { 0 };
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;
	int ret = optspec_parse(argc, argv, "calc page",
				"pvtime calc page --host-khz H --guest-khz G [--frac-bits 48] [--tsc-offset O]\n"
				"       [--master-tsc M] [--master-ns N] [--kvmclock-offset K]",
				o, NOPTS(o), &out.json);

	if (ret)
		return ret == 1 ? PVT_EXIT_OK : ret;
	if ((ret = build_vm(o, &kvm, &tsc, &clock)))
		return ret;
	out_begin(&out);
	put_vm(&out, &kvm, &tsc, &clock);
	return out_end(&out);
}

static int calc_deadline(int argc, char **argv)
{
	struct optspec o[] = {
		VM_OPTS,
		U64("now-tsc", true, "host TSC now (the answer is never earlier)"),
		U64("deadline-ns", true, "guest clock deadline (ns; signed comparison with the clock now)"),
	};
	struct out out = { 0 };
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;
	uint64_t now, h = 0;
	int ret = optspec_parse(argc, argv, "calc deadline",
				"pvtime calc deadline --host-khz H --guest-khz G --now-tsc T --deadline-ns D\n"
				"       [--frac-bits 48] [--tsc-offset O] [--master-tsc M] [--master-ns N] [--kvmclock-offset K]",
				o, NOPTS(o), &out.json);

	if (ret)
		return ret == 1 ? PVT_EXIT_OK : ret;
	if ((ret = build_vm(o, &kvm, &tsc, &clock)))
		return ret;
	now = o[VM_NOPTS].u;
	ret = pvt_guest_clock_host_tsc_at(&clock, now, o[VM_NOPTS + 1].u, &h);
	if (ret && ret != -ERANGE)
		return runtime_error("calc deadline: %s", strerror(-ret));
	out_begin(&out);
	out_u64(&out, "now_tsc", now);
	out_u64(&out, "now_ns", pvt_guest_clock_ns(&clock, now));
	out_u64(&out, "deadline_ns", o[VM_NOPTS + 1].u);
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

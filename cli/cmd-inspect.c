// SPDX-License-Identifier: MIT
/*
 * pvtime inspect: on a KVM guest, the running system's own kvmclock page
 * and what a legacy KVM Xen timer would drift (measure/guest-inspect.c).
 */
#include <inttypes.h>
#include <stdio.h>

#include "args.h"
#include "cmdline.h"
#include "commands.h"
#include "guest-inspect.h"
#include "json.h"
#include "options.h"

static void print_json(const struct guest_inspect *gi)
{
	struct json j;

	json_begin(&j, stdout);
	cmdline_json_header(&j);
	guest_inspect_json(&j, gi);
	json_end(&j);
}

static void print_text(const struct guest_inspect *gi)
{
	const struct pvt_pvclock_page *page = &gi->page;

	printf("kvmclock page ([vvar_vclock], vCPU 0), read with the version protocol:\n");
	printf("  version=%" PRIu32 " tsc_timestamp=%" PRIu64 " system_time=%" PRIu64 "\n",
	       page->version, page->tsc_timestamp, page->system_time);
	printf("  mul=%" PRIu32 " shift=%d flags=0x%02x (%s%s)\n", page->tsc_to_system_mul,
	       page->tsc_shift, page->flags,
	       page->flags & PVT_PVCLOCK_TSC_STABLE ? "TSC stable" : "TSC not stable",
	       page->flags & PVT_PVCLOCK_GUEST_STOPPED ? ", guest stopped" : "");
	printf("  at tsc=%" PRIu64 ": kvmclock %" PRIu64 " ns (CLOCK_MONOTONIC %" PRIu64
	       ", CLOCK_BOOTTIME %" PRIu64 ")\n", gi->tsc, gi->ns, gi->monotonic_ns_after,
	       gi->boottime_ns);
	printf("clocksource: %s\n", gi->clocksource);
	printf("TSC kHz: detected %" PRIu32 " (%s)", gi->detected_khz, gi->detected_khz_source);
	if (gi->cpuid_khz)
		printf(", CPUID 0x40000010 says %" PRIu32, gi->cpuid_khz);
	printf("\n  the page implies %" PRIu64 " kHz (%s), %+" PRId64 " kHz from detected; "
	       "its clock runs %+.3f ppm from the TSC at the detected rate\n", gi->implied_khz,
	       gi->khz_rounded ? "kHz-rounded: mul/shift are exactly time_scale(1e9, kHz * 1000)"
			       : "not made from a whole kHz",
	       (int64_t)gi->implied_khz - (int64_t)gi->detected_khz,
	       (double)gi->page_vs_detected_ppb / 1000.0);
	if (gi->model_valid)
		printf("legacy KVM Xen timer (one-step) vs this guest's two-step clock, tsdrift's model\n"
		       "(host %" PRIu64 " kHz, guest %" PRIu32 " kHz, %s, advertised %" PRIu64
		       " kHz):\n  error %+" PRId64 " ns per hour, %+" PRId64 " ns per day%s\n",
		       gi->implied_khz, gi->detected_khz,
		       gi->scaled ? "TSC scaled" : "not scaled (within 250 ppm)", gi->advertised_khz,
		       gi->error_ns_per_hour, gi->error_ns_per_day,
		       gi->error_ns_per_day ? " (negative: timers fire late)"
					    : " (no drift: nothing to fix here)");
	else
		printf("legacy KVM Xen timer: no model for host %" PRIu64 " kHz, guest %" PRIu32
		       " kHz\n", gi->implied_khz, gi->detected_khz);
}

int cmd_inspect(int argc, char **argv)
{
	uint32_t khz = 0;
	bool json = false;
	struct opt o[] = {
		{ .name = "khz", .kind = OPT_UINT, OPT_FIELD(khz), .min = 1, .max = UINT32_MAX,
		  .help = "use this TSC kHz instead of detecting it" },
		{ OPT_JSON(json) }, OPT_TABLE_END,
	};
	struct guest_inspect gi;
	int ret = opts_parse("inspect",
			     "pvtime inspect [--khz K] [--json]\n"
			     "This KVM guest's own kvmclock page ([vvar_vclock]), the TSC kHz the\n"
			     "kernel detected, and the drift a legacy KVM Xen timer would have.",
			     o, argc, argv);

	if (ret)
		return ret == OPTS_HELP ? PVT_EXIT_OK : ret;
	if (guest_inspect(khz, &gi))
		return runtime_error("inspect: %s", gi.error);
	if (json)
		print_json(&gi);
	else
		print_text(&gi);
	return PVT_EXIT_OK;
}

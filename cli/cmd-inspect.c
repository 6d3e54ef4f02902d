// SPDX-License-Identifier: MIT
/*
 * pvtime inspect: on a KVM guest, the running system's own kvmclock page as
 * its hypervisor wrote it. Linux maps the vCPU pvclock pages read-only into
 * every process as [vvar_vclock] when kvm-clock is registered (vCPU 0's
 * page at offset 0); we read it with the version protocol, set it against
 * the TSC frequency the kernel detected, and show what a legacy KVM Xen
 * timer (one-step conversion) would drift for this configuration, with the
 * same model as `pvtime tsdrift`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <time.h>
#include <x86intrin.h>
#include <cpuid.h>

#include "args.h"
#include "clockns.h"
#include "cmdline.h"
#include "commands.h"
#include "pvtime/hostinfo.h"
#include "json.h"
#include "optspec.h"
#include "pvtime/guestclock.h"
#include "pvtime/pvclock.h"

/* The [vvar_vclock] mapping's start, or 0 when this kernel does not map one. */
static uintptr_t vclock_mapping(int *err)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	uintptr_t start = 0;

	*err = 0;
	if (!f) {
		*err = errno;
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (strstr(line, "[vvar_vclock]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    hi - lo >= 4096) {
			start = (uintptr_t)lo;
			break;
		}
	}
	fclose(f);
	return start;
}

static uint64_t read_tsc(void *ctx)
{
	(void)ctx;
	_mm_lfence();	/* not before the version read: RDTSC is not ordered by itself */
	return __rdtsc();
}

/* The kernel's own words: "tsc: Refined TSC clocksource calibration: N MHz" wins. */
static int khz_from_kernel_log(uint32_t *khz, const char **source)
{
	static const char *const keys[] = {
		"tsc: Refined TSC clocksource calibration: ", "tsc: Detected ",
	};
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf;
	int n, ret = -ENOENT;

	if (len <= 0)
		return -errno;
	buf = malloc((size_t)len + 1);
	if (!buf)
		return -ENOMEM;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (n < 0) {
		ret = -errno;
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	for (int k = 0; k < 2 && ret; k++) {
		const char *p = buf, *hit = NULL;

		while ((p = strstr(p, keys[k])))	/* the last one counts */
			hit = p++;
		if (hit) {
			unsigned long mhz, frac = 0;
			int places = 0;
			const char *q = hit + strlen(keys[k]);
			char *end;

			mhz = strtoul(q, &end, 10);
			if (*end == '.')
				for (q = end + 1; *q >= '0' && *q <= '9' && places < 3; q++, places++)
					frac = frac * 10 + (unsigned long)(*q - '0');
			for (; places < 3; places++)
				frac *= 10;
			if (mhz && mhz < 4000000) {
				*khz = (uint32_t)(mhz * 1000 + frac);
				*source = k ? "kernel log: tsc: Detected ... MHz processor"
					    : "kernel log: tsc: Refined TSC clocksource calibration";
				ret = 0;
			}
		}
	}
	free(buf);
	return ret;
}

/* CPUID 0x40000010 (the hypervisor timing leaf): EAX = TSC kHz, when offered. */
static uint32_t khz_from_cpuid(void)
{
	unsigned a, b, c, d;

	__cpuid(0x40000000, a, b, c, d);
	if (a < 0x40000010 || a > 0x400000ff)
		return 0;
	__cpuid(0x40000010, a, b, c, d);
	return a;
}

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/*
 * The TSC kHz a page's mul/shift stand for: Linux's pvclock_tsc_khz()
 * ((10^6 << 32) / mul, then the shift undone) and, when KVM made the page
 * from a whole kHz, that kHz exactly (time_scale(1e9, kHz * 1000) gives
 * back the same mul/shift).
 */
static uint64_t implied_khz(const struct pvt_pvclock_page *p, bool *exact)
{
	unsigned __int128 k = ((unsigned __int128)1000000 << 32) / p->tsc_to_system_mul;

	if (p->tsc_shift < 0)
		k <<= -p->tsc_shift;
	else
		k >>= p->tsc_shift;
	*exact = false;
	for (uint64_t c = k > 0 ? (uint64_t)k - 1 : 0; c <= (uint64_t)k + 1; c++) {
		uint32_t mul;
		int8_t shift;

		if (c && !pvt_time_scale(PVT_NSEC_PER_SEC, c * 1000, &mul, &shift) &&
		    mul == p->tsc_to_system_mul && shift == p->tsc_shift) {
			*exact = true;
			return c;
		}
	}
	return (uint64_t)k;
}

/* tsdrift's error_ns (one-step - two-step) after s seconds; 0 and *ok false on bad input. */
static int64_t drift_at(uint32_t host_khz, uint32_t guest_khz, uint64_t s, bool *scaled,
			uint64_t *advertised, bool *ok)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;
	uint64_t host_tsc = s * host_khz * 1000;

	*ok = !pvt_kvm_clock_init(&kvm, host_khz, PVT_FRAC_BITS_VMX) &&
	      !pvt_kvm_tsc_scaling(&kvm, guest_khz, 0, &tsc) &&
	      !pvt_kvm_guest_clock(&kvm, &tsc, &clock);
	if (!*ok)
		return 0;
	*scaled = tsc.ratio != pvt_tsc_ratio_one(tsc.frac_bits);
	*advertised = pvt_kvm_advertised_khz(&kvm, &tsc);
	return (int64_t)(pvt_kvm_clock_legacy_ns(&kvm, host_tsc) -
			 pvt_guest_clock_ns(&clock, host_tsc));
}

int cmd_inspect(int argc, char **argv)
{
	struct optspec o[] = {
		{ .name = "khz", .kind = OPT_U64, .umin = 1, .umax = UINT32_MAX,
		  .help = "use this TSC kHz instead of detecting it" },
	};
	struct pvt_pvclock_page page;
	const volatile struct pvt_pvclock_page *live;
	const char *khz_source = NULL;
	uint32_t detected = 0, cpuid_khz;
	uint64_t tsc, ns, mono0, mono1, boot, implied, adv = 0;
	char clocksource[64], available[256];
	bool json = false, exact, scaled = false, ok;
	int64_t err_hour, err_day;
	int64_t page_ppb;
	uintptr_t at;
	int ret, e;

	ret = optspec_parse(argc, argv, "inspect",
			    "usage: pvtime inspect [--khz K] [--json]\n"
			    "This KVM guest's own kvmclock page ([vvar_vclock]), the TSC kHz the\n"
			    "kernel detected, and the drift a legacy KVM Xen timer would have.\n",
			    o, 1, &json);
	if (ret)
		return ret == 1 ? PVT_EXIT_OK : ret;

	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  clocksource, sizeof(clocksource));
	read_line("/sys/devices/system/clocksource/clocksource0/available_clocksource",
		  available, sizeof(available));
	at = vclock_mapping(&e);
	if (!at)
		return runtime_error("inspect: no [vvar_vclock] mapping in /proc/self/maps%s%s: "
				     "not a KVM guest with kvm-clock registered (clocksource %s; "
				     "available: %s)", e ? ": " : "", e ? strerror(e) : "",
				     clocksource, available);
	live = (const volatile struct pvt_pvclock_page *)at;	/* vCPU 0's page */
	mono0 = clock_now_ns(CLOCK_MONOTONIC);
	ret = pvt_pvclock_read(live, read_tsc, NULL, &page, &tsc, &ns);
	mono1 = clock_now_ns(CLOCK_MONOTONIC);
	boot = clock_now_ns(CLOCK_BOOTTIME);
	if (ret)
		return runtime_error("inspect: the kvmclock page could not be read: %s%s",
				     strerror(-ret), ret == -EINVAL ? " (garbage tsc_shift)" : "");
	if (!page.tsc_to_system_mul)
		return runtime_error("inspect: the kvmclock page is empty (mul 0): "
				     "kvm-clock not enabled on vCPU 0");

	if (o[0].set) {
		detected = (uint32_t)o[0].u;
		khz_source = "--khz";
	} else if (khz_from_kernel_log(&detected, &khz_source)) {
		enum pvt_tsc_khz_source how;

		ret = pvt_host_tsc_khz(&detected, &how);
		if (ret)
			return runtime_error("inspect: no TSC frequency: %s", strerror(-ret));
		khz_source = pvt_tsc_khz_source_name(how);
	}
	cpuid_khz = khz_from_cpuid();
	implied = implied_khz(&page, &exact);
	/* How far the page's clock runs from the TSC at the detected rate, in ppb. */
	{
		uint64_t ticks = (uint64_t)detected * 1000 * 3600;
		uint64_t page_ns = pvt_scale_delta(ticks, page.tsc_to_system_mul, page.tsc_shift);

		page_ppb = (int64_t)(page_ns - 3600 * PVT_NSEC_PER_SEC) / 3600;
	}
	/*
	 * tsdrift's model for this configuration: KVM's host kHz is the one the
	 * page encodes (no scaling writes the host's own mul/shift), the vCPU
	 * runs at the detected kHz.
	 */
	err_hour = drift_at((uint32_t)implied, detected, 3600, &scaled, &adv, &ok);
	err_day = ok ? drift_at((uint32_t)implied, detected, 86400, &scaled, &adv, &ok) : 0;

	if (json) {
		struct json j;

		json_begin(&j, stdout);
		cmdline_json_header(&j);
		json_string(&j, "source", "[vvar_vclock] vCPU 0");
		json_u64(&j, "version", page.version);
		json_u64(&j, "tsc_timestamp", page.tsc_timestamp);
		json_u64(&j, "system_time", page.system_time);
		json_u64(&j, "mul", page.tsc_to_system_mul);
		json_i64(&j, "shift", page.tsc_shift);
		json_u64(&j, "flags", page.flags);
		json_bool(&j, "tsc_stable", page.flags & PVT_PVCLOCK_TSC_STABLE);
		json_bool(&j, "guest_stopped", page.flags & PVT_PVCLOCK_GUEST_STOPPED);
		json_u64(&j, "tsc_now", tsc);
		json_u64(&j, "ns_now", ns);
		json_u64(&j, "monotonic_ns_before", mono0);
		json_u64(&j, "monotonic_ns_after", mono1);
		json_u64(&j, "boottime_ns", boot);
		json_u64(&j, "implied_khz", implied);
		json_bool(&j, "khz_rounded", exact);
		json_u64(&j, "detected_khz", detected);
		json_string(&j, "detected_khz_source", khz_source);
		json_i64(&j, "implied_minus_detected_khz", (int64_t)implied - (int64_t)detected);
		json_i64(&j, "page_vs_detected_ppb", page_ppb);
		if (cpuid_khz)
			json_u64(&j, "cpuid_40000010_khz", cpuid_khz);
		else
			json_null(&j, "cpuid_40000010_khz");
		json_string(&j, "clocksource", clocksource);
		json_object_begin(&j, "legacy_xen_timer");
		json_bool(&j, "model_valid", ok);
		json_u64(&j, "host_khz", implied);
		json_u64(&j, "guest_khz", detected);
		json_bool(&j, "scaled", scaled);
		json_u64(&j, "advertised_khz", adv);
		json_i64(&j, "error_ns_per_hour", err_hour);
		json_i64(&j, "error_ns_per_day", err_day);
		json_object_end(&j);
		json_end(&j);
		return PVT_EXIT_OK;
	}
	printf("kvmclock page ([vvar_vclock], vCPU 0), read with the version protocol:\n");
	printf("  version=%" PRIu32 " tsc_timestamp=%" PRIu64 " system_time=%" PRIu64 "\n",
	       page.version, page.tsc_timestamp, page.system_time);
	printf("  mul=%" PRIu32 " shift=%d flags=0x%02x (%s%s)\n", page.tsc_to_system_mul,
	       page.tsc_shift, page.flags,
	       page.flags & PVT_PVCLOCK_TSC_STABLE ? "TSC stable" : "TSC not stable",
	       page.flags & PVT_PVCLOCK_GUEST_STOPPED ? ", guest stopped" : "");
	printf("  at tsc=%" PRIu64 ": kvmclock %" PRIu64 " ns (CLOCK_MONOTONIC %" PRIu64
	       ", CLOCK_BOOTTIME %" PRIu64 ")\n", tsc, ns, mono1, boot);
	printf("clocksource: %s\n", clocksource);
	printf("TSC kHz: detected %" PRIu32 " (%s)", detected, khz_source);
	if (cpuid_khz)
		printf(", CPUID 0x40000010 says %" PRIu32, cpuid_khz);
	printf("\n  the page implies %" PRIu64 " kHz (%s), %+" PRId64 " kHz from detected; "
	       "its clock runs %+.3f ppm from the TSC at the detected rate\n", implied,
	       exact ? "kHz-rounded: mul/shift are exactly time_scale(1e9, kHz * 1000)"
		     : "not made from a whole kHz",
	       (int64_t)implied - (int64_t)detected, (double)page_ppb / 1000.0);
	if (ok)
		printf("legacy KVM Xen timer (one-step) vs this guest's two-step clock, tsdrift's model\n"
		       "(host %" PRIu64 " kHz, guest %" PRIu32 " kHz, %s, advertised %" PRIu64
		       " kHz):\n  error %+" PRId64 " ns per hour, %+" PRId64 " ns per day%s\n",
		       implied, detected, scaled ? "TSC scaled" : "not scaled (within 250 ppm)",
		       adv, err_hour, err_day,
		       err_day ? " (negative: timers fire late)" : " (no drift: nothing to fix here)");
	else
		printf("legacy KVM Xen timer: no model for host %" PRIu64 " kHz, guest %" PRIu32
		       " kHz\n", implied, detected);
	return PVT_EXIT_OK;
}

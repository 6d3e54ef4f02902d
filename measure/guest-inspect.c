// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <time.h>
#include <x86intrin.h>
#include <cpuid.h>

#include "clockns.h"
#include "guest-inspect.h"
#include "pvtime/guestclock.h"
#include "pvtime/hostinfo.h"

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

int guest_inspect(uint32_t override_khz, struct guest_inspect *gi)
{
	const volatile struct pvt_pvclock_page *live;
	struct pvt_pvclock_page *page = &gi->page;
	uintptr_t at;
	int ret, e;

	*gi = (struct guest_inspect){ .detected_khz = override_khz };
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  gi->clocksource, sizeof(gi->clocksource));
	read_line("/sys/devices/system/clocksource/clocksource0/available_clocksource",
		  gi->available, sizeof(gi->available));
	at = vclock_mapping(&e);
	if (!at) {
		snprintf(gi->error, sizeof(gi->error),
			 "no [vvar_vclock] mapping in /proc/self/maps%s%s: not a KVM guest with "
			 "kvm-clock registered (clocksource %s; available: %s)", e ? ": " : "",
			 e ? strerror(e) : "", gi->clocksource, gi->available);
		return e ? -e : -ENOENT;
	}
	live = (const volatile struct pvt_pvclock_page *)at;	/* vCPU 0's page */
	gi->monotonic_ns_before = clock_now_ns(CLOCK_MONOTONIC);
	ret = pvt_pvclock_read(live, read_tsc, NULL, page, &gi->tsc, &gi->ns);
	gi->monotonic_ns_after = clock_now_ns(CLOCK_MONOTONIC);
	gi->boottime_ns = clock_now_ns(CLOCK_BOOTTIME);
	if (ret) {
		snprintf(gi->error, sizeof(gi->error), "the kvmclock page could not be read: %s%s",
			 strerror(-ret), ret == -EINVAL ? " (garbage tsc_shift)" : "");
		return ret;
	}
	if (!page->tsc_to_system_mul) {
		snprintf(gi->error, sizeof(gi->error),
			 "the kvmclock page is empty (mul 0): kvm-clock not enabled on vCPU 0");
		return -ENODATA;
	}

	if (override_khz) {
		gi->detected_khz_source = "--khz";
	} else if (khz_from_kernel_log(&gi->detected_khz, &gi->detected_khz_source)) {
		enum pvt_tsc_khz_source how;

		ret = pvt_host_tsc_khz(&gi->detected_khz, &how);
		if (ret) {
			snprintf(gi->error, sizeof(gi->error), "no TSC frequency: %s", strerror(-ret));
			return ret;
		}
		gi->detected_khz_source = pvt_tsc_khz_source_name(how);
	}
	gi->cpuid_khz = khz_from_cpuid();
	gi->implied_khz = implied_khz(page, &gi->khz_rounded);
	/* How far the page's clock runs from the TSC at the detected rate, in ppb. */
	{
		uint64_t ticks = (uint64_t)gi->detected_khz * 1000 * 3600;
		uint64_t page_ns = pvt_scale_delta(ticks, page->tsc_to_system_mul, page->tsc_shift);

		gi->page_vs_detected_ppb = (int64_t)(page_ns - 3600 * PVT_NSEC_PER_SEC) / 3600;
	}
	/*
	 * tsdrift's model for this configuration: KVM's host kHz is the one the
	 * page encodes (no scaling writes the host's own mul/shift), the vCPU
	 * runs at the detected kHz.
	 */
	gi->error_ns_per_hour = drift_at((uint32_t)gi->implied_khz, gi->detected_khz, 3600,
					 &gi->scaled, &gi->advertised_khz, &gi->model_valid);
	if (gi->model_valid)
		gi->error_ns_per_day = drift_at((uint32_t)gi->implied_khz, gi->detected_khz, 86400,
						&gi->scaled, &gi->advertised_khz, &gi->model_valid);
	return 0;
}

void guest_inspect_json(struct json *j, const struct guest_inspect *gi)
{
	const struct pvt_pvclock_page *page = &gi->page;

	json_string(j, "source", "[vvar_vclock] vCPU 0");
	json_u64(j, "version", page->version);
	json_u64(j, "tsc_timestamp", page->tsc_timestamp);
	json_u64(j, "system_time", page->system_time);
	json_u64(j, "mul", page->tsc_to_system_mul);
	json_i64(j, "shift", page->tsc_shift);
	json_u64(j, "flags", page->flags);
	json_bool(j, "tsc_stable", page->flags & PVT_PVCLOCK_TSC_STABLE);
	json_bool(j, "guest_stopped", page->flags & PVT_PVCLOCK_GUEST_STOPPED);
	json_u64(j, "tsc_now", gi->tsc);
	json_u64(j, "ns_now", gi->ns);
	json_u64(j, "monotonic_ns_before", gi->monotonic_ns_before);
	json_u64(j, "monotonic_ns_after", gi->monotonic_ns_after);
	json_u64(j, "boottime_ns", gi->boottime_ns);
	json_u64(j, "implied_khz", gi->implied_khz);
	json_bool(j, "khz_rounded", gi->khz_rounded);
	json_u64(j, "detected_khz", gi->detected_khz);
	json_string(j, "detected_khz_source", gi->detected_khz_source);
	json_i64(j, "implied_minus_detected_khz", (int64_t)gi->implied_khz - (int64_t)gi->detected_khz);
	json_i64(j, "page_vs_detected_ppb", gi->page_vs_detected_ppb);
	if (gi->cpuid_khz)
		json_u64(j, "cpuid_40000010_khz", gi->cpuid_khz);
	else
		json_null(j, "cpuid_40000010_khz");
	json_string(j, "clocksource", gi->clocksource);
	json_object_begin(j, "legacy_xen_timer");
	json_bool(j, "model_valid", gi->model_valid);
	json_u64(j, "host_khz", gi->implied_khz);
	json_u64(j, "guest_khz", gi->detected_khz);
	json_bool(j, "scaled", gi->scaled);
	json_u64(j, "advertised_khz", gi->advertised_khz);
	json_i64(j, "error_ns_per_hour", gi->error_ns_per_hour);
	json_i64(j, "error_ns_per_day", gi->error_ns_per_day);
	json_object_end(j);
}

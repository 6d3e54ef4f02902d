/* SPDX-License-Identifier: MIT */
/*
 * This KVM guest's own kvmclock, as its hypervisor wrote it. Linux maps the
 * vCPU pvclock pages read-only into every process as [vvar_vclock] when
 * kvm-clock is registered (vCPU 0's page at offset 0); it is read with the
 * version protocol, set against the TSC frequency the kernel detected, and
 * the drift a legacy KVM Xen timer (one-step conversion) would have for this
 * configuration is computed with the same model as `pvtime tsdrift`.
 */
#ifndef PVTIME_MEASURE_GUEST_INSPECT_H
#define PVTIME_MEASURE_GUEST_INSPECT_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"

#include "pvtime/pvclock.h"

struct guest_inspect {
	struct pvt_pvclock_page page;	/* vCPU 0's, a consistent copy */
	uint64_t tsc, ns;		/* the TSC it was read at and the kvmclock ns there */
	uint64_t monotonic_ns_before, monotonic_ns_after, boottime_ns;
	char clocksource[64], available[256];
	uint32_t detected_khz;		/* the TSC kHz the kernel detected (or the override) */
	const char *detected_khz_source;
	uint32_t cpuid_khz;		/* CPUID 0x40000010's, 0 when not offered */
	uint64_t implied_khz;		/* what the page's mul/shift stand for */
	bool khz_rounded;		/* mul/shift are exactly time_scale(1e9, kHz * 1000) */
	int64_t page_vs_detected_ppb;	/* the page's clock against the TSC at the detected rate */
	/* tsdrift's model: host = the page's kHz, guest = the detected kHz */
	bool model_valid, scaled;
	uint64_t advertised_khz;
	int64_t error_ns_per_hour, error_ns_per_day;
	char error[512];		/* why guest_inspect() failed */
};

/*
 * Reads and sets out the page; override_khz (0: detect) replaces the
 * detected TSC kHz. 0, or -errno with gi->error saying why (-ENOENT: not a
 * KVM guest with kvm-clock registered).
 */
int guest_inspect(uint32_t override_khz, struct guest_inspect *gi);

/* The reading as JSON members of j's open object (the keys of `pvtime inspect --json`). */
void guest_inspect_json(struct json *j, const struct guest_inspect *gi);

#endif

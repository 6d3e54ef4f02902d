/* SPDX-License-Identifier: MIT */
/*
 * The Xen timer engine's per-vCPU statistics (struct pvt_xen_vcpu_stats) in
 * the OpenMetrics text format, so a VMM can serve them on its own metrics
 * endpoint. Pure formatting: the library fills the caller's buffer and
 * never prints, allocates or keeps state.
 */
#ifndef PVTIME_METRICS_H
#define PVTIME_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "pvtime/export.h"

PVT_BEGIN_DECLS

struct pvt_xen_vcpu_stats;

/* Label values for one vCPU's metric points; NULL strings are left out. */
struct pvt_metrics_vcpu {
	const struct pvt_xen_vcpu_stats *stats;
	uint32_t vcpu;			/* vcpu="N" */
	const char *algo;		/* "legacy", "kvm", "pvtime" */
	const char *target;		/* e.g. "vmm" */
	const char *guest_clock;	/* e.g. "kvm", "xen" */
	const char *vm;			/* the VMM's name for the VM */
};

/* Append "# EOF" (a complete exposition); without it the text can be concatenated. */
#define PVT_METRICS_EOF		1u

/*
 * Writes the counter families pvtime_xen_<field>_total (one per statistics
 * field, each with TYPE and HELP) with one point per entry of v[0..n) into
 * buf (at most len bytes, always NUL-terminated when len > 0). Returns the
 * length the whole text needs, without the NUL, as snprintf does (a result
 * >= len means truncated); -EINVAL for NULL v/stats, n 0 or unknown flags.
 */
PVT_API int pvt_metrics_xen_vcpus(char *buf, size_t len, const struct pvt_metrics_vcpu *v,
				  size_t n, unsigned flags);

/* One vCPU: pvt_metrics_xen_vcpus(buf, len, v, 1, flags). */
PVT_API int pvt_metrics_xen_vcpu(char *buf, size_t len, const struct pvt_metrics_vcpu *v,
				 unsigned flags);

PVT_END_DECLS

#endif

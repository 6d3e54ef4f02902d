// SPDX-License-Identifier: MIT
/*
 * struct pvt_pvclock_page against Xen's own struct vcpu_time_info from the
 * public header (libxen-dev). Skips (77) where the header is not installed.
 */
#include <stddef.h>
#include <stdio.h>

#include "pvtime/pvclock.h"

#if defined(__has_include)
#if __has_include(<xen/xen.h>)
#define HAVE_XEN_H 1
#endif
#endif

#ifdef HAVE_XEN_H
/* vcpu_time_info.flags exists only for interface versions > 0x040600. */
#define __XEN_INTERFACE_VERSION__ 0x00040700
#include <xen/xen.h>

#define SAME_FIELD(ours, theirs)                                                  \
	do {                                                                      \
		size_t o = offsetof(struct pvt_pvclock_page, ours);               \
		size_t t = offsetof(struct vcpu_time_info, theirs);               \
		size_t os = sizeof(((struct pvt_pvclock_page *)0)->ours);         \
		size_t ts = sizeof(((struct vcpu_time_info *)0)->theirs);         \
		if (o != t || os != ts) {                                         \
			fprintf(stderr, "FAIL %s: pvtime offset %zu size %zu, Xen %s offset %zu size %zu\n", \
				#ours, o, os, #theirs, t, ts);                    \
			failures++;                                               \
		} else {                                                          \
			printf("ok %-18s offset %2zu size %zu\n", #ours, o, os);  \
		}                                                                 \
	} while (0)

int main(void)
{
	int failures = 0;

	SAME_FIELD(version, version);
	SAME_FIELD(pad0, pad0);
	SAME_FIELD(tsc_timestamp, tsc_timestamp);
	SAME_FIELD(system_time, system_time);
	SAME_FIELD(tsc_to_system_mul, tsc_to_system_mul);
	SAME_FIELD(tsc_shift, tsc_shift);
	SAME_FIELD(flags, flags);
	SAME_FIELD(pad, pad1);
	if (sizeof(struct pvt_pvclock_page) != sizeof(struct vcpu_time_info)) {
		fprintf(stderr, "FAIL size: pvtime %zu, Xen %zu\n",
			sizeof(struct pvt_pvclock_page), sizeof(struct vcpu_time_info));
		failures++;
	}
	if (PVT_PVCLOCK_TSC_STABLE != XEN_PVCLOCK_TSC_STABLE_BIT ||
	    PVT_PVCLOCK_GUEST_STOPPED != XEN_PVCLOCK_GUEST_STOPPED) {
		fprintf(stderr, "FAIL flags: pvtime %u/%u, Xen %u/%u\n",
			PVT_PVCLOCK_TSC_STABLE, PVT_PVCLOCK_GUEST_STOPPED,
			(unsigned)XEN_PVCLOCK_TSC_STABLE_BIT, (unsigned)XEN_PVCLOCK_GUEST_STOPPED);
		failures++;
	}
	printf("%s: layout %s Xen's vcpu_time_info (%zu bytes)\n", failures ? "FAIL" : "PASS",
	       failures ? "differs from" : "matches", sizeof(struct vcpu_time_info));
	return failures ? 1 : 0;
}
#else
int main(void)
{
	printf("SKIP: <xen/xen.h> not found (install libxen-dev to compare with Xen's vcpu_time_info)\n");
	return 77;
}
#endif

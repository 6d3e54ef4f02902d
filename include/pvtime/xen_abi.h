/* SPDX-License-Identifier: MIT */
/*
 * The Xen timer ABI as a guest sees it: hypercall and VCPUOP numbers, the
 * VIRQ, the limits Xen applies and the argument structs in guest memory
 * (x86-64 layout). Freestanding: needs only <stdint.h>, so VMM code and
 * guest code (no libc) can share it. Values from Xen's public headers
 * (xen.h, vcpu.h), written down here from their documented meaning.
 */
#ifndef PVTIME_XEN_ABI_H
#define PVTIME_XEN_ABI_H

#include <stdint.h>

#define PVT_XEN_HYPERVISOR_set_timer_op		15
#define PVT_XEN_HYPERVISOR_vcpu_op		24
#define PVT_XEN_VCPUOP_set_periodic_timer	6
#define PVT_XEN_VCPUOP_stop_periodic_timer	7
#define PVT_XEN_VCPUOP_set_singleshot_timer	8
#define PVT_XEN_VCPUOP_stop_singleshot_timer	9
/* set_singleshot flag: fail with -ETIME if the deadline has passed (old Xen only). */
#define PVT_XEN_VCPU_SSHOTTMR_future		1u
#define PVT_XEN_VIRQ_TIMER			0
/* Shortest period Xen accepts (1 ms) and the largest delta it represents. */
#define PVT_XEN_PERIOD_MIN_NS			1000000ull
#define PVT_XEN_STIME_DELTA_MAX			((1ull << 62) - 1)

/* VCPUOP_set_singleshot_timer's argument (16 bytes; a 32-bit guest passes 12). */
struct pvt_xen_singleshot_arg {
	uint64_t timeout_abs_ns;	/* guest-clock deadline */
	uint32_t flags;			/* PVT_XEN_VCPU_SSHOTTMR_* */
	uint32_t pad;
};

/* VCPUOP_set_periodic_timer's argument. */
struct pvt_xen_periodic_arg {
	uint64_t period_ns;
};

#endif

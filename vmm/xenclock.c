// SPDX-License-Identifier: MIT
/*
 * The VMM's own Xen vcpu_time_info (what a VMM emulating Xen publishes),
 * for Bug 1 on a host without TSC scaling: an advertised frequency that
 * need not be the TSC's (--advertise-khz, e.g. one kHz low as KVM's rounded
 * scaled frequency is) and a reference point uptime_s in the past. The
 * guest reads this page instead of its kvmclock; legacy's one-step model
 * converts from the same reference with the host's true mul/shift, so its
 * error grows with uptime exactly as the seed describes.
 */
#include <errno.h>
#include <string.h>

#include "vmm-internal.h"

int vmm__xenclock_publish(struct vmm *vm)
{
	/* Default: one kHz low, the rounding a TSC-scaled KVM guest sees. */
	uint32_t khz = vm->cfg.advertise_khz ? vm->cfg.advertise_khz : vm->tsc_khz - 1;
	uint64_t back_tsc, ref_host_tsc;
	uint32_t mul;
	int8_t shift;
	int ret;

	if (pvt_time_scale(PVT_NSEC_PER_SEC, (uint64_t)khz * 1000, &mul, &shift))
		return vmm__fail(vm, -EINVAL, "advertise-khz %u has no mul/shift", khz);
	if (vm->cfg.uptime_s > UINT64_MAX / 1000 / vm->tsc_khz)
		return vmm__fail(vm, -ERANGE, "uptime %llu s overflows the TSC",
				 (unsigned long long)vm->cfg.uptime_s);
	vm->cfg.advertise_khz = khz;	/* report what was published */
	back_tsc = vm->cfg.uptime_s * vm->tsc_khz * 1000;
	ref_host_tsc = vmm__rdtsc() - back_tsc;	/* mod 2^64, as the page's delta is */

	/* Legacy's one-step: same reference, the host's own mul/shift. */
	vm->legacy_model.master_tsc = ref_host_tsc;
	vm->legacy_model.master_ns = 0;
	vm->legacy_model.kvmclock_offset_ns = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		uint64_t offset;

		ret = vcpu__get_tsc_offset(&vm->vcpus[i], &offset);
		if (ret)
			return vmm__fail(vm, ret, "vCPU %u: KVM_VCPU_TSC_OFFSET: %s", i,
					 strerror(-ret));
		vm->xen_page[i] = (struct pvt_pvclock_page){
			.version = 2,
			.tsc_timestamp = ref_host_tsc + offset,
			.system_time = 0,
			.tsc_to_system_mul = mul,
			.tsc_shift = shift,
			.flags = PVT_PVCLOCK_TSC_STABLE,
		};
		vm->vcpus[i].oracle.model_page = vm->xen_page[i];
		vm->vcpus[i].oracle.model_valid = true;
	}
	return 0;
}

// SPDX-License-Identifier: MIT
/*
 * The soak's save/restore round trips: at random exits, on the vCPU's own
 * thread, the vCPU's timer state goes through pvt_xen_vcpu_save() and
 * straight back through pvt_xen_vcpu_restore(), as a migration to the same
 * host would. The guest (guest/hostile.c, soak) checks every expiry
 * against what it armed, so a round trip that lost, doubled or advanced a
 * timer shows there.
 *
 * Why at an exit of the vCPU's own thread: the guest is out of guest mode
 * and no hypercall of its own is in flight, and in the soak (an idle guest,
 * no upcall vector, no cross-vCPU calls) no other thread calls the engine
 * on this vCPU, so nothing changes its timers between the save and the
 * restore. Expiries already recorded are taken into the page first: a
 * blob saved with one pending would come back as PVT_XEN_FIRED_RESTORED,
 * which no longer says whether it was the singleshot or the periodic one.
 */
#include <errno.h>
#include <string.h>

#include "vmm-internal.h"

/*
 * xorshift64* (shifts 12, 25, 27, then this odd output multiplier): cheap,
 * and fine for choosing which exits a save+restore round trip hits.
 */
#define XORSHIFT64STAR_MUL	2685821657736338717ull
/* XORed into --seed so 0 and small seeds start with many bits set (any such constant would do). */
#define SEED_MIX		0x5851f42d4c957f2dull

static uint64_t next_rng(struct vmm_vcpu *vcpu)
{
	uint64_t x = vcpu->soak_rng;

	if (!x)
		x = (vcpu->vm->cfg.seed ^ SEED_MIX) * (vcpu->id + 3) | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	vcpu->soak_rng = x;
	return x * XORSHIFT64STAR_MUL;
}

int vcpu__soak_exit(struct vmm_vcpu *vcpu)
{
	uint8_t blob[PVT_XEN_BLOB_SIZE];
	int n, ret;

	if (next_rng(vcpu) % 1000 >= vcpu->vm->cfg.roundtrip_per_mille)
		return 0;
	vcpu__take_expiries(vcpu);
	n = pvt_xen_vcpu_save(vcpu->xen, blob, sizeof(blob));
	if (n < 0)
		return vcpu__fail(vcpu, n, "soak: saving vCPU %u's timers: %s", vcpu->id,
				  strerror(-n));
	ret = pvt_xen_vcpu_restore(vcpu->xen, blob, (size_t)n);
	/* A deadline that passed meanwhile is recorded by the restore: deliver it. */
	vcpu__take_expiries(vcpu);
	if (ret == -EINVAL || ret == -EBADMSG || ret == -EPROTO || ret == -EMSGSIZE)
		return vcpu__fail(vcpu, ret, "soak: vCPU %u's own blob was refused on restore: %s",
				  vcpu->id, strerror(-ret));
	if (ret)
		return vcpu__check_host_timer(vcpu, vcpu, ret);
	vcpu->res.roundtrips++;
	return 0;
}

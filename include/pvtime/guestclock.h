/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's clock as the guest computes it (host TSC -> guest TSC -> ns), and
 * KVM's model of how it builds that clock for a VM (master clock, per-vCPU
 * TSC scaling, the page it writes, the legacy one-step conversion).
 *
 * Freestanding like pvclock.h. Errors are negative errno values.
 */
#ifndef PVTIME_GUESTCLOCK_H
#define PVTIME_GUESTCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "pvtime/export.h"
#include "pvtime/pvclock.h"

PVT_BEGIN_DECLS

/* How one vCPU's TSC derives from the host TSC. */
struct pvt_tsc_scaling {
	uint64_t ratio;		/* frac_bits fixed point; pvt_tsc_ratio_one() = unscaled */
	uint64_t offset;	/* added after scaling, mod 2^64 */
	uint8_t frac_bits;	/* 48 (VMX) or 32 (SVM) */
};

/* The guest TSC at a host TSC: ((host_tsc * ratio) >> frac_bits) + offset. */
static inline uint64_t pvt_guest_tsc(const struct pvt_tsc_scaling *tsc,
				     uint64_t host_tsc)
{
	return pvt_tsc_scale(host_tsc, tsc->ratio, tsc->frac_bits) + tsc->offset;
}

/* A vCPU's clock exactly as the guest reads it: its TSC and its pvclock page. */
struct pvt_guest_clock {
	struct pvt_tsc_scaling tsc;	/* host TSC -> guest TSC */
	struct pvt_pvclock_page page;	/* guest TSC -> guest ns (a snapshot) */
};

/* -EINVAL if frac_bits, ratio (0) or the page's shift make the clock unusable. */
PVT_API int pvt_guest_clock_check(const struct pvt_guest_clock *clock);

/* Guest ns at a host TSC, computed in two steps exactly as the guest does. */
static inline uint64_t pvt_guest_clock_ns(const struct pvt_guest_clock *clock,
					  uint64_t host_tsc)
{
	return pvt_pvclock_ns(&clock->page, pvt_guest_tsc(&clock->tsc, host_tsc));
}

/*
 * The first host TSC >= now_host_tsc at which the guest clock reaches
 * deadline_ns. One rule for every tsc_shift: with wait = deadline_ns - clock
 * at now (mod 2^64), wait 0 or >= 2^63 (at or before now) gives now_host_tsc;
 * otherwise a reading reaches the deadline when reading - clock at now (mod
 * 2^64) is in [wait, 2^63). Let k be the first guest TSC tick, within 2^64 - 1
 * ticks after now's, whose reading reaches it (the shifted delta may wrap on
 * the way); the answer is the first host TSC whose guest TSC is at or past k.
 * -ERANGE, *host_tsc = UINT64_MAX, when the clock skips the deadline: there is
 * no k (it jumps from before the deadline to now + 2^63 or later, or wraps back
 * first), no 64-bit host TSC gets to k, or that host TSC's reading does not
 * reach it (a guest TSC faster than the host steps over k's reaching ticks).
 * An answer is always the first host TSC whose reading reaches the deadline.
 * The clock must pass pvt_guest_clock_check().
 */
PVT_API int pvt_guest_clock_host_tsc_at(const struct pvt_guest_clock *clock,
					uint64_t now_host_tsc, uint64_t deadline_ns,
					uint64_t *host_tsc);

/* ---- KVM's side: how it builds each vCPU's clock ---- */

/* One VM's kvmclock as KVM keeps it: the master clock reference pair. */
struct pvt_kvm_clock {
	uint32_t host_khz;		/* host TSC frequency KVM believes */
	uint8_t frac_bits;		/* TSC scaling width of this host */
	uint64_t master_tsc;		/* host TSC at the reference point */
	uint64_t master_ns;		/* host kvmclock-base ns at master_tsc */
	int64_t kvmclock_offset_ns;	/* guest kvmclock - host base ns */
	uint32_t host_mul;		/* time_scale(1e9, host_khz * 1000) */
	int8_t host_shift;
};

/* Sets up a VM's clock with master_tsc = master_ns = offset = 0. -EINVAL on bad input. */
PVT_API int pvt_kvm_clock_init(struct pvt_kvm_clock *kvm, uint32_t host_khz,
			       unsigned frac_bits);

/* True when KVM would scale a guest_khz vCPU: outside +-250 ppm of host_khz. */
PVT_API bool pvt_kvm_scaling_needed(uint32_t host_khz, uint32_t guest_khz);

/*
 * The TSC scaling KVM gives a vCPU that asked for guest_khz (ratio one when
 * within tolerance) plus its TSC offset. -EINVAL / -ERANGE on bad input.
 */
PVT_API int pvt_kvm_tsc_scaling(const struct pvt_kvm_clock *kvm, uint32_t guest_khz,
				uint64_t tsc_offset, struct pvt_tsc_scaling *tsc);

/* The kHz KVM advertises in the page: host_khz scaled by the ratio (often guest_khz - 1). */
PVT_API uint64_t pvt_kvm_advertised_khz(const struct pvt_kvm_clock *kvm,
					const struct pvt_tsc_scaling *tsc);

/*
 * The clock KVM gives a vCPU: its scaling plus the page KVM writes at the
 * master clock (version 2, TSC_STABLE). -ERANGE if the advertised frequency
 * has no valid mul/shift.
 */
PVT_API int pvt_kvm_guest_clock(const struct pvt_kvm_clock *kvm,
				const struct pvt_tsc_scaling *tsc,
				struct pvt_guest_clock *clock);

/* Legacy get_kvmclock_ns(): host TSC -> ns in one step with the host's mul/shift. */
static inline uint64_t pvt_kvm_clock_legacy_ns(const struct pvt_kvm_clock *kvm,
					       uint64_t host_tsc)
{
	return kvm->master_ns + (uint64_t)kvm->kvmclock_offset_ns +
	       pvt_scale_delta(host_tsc - kvm->master_tsc, kvm->host_mul,
			       kvm->host_shift);
}

PVT_END_DECLS

#endif

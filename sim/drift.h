/* SPDX-License-Identifier: MIT */
/*
 * The drift model behind `pvtime tsdrift` (docs/design.md, "The two bugs"):
 * how far KVM's legacy one-step host TSC -> ns conversion drifts from the
 * guest's own two-step clock as uptime grows, and how far the guest clock
 * runs from true host time because of KVM's kHz rounding. Exact: every
 * figure comes from libpvtime's conversions, no floating point.
 */
#ifndef PVTIME_SIM_DRIFT_H
#define PVTIME_SIM_DRIFT_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"

#include "pvtime/guestclock.h"

/* The most rows one table may have (--duration / --step). */
#define DRIFT_MAX_ROWS	10000000ull

struct drift {
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;
	uint64_t duration_s, step_s;
};

/* One row of the table: elapsed_s .. error_ns are the CSV contract's columns. */
struct drift_row {
	uint64_t elapsed_s, host_tsc, guest_tsc, kvmclock_ns, onestep_ns;
	int64_t error_ns;
	uint64_t true_ns;		/* (host_tsc - M) * 10^6 / H: true time since the reference */
	int64_t guest_minus_true_ns;	/* the guest clock's own rate error (kHz rounding) */
};

/*
 * The VM KVM would build for host_khz/guest_khz/frac_bits with its master
 * clock at master_tsc, checked so that every row up to duration_s fits 64
 * bits. 0, or -EINVAL/-ERANGE with error naming the option at fault
 * ("--guest-khz: ...").
 */
int drift_init(struct drift *d, uint32_t host_khz, uint32_t guest_khz, unsigned frac_bits,
	       uint64_t master_tsc, uint64_t duration_s, uint64_t step_s, char *error, size_t len);

/* The row elapsed_s seconds after the master clock reference. */
struct drift_row drift_row_at(const struct drift *d, uint64_t elapsed_s);

/* Whether KVM scales this guest's TSC (its kHz is outside +-250 ppm of the host's). */
bool drift_scaled(const struct drift *d);

/* Every row and the final figures as JSON members of j's open object (`pvtime tsdrift --json`). */
void drift_json(struct json *j, const struct drift *d, uint32_t guest_khz);

/*
 * OpenMetrics families into om: a gauge point per row (label uptime_seconds)
 * for the one-step error and the guest clock's offset from true time, in
 * seconds, and the advertised frequency in Hz.
 */
struct om;
void drift_openmetrics(struct om *om, const struct drift *d, uint32_t guest_khz);

#endif

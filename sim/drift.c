// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "drift.h"
#include "openmetrics.h"

struct drift_row drift_row_at(const struct drift *d, uint64_t elapsed_s)
{
	struct drift_row r = { .elapsed_s = elapsed_s };

	r.host_tsc = d->kvm.master_tsc + elapsed_s * d->kvm.host_khz * 1000;
	r.guest_tsc = pvt_guest_tsc(&d->tsc, r.host_tsc);
	r.kvmclock_ns = pvt_guest_clock_ns(&d->clock, r.host_tsc);
	r.onestep_ns = pvt_kvm_clock_legacy_ns(&d->kvm, r.host_tsc);
	r.error_ns = (int64_t)(r.onestep_ns - r.kvmclock_ns);
	/* elapsed_s * H * 1000 ticks at H kHz are exactly elapsed_s seconds. */
	r.true_ns = elapsed_s * PVT_NSEC_PER_SEC;
	r.guest_minus_true_ns = (int64_t)(r.kvmclock_ns - r.true_ns);
	return r;
}

bool drift_scaled(const struct drift *d)
{
	return d->tsc.ratio != pvt_tsc_ratio_one(d->tsc.frac_bits);
}

/* True if (delta << shift) would wrap, making scale_delta meaningless. */
static bool shift_wraps(uint64_t delta, int shift)
{
	return shift > 0 && (delta >> (64 - shift));
}

/* Whether the TSC and ns values stay within 64 bits up to the last row. */
static int check_range(const struct drift *d, char *error, size_t len)
{
	const uint64_t h = d->kvm.host_khz;
	unsigned __int128 ticks = (unsigned __int128)d->duration_s * h * 1000;
	unsigned __int128 last = ticks + d->kvm.master_tsc, guest_full;

	if (ticks >> 64 || last >> 64)
		return snprintf(error, len, "--duration: host TSC %s + %" PRIu64 " s x %" PRIu64
				" kHz would pass 2^64", d->kvm.master_tsc ? "--master-tsc" : "0",
				d->duration_s, h), -ERANGE;
	if ((unsigned __int128)d->duration_s * PVT_NSEC_PER_SEC >> 64)
		return snprintf(error, len, "--duration: %" PRIu64 " s in ns would pass 2^64",
				d->duration_s), -ERANGE;
	guest_full = ((last & UINT64_MAX) * (unsigned __int128)d->tsc.ratio) >> d->tsc.frac_bits;
	if (guest_full >> 64)
		return snprintf(error, len, "--duration: the guest TSC at %" PRIu64 " s would pass 2^64",
				d->duration_s), -ERANGE;
	if (shift_wraps((uint64_t)ticks, d->kvm.host_shift) ||
	    shift_wraps((uint64_t)guest_full - d->clock.page.tsc_timestamp, d->clock.page.tsc_shift))
		return snprintf(error, len, "--duration: the ns value at %" PRIu64 " s would overflow 64 bits",
				d->duration_s), -ERANGE;
	if (d->duration_s / d->step_s >= DRIFT_MAX_ROWS)
		return snprintf(error, len, "--step: %" PRIu64 " s gives more than %llu rows over %" PRIu64 " s",
				d->step_s, DRIFT_MAX_ROWS, d->duration_s), -ERANGE;
	return 0;
}

int drift_init(struct drift *d, uint32_t host_khz, uint32_t guest_khz, unsigned frac_bits,
	       uint64_t master_tsc, uint64_t duration_s, uint64_t step_s, char *error, size_t len)
{
	*d = (struct drift){ .duration_s = duration_s, .step_s = step_s };
	if (!step_s)
		return snprintf(error, len, "--step: must not be 0"), -EINVAL;
	if (pvt_kvm_clock_init(&d->kvm, host_khz, frac_bits))
		return snprintf(error, len, "--host-khz: %" PRIu32 " kHz has no valid mul/shift",
				host_khz), -EINVAL;
	d->kvm.master_tsc = master_tsc;
	if (pvt_kvm_tsc_scaling(&d->kvm, guest_khz, 0, &d->tsc))
		return snprintf(error, len, "--guest-khz: %" PRIu32 " kHz cannot be scaled from %" PRIu32
				" kHz", guest_khz, host_khz), -EINVAL;
	if (pvt_kvm_guest_clock(&d->kvm, &d->tsc, &d->clock))
		return snprintf(error, len, "--guest-khz: KVM would advertise %" PRIu64
				" kHz, which has no mul/shift", pvt_kvm_advertised_khz(&d->kvm, &d->tsc)),
		       -EINVAL;
	return check_range(d, error, len);
}

void drift_json(struct json *j, const struct drift *d, uint32_t guest_khz)
{
	struct drift_row last = drift_row_at(d, d->duration_s - d->duration_s % d->step_s);

	json_u64(j, "host_khz", d->kvm.host_khz);
	json_u64(j, "guest_khz", guest_khz);
	json_u64(j, "frac_bits", d->tsc.frac_bits);
	json_u64(j, "master_tsc", d->kvm.master_tsc);
	json_u64(j, "duration_s", d->duration_s);
	json_u64(j, "step_s", d->step_s);
	json_bool(j, "scaling", drift_scaled(d));
	json_u64(j, "ratio", d->tsc.ratio);
	json_u64(j, "advertised_khz", pvt_kvm_advertised_khz(&d->kvm, &d->tsc));
	json_u64(j, "guest_mul", d->clock.page.tsc_to_system_mul);
	json_i64(j, "guest_shift", d->clock.page.tsc_shift);
	json_u64(j, "host_mul", d->kvm.host_mul);
	json_i64(j, "host_shift", d->kvm.host_shift);
	json_array_begin(j, "rows");
	for (uint64_t e = 0; e <= d->duration_s; e += d->step_s) {
		struct drift_row r = drift_row_at(d, e);

		json_object_begin(j, NULL);
		json_u64(j, "elapsed_s", e);
		json_u64(j, "host_tsc", r.host_tsc);
		json_u64(j, "guest_tsc", r.guest_tsc);
		json_u64(j, "kvmclock_ns", r.kvmclock_ns);
		json_u64(j, "onestep_ns", r.onestep_ns);
		json_i64(j, "error_ns", r.error_ns);
		json_u64(j, "true_ns", r.true_ns);
		json_i64(j, "guest_minus_true_ns", r.guest_minus_true_ns);
		json_i64(j, "onestep_minus_true_ns", (int64_t)(r.onestep_ns - r.true_ns));
		json_object_end(j);
		if (d->duration_s - e < d->step_s)
			break;
	}
	json_array_end(j);
	json_object_begin(j, "final");
	json_u64(j, "elapsed_s", last.elapsed_s);
	json_i64(j, "error_ns", last.error_ns);
	json_i64(j, "guest_minus_true_ns", last.guest_minus_true_ns);
	json_double(j, "guest_rate_ppm", last.true_ns ? (double)last.guest_minus_true_ns * 1e6 / (double)last.true_ns : 0);
	json_object_end(j);
}

static void om_labels(struct om *om, const struct drift *d, uint32_t guest_khz)
{
	fprintf(om->f, "{algo=\"legacy\",target=\"model\",guest_clock=\"kvm\",host_khz=\"%" PRIu32
		"\",guest_khz=\"%" PRIu32 "\",frac_bits=\"%u\"", d->kvm.host_khz, guest_khz,
		(unsigned)d->tsc.frac_bits);
}

/* One gauge family with a point per uptime row; guest_minus_true picks the column. */
static void om_rows(struct om *om, const struct drift *d, uint32_t guest_khz,
		    const char *name, const char *help, bool guest_minus_true)
{
	om_family(om, name, "gauge", "seconds", help);
	for (uint64_t e = 0; e <= d->duration_s; e += d->step_s) {
		struct drift_row r = drift_row_at(d, e);

		fputs(name, om->f);
		om_labels(om, d, guest_khz);
		fprintf(om->f, ",uptime_seconds=\"%" PRIu64 "\"} ", e);
		om_seconds(om->f, guest_minus_true ? r.guest_minus_true_ns : r.error_ns);
		fputc('\n', om->f);
		if (d->duration_s - e < d->step_s)
			break;
	}
}

void drift_openmetrics(struct om *om, const struct drift *d, uint32_t guest_khz)
{
	om_rows(om, d, guest_khz, "pvtime_tsdrift_error_seconds",
		"legacy one-step conversion minus the guest's two-step clock (negative: timers fire late)",
		false);
	om_rows(om, d, guest_khz, "pvtime_tsdrift_guest_minus_true_seconds",
		"the guest clock minus true host time (KVM advertises a kHz-rounded rate)", true);
	om_family(om, "pvtime_tsdrift_advertised_hertz", "gauge", "hertz",
		  "the TSC frequency the guest's pvclock page encodes");
	fputs("pvtime_tsdrift_advertised_hertz", om->f);
	om_labels(om, d, guest_khz);
	fprintf(om->f, "} %" PRIu64 "\n", pvt_kvm_advertised_khz(&d->kvm, &d->tsc) * 1000);
}

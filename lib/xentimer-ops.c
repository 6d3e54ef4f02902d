// SPDX-License-Identifier: MIT
/*
 * The Xen timer hypercalls: __HYPERVISOR_set_timer_op and the VCPUOP timer
 * commands, with Xen >= 4.18's argument checks and error codes.
 */
#include <errno.h>
#include <string.h>

#include "xentimer-internal.h"

/* The guest's result; the host status is what the call returns. */
static int result(int64_t *guest_ret, int64_t guest, int host)
{
	if (guest_ret)
		*guest_ret = guest;
	return host;
}

int pvt_xen_set_timer_op(struct pvt_xen_vcpu *v, uint64_t deadline_ns, int64_t *guest_ret)
{
	struct xt_saved saved;
	uint64_t now;
	int64_t delta;

	xt_lock(v);
	xt_save(v, &saved);
	if (!deadline_ns) {
		v->singleshot.armed = false;
		return result(guest_ret, 0, xt_finish(v, &saved, xt_program(v)));
	}
	/*
	 * Linux once programmed wrapped (negative) or absurdly far deadlines;
	 * Xen and KVM turn those into 100 ms rather than never or at once.
	 * Without a known clock there is no "now": the deadline is kept.
	 */
	if (v->vm->cfg.linux_workaround && !xt_guest_now(v, &now)) {
		delta = (int64_t)(deadline_ns - now);
		if ((int64_t)deadline_ns < 0 ||
		    (delta > 0 && ((uint64_t)delta >> PVT_XEN_WORKAROUND_SHIFT)))
			deadline_ns = now + PVT_XEN_WORKAROUND_DELAY_NS;
	}
	return result(guest_ret, 0, xt_finish(v, &saved, xt_singleshot_arm(v, deadline_ns, true)));
}

int pvt_xen_set_singleshot(struct pvt_xen_vcpu *v, uint64_t deadline_ns,
			   uint32_t flags, int64_t *guest_ret)
{
	struct xt_saved saved;
	uint64_t now;

	xt_lock(v);
	xt_save(v, &saved);
	/* Only the explicit old-Xen option honours VCPU_SSHOTTMR_future. */
	if (v->vm->cfg.strict_future && (flags & PVT_XEN_VCPU_SSHOTTMR_future) &&
	    ((int64_t)deadline_ns < 0 ||
	     (!xt_guest_now(v, &now) && (int64_t)(deadline_ns - now) < 0))) {
		xt_unlock(v);
		return result(guest_ret, -ETIME, 0);
	}
	return result(guest_ret, 0, xt_finish(v, &saved, xt_singleshot_arm(v, deadline_ns, true)));
}

int pvt_xen_stop_singleshot(struct pvt_xen_vcpu *v, int64_t *guest_ret)
{
	struct xt_saved saved;

	xt_lock(v);
	xt_save(v, &saved);
	v->singleshot.armed = false;
	/* Fails only if the periodic timer, now the earliest, cannot be armed. */
	return result(guest_ret, 0, xt_finish(v, &saved, xt_program(v)));
}

int pvt_xen_set_periodic(struct pvt_xen_vcpu *v, uint64_t period_ns, int64_t *guest_ret)
{
	struct xt_saved saved;
	uint64_t now;

	if (period_ns < PVT_XEN_PERIOD_MIN_NS || period_ns > PVT_XEN_STIME_DELTA_MAX)
		return result(guest_ret, -EINVAL, 0);
	xt_lock(v);
	xt_save(v, &saved);
	v->period_ns = period_ns;
	v->periodic.armed = true;
	v->periodic.converted = false;
	/* 0 = not phased yet: set_guest_clock starts it at now + period. */
	v->periodic.deadline_ns = xt_guest_now(v, &now) ? 0 : now + period_ns;
	return result(guest_ret, 0, xt_finish(v, &saved, xt_settle(v, true)));
}

int pvt_xen_stop_periodic(struct pvt_xen_vcpu *v, int64_t *guest_ret)
{
	struct xt_saved saved;

	xt_lock(v);
	xt_save(v, &saved);
	v->period_ns = 0;
	v->periodic.armed = false;
	v->periodic.deadline_ns = 0;
	/* Fails only if the singleshot, now the earliest, cannot be armed. */
	return result(guest_ret, 0, xt_finish(v, &saved, xt_program(v)));
}

int pvt_xen_vcpu_op(struct pvt_xen_vcpu *caller, struct pvt_xen_vcpu *target,
		    int cmd, const void *arg, size_t arg_len, int64_t *guest_ret)
{
	struct pvt_xen_singleshot_arg ss;
	struct pvt_xen_periodic_arg per;

	if (!target)
		return result(guest_ret, -ENOENT, 0);
	switch (cmd) {
	case PVT_XEN_VCPUOP_set_periodic_timer:
		if (!arg || arg_len < sizeof(per))
			return result(guest_ret, -EFAULT, 0);
		memcpy(&per, arg, sizeof(per));
		return pvt_xen_set_periodic(target, per.period_ns, guest_ret);
	case PVT_XEN_VCPUOP_stop_periodic_timer:
		return pvt_xen_stop_periodic(target, guest_ret);
	case PVT_XEN_VCPUOP_set_singleshot_timer:
		if (caller != target)
			return result(guest_ret, -EINVAL, 0);
		/* The 32-bit ABI's struct is 12 bytes: accept that much. */
		if (!arg || arg_len < 12)
			return result(guest_ret, -EFAULT, 0);
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, arg, arg_len < sizeof(ss) ? arg_len : sizeof(ss));
		return pvt_xen_set_singleshot(target, ss.timeout_abs_ns, ss.flags, guest_ret);
	case PVT_XEN_VCPUOP_stop_singleshot_timer:
		if (caller != target)
			return result(guest_ret, -EINVAL, 0);
		return pvt_xen_stop_singleshot(target, guest_ret);
	default:
		return result(guest_ret, -ENOSYS, 0);
	}
}

int pvt_xen_vcpu_op_arg_size(int cmd, size_t *len)
{
	switch (cmd) {
	case PVT_XEN_VCPUOP_set_periodic_timer:
		*len = sizeof(struct pvt_xen_periodic_arg);
		return 0;
	case PVT_XEN_VCPUOP_set_singleshot_timer:
		*len = sizeof(struct pvt_xen_singleshot_arg);
		return 0;
	case PVT_XEN_VCPUOP_stop_periodic_timer:
	case PVT_XEN_VCPUOP_stop_singleshot_timer:
		*len = 0;
		return 0;
	default:
		return -ENOSYS;
	}
}

const char *pvt_timer_algo_name(enum pvt_timer_algo algo)
{
	switch (algo) {
	case PVT_ALGO_LEGACY:
		return "legacy";
	case PVT_ALGO_KVM:
		return "kvm";
	case PVT_ALGO_PVTIME:
		return "pvtime";
	}
	return "?";
}

int pvt_timer_algo_parse(const char *name, enum pvt_timer_algo *algo)
{
	static const enum pvt_timer_algo all[] = {
		PVT_ALGO_LEGACY, PVT_ALGO_KVM, PVT_ALGO_PVTIME,
	};

	for (unsigned i = 0; name && i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strcmp(name, pvt_timer_algo_name(all[i]))) {
			*algo = all[i];
			return 0;
		}
	}
	return -EINVAL;
}

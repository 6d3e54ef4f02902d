// SPDX-License-Identifier: MIT
/*
 * Fuzzes saved-state restore: arbitrary bytes (raw, or with a forged valid
 * header and checksum so the range checks are reached) into
 * pvt_xen_vcpu_restore, and fuzzed KVM timer attributes into
 * pvt_xen_vcpu_import_kvm, on a simulated VM in a fuzzed prior state.
 * A rejected blob must leave the vCPU byte-identical (state, stats, saved
 * blob) and record nothing; an accepted one must round trip through
 * save/restore unchanged; import/export must agree. What is recorded is
 * left for the (absent) VMM to take, so pending expiries travel in blobs;
 * the host timer's wake-ups are served (and taken) as a VMM loop would.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_xentimer_vm.h"

struct ctx {
	struct fz_vm *f;
	uint64_t delivered;
};

/* Expiries recorded on vCPU 0 so far (the engine's own count). */
static uint64_t recorded(struct ctx *x)
{
	struct pvt_xen_vcpu_stats st;

	pvt_xen_vcpu_get_stats(x->f->vcpus[0], &st, sizeof(st));
	return st.delivered;
}

/* Puts the vCPU in some state: clock or not, timers, pending, time passed. */
static void prior_state(struct fz_vm *f, struct pvt_xen_vcpu *v, struct fz_in *in)
{
	uint8_t sel = fz_u8(in);
	uint64_t now = 0;

	if (sel & 1)
		(void)pvt_xen_vcpu_set_guest_clock(v, &f->clock);
	(void)pvt_xen_vcpu_guest_now(v, &now);
	if (sel & 2)
		(void)fz_set_periodic(f, v, PVT_XEN_PERIOD_MIN_NS + fz_take(in, 4));
	if (sel & 4)
		(void)fz_set_singleshot(f, v, now + fz_take(in, 5), 0);
	if (sel & 8)
		pvt_simhost_run_until(f->sim, f->sim->true_ns + fz_take(in, 3) * 64);
	if (sel & 16) {
		struct pvt_xen_events ev;

		(void)pvt_xen_vcpu_take(v, &ev);
	}
	v->port = (uint32_t)fz_take(in, 4);
	v->priority = (uint32_t)fz_take(in, 4);
}

static void check_restore(struct fz_vm *f, struct pvt_xen_vcpu *v, struct ctx *x,
			  const uint8_t *blob, size_t len)
{
	struct fz_state before, after;
	uint8_t again[PVT_XEN_BLOB_SIZE], third[PVT_XEN_BLOB_SIZE];
	uint64_t delivered;
	int ret;

	x->delivered = recorded(x);
	delivered = x->delivered;
	fz_get_state(v, &before);
	ret = pvt_xen_vcpu_restore(v, blob, len);
	x->delivered = recorded(x);
	if (ret) {
		if (ret != -EMSGSIZE && ret != -EPROTO && ret != -EBADMSG && ret != -EINVAL)
			abort();	/* undocumented error */
		fz_get_state(v, &after);
		if (!fz_state_same(&before, &after) || x->delivered != delivered)
			abort();	/* a rejected blob changed the state */
		return;
	}
	if (len != PVT_XEN_BLOB_SIZE)
		abort();
	/* Accepted: port/priority are opaque and must come back as given. */
	if (pvt_xen_vcpu_save(v, again, sizeof(again)) != PVT_XEN_BLOB_SIZE)
		abort();
	if (memcmp(again + 40, blob + 40, 8))
		abort();
	/* Nothing delivered at restore: the timers must be exactly the blob's. */
	if (x->delivered == delivered && memcmp(again, blob, PVT_XEN_BLOB_SIZE))
		abort();
	/* What was saved restores to itself (nothing new is due at the same instant). */
	delivered = x->delivered;
	if (pvt_xen_vcpu_restore(v, again, sizeof(again)))
		abort();
	x->delivered = recorded(x);
	if (pvt_xen_vcpu_save(v, third, sizeof(third)) != PVT_XEN_BLOB_SIZE)
		abort();
	if (x->delivered != delivered || memcmp(again, third, sizeof(third)))
		abort();
	(void)f;
}

static void check_import(struct pvt_xen_vcpu *v, struct ctx *x, struct fz_in *in)
{
	struct pvt_xen_kvm_timer_attr attr, out;
	struct pvt_xen_timer per_before, per_after;
	uint64_t period_before, period_after, delivered = recorded(x);

	attr.port = (uint32_t)fz_take(in, 4);
	attr.priority = (uint32_t)fz_take(in, 4);
	attr.expires_ns = fz_u64(in);
	xt_snapshot(v, NULL, &per_before, &period_before, NULL, NULL);
	if (pvt_xen_vcpu_import_kvm(v, &attr))
		abort();	/* documented to succeed */
	x->delivered = recorded(x);
	pvt_xen_vcpu_export_kvm(v, &out);
	xt_snapshot(v, NULL, &per_after, &period_after, NULL, NULL);
	if (out.port != attr.port || out.priority != attr.priority)
		abort();
	/* Either armed as given, or (due now / stopped) delivered or none. */
	if (out.expires_ns != attr.expires_ns &&
	    !(out.expires_ns == 0 && (attr.expires_ns == 0 || x->delivered > delivered)))
		abort();
	if (attr.expires_ns == 0 && x->delivered != delivered)
		abort();	/* a stop delivers nothing */
	/* The periodic timer is not KVM's attribute: untouched unless it ticked. */
	if (x->delivered == delivered &&
	    (period_before != period_after || per_before.armed != per_after.armed ||
	     per_before.deadline_ns != per_after.deadline_ns))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct fz_vm f;
	struct ctx x = { &f, 0 };
	struct pvt_xen_vcpu *v;
	uint8_t blob[PVT_XEN_BLOB_SIZE + 16];
	uint8_t mode;
	size_t len;

	if (fz_vm_init(&f, &in, NULL, &x))
		return 0;
	f.take_after_calls = false;
	v = f.vcpus[0];
	prior_state(&f, v, &in);
	for (int round = 0; round < 4 && in.left; round++) {
		mode = fz_u8(&in);
		if (mode & 0x80) {
			check_import(v, &x, &in);
			continue;
		}
		memset(blob, 0, sizeof(blob));
		len = (mode & 0x40) ? fz_u8(&in) % sizeof(blob) : PVT_XEN_BLOB_SIZE;
		for (size_t i = 0; i < len && in.left; i++)
			blob[i] = fz_u8(&in);
		if (mode & 1)
			fz_forge_header(blob);
		if (mode & 2)
			fz_reseal(blob);
		check_restore(&f, v, &x, (mode & 4) && len == 0 ? NULL : blob, len);
		if (mode & 8)	/* the clock arriving after restore */
			(void)pvt_xen_vcpu_set_guest_clock(v, &f.clock);
		if (mode & 16)
			pvt_simhost_run_until(f.sim, f.sim->true_ns + fz_take(&in, 3) * 256);
	}
	fz_vm_destroy(&f);
	return 0;
}

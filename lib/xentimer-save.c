// SPDX-License-Identifier: MIT
/*
 * Save/restore of a vCPU's timers: KVM's KVM_XEN_VCPU_ATTR_TYPE_TIMER form
 * and pvtime's own blob, which also keeps the periodic phase and pending.
 *
 * Blob (little-endian, 64 bytes):
 *   0 magic "PVTX"  4 version  8 length  12 flags (1 singleshot armed,
 *   2 periodic armed, 4 pending)  16 singleshot deadline (guest ns)
 *   24 period ns  32 next periodic tick (guest ns)  40 port  44 priority
 *   48 reserved (0)  56 FNV-1a 64 of bytes 0..55
 */
#include <errno.h>
#include <string.h>

#include "xentimer-internal.h"

#define F_SINGLESHOT	1u
#define F_PERIODIC	2u
#define F_PENDING	4u
#define F_ALL		(F_SINGLESHOT | F_PERIODIC | F_PENDING)
#define SUM_AT		56u

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* FNV-1a 64 of the bytes before the seal. */
static uint64_t blob_sum(const uint8_t *b)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (unsigned i = 0; i < SUM_AT; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void xt_blob_seal(uint8_t *blob)
{
	put64(blob + SUM_AT, blob_sum(blob));
}

int pvt_xen_vcpu_save(struct pvt_xen_vcpu *v, void *buf, size_t len)
{
	uint8_t *b = buf;
	uint32_t flags = 0;

	if (len < PVT_XEN_BLOB_SIZE)
		return -ENOSPC;
	memset(b, 0, PVT_XEN_BLOB_SIZE);
	xt_lock(v);
	if (v->singleshot.armed)
		flags |= F_SINGLESHOT;
	if (v->periodic.armed)
		flags |= F_PERIODIC;
	if (v->ev.fired)
		flags |= F_PENDING;
	put32(b + 0, PVT_XEN_BLOB_MAGIC);
	put32(b + 4, PVT_XEN_BLOB_VERSION);
	put32(b + 8, PVT_XEN_BLOB_SIZE);
	put32(b + 12, flags);
	put64(b + 16, v->singleshot.armed ? v->singleshot.deadline_ns : 0);
	put64(b + 24, v->periodic.armed ? v->period_ns : 0);
	put64(b + 32, v->periodic.armed ? v->periodic.deadline_ns : 0);
	put32(b + 40, v->port);
	put32(b + 44, v->priority);
	xt_unlock(v);
	xt_blob_seal(b);
	return PVT_XEN_BLOB_SIZE;
}

int pvt_xen_vcpu_restore(struct pvt_xen_vcpu *v, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	struct xt_saved saved;
	uint32_t flags;
	uint64_t ss, period, next;

	if (!buf || len < 16)
		return -EMSGSIZE;
	if (get32(b) != PVT_XEN_BLOB_MAGIC || get32(b + 4) != PVT_XEN_BLOB_VERSION)
		return -EPROTO;
	if (get32(b + 8) != PVT_XEN_BLOB_SIZE || len != PVT_XEN_BLOB_SIZE)
		return -EMSGSIZE;
	if (get64(b + SUM_AT) != blob_sum(b))
		return -EBADMSG;
	flags = get32(b + 12);
	ss = get64(b + 16);
	period = get64(b + 24);
	next = get64(b + 32);
	if ((flags & ~F_ALL) || get64(b + 48))
		return -EINVAL;
	if (!(flags & F_SINGLESHOT) && ss)
		return -EINVAL;
	if (flags & F_PERIODIC) {
		if (period < PVT_XEN_PERIOD_MIN_NS || period > PVT_XEN_STIME_DELTA_MAX)
			return -EINVAL;
	} else if (period || next) {
		return -EINVAL;
	}

	xt_lock(v);
	xt_save(v, &saved);
	v->port = get32(b + 40);
	v->priority = get32(b + 44);
	/*
	 * The blob replaces what was recorded too. Which timer was pending is
	 * not in it: the expiry comes back as "restored".
	 */
	if (!(flags & F_PENDING)) {
		struct pvt_xen_events drop;

		(void)xt_take(v, &drop);
	} else if (!v->ev.fired) {
		xt_event_signal(v);
		v->ev.fired = PVT_XEN_FIRED_RESTORED;
	}
	v->singleshot.armed = flags & F_SINGLESHOT;
	v->singleshot.deadline_ns = ss;
	v->singleshot.converted = false;
	v->periodic.armed = flags & F_PERIODIC;
	v->periodic.deadline_ns = next;
	v->periodic.converted = false;
	v->period_ns = period;
	/* No Linux workaround: the deadline is what the guest had. */
	return xt_finish(v, &saved, xt_settle(v, false));
}

void pvt_xen_vcpu_export_kvm(struct pvt_xen_vcpu *v,
			     struct pvt_xen_kvm_timer_attr *attr)
{
	xt_lock(v);
	attr->port = v->port;
	attr->priority = v->priority;
	attr->expires_ns = v->singleshot.armed ? v->singleshot.deadline_ns : 0;
	xt_unlock(v);
}

int pvt_xen_vcpu_import_kvm(struct pvt_xen_vcpu *v,
			    const struct pvt_xen_kvm_timer_attr *attr)
{
	struct xt_saved saved;
	int ret;

	xt_lock(v);
	xt_save(v, &saved);
	v->port = attr->port;
	v->priority = attr->priority;
	if (attr->expires_ns) {
		ret = xt_singleshot_arm(v, attr->expires_ns, false);
	} else {
		v->singleshot.armed = false;
		ret = xt_program(v);
	}
	return xt_finish(v, &saved, ret);
}

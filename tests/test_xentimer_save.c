// SPDX-License-Identifier: MIT
/*
 * Save/restore: the blob round-trips deadline, period, periodic phase,
 * pending, port and priority; every corruption (any byte, version, length,
 * checksum, absurd values with a valid checksum) is an error that leaves
 * the state unchanged; restore applies no Linux workaround, fires a past
 * deadline at once, is safe twice and while armed, and works before the
 * guest set its clock. KVM's {port, priority, expires_ns} form imports and
 * exports the singleshot timer.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "test_engine_harness.h"

#define MS	1000000ull

struct state {
	struct pvt_xen_timer ss, per;
	uint64_t period;
	bool pending;
};

static void get_state(struct pvt_xen_vcpu *v, struct state *s)
{
	memset(s, 0, sizeof(*s));
	xt_snapshot(v, &s->ss, &s->per, &s->period, &s->pending, NULL);
}

static void assert_same(const struct state *a, const struct state *b)
{
	assert_int_equal(a->ss.armed, b->ss.armed);
	assert_int_equal(a->ss.deadline_ns, b->ss.deadline_ns);
	assert_int_equal(a->per.armed, b->per.armed);
	assert_int_equal(a->per.deadline_ns, b->per.deadline_ns);
	assert_int_equal(a->period, b->period);
	assert_int_equal(a->pending, b->pending);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The seal is FNV-1a 64 as the blob format documents it (value from an independent implementation). */
static void seal_known_answer(void **st)
{
	static const uint8_t want[8] = { 0x95, 0x5a, 0xc5, 0x6c, 0xf3, 0xf2, 0xc2, 0x8c };
	uint8_t b[PVT_XEN_BLOB_SIZE];

	(void)st;
	for (int i = 0; i < 56; i++)
		b[i] = (uint8_t)(i * 37 + 11);
	memset(b + 56, 0xee, 8);
	xt_blob_seal(b);
	for (int i = 0; i < 56; i++)
		assert_int_equal(b[i], (uint8_t)(i * 37 + 11));
	assert_memory_equal(b + 56, want, sizeof(want));
}

static void round_trip(void **st)
{
	struct harness a, b;
	struct h_cfg c;
	uint8_t blob[PVT_XEN_BLOB_SIZE + 8];
	struct state sa, sb;
	uint64_t g0;

	(void)st;
	h_cfg_default(&c);
	assert_int_equal(h_init(&a, &c), 0);
	assert_int_equal(h_init(&b, &c), 0);
	g0 = h_guest_now(&a);
	a.vcpus[0]->port = 7;
	a.vcpus[0]->priority = 0;
	assert_int_equal(h_set_periodic(&a, a.vcpus[0], 3 * MS), 0);
	assert_int_equal(h_set_singleshot(&a, a.vcpus[0], g0 + 50 * MS, 0), 0);
	pvt_simhost_run_until(a.sim, a.sim->true_ns + 10 * MS);	/* 3 ticks */
	assert_int_equal(a.logs[0].periodic, 3);
	assert_int_equal(pvt_xen_vcpu_save(a.vcpus[0], blob, 10), -ENOSPC);
	assert_int_equal(pvt_xen_vcpu_save(a.vcpus[0], blob, sizeof(blob)), PVT_XEN_BLOB_SIZE);
	/* Same guest clock on the destination, same instant. */
	pvt_simhost_run_until(b.sim, a.sim->true_ns);
	assert_int_equal(h_restore(&b, b.vcpus[0], blob, PVT_XEN_BLOB_SIZE), 0);
	get_state(a.vcpus[0], &sa);
	get_state(b.vcpus[0], &sb);
	assert_same(&sa, &sb);
	assert_int_equal(b.vcpus[0]->port, 7);
	/* The phase survived: next tick at g0 + 12 ms on the destination too. */
	assert_int_equal(sb.per.deadline_ns, g0 + 12 * MS);
	pvt_simhost_run_until(b.sim, h_first_true_at(&b, b.sim->true_ns, g0 + 12 * MS));
	assert_int_equal(b.logs[0].periodic, 1);
	/* Restoring twice, while armed: same state, nothing extra delivered. */
	assert_int_equal(pvt_xen_vcpu_save(b.vcpus[0], blob, sizeof(blob)), PVT_XEN_BLOB_SIZE);
	get_state(b.vcpus[0], &sa);
	assert_int_equal(h_restore(&b, b.vcpus[0], blob, PVT_XEN_BLOB_SIZE), 0);
	assert_int_equal(h_restore(&b, b.vcpus[0], blob, PVT_XEN_BLOB_SIZE), 0);
	get_state(b.vcpus[0], &sb);
	assert_same(&sa, &sb);
	assert_int_equal(b.logs[0].periodic, 1);
	assert_int_equal(b.sim->count, 1);	/* one host timer, not leaked */
	h_destroy(&a);
	h_destroy(&b);
}

static void corrupt_blobs(void **st)
{
	struct harness h;
	struct h_cfg c;
	uint8_t good[PVT_XEN_BLOB_SIZE], bad[PVT_XEN_BLOB_SIZE + 1];
	struct state before, after;
	uint64_t g0;
	static const struct { unsigned at; uint64_t value; unsigned bytes; int ret; } forged[] = {
		{ 4, 2, 4, -EPROTO },			/* version */
		{ 0, 0x12345678, 4, -EPROTO },		/* magic */
		{ 8, 65, 4, -EMSGSIZE },		/* length field */
		{ 12, 8, 4, -EINVAL },			/* unknown flag */
		{ 24, 999999, 8, -EINVAL },		/* period < 1 ms */
		{ 24, 1ull << 62, 8, -EINVAL },		/* period > STIME_DELTA_MAX */
		{ 48, 1, 8, -EINVAL },			/* reserved */
	};

	(void)st;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	g0 = h_guest_now(&h);
	assert_int_equal(h_set_periodic(&h, h.vcpus[0], 2 * MS), 0);
	assert_int_equal(h_set_singleshot(&h, h.vcpus[0], g0 + 7 * MS, 0), 0);
	assert_int_equal(pvt_xen_vcpu_save(h.vcpus[0], good, sizeof(good)), PVT_XEN_BLOB_SIZE);
	/* Change the live state so "unchanged" differs from the blob. */
	assert_int_equal(h_set_singleshot(&h, h.vcpus[0], g0 + 9 * MS, 0), 0);
	get_state(h.vcpus[0], &before);

	for (unsigned i = 0; i < PVT_XEN_BLOB_SIZE; i++) {
		for (unsigned bit = 0; bit < 8; bit += 3) {
			memcpy(bad, good, sizeof(good));
			bad[i] ^= (uint8_t)(1u << bit);
			if (!h_restore(&h, h.vcpus[0], bad, PVT_XEN_BLOB_SIZE))
				fail_msg("byte %u bit %u flipped: accepted", i, bit);
		}
	}
	assert_int_equal(h_restore(&h, h.vcpus[0], good, PVT_XEN_BLOB_SIZE - 1), -EMSGSIZE);
	memcpy(bad, good, sizeof(good));
	assert_int_equal(h_restore(&h, h.vcpus[0], bad, PVT_XEN_BLOB_SIZE + 1), -EMSGSIZE);
	assert_int_equal(h_restore(&h, h.vcpus[0], NULL, PVT_XEN_BLOB_SIZE), -EMSGSIZE);
	assert_int_equal(h_restore(&h, h.vcpus[0], good, 0), -EMSGSIZE);
	for (unsigned i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		memcpy(bad, good, sizeof(good));
		for (unsigned k = 0; k < forged[i].bytes; k++)
			bad[forged[i].at + k] = (uint8_t)(forged[i].value >> (8 * k));
		xt_blob_seal(bad);	/* forged: a valid checksum */
		if (h_restore(&h, h.vcpus[0], bad, PVT_XEN_BLOB_SIZE) != forged[i].ret)
			fail_msg("forged field at %u = %" PRIu64 ": want %d", forged[i].at,
				 forged[i].value, forged[i].ret);
	}
	/* Inconsistent: a deadline without its armed flag, a period without one. */
	memcpy(bad, good, sizeof(good));
	bad[12] &= (uint8_t)~1u;
	xt_blob_seal(bad);
	assert_int_equal(h_restore(&h, h.vcpus[0], bad, PVT_XEN_BLOB_SIZE), -EINVAL);
	memcpy(bad, good, sizeof(good));
	bad[12] &= (uint8_t)~2u;
	xt_blob_seal(bad);
	assert_int_equal(h_restore(&h, h.vcpus[0], bad, PVT_XEN_BLOB_SIZE), -EINVAL);
	/* A checksum that was not updated. */
	memcpy(bad, good, sizeof(good));
	put64(bad + 16, g0 + 8 * MS);
	assert_int_equal(h_restore(&h, h.vcpus[0], bad, PVT_XEN_BLOB_SIZE), -EBADMSG);

	get_state(h.vcpus[0], &after);
	assert_same(&before, &after);
	assert_int_equal(h.logs[0].singleshot, 0);
	h_destroy(&h);
}

static void restore_semantics(void **st)
{
	struct harness h;
	struct h_cfg c;
	uint8_t blob[PVT_XEN_BLOB_SIZE];
	struct state s;
	uint64_t g0;

	(void)st;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	g0 = h_guest_now(&h);
	/* A far deadline (> 2^50 ahead) is restored as is: no workaround. */
	assert_int_equal(h_set_singleshot(&h, h.vcpus[0], g0 + (1ull << 52), 0), 0);
	assert_int_equal(pvt_xen_vcpu_save(h.vcpus[0], blob, sizeof(blob)), PVT_XEN_BLOB_SIZE);
	assert_int_equal(h_stop_singleshot(&h, h.vcpus[0]), 0);
	assert_int_equal(h_restore(&h, h.vcpus[0], blob, sizeof(blob)), 0);
	get_state(h.vcpus[0], &s);
	assert_true(s.ss.armed);
	assert_int_equal(s.ss.deadline_ns, g0 + (1ull << 52));
	/* A deadline that passed in transit fires at once on restore. */
	assert_int_equal(h_set_singleshot(&h, h.vcpus[0], g0 + MS, 0), 0);
	assert_int_equal(pvt_xen_vcpu_save(h.vcpus[0], blob, sizeof(blob)), PVT_XEN_BLOB_SIZE);
	assert_int_equal(h_stop_singleshot(&h, h.vcpus[0]), 0);
	pvt_simhost_skip(h.sim, 5 * MS);
	assert_int_equal(h_restore(&h, h.vcpus[0], blob, sizeof(blob)), 0);
	assert_int_equal(h.logs[0].singleshot, 1);
	assert_int_equal(h.logs[0].last_true_ns, h.sim->true_ns);
	get_state(h.vcpus[0], &s);
	assert_false(s.ss.armed);
	/* Recorded for the VMM with the deadline that fired (the harness took it). */
	assert_true(h.logs[0].last_ev.fired & PVT_XEN_FIRED_SINGLESHOT);
	assert_int_equal(h.logs[0].last_ev.singleshot_deadline_ns, g0 + MS);
	/* An expiry not yet taken travels in the blob and comes back as restored. */
	{
		int64_t gr;
		struct pvt_xen_events ev;

		assert_int_equal(pvt_xen_set_timer_op(h.vcpus[0], g0, &gr), 0);
		get_state(h.vcpus[0], &s);
		assert_true(s.pending);
		assert_int_equal(pvt_xen_vcpu_save(h.vcpus[0], blob, sizeof(blob)), PVT_XEN_BLOB_SIZE);
		assert_int_equal(pvt_xen_vcpu_take(h.vcpus[0], &ev), 1);
		assert_int_equal(ev.fired, PVT_XEN_FIRED_SINGLESHOT);
		assert_int_equal(pvt_xen_vcpu_take(h.vcpus[0], &ev), 0);
		assert_int_equal(h_restore(&h, h.vcpus[0], blob, sizeof(blob)), 0);
		assert_int_equal(h.logs[0].restored, 1);
		assert_int_equal(h.logs[0].singleshot, 1);
	}
	h_destroy(&h);
}

static void restore_before_guest_clock(void **st)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_hosttimer *t;
	struct pvt_xen_vcpu *v;
	struct h_slot slot;
	uint8_t blob[PVT_XEN_BLOB_SIZE];
	struct state s;
	uint64_t g0, first;

	(void)st;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	g0 = h_guest_now(&h);
	assert_int_equal(h_set_singleshot(&h, h.vcpus[0], g0 + 20 * MS, 0), 0);
	assert_int_equal(pvt_xen_vcpu_save(h.vcpus[0], blob, sizeof(blob)), PVT_XEN_BLOB_SIZE);
	assert_int_equal(h_stop_singleshot(&h, h.vcpus[0]), 0);

	pvt_simhost_timer_new(h.sim, &t);
	assert_int_equal(h_vcpu_new(&h, &slot, h.vm, 0, t, &v), 0);
	assert_int_equal(h_restore(&h, v, blob, sizeof(blob)), 0);
	get_state(v, &s);
	assert_true(s.ss.armed);
	assert_false(s.ss.converted);		/* waits for the clock */
	assert_int_equal(h.sim->count, 0);
	pvt_simhost_skip(h.sim, 5 * MS);
	assert_int_equal(h_set_guest_clock(&h, v, &h.clock), 0);
	first = h_first_true_at(&h, h.sim->true_ns, g0 + 20 * MS);
	pvt_simhost_run_until(h.sim, first + MS);
	assert_int_equal(h.logs[0].singleshot, 1);
	assert_true(h.logs[0].last_true_ns >= first && h.logs[0].last_true_ns <= first + 1);
	pvt_xen_vcpu_free(v);
	pvt_hosttimer_free(t);
	h_destroy(&h);
}

static void kvm_attr(void **st)
{
	struct harness h;
	struct h_cfg c;
	struct pvt_xen_kvm_timer_attr attr;
	struct state s;
	uint64_t g0;

	(void)st;
	h_cfg_default(&c);
	assert_int_equal(h_init(&h, &c), 0);
	g0 = h_guest_now(&h);
	h.vcpus[0]->port = 3;
	assert_int_equal(h_set_timer_op(&h, h.vcpus[0], g0 + 4 * MS), 0);
	pvt_xen_vcpu_export_kvm(h.vcpus[0], &attr);
	assert_int_equal(attr.port, 3);
	assert_int_equal(attr.expires_ns, g0 + 4 * MS);
	/* expires 0 stops; a far one is kept as is (no workaround). */
	attr.expires_ns = 0;
	assert_int_equal(h_import_kvm(&h, h.vcpus[0], &attr), 0);
	get_state(h.vcpus[0], &s);
	assert_false(s.ss.armed);
	attr.expires_ns = g0 + (1ull << 51);
	attr.port = 9;
	assert_int_equal(h_import_kvm(&h, h.vcpus[0], &attr), 0);
	get_state(h.vcpus[0], &s);
	assert_int_equal(s.ss.deadline_ns, g0 + (1ull << 51));
	assert_int_equal(h.vcpus[0]->port, 9);
	/* Past: fires at once. */
	attr.expires_ns = g0 - 1;
	assert_int_equal(h_import_kvm(&h, h.vcpus[0], &attr), 0);
	assert_int_equal(h.logs[0].singleshot, 1);
	pvt_xen_vcpu_export_kvm(h.vcpus[0], &attr);
	assert_int_equal(attr.expires_ns, 0);
	h_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seal_known_answer),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(corrupt_blobs),
		cmocka_unit_test(restore_semantics),
		cmocka_unit_test(restore_before_guest_clock),
		cmocka_unit_test(kvm_attr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

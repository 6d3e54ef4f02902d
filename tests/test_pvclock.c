// SPDX-License-Identifier: MIT
/*
 * Known vectors of the pvclock arithmetic, the page layout, and the version
 * protocol. Vectors were computed with python3 big integers straight from the
 * formulas in docs/design.md (not with this library); the first one is
 * KVM's own value for a 2596.136 MHz host.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pvtime/pvclock.h"

#define U64MAX UINT64_MAX

static void time_scale_vectors(void **state)
{
	static const struct {
		uint64_t scaled, base;
		uint32_t mul;
		int shift;
	} v[] = {
		{ 1000000000ull, 2596136000ull, 3308738291u, -1 },
		{ 1000000000ull, 3000000000ull, 2863311530u, -1 },
		{ 1000000000ull, 2999999000ull, 2863312485u, -1 },
		{ 1000000000ull, 1000000000ull, 2147483648u, 1 },
		{ 1000000000ull, 1298068000ull, 3308738291u, 0 },
		{ 1000000000ull, 2893202000ull, 2969006171u, -1 },
		{ 1000000000ull, 1000ull, 4096000000u, 20 },
		{ 1000000000ull, 1ull, 4000000000u, 30 },
		{ 1000000000ull, 1099511640121ull, 3999999955u, -10 },
		{ 1ull, U64MAX, 2147483648u, -62 },
		{ 4294967296ull, 4294967296ull, 2147483648u, 1 },
		{ 1000000000ull, 4294967295ull, 4000000003u, -2 },
		{ 1000000000ull, 4294967296000ull, 4096000000u, -12 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t mul = 0;
		int8_t shift = 0;

		assert_int_equal(pvt_time_scale(v[i].scaled, v[i].base, &mul, &shift), 0);
		if (mul != v[i].mul || shift != v[i].shift)
			fail_msg("time_scale(%llu, %llu): expected mul %u shift %d, got mul %u shift %d",
				 (unsigned long long)v[i].scaled, (unsigned long long)v[i].base,
				 v[i].mul, v[i].shift, mul, shift);
	}
}

static void time_scale_rejects(void **state)
{
	uint32_t mul = 7;
	int8_t shift = 7;

	(void)state;
	assert_int_equal(pvt_time_scale(0, 1000, &mul, &shift), -EINVAL);
	assert_int_equal(pvt_time_scale(1000, 0, &mul, &shift), -EINVAL);
	/* Shift 64 would be UB in scale_delta: refused, outputs untouched. */
	assert_int_equal(pvt_time_scale(U64MAX, 1, &mul, &shift), -ERANGE);
	/* 2 * 2^63 wraps to 0 in KVM's first loop, whose second loop then never ends. */
	assert_int_equal(pvt_time_scale(1ull << 63, 5, &mul, &shift), -ERANGE);
	assert_int_equal(pvt_time_scale(1ull << 63, U64MAX, &mul, &shift), -ERANGE);
	assert_int_equal(mul, 7);
	assert_int_equal(shift, 7);
}

static void scale_delta_vectors(void **state)
{
	static const struct {
		uint64_t delta;
		uint32_t mul;
		int8_t shift;
		uint64_t ns;
	} v[] = {
		{ 2596136000ull, 3308738291u, -1, 999999999ull },
		{ U64MAX, 0xffffffffu, 0, 18446744069414584319ull },
		{ U64MAX, 0xffffffffu, -63, 0 },
		{ 1, 0xffffffffu, 63, 9223372034707292160ull },
		{ U64MAX, 1, 31, 4294967295ull },
		{ 0x123456789abcdef0ull, 0x87654321u, 5, 2688396598046327804ull },
		{ 0x123456789abcdef0ull, 0x87654321u, -32, 161533189ull },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(pvt_scale_delta(v[i].delta, v[i].mul, v[i].shift), v[i].ns);
}

static void pvclock_ns_wraps_delta(void **state)
{
	struct pvt_pvclock_page page = {
		.tsc_timestamp = 100, .system_time = 5000,
		.tsc_to_system_mul = 0x80000000u, .tsc_shift = 1,
	};

	(void)state;
	/* mul 2^31 with shift 1 is one ns per tick. */
	assert_int_equal(pvt_pvclock_ns(&page, 100), 5000);
	assert_int_equal(pvt_pvclock_ns(&page, 1100), 6000);
	/* A TSC behind the timestamp wraps to a huge delta, as on real guests. */
	/* (2^64 - 2) * 2^31 >> 32 = 2^63 - 1. */
	assert_int_equal(pvt_pvclock_ns(&page, 99), 5000 + (1ull << 63) - 1);
}

static void tsc_ratio_vectors(void **state)
{
	static const struct {
		uint32_t host, guest;
		unsigned frac;
		uint64_t ratio;
	} v[] = {
		{ 2596136, 3000000, 48, 325262208964387ull },
		{ 2596136, 3000000, 32, 4963107436ull },
		{ 2893202, 2500000, 32, 3711257713ull },
		{ 2893202, 2500000, 48, 243220985529748ull },
		{ 2596136, 1298068, 48, 140737488355328ull },
		{ 4294967295u, 1, 48, 65536ull },
		{ 1, 4294967295u, 32, 18446744069414584320ull },
		{ 2596136, 2596136, 48, 281474976710656ull },
	};
	uint64_t ratio;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(pvt_tsc_ratio(v[i].host, v[i].guest, v[i].frac, &ratio), 0);
		assert_int_equal(ratio, v[i].ratio);
	}
	/* 2^48 * (2^32 - 1) does not fit 64 bits. */
	assert_int_equal(pvt_tsc_ratio(1, 4294967295u, 48, &ratio), -ERANGE);
	assert_int_equal(pvt_tsc_ratio(0, 1, 48, &ratio), -EINVAL);
	assert_int_equal(pvt_tsc_ratio(1, 0, 48, &ratio), -EINVAL);
	assert_int_equal(pvt_tsc_ratio(1, 1, 40, &ratio), -EINVAL);
}

static void tsc_scale_vectors(void **state)
{
	(void)state;
	assert_int_equal(pvt_tsc_scale(U64MAX, U64MAX, 48), 18446744073709420544ull);
	assert_int_equal(pvt_tsc_scale(U64MAX, U64MAX, 32), 18446744065119617024ull);
	assert_int_equal(pvt_tsc_scale(224306150400000ull, 325262208964387ull, 48),
			 259199999999999ull);
	assert_int_equal(pvt_tsc_scale(0xfedcba9876543210ull, 1ull << 48, 48),
			 0xfedcba9876543210ull);
	assert_int_equal(pvt_tsc_scale(12345678901234567ull, (1ull << 32) * 3 + 7, 32),
			 37037036723824867ull);
}

static void scale_delta_inverse_vectors(void **state)
{
	uint64_t d;

	(void)state;
	/* 999999999 ns is reached at exactly one second of a 2596.136 MHz TSC... */
	assert_int_equal(pvt_scale_delta_inverse(999999999, 3308738291u, -1, &d), 0);
	assert_true(pvt_scale_delta(d, 3308738291u, -1) >= 999999999);
	assert_true(pvt_scale_delta(d - 1, 3308738291u, -1) < 999999999);
	/* ...and d is even: with shift -1 the lowest bit never matters. */
	assert_int_equal(d & 1, 0);
	assert_int_equal(pvt_scale_delta_inverse(0, 0, 0, &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(pvt_scale_delta_inverse(1, 0, 0, &d), -ERANGE);
	assert_int_equal(d, U64MAX);
	/* The largest value mul 1 reaches is 2^32 - 1, from delta (2^32 - 1) * 2^32 on. */
	assert_int_equal(pvt_scale_delta_inverse(0xffffffffull, 1, 0, &d), 0);
	assert_int_equal(d, 0xffffffff00000000ull);
	assert_int_equal(pvt_scale_delta_inverse(0x100000000ull, 1, 0, &d), -ERANGE);
	/* Shift 63: only delta 0 and 1 avoid wrapping the left shift. */
	assert_int_equal(pvt_scale_delta_inverse(1, 0xffffffffu, 63, &d), 0);
	assert_int_equal(d, 1);
	/* d = 1 gives (2^63 * (2^32 - 1)) >> 32 = 0x7fffffff80000000; nothing gives more. */
	assert_int_equal(pvt_scale_delta_inverse(0x7fffffff80000000ull, 0xffffffffu, 63, &d), 0);
	assert_int_equal(d, 1);
	assert_int_equal(pvt_scale_delta_inverse(0x7fffffff80000001ull, 0xffffffffu, 63, &d),
			 -ERANGE);
	assert_int_equal(pvt_scale_delta_inverse(5, 1000, 64, &d), -ERANGE);
}

static void tsc_scale_inverse_vectors(void **state)
{
	uint64_t h;
	const uint64_t r = 325262208964387ull;	/* 2596136 -> 3000000 kHz, VMX */

	(void)state;
	/* One day of guest TSC at 3 GHz minus one tick (vector above): h = 224306150400000. */
	assert_int_equal(pvt_tsc_scale_inverse(0, 259199999999999ull, r, 48, &h), 0);
	assert_true(pvt_tsc_scale(h, r, 48) >= 259199999999999ull);
	assert_true(pvt_tsc_scale(h - 1, r, 48) < 259199999999999ull);
	assert_true(h <= 224306150400000ull);
	/* Ratio one is the identity plus a wrap check. */
	assert_int_equal(pvt_tsc_scale_inverse(10, 5, 1ull << 32, 32, &h), 0);
	assert_int_equal(h, 15);
	assert_int_equal(pvt_tsc_scale_inverse(U64MAX - 1, 2, 1ull << 32, 32, &h), -ERANGE);
	assert_int_equal(h, U64MAX);
	/* Delta 0 stays at from even when earlier TSCs scale to the same value. */
	assert_int_equal(pvt_tsc_scale_inverse(1000, 0, 1ull << 31, 32, &h), 0);
	assert_int_equal(h, 1000);
	assert_int_equal(pvt_tsc_scale_inverse(0, 1, 0, 48, &h), -ERANGE);
	assert_int_equal(pvt_tsc_scale_inverse(0, 1, 1, 40, &h), -ERANGE);
	/* Half-speed guest: its TSC can never pass 2^63 - 1 from a 64-bit host TSC. */
	assert_int_equal(pvt_tsc_scale_inverse(0, 1ull << 63, 1ull << 31, 32, &h), -ERANGE);
	assert_int_equal(pvt_tsc_scale_inverse(0, (1ull << 63) - 1, 1ull << 31, 32, &h), 0);
	assert_int_equal(h, U64MAX - 1);
}

static void page_layout(void **state)
{
	(void)state;
	/* Also asserted at compile time in pvclock.h; here for the test report. */
	assert_int_equal(sizeof(struct pvt_pvclock_page), 32);
	assert_int_equal(offsetof(struct pvt_pvclock_page, version), 0);
	assert_int_equal(offsetof(struct pvt_pvclock_page, pad0), 4);
	assert_int_equal(offsetof(struct pvt_pvclock_page, tsc_timestamp), 8);
	assert_int_equal(offsetof(struct pvt_pvclock_page, system_time), 16);
	assert_int_equal(offsetof(struct pvt_pvclock_page, tsc_to_system_mul), 24);
	assert_int_equal(offsetof(struct pvt_pvclock_page, tsc_shift), 28);
	assert_int_equal(offsetof(struct pvt_pvclock_page, flags), 29);
	assert_int_equal(offsetof(struct pvt_pvclock_page, pad), 30);
	assert_int_equal(PVT_PVCLOCK_TSC_STABLE, 1);
	assert_int_equal(PVT_PVCLOCK_GUEST_STOPPED, 2);
}

/* A fake writer driven from the reader's TSC callback. */
struct fake_writer {
	volatile struct pvt_pvclock_page *page;
	unsigned tsc_reads;
	unsigned torn_reads;	/* how many reads the writer disturbs (UINT_MAX: forever) */
	uint64_t tsc;
};

static uint64_t fake_read_tsc(void *ctx)
{
	struct fake_writer *w = ctx;

	w->tsc_reads++;
	if (w->tsc_reads <= w->torn_reads) {
		/* The writer begins (odd) and finishes (even) an update mid-read. */
		w->page->version++;
		w->page->system_time += 1000;
		w->page->version++;
	}
	return w->tsc;
}

static void version_retry(void **state)
{
	struct pvt_pvclock_page page = {
		.version = 4, .tsc_timestamp = 1000, .system_time = 0,
		.tsc_to_system_mul = 0x80000000u, .tsc_shift = 1,
		.flags = PVT_PVCLOCK_TSC_STABLE,
	};
	struct fake_writer w = { .page = &page, .torn_reads = 3, .tsc = 1500 };
	struct pvt_pvclock_page snap;
	uint64_t tsc = 0, ns = 0;

	(void)state;
	assert_int_equal(pvt_pvclock_read(&page, fake_read_tsc, &w, &snap, &tsc, &ns), 0);
	/* Three torn reads, then a clean one that sees the final page. */
	assert_int_equal(w.tsc_reads, 4);
	assert_int_equal(snap.version, 10);
	assert_int_equal(snap.system_time, 3000);
	assert_int_equal(tsc, 1500);
	assert_int_equal(ns, 3500);
	assert_int_equal(snap.flags, PVT_PVCLOCK_TSC_STABLE);
}

static void version_never_settles(void **state)
{
	struct pvt_pvclock_page page = { .version = 2, .tsc_to_system_mul = 1 };
	struct fake_writer w = { .page = &page, .torn_reads = ~0u };
	struct pvt_pvclock_page snap;
	uint64_t tsc, ns;

	(void)state;
	assert_int_equal(pvt_pvclock_read(&page, fake_read_tsc, &w, &snap, &tsc, &ns), -EAGAIN);
	assert_true(w.tsc_reads <= PVT_PVCLOCK_READ_RETRIES);
	/* A writer stuck mid-update (odd version) is bounded too. */
	page.version = 7;
	w.tsc_reads = 0;
	assert_int_equal(pvt_pvclock_read(&page, fake_read_tsc, &w, &snap, &tsc, &ns), -EAGAIN);
	assert_int_equal(w.tsc_reads, 0);
}

static void odd_then_even(void **state)
{
	struct pvt_pvclock_page page = {
		.version = 3, .tsc_timestamp = 0, .system_time = 77,
		.tsc_to_system_mul = 0x80000000u, .tsc_shift = 1,
	};
	struct fake_writer w = { .page = &page, .torn_reads = 0, .tsc = 23 };
	struct pvt_pvclock_page snap;
	uint64_t tsc, ns;

	(void)state;
	/* Odd: the reader must not use it. */
	assert_int_equal(pvt_pvclock_read(&page, fake_read_tsc, &w, &snap, &tsc, &ns), -EAGAIN);
	page.version = 4;
	assert_int_equal(pvt_pvclock_read(&page, fake_read_tsc, &w, &snap, &tsc, &ns), 0);
	assert_int_equal(ns, 100);
	assert_int_equal(snap.version, 4);
}

static void garbage_shift(void **state)
{
	struct pvt_pvclock_page page = { .version = 2, .tsc_to_system_mul = 1, .tsc_shift = 64 };
	struct fake_writer w = { .page = &page };
	struct pvt_pvclock_page snap;
	uint64_t tsc, ns;

	(void)state;
	assert_int_equal(pvt_pvclock_read(&page, fake_read_tsc, &w, &snap, &tsc, &ns), -EINVAL);
	page.tsc_shift = -64;
	assert_int_equal(pvt_pvclock_page_check(&page), -EINVAL);
	page.tsc_shift = -128;
	assert_int_equal(pvt_pvclock_read(&page, fake_read_tsc, &w, &snap, &tsc, &ns), -EINVAL);
	page.tsc_shift = 63;
	assert_int_equal(pvt_pvclock_page_check(&page), 0);
	page.tsc_shift = -63;
	assert_int_equal(pvt_pvclock_read(&page, fake_read_tsc, &w, &snap, &tsc, &ns), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(time_scale_vectors),
		cmocka_unit_test(time_scale_rejects),
		cmocka_unit_test(scale_delta_vectors),
		cmocka_unit_test(pvclock_ns_wraps_delta),
		cmocka_unit_test(tsc_ratio_vectors),
		cmocka_unit_test(tsc_scale_vectors),
		cmocka_unit_test(scale_delta_inverse_vectors),
		cmocka_unit_test(tsc_scale_inverse_vectors),
		cmocka_unit_test(page_layout),
		cmocka_unit_test(version_retry),
		cmocka_unit_test(version_never_settles),
		cmocka_unit_test(odd_then_even),
		cmocka_unit_test(garbage_shift),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

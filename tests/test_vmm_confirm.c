// SPDX-License-Identifier: MIT
/*
 * Oracle (a)'s confirmation rule, without KVM: a page that disagrees with its
 * model is only suspect until the vCPU ran again; then a rewritten page voids
 * the check (KVM re-snapshotted its master clock) and an unchanged one is a
 * real mismatch. Every field but the version takes part.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "vmm-internal.h"

static const struct pvt_pvclock_page base = {
	.version = 2, .tsc_timestamp = 14159334346925ull, .system_time = 5580587,
	.tsc_to_system_mul = 3308745937u, .tsc_shift = -1, .flags = 1,
};

static void check(const struct pvt_pvclock_page *seen, const struct pvt_pvclock_page *model,
		  const struct pvt_pvclock_page *after, enum vmm_page_verdict want)
{
	enum vmm_page_verdict got = vmm__page_verdict(seen, model, after);

	if (got != want)
		fail_msg("verdict %d, expected %d (seen system_time %llu, model %llu, after %s)",
			 got, want, (unsigned long long)seen->system_time,
			 (unsigned long long)model->system_time, after ? "given" : "none");
}

/* Each field of the page, changed by one unit in a copy. */
static struct pvt_pvclock_page bump(int field)
{
	struct pvt_pvclock_page p = base;

	switch (field) {
	case 0: p.tsc_timestamp++; break;
	case 1: p.system_time++; break;
	case 2: p.tsc_to_system_mul++; break;
	case 3: p.tsc_shift++; break;
	default: p.flags ^= 1; break;
	}
	return p;
}

/* A page equal to its model is OK whatever happened next, version aside. */
static void test_agreeing_page_is_ok(void **state)
{
	struct pvt_pvclock_page model = base, other = bump(0);

	(void)state;
	model.version = 40;
	check(&base, &model, NULL, VMM_PAGE_OK);
	check(&base, &model, &base, VMM_PAGE_OK);
	check(&base, &model, &other, VMM_PAGE_OK);
}

/* Any field's disagreement is suspect until the page after the next entry is known. */
static void test_disagreement_is_suspect(void **state)
{
	(void)state;
	for (int f = 0; f < 5; f++) {
		struct pvt_pvclock_page model = bump(f);

		check(&base, &model, NULL, VMM_PAGE_SUSPECT);
	}
}

/* The case: the model is 1 ns behind; KVM rewrote the page at the next entry. */
static void test_rewritten_page_voids(void **state)
{
	struct pvt_pvclock_page model = base, after = base;

	(void)state;
	model.system_time = base.system_time - 1;
	after.tsc_timestamp = base.tsc_timestamp + 2000000;
	after.system_time = base.system_time + 1000000;
	after.version = base.version + 2;
	check(&base, &model, &after, VMM_PAGE_VOID);
	for (int f = 0; f < 5; f++) {
		struct pvt_pvclock_page changed = bump(f);

		check(&base, &model, &changed, VMM_PAGE_VOID);
	}
}

/* Unchanged after the vCPU ran again (only the version bumped): a real mismatch. */
static void test_unchanged_page_confirms(void **state)
{
	struct pvt_pvclock_page after = base;

	(void)state;
	after.version = base.version + 2;
	for (int f = 0; f < 5; f++) {
		struct pvt_pvclock_page model = bump(f);

		check(&base, &model, &base, VMM_PAGE_MISMATCH);
		check(&base, &model, &after, VMM_PAGE_MISMATCH);
	}
}

/* A rewrite that happens to reproduce the model still voids: the model was for the old page. */
static void test_rewrite_to_model_voids(void **state)
{
	struct pvt_pvclock_page model = bump(1);

	(void)state;
	check(&base, &model, &model, VMM_PAGE_VOID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agreeing_page_is_ok),
		cmocka_unit_test(test_disagreement_is_suspect),
		cmocka_unit_test(test_rewritten_page_voids),
		cmocka_unit_test(test_unchanged_page_confirms),
		cmocka_unit_test(test_rewrite_to_model_voids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

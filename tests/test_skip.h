/* SPDX-License-Identifier: MIT */
/*
 * Host-dependent cmocka cases (a TSC clocksource, /dev/kvm features): each
 * runs as its own CTest test (pvt_unit_test_case, tests/CMakeLists.txt), so
 * one this host cannot run shows as skipped, exit 77 with the reason,
 * instead of as a pass inside its group.
 */
#ifndef PVT_TESTS_TEST_SKIP_H
#define PVT_TESTS_TEST_SKIP_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Exit code that tells CTest the test was skipped. */
#define PVT_TEST_SKIP	77

/* Ends the binary as skipped, saying why. Only in a case that runs on its own. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void pvt_test_skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(PVT_TEST_SKIP);
}

/*
 * main(): with no argument runs `tests` as one group; with one, only the
 * case of that name, from `tests` or from `host_tests` (the cases that may
 * call pvt_test_skip(), which only run that way).
 */
static inline int pvt_test_main(int argc, char **argv, const char *group,
				const struct CMUnitTest *tests, size_t n,
				const struct CMUnitTest *host_tests, size_t m)
{
	if (argc < 2)
		return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	for (size_t i = 0; i < n + m; i++) {
		const struct CMUnitTest *t = i < n ? &tests[i] : &host_tests[i - n];

		if (!strcmp(t->name, argv[1]))
			return _cmocka_run_group_tests(argv[1], t, 1, NULL, NULL);
	}
	fprintf(stderr, "%s: no test case named %s\n", group, argv[1]);
	return 2;
}

#define PVT_ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

#endif

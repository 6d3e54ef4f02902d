// SPDX-License-Identifier: MIT
/*
 * pvt_metrics_xen_vcpus(): exact text for known statistics, snprintf-style
 * truncation, label escaping, bad arguments, and the text accepted by a
 * real OpenMetrics parser (Python's prometheus_client, from
 * python3-prometheus-client: scripts/deps.sh installs it).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pvtime/metrics.h"
#include "pvtime/xentimer.h"

static const struct pvt_xen_vcpu_stats st0 = {
	.delivered = 10, .immediate = 1, .host_fires = 12, .early_wakes = 2,
	.stages = 3, .coalesced = 0, .step_rearms = UINT64_MAX,
};
static const struct pvt_xen_vcpu_stats st1 = { .delivered = 7 };

static void one_vcpu_exact(void **state)
{
	struct pvt_metrics_vcpu v = { .stats = &st0, .vcpu = 3, .algo = "pvtime" };
	char buf[4096];
	int n = pvt_metrics_xen_vcpu(buf, sizeof(buf), &v, PVT_METRICS_EOF);

	(void)state;
	assert_int_equal(n, (int)strlen(buf));
	assert_non_null(strstr(buf, "# TYPE pvtime_xen_delivered counter\n# HELP pvtime_xen_delivered "));
	assert_non_null(strstr(buf, "\npvtime_xen_delivered_total{vcpu=\"3\",algo=\"pvtime\"} 10\n"));
	assert_non_null(strstr(buf, "\npvtime_xen_step_rearms_total{vcpu=\"3\",algo=\"pvtime\"} "
				    "18446744073709551615\n"));
	assert_null(strstr(buf, "target="));	/* NULL labels are left out */
	assert_string_equal(buf + n - 6, "# EOF\n");
}

static void truncation_like_snprintf(void **state)
{
	struct pvt_metrics_vcpu v = { .stats = &st0, .vcpu = 0 };
	char full[4096], small[64];
	int n = pvt_metrics_xen_vcpu(full, sizeof(full), &v, 0);
	int m = pvt_metrics_xen_vcpu(small, sizeof(small), &v, 0);

	(void)state;
	assert_true(n > 64);
	assert_int_equal(m, n);
	assert_int_equal(strlen(small), 63);
	assert_memory_equal(small, full, 63);
	assert_int_equal(pvt_metrics_xen_vcpu(NULL, 0, &v, 0), n);	/* size query */
	small[0] = 'x';
	assert_int_equal(pvt_metrics_xen_vcpu(small, 1, &v, 0), n);
	assert_int_equal(small[0], '\0');
}

static void bad_arguments(void **state)
{
	struct pvt_metrics_vcpu v = { .stats = &st0 }, nostats = { 0 };
	char buf[64];

	(void)state;
	assert_int_equal(pvt_metrics_xen_vcpus(buf, sizeof(buf), NULL, 1, 0), -EINVAL);
	assert_int_equal(pvt_metrics_xen_vcpus(buf, sizeof(buf), &v, 0, 0), -EINVAL);
	assert_int_equal(pvt_metrics_xen_vcpus(buf, sizeof(buf), &nostats, 1, 0), -EINVAL);
	assert_int_equal(pvt_metrics_xen_vcpus(buf, sizeof(buf), &v, 1, 0x80), -EINVAL);
}

/* Two vCPUs, hostile label values; the result must satisfy the parser. */
static void parser_accepts(void **state)
{
	struct pvt_metrics_vcpu v[2] = {
		{ .stats = &st0, .vcpu = 0, .algo = "legacy", .target = "vmm",
		  .guest_clock = "kvm", .vm = "a \"quoted\" \\ name\nwith newline" },
		{ .stats = &st1, .vcpu = 1, .algo = "legacy", .target = "vmm",
		  .guest_clock = "kvm", .vm = "a \"quoted\" \\ name\nwith newline" },
	};
	char path[] = "/tmp/test_metrics.XXXXXX", cmd[512];
	int n = pvt_metrics_xen_vcpus(NULL, 0, v, 2, PVT_METRICS_EOF), fd;
	char *buf = malloc((size_t)n + 1);
	FILE *f;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(pvt_metrics_xen_vcpus(buf, (size_t)n + 1, v, 2, PVT_METRICS_EOF), n);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, (size_t)n), n);
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import sys\n"
		 "from prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n"
		 "fs = list(p(open(sys.argv[1]).read()))\n"
		 "assert len(fs) == 7, len(fs)\n"
		 "d = [s for f in fs for s in f.samples if s.name == \"pvtime_xen_delivered_total\"]\n"
		 "assert [(s.labels[\"vcpu\"], s.value) for s in d] == [(\"0\", 10), (\"1\", 7)], d\n"
		 "assert d[0].labels[\"vm\"] == \"a \\\"quoted\\\" \\\\ name\\nwith newline\", d[0].labels\n"
		 "print(\"parsed\", len(fs), \"families\")' %s", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	{
		char line[256];

		while (fgets(line, sizeof(line), f))
			fputs(line, stdout);
	}
	int rc = pclose(f);

	unlink(path);
	free(buf);
	if (rc)
		fail_msg("prometheus_client rejected the text (is python3-prometheus-client "
			 "installed? scripts/deps.sh)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_vcpu_exact),
		cmocka_unit_test(truncation_like_snprintf),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(parser_accepts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

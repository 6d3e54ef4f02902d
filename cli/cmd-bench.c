// SPDX-License-Identifier: MIT
/* pvtime bench <what>: benchmarks that report ratios against yardsticks measured in the same run. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} benches[] = {
	{ "conversion", bench_conversion, "guest-clock conversion and its inverse vs rdtsc, clock_gettime" },
	{ "timer", bench_timer, "arming cost, clock pairing cost and uncertainty per backend" },
	{ "sim", bench_sim, "simulator throughput in timer events per second" },
	{ "vmm", bench_vmm, "hypercall handling cost vs a bare exit round trip" },
};

int cmd_bench(int argc, char **argv)
{
	size_t n = sizeof(benches) / sizeof(benches[0]);

	if (argc < 2)
		return usage_error("bench: missing what to benchmark (pvtime bench --help)");
	if (!strcmp(argv[1], "--help")) {
		printf("usage: pvtime bench <what> [--json] [options]\n\n");
		for (size_t i = 0; i < n; i++)
			printf("  %-11s %s\n", benches[i].name, benches[i].summary);
		return PVT_EXIT_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[1], benches[i].name))
			return benches[i].run(argc - 1, argv + 1);
	return usage_error("bench: unknown benchmark '%s'", argv[1]);
}

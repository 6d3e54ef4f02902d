// SPDX-License-Identifier: MIT
/* pvtime: measure, simulate and demonstrate exact paravirtual guest timers. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cmdline.h"
#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "calc", cmd_calc, "pvclock and TSC-scaling arithmetic, bit-exact with KVM" },
	{ "tsdrift", cmd_tsdrift, "cumulative error of KVM's one-step conversion over uptime" },
	{ "sim", cmd_sim, "deterministic host+guest simulation of legacy, kvm and pvtime" },
	{ "timerlat", cmd_timerlat, "the seed's timer latency measurement, with statistics" },
	{ "vmm", cmd_vmm, "a tiny KVM VMM whose guest sleeps on Xen-style timers" },
	{ "bench", cmd_bench, "benchmarks: conversion, timer, sim, vmm" },
	{ "demo", cmd_demo, "the problem and the fix, side by side" },
	{ "inspect", cmd_inspect, "this KVM guest's own kvmclock page and TSC frequency" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: pvtime <command> [options]   (pvtime <command> --help)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
	cmdline_set(argc, argv);
	if (argc < 2)
		return usage_error("missing command (try pvtime --help)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("pvtime %s\n", PVT_VERSION_STRING);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	return usage_error("unknown command '%s' (try pvtime --help)", argv[1]);
}

/* SPDX-License-Identifier: MIT */
/* The pvtime subcommands. Each returns the process exit code: 0, 1 (runtime), 2 (usage). */
#ifndef PVTIME_CLI_COMMANDS_H
#define PVTIME_CLI_COMMANDS_H

int cmd_calc(int argc, char **argv);
int cmd_tsdrift(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_timerlat(int argc, char **argv);
int cmd_vmm(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* pvtime bench <what>: one per area, dispatched by cmd_bench(). */
int bench_conversion(int argc, char **argv);
int bench_timer(int argc, char **argv);
int bench_sim(int argc, char **argv);
int bench_vmm(int argc, char **argv);

#endif

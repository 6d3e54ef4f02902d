/* SPDX-License-Identifier: MIT */
/* This machine's host TSC frequency in kHz, never hard-coded. */
#ifndef PVTIME_CLI_HOST_KHZ_H
#define PVTIME_CLI_HOST_KHZ_H

#include <stdint.h>

/*
 * Tries, in order: KVM_GET_TSC_KHZ (VM fd, then a vCPU fd: what KVM itself
 * believes), a calibration of RDTSC against CLOCK_MONOTONIC_RAW (~50 ms),
 * /proc/cpuinfo's "cpu MHz". On success *source names the method used.
 * 0 or -errno (-ENODEV if nothing worked).
 */
int host_tsc_khz(uint32_t *khz, const char **source);

#endif

/* SPDX-License-Identifier: MIT */
/* Pieces the real host clock backends (hostclock-vdso.c, hostclock-kvm.c) share. */
#ifndef PVTIME_HOSTCLOCK_INTERNAL_H
#define PVTIME_HOSTCLOCK_INTERNAL_H

#include <stdint.h>

/* ops->destroy for a backend whose ctx is one malloc'd block. */
void hc_free_ctx(void *ctx);

/* ops->freq_ppb: the kernel's NTP frequency correction (pvt_hostclock_kernel_freq_ppb). */
int hc_kernel_freq_ppb(void *ctx, int64_t *ppb);

#endif

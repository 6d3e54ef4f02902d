/* SPDX-License-Identifier: MIT */
/*
 * Shared by every public header: the export marker and C++ linkage.
 *
 * The library is built with -fvisibility=hidden; only declarations marked
 * PVT_API are exported (and the linker version script lib/libpvtime.map
 * lists them by release). Consumers never need to define anything.
 */
#ifndef PVTIME_EXPORT_H
#define PVTIME_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define PVT_API __attribute__((visibility("default")))
#else
#define PVT_API
#endif

#ifdef __cplusplus
#define PVT_BEGIN_DECLS extern "C" {
#define PVT_END_DECLS }
#else
#define PVT_BEGIN_DECLS
#define PVT_END_DECLS
#endif

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Host clock pairing: one host TSC value and the host timer clock's ns
 * (CLOCK_MONOTONIC, or CLOCK_REALTIME for the KVM_GET_CLOCK backend) that
 * belong to the same instant, with an honest uncertainty bound, plus the
 * tracked rate (timer-clock ns per TSC tick) that NTP slews.
 *
 * Arming a timer never pairs: it reads the latest published pairing and
 * rate (lock-free, a seqlock of atomics) and converts a TSC value with one
 * 128-bit multiply. Re-pairing happens in pvt_hostclock_refresh(), called
 * by whoever has time: a VMM loop at pvt_hostclock_next_refresh_ns(), a
 * stage of a long timer, or the arm path itself once the pairing is stale
 * (a trylock: it never waits).
 *
 * Error bounds (documented per backend, see pvt_hostclock_flags):
 *  - vDSO sandwich: +-(half the narrowest TSC/clock_gettime/TSC window + 1 ns)
 *    at the pairing; between pairings the rate error (tracked, in ppb) times
 *    the distance from the pairing. Never early is guaranteed by xentimer's
 *    fire-time TSC check, not by this bound.
 *  - KVM_GET_CLOCK: +-1 ns (the kernel reads TSC and CLOCK_REALTIME from one
 *    TSC read); CLOCK_REALTIME can be stepped: use CANCEL_ON_SET timerfds,
 *    and a pairing taken before a step is stale (see pvt_hostclock_steps).
 *  - simulated: exact (0).
 *  - clocksource not "tsc" (PVT_HOSTCLOCK_F_NOT_TSC): the timer clock is not
 *    a linear function of the TSC; pairings still bracket correctly but the
 *    extrapolation error is the clocksource-vs-TSC drift (assume <= 500 ppm)
 *    times the pairing age, so refresh_ns is cut to 1 ms.
 */
#ifndef PVTIME_HOSTCLOCK_H
#define PVTIME_HOSTCLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>	/* clockid_t (POSIX), also in strict C99 mode */
#include <time.h>

#include "pvtime/export.h"

PVT_BEGIN_DECLS

/* A host clock: backend plus the pairing/rate state shared by all vCPUs (opaque). */
struct pvt_hostclock;

/* One host TSC value and the timer clock at the same instant. */
struct pvt_clock_pair {
	uint64_t tsc;			/* host TSC (midpoint of the window) */
	uint64_t mono_ns;		/* timer clock ns at tsc (see clockid) */
	uint64_t uncertainty_ns;	/* |true clock at tsc - mono_ns| <= this */
};

/*
 * Timer-clock ns per host TSC tick, fixed point: ns_int + ns_frac / 2^64.
 * 10 s of TSC converts to better than 1 ns (error < dt / 2^64 ns).
 */
struct pvt_rate {
	uint64_t ns_int;
	uint64_t ns_frac;
};

/*
 * A backend: how to read the host's TSC and timer clock. The library calls
 * these with a vCPU lock held: they are leaf clock reads that must not call
 * pvt_ functions nor take locks that are held around pvt_ calls.
 */
struct pvt_hostclock_ops {
	const char *name;		/* "vdso", "kvm", "sim" */
	/* A fresh pairing, narrowest of bounded retries. 0 or -errno. */
	int (*pair)(void *ctx, struct pvt_clock_pair *out);
	/* One TSC read (serializing on real hardware). */
	uint64_t (*read_tsc)(void *ctx);
	/* One read of the timer clock in ns. */
	uint64_t (*read_mono)(void *ctx);
	/*
	 * The backend's own rate knowledge, or NULL: an exact rate (sim) or
	 * one read from the kernel. Returns 0 and *err_ppb, or -ENODATA.
	 */
	int (*rate)(void *ctx, struct pvt_rate *rate, uint64_t *err_ppb);
	/*
	 * The kernel's current frequency correction of the timer clock in ppb
	 * (read-only adjtimex: freq + tick), or NULL. A change restarts the
	 * rate window and scales the rate at once.
	 */
	int (*freq_ppb)(void *ctx, int64_t *ppb);
	/* Called by legacy between its two clock reads (sim inserts time). */
	void (*preempt_point)(void *ctx);
	/* Frees the backend's ctx (may be NULL). */
	void (*destroy)(void *ctx);
	/*
	 * Steps of the timer clock seen so far (a count that only grows), or
	 * NULL for a clock that never steps (CLOCK_MONOTONIC). poll = false
	 * must be one atomic load; poll = true may also ask the kernel once,
	 * without blocking (the KVM backend reads its cancel-on-set watch fd).
	 */
	uint64_t (*steps)(void *ctx, bool poll);
};

/* Pairings closer than this give no rate update (2 x 21 ns / 16 ms = 2.6 ppm). */
#define PVT_RATE_MIN_WINDOW_NS		16000000ull

#define PVT_HOSTCLOCK_F_NOT_TSC		(1u << 0) /* clocksource is not tsc */
#define PVT_HOSTCLOCK_F_REALTIME	(1u << 1) /* timer clock is CLOCK_REALTIME */
#define PVT_HOSTCLOCK_F_EXACT		(1u << 2) /* simulated: no uncertainty */

/* ---- rate arithmetic (ratetrack.c) ---- */

/* rate x dt_tsc in ns, rounded up (round_up) or down; saturates at UINT64_MAX. */
PVT_API uint64_t pvt_rate_apply(const struct pvt_rate *rate, uint64_t dt_tsc,
			bool round_up);

/* dmono_ns / dtsc as a pvt_rate. -EINVAL if dtsc is 0. */
PVT_API int pvt_rate_from_delta(uint64_t dmono_ns, uint64_t dtsc, struct pvt_rate *rate);

/* The exact rate of a tsc_khz TSC under a slew in parts per 10^12. -EINVAL on 0 kHz. */
PVT_API int pvt_rate_from_khz(uint32_t tsc_khz, int64_t slew_ppt, struct pvt_rate *rate);

/* Relative difference |a - b| / b in ppb, rounded up (saturating). */
PVT_API uint64_t pvt_rate_diff_ppb(const struct pvt_rate *a, const struct pvt_rate *b);

/* ---- lifetime ---- */

/*
 * The vDSO sandwich backend on CLOCK_MONOTONIC. Calibrates the rate by two
 * pairings calib_ns apart (0 = 2 ms, busy-waits), detects the clocksource.
 * -ENOTSUP off x86-64.
 */
PVT_API int pvt_hostclock_new_vdso(uint64_t calib_ns, struct pvt_hostclock **out);

/*
 * The KVM_GET_CLOCK backend on CLOCK_REALTIME, given a VM fd (not owned).
 * -EOPNOTSUPP if the kernel does not return KVM_CLOCK_HOST_TSC and
 * KVM_CLOCK_REALTIME (fall back to vDSO). KVM returns them only while it
 * uses its master clock: the VM needs a vCPU and a KVM_SET_CLOCK (or a run).
 * Owns a step watch (pvt_hostclock_step_fd): a CLOCK_REALTIME timerfd armed
 * for a date never reached, ABSTIME|CANCEL_ON_SET, whose ECANCELED counts steps.
 */
PVT_API int pvt_hostclock_new_kvm(int vm_fd, uint64_t calib_ns, struct pvt_hostclock **out);

/*
 * Bring your own backend (ops must have pair, read_tsc, read_mono; ops and
 * ctx must outlive the clock, whose free calls ops->destroy(ctx)). Pairs
 * once; takes initial_rate, or the backend's rate when it is NULL.
 * flags: PVT_HOSTCLOCK_F_*. On failure ctx stays the caller's.
 */
PVT_API int pvt_hostclock_new_ops(const struct pvt_hostclock_ops *ops, void *ctx,
				  clockid_t clockid, unsigned flags,
				  const struct pvt_rate *initial_rate,
				  struct pvt_hostclock **out);

/* Calls the backend's destroy and frees. Free every VM using it first. NULL is fine. */
PVT_API void pvt_hostclock_free(struct pvt_hostclock *hc);

/* The clock of the pairings and of the host timers (CLOCK_MONOTONIC / CLOCK_REALTIME). */
PVT_API clockid_t pvt_hostclock_clockid(const struct pvt_hostclock *hc);

/* PVT_HOSTCLOCK_F_* of this clock. */
PVT_API unsigned pvt_hostclock_flags(const struct pvt_hostclock *hc);

/* The backend's name ("vdso", "kvm", "sim", ...). */
PVT_API const char *pvt_hostclock_name(const struct pvt_hostclock *hc);

/* ---- use ---- */

/* One TSC read through the backend. */
PVT_API uint64_t pvt_hostclock_read_tsc(struct pvt_hostclock *hc);

/* One timer-clock read through the backend. */
PVT_API uint64_t pvt_hostclock_read_mono(struct pvt_hostclock *hc);

/* A fresh pairing straight from the backend (does not publish it). */
PVT_API int pvt_hostclock_pair(struct pvt_hostclock *hc, struct pvt_clock_pair *out);

/*
 * The published pairing and rate (consistent snapshot, lock-free).
 * err_ppb may be NULL.
 */
PVT_API void pvt_hostclock_current(const struct pvt_hostclock *hc,
				   struct pvt_clock_pair *pair, struct pvt_rate *rate,
				   uint64_t *err_ppb);

/*
 * Timer-clock ns at which the host TSC reaches tsc, never early: rounded
 * up and plus the pairing's uncertainty. Lock-free; no clock read.
 */
PVT_API uint64_t pvt_hostclock_tsc_to_mono(const struct pvt_hostclock *hc, uint64_t tsc);

/* As pvt_hostclock_tsc_to_mono() but the best estimate (no uncertainty, round down). */
PVT_API uint64_t pvt_hostclock_tsc_to_mono_est(const struct pvt_hostclock *hc,
					       uint64_t tsc);

/*
 * Re-pairs now and publishes. Without a backend rate, the rate is
 * (mono, TSC) from the anchor pairing to this one once they are
 * PVT_RATE_MIN_WINDOW_NS apart: precision improves over the first window,
 * then the anchor moves on so the rate averages the last 1..2 windows
 * (follows NTP with that lag). -EBUSY if another thread is refreshing.
 */
PVT_API int pvt_hostclock_refresh(struct pvt_hostclock *hc);

/*
 * Timer-clock ns at which the published pairing goes stale: a VMM loop that
 * calls pvt_hostclock_refresh() then keeps re-pairing off the hypercall
 * path (arming would otherwise re-pair itself, once, when it finds it stale).
 */
PVT_API uint64_t pvt_hostclock_next_refresh_ns(const struct pvt_hostclock *hc);

/*
 * Steps of the timer clock seen so far (0 forever for a clock that never
 * steps). poll = true also asks the backend once, without blocking.
 */
PVT_API uint64_t pvt_hostclock_steps(struct pvt_hostclock *hc, bool poll);

/*
 * The clock-step watch fd (readable after CLOCK_REALTIME was set; the KVM
 * backend), or -1 if none. When it polls readable call
 * pvt_hostclock_handle_step(). The engine also polls it when arming.
 */
PVT_API int pvt_hostclock_step_fd(const struct pvt_hostclock *hc);

/*
 * The step watch polled readable: counts the step and re-pairs. 1 if a step
 * was seen, 0 if not, or -errno from the re-pairing. vCPUs whose host timers
 * were armed wake by themselves (cancel-on-set) and re-convert in service.
 */
PVT_API int pvt_hostclock_handle_step(struct pvt_hostclock *hc);

/*
 * The kernel's NTP frequency correction of CLOCK_MONOTONIC in ppb, from a
 * read-only adjtimex (modes 0): freq plus the tick length's deviation
 * (chrony slews with both). The PLL's offset slewing (ntpd) is not in it.
 */
PVT_API int pvt_hostclock_kernel_freq_ppb(int64_t *ppb);

/* Reads /sys/.../clocksource0/current_clocksource into buf (NUL-terminated). */
PVT_API int pvt_hostclock_clocksource(char *buf, unsigned len);

PVT_END_DECLS

#endif

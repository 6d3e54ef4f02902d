/* SPDX-License-Identifier: MIT */
/*
 * The demo's plots (demo-plot.c) and its real-KVM section (demo-vmm.c):
 * the same 100 us sleeps in a real guest on this host through the tiny VMM, legacy vs kvm vs pvtime, on the guest's
 * own kvmclock and on a Xen vcpu_time_info the VMM publishes (advertised one
 * kHz below the TSC) with its reference point 10 s, 1 h and 1 day back: the
 * seed's growing lateness (Bug 1) on real hardware, next to the model's error.
 */
#ifndef PVTIME_CLI_DEMO_VMM_H
#define PVTIME_CLI_DEMO_VMM_H

#include <stdint.h>
#include <stdio.h>

#include "demo.h"
#include "json.h"
#include "vmm.h"

/* Writes the simulations' plots into dir (created if needed); the paths written go to *paths. */
int demo_plots(const struct demo *d, const char *dir, char paths[][512], unsigned *count);

/*
 * Runs the section with loops sleeps per cell and prints it to out (text),
 * or, when j is not NULL, writes it as a "real_kvm" object into j's open
 * object. Returns 0; 1 when /dev/kvm is unusable (a one-line note is
 * printed, or "real_kvm": {"available": false, "reason": ...}); 2 when a
 * run failed (message printed). The guest is idle (timerlat), busy or mixed
 * (scenario), with busy/mixed's upcall delivered as irq_pref says; pvtime's
 * timer advance as adv's advance_mode/advance_ns say.
 */
int demo_vmm_section(FILE *out, struct json *j, uint64_t loops,
		     enum pvt_guest_scenario scenario, enum vmm_irq_pref irq_pref,
		     const struct vmm_config *adv);

#endif

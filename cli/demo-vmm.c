// SPDX-License-Identifier: MIT
/* pvtime demo's real-KVM section: Bug 1 and the fix in a real guest on this host. */
#include <string.h>

#include "args.h"
#include "demo-vmm.h"
#include "runctl.h"
#include "vmm-cell.h"
#include "vmm-cli.h"

#define DEMO_VMM_INTERVAL_NS	100000ull
#define DEMO_VMM_ROWS		4	/* kvmclock, then the Xen page at three uptimes */

static const uint64_t xen_uptimes_s[DEMO_VMM_ROWS] = { 0, 10, 3600, 86400 };

/* Why the section has no table: in the JSON, or as one line of text (pre reason post). */
static void not_shown(FILE *out, struct json *j, const char *pre, const char *reason,
		      const char *post)
{
	if (j) {
		json_object_begin(j, "real_kvm");
		json_bool(j, "available", false);
		json_string(j, "reason", reason);
		json_object_end(j);
	} else {
		fprintf(out, "\nReal KVM guest: %s%s%s\n", pre, reason, post);
	}
}

int demo_vmm_section(FILE *out, struct json *j, uint64_t loops,
		     enum pvt_guest_scenario scenario, enum vmm_irq_pref irq_pref,
		     const struct vmm_config *adv)
{
	char advbuf[24];
	struct vmm_config gc = { .scenario = scenario };
	struct vmm_cell cells[DEMO_VMM_ROWS][3];
	char msg[256], err[VMM_ERROR_LEN] = "";
	uint32_t khz = 0;
	int done = 0;	/* cells measured (fewer when interrupted) */

	if (vmm_probe(msg, sizeof(msg))) {
		not_shown(out, j, "skipped (/dev/kvm is not usable: ", msg, ")");
		return 1;
	}
	for (int k = 0; k < DEMO_VMM_ROWS && !runctl_signal(); k++) {
		for (int a = 0; a < 3 && !runctl_signal(); a++) {
			struct vmm_config cfg;

			vmm_config_default(&cfg);
			cfg.nr_vcpus = scenario == PVT_SCN_MIXED ? 2 : 1;
			cfg.scenario = scenario;
			cfg.irq_pref = irq_pref;
			cfg.loops = loops;
			cfg.interval_ns = DEMO_VMM_INTERVAL_NS;
			cfg.algo = (enum pvt_timer_algo)a;
			cfg.advance_mode = adv->advance_mode;
			cfg.advance_ns = adv->advance_ns;
			if (k > 0) {
				/* Advertised one kHz below the TSC (the default). */
				cfg.clock_src = PVT_CLK_XEN;
				cfg.uptime_s = xen_uptimes_s[k];
			}
			/* Under run control: a SIGINT stops the vCPUs, the loops done are kept. */
			if (vmm_cell_run(&cfg, "demo", &cells[k][a], err, sizeof(err))) {
				runtime_error("demo: %s", err);
				if (!err[0])
					snprintf(err, sizeof(err), "the VM did not run");
				goto fail;
			}
			khz = cells[k][a].tsc_khz;
			done++;
		}
	}
	if (j) {
		json_object_begin(j, "real_kvm");
		json_bool(j, "available", true);
		json_u64(j, "loops", loops);
		json_u64(j, "interval_ns", DEMO_VMM_INTERVAL_NS);
		json_string(j, "guest", vmm_guest_name(&gc));
		json_string(j, "advance", vmm_advance_name(adv, advbuf, sizeof(advbuf)));
		json_u64(j, "tsc_khz", khz);
		json_u64(j, "xen_page_advertised_khz", khz - 1);
		json_array_begin(j, "cells");
		for (int k = 0; k < DEMO_VMM_ROWS; k++)
			for (int a = 0; a < 3 && k * 3 + a < done; a++) {
				const struct vmm_cell *c = &cells[k][a];

				json_object_begin(j, NULL);
				json_string(j, "guest_clock", k ? "xen-page" : "kvmclock");
				if (k)
					json_u64(j, "uptime_s", xen_uptimes_s[k]);
				json_string(j, "algo", pvt_timer_algo_name((enum pvt_timer_algo)a));
				json_i64(j, "lateness_p50_ns", c->p50);
				json_i64(j, "lateness_min_ns", c->min);
				json_i64(j, "lateness_max_ns", c->max);
				json_i64(j, "delivery_lateness_p50_ns", c->delivery_p50);
				if (k)
					json_i64(j, "legacy_model_error_ns", c->model_error_ns);
				json_u64(j, "early_wakeups", c->early);
				json_u64(j, "oracle_mismatches", c->mismatches);
				json_object_end(j);
			}
		json_array_end(j);
		json_object_end(j);
		return 0;
	}
	fprintf(out, "\nReal KVM guest on this host (tiny VMM, %llu sleeps of 100 us per cell, %s guest, "
		"%u vCPU%s)\n", (unsigned long long)loops, vmm_guest_name(&gc),
		scenario == PVT_SCN_MIXED ? 2 : 1, scenario == PVT_SCN_MIXED ? "s" : "");
	fprintf(out, "  kvmclock: the guest reads its own kvmclock page (written by KVM)\n");
	fprintf(out, "  xen-page: the guest reads a Xen vcpu_time_info the VMM publishes, advertised\n"
		"            at %u kHz (TSC %u kHz) with its reference point `uptime` back (Bug 1)\n",
		khz - 1, khz);
	fprintf(out, "  %-9s %8s %-7s %12s %12s %12s %14s %14s %6s\n", "clock", "uptime", "algo",
		"p50 late", "min late", "max late", "VMM delivery", "model error", "early");
	for (int k = 0; k < DEMO_VMM_ROWS; k++)
		for (int a = 0; a < 3 && k * 3 + a < done; a++) {
			const struct vmm_cell *c = &cells[k][a];
			char up[24] = "-", model[24] = "-";

			if (k) {
				snprintf(up, sizeof(up), "%llu s", (unsigned long long)xen_uptimes_s[k]);
				snprintf(model, sizeof(model), "%lld ns", (long long)c->model_error_ns);
			}
			fprintf(out, "  %-9s %8s %-7s %9lld ns %9lld ns %9lld ns %11lld ns %14s %6llu\n",
				k ? "xen-page" : "kvmclock", up,
				pvt_timer_algo_name((enum pvt_timer_algo)a),
				(long long)c->p50, (long long)c->min, (long long)c->max,
				(long long)c->delivery_p50, model, (unsigned long long)c->early);
		}
	fprintf(out, "  (lateness = sleep observed by the guest - 100 us; \"VMM delivery\" = when the\n"
		"   expiry reached the guest's event word, on its own clock, minus the deadline;\n"
		"   \"model error\" = how far legacy's one-step clock trails the guest's: legacy\n"
		"   sleeps that much longer, growing with uptime, while kvm and pvtime do not;\n"
		"   pvtime's timer advance: %s)\n", vmm_advance_name(adv, advbuf, sizeof(advbuf)));
	return 0;
fail:
	not_shown(out, j, "run failed: ", err, "");
	return 2;
}

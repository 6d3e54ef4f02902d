// SPDX-License-Identifier: MIT
/* One timerlat cell in a real guest (see vmm-cell.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "results.h"
#include "stats.h"
#include "timerlat-report.h"
#include "vmm-cell.h"
#include "vmm-run.h"

/* How far legacy's one-step "now" trails the guest's clock at the end of the run. */
static int64_t model_error(struct vmm *vm)
{
	struct pvt_guest_clock clock = {
		.tsc = {
			.ratio = pvt_tsc_ratio_one(PVT_FRAC_BITS_SVM),
			.offset = vm->vcpus[0].tsc_offset,
			.frac_bits = PVT_FRAC_BITS_SVM,
		},
		.page = vm->xen_page[0],
	};
	uint64_t now = vmm__rdtsc();

	return (int64_t)(pvt_guest_clock_ns(&clock, now) -
			 pvt_kvm_clock_legacy_ns(&vm->legacy_model, now));
}

int vmm_cell_run(const struct vmm_config *cfg, const char *what, struct vmm_cell *c,
		 char *err, size_t len)
{
	struct timerlat_report r;
	struct stats d;
	struct vmm vm;
	bool stopped;
	int ret;

	memset(c, 0, sizeof(*c));
	timerlat_report_init(&r, "demo", cfg->interval_ns, NULL, true);
	ret = vmm_run_ctl(&vm, cfg, what, 0, true, &stopped);
	c->tsc_khz = vm.tsc_khz;
	if (ret) {
		snprintf(err, len, "%s", vm.error);
	} else if (!vmm_timerlat_report(&vm, &r) && r.lateness.count) {
		struct vmm_totals t;

		c->p50 = stats_percentile(&r.lateness, 50, 100);
		c->min = stats_min(&r.lateness);
		c->max = stats_max(&r.lateness);
		vmm_totals(&vm, &t);
		c->early = t.early_wakeups;
		c->mismatches = t.page_mismatches + t.sample_mismatches;
		c->delivery_p50 = -1;
		if (cfg->clock_src == PVT_CLK_XEN)
			c->model_error_ns = model_error(&vm);
		if (!vmm_cost(&vm, VMM_COST_DELIVERY, &d) && d.count)
			c->delivery_p50 = stats_percentile(&d, 50, 100);
		stats_free(&d);
	}
	timerlat_report_free(&r);
	vmm_destroy(&vm);
	return ret;
}

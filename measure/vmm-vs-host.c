// SPDX-License-Identifier: MIT
/* A guest's timerlat run through the tiny VMM and the host baseline next to it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runctl.h"
#include "vmm-run.h"
#include "vmm-vs-host.h"

static int64_t cost_p50(const struct vmm *vm, enum vmm_cost_kind kind)
{
	struct stats s;
	int64_t v = -1;

	if (!vmm_cost(vm, kind, &s) && s.count)
		v = stats_percentile(&s, 50, 100);
	stats_free(&s);
	return v;
}

/* Per-vCPU reports (OpenMetrics has a vcpu label); -ENOMEM. */
static int per_vcpu(struct vmm *vm, struct vmm_vs_host *m, const struct vmm_config *cfg)
{
	m->vcpu = calloc(vm->nr_vcpus, sizeof(*m->vcpu));
	m->vcpu_early = calloc(vm->nr_vcpus, sizeof(*m->vcpu_early));
	m->vcpu_lost = calloc(vm->nr_vcpus, sizeof(*m->vcpu_lost));
	if (!m->vcpu || !m->vcpu_early || !m->vcpu_lost)
		return -ENOMEM;
	m->nr_vcpus = vm->nr_vcpus;
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *res = &vm->vcpus[c].res;

		timerlat_report_init(&m->vcpu[c], pvt_timer_algo_name(cfg->algo),
				     cfg->interval_ns, NULL, true);
		m->vcpu_early[c] = res->early_wakeups;
		m->vcpu_lost[c] = vmm_vcpu_lost(vm, c);
		for (uint64_t i = 0; i + 1 < res->nr_samples && i / 2 < res->loops_done; i += 2)
			if (timerlat_report_add(&m->vcpu[c], res->samples[i + 1].ns - res->samples[i].ns))
				return -ENOMEM;
	}
	return 0;
}

/* "what: why" into m->error; returns err. */
static int fail(struct vmm_vs_host *m, int err, const char *what, const char *why)
{
	snprintf(m->error, sizeof(m->error), "%s: %s", what, why);
	return err;
}

int vmm_vs_host_run(const char *what, const struct vmm_config *cfg,
		    struct vmm_vs_host *m, FILE *out, bool quiet, bool host_too,
		    uint64_t duration_ns, bool progress)
{
	struct timerlat_host_opts hopts = {
		.loops = cfg->loops,
		.interval_ns = cfg->interval_ns,
		.fifo_priority = cfg->fifo_priority,
		.cpu = -1,
	};
	struct vmm vm;
	char buf[24];
	int ret;

	memset(m, 0, sizeof(*m));
	timerlat_report_init(&m->guest, pvt_timer_algo_name(cfg->algo), cfg->interval_ns,
			     out, quiet);
	timerlat_report_init(&m->host, "host", cfg->interval_ns, NULL, true);
	/* Same environment for guest and host: slack, mlock, DMA latency, policy. */
	ret = timerlat_host_setup(&hopts, &m->env);
	if (ret) {
		snprintf(m->error, sizeof(m->error), "%s", m->env.error);
		return ret;
	}
	m->env_ready = true;
	ret = vmm_run_ctl(&vm, cfg, what, duration_ns, !progress, &m->stopped);
	if (ret && vm.watchdog_fired) {
		/* The figures so far, and the timers that never came, are the report. */
		snprintf(m->watchdog_error, sizeof(m->watchdog_error), "%s: %s", what, vm.error);
		m->watchdog = true;
		m->stopped = true;
		ret = 0;
	} else if (ret) {
		ret = fail(m, ret, what, vm.error);
	}
	if (!ret && (vmm_timerlat_report(&vm, &m->guest) || per_vcpu(&vm, m, cfg)))
		ret = fail(m, -ENOMEM, what, "out of memory");
	vmm_totals(&vm, &m->totals);
	m->cost_timer_p50 = cost_p50(&vm, VMM_COST_TIMER);
	m->cost_block_p50 = cost_p50(&vm, VMM_COST_BLOCK);
	m->cost_null_p50 = cost_p50(&vm, VMM_COST_NULL);
	m->delivery_p50 = cost_p50(&vm, VMM_COST_DELIVERY);
	if (!ret && vmm_advance_summary(&vm, &m->adv))
		ret = fail(m, -ENOMEM, what, "out of memory");
	snprintf(m->adv_name, sizeof(m->adv_name), "%s", vmm_advance_name(cfg, buf, sizeof(buf)));
	m->irq_mode = vm.irq_mode;
	if (vm.irq_mode) {
		snprintf(m->irq_name, sizeof(m->irq_name), "%s", vmm_irq_name(&vm));
		vmm_irq_totals(&vm, &m->irq_totals);
		if (!ret && vmm_irq_breakdown(&vm, &m->irq))
			ret = fail(m, -ENOMEM, what, "out of memory");
	}
	vmm_destroy(&vm);
	/* The baseline does as many loops as a vCPU did (--duration, or stopped). */
	if (m->stopped && cfg->nr_vcpus)
		hopts.loops = m->totals.loops / cfg->nr_vcpus;
	if (!ret && host_too && !runctl_signal() && !m->watchdog && hopts.loops) {
		ret = timerlat_host_measure(&hopts, &m->host);
		if (ret) {
			snprintf(m->error, sizeof(m->error), "%s: host baseline: %s", what,
				 strerror(-ret));
		}
	}
	timerlat_host_teardown(&m->env);
	return ret;
}

void vmm_vs_host_free(struct vmm_vs_host *m)
{
	timerlat_report_free(&m->guest);
	timerlat_report_free(&m->host);
	for (unsigned c = 0; m->vcpu && c < m->nr_vcpus; c++)
		timerlat_report_free(&m->vcpu[c]);
	free(m->vcpu);
	free(m->vcpu_early);
	free(m->vcpu_lost);
	m->vcpu = NULL;
	m->vcpu_early = NULL;
	m->vcpu_lost = NULL;
}

void vmm_vs_host_json(struct json *j, struct vmm_vs_host *m)
{
	struct stats *g = &m->guest.lateness, *h = &m->host.lateness;

	json_object_begin(j, "host");
	timerlat_report_json(&m->host, j);
	json_object_end(j);
	if (g->count && h->count) {
		json_object_begin(j, "guest_minus_host_lateness_ns");
		json_i64(j, "p50", stats_percentile(g, 50, 100) - stats_percentile(h, 50, 100));
		json_i64(j, "p99", stats_percentile(g, 99, 100) - stats_percentile(h, 99, 100));
		json_i64(j, "max", stats_max(g) - stats_max(h));
		json_double(j, "mean", stats_mean(g) - stats_mean(h));
		json_object_end(j);
	}
	json_bool(j, "cpu_dma_latency_held", m->env.dma_latency_held);
}

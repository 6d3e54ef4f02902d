// SPDX-License-Identifier: MIT
/* A finished VM's results as text and JSON (the figures are vmm/results.c's). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm-cli.h"

/* kvm_pvm runs guests without VMX/SVM: worth a line in every report. */
static bool kvm_is_pvm(void)
{
	return !access("/sys/module/kvm_pvm", F_OK);
}

/* Oracle (a) checks voided by a master-clock re-snapshot, over vCPUs. */
static uint64_t total_resnapshots(const struct vmm *vm, const char **first)
{
	uint64_t n = 0;

	*first = NULL;
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		n += r->resnapshots;
		if (!*first && r->resnapshot[0])
			*first = r->resnapshot;
	}
	return n;
}

void vmm_cli_print(FILE *out, const struct vmm *vm)
{
	struct vmm_totals t;
	const char *resnap;
	uint64_t resnapshots = total_resnapshots(vm, &resnap);

	vmm_totals(vm, &t);
	fprintf(out, "# guest clock: %s\n", vmm_cli_clock_name(&vm->cfg));
	if (vm->cfg.clock_src == PVT_CLK_XEN)
		fprintf(out, "# advertised %u kHz (TSC %u kHz), reference %llu s in the past\n",
			vm->cfg.advertise_khz ? vm->cfg.advertise_khz : vm->tsc_khz,
			vm->tsc_khz, (unsigned long long)vm->cfg.uptime_s);
	fprintf(out, "# algo %s, %u vCPUs, TSC %u kHz, guest measures at CPL %d\n",
		pvt_timer_algo_name(vm->cfg.algo), vm->nr_vcpus, vm->tsc_khz,
		vm->cfg.kernel_mode ? 0 : 3);
	if (kvm_is_pvm())
		fprintf(out, "# KVM here is kvm_pvm (no VMX/SVM): guest CPL 0 is emulated, CPL 3 native;\n"
			"# the guest TSC is the host TSC (TSC offsets are ignored)\n");
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		fprintf(out, "vcpu %u: loops %llu early_wakeups %llu singleshot_fired %llu "
			"periodic_fired %llu exits %llu tsc_offset %lld master_clock %s\n",
			c, (unsigned long long)r->loops_done,
			(unsigned long long)r->early_wakeups,
			(unsigned long long)r->singleshot_fired,
			(unsigned long long)r->periodic_fired,
			(unsigned long long)r->exits, (long long)r->tsc_offset,
			r->master_clock ? "yes" : "no");
	}
	vmm_cli_irq_print(out, vm);
	fprintf(out, "oracle (a) KVM page vs model: %llu checks, %llu mismatches, "
		"%llu voided by a master-clock re-snapshot\n",
		(unsigned long long)t.page_checks, (unsigned long long)t.page_mismatches,
		(unsigned long long)resnapshots);
	if (resnap)
		fprintf(out, "first re-snapshot: %s\n", resnap);
	fprintf(out, "oracle (b) guest samples vs host bracket + model ns: %llu checks, %llu mismatches\n",
		(unsigned long long)t.sample_checks, (unsigned long long)t.sample_mismatches);
	if (t.first_mismatch)
		fprintf(out, "first mismatch: %s\n", t.first_mismatch);
	if (vm->cfg.measure_costs) {
		static const char *const names[] = {
			[VMM_COST_TIMER] = "timer hypercall",
			[VMM_COST_BLOCK] = "block (wake to resume)",
			[VMM_COST_NULL] = "null exit",
			[VMM_COST_DELIVERY] = "expiry delivery lateness on the guest clock",
		};

		for (enum vmm_cost_kind k = VMM_COST_TIMER; k <= VMM_COST_DELIVERY; k++) {
			struct stats s;

			if (vmm_cost(vm, k, &s) || !s.count) {
				stats_free(&s);
				continue;
			}
			fprintf(out, "%s %s: n=%zu p50=%lld ns p99=%lld ns\n",
				k < VMM_COST_EXIT_KINDS ? "handling cost" : "VMM", names[k],
				s.count, (long long)stats_percentile(&s, 50, 100),
				(long long)stats_percentile(&s, 99, 100));
			stats_free(&s);
		}
		vmm_cli_advance_print(out, vm);
	}
}

void vmm_cli_advance_print(FILE *out, const struct vmm *vm)
{
	struct vmm_advance_summary a;
	char buf[24];

	if (vmm_advance_summary(vm, &a) || !a.on)
		return;
	fprintf(out, "timer advance %s: %llu expiries, %llu spun; advance p50=%lld ns p99=%lld ns; "
		"spin p50=%lld ns p99=%lld ns mean=%.0f ns\n",
		vmm_advance_name(&vm->cfg, buf, sizeof(buf)),
		(unsigned long long)a.expiries, (unsigned long long)a.spins,
		(long long)a.advance_p50, (long long)a.advance_p99, (long long)a.spin_p50,
		(long long)a.spin_p99, a.spin_mean);
}

void vmm_cli_advance_json(struct json *j, const struct vmm *vm)
{
	struct vmm_advance_summary a;
	char buf[24];

	json_string(j, "advance", vmm_advance_name(&vm->cfg, buf, sizeof(buf)));
	if (vmm_advance_summary(vm, &a) || !a.on)
		return;
	vmm_cli_advance_summary_json(j, &a);
}

void vmm_cli_advance_summary_json(struct json *j, const struct vmm_advance_summary *a)
{
	json_u64(j, "advanced_expiries", a->expiries);
	json_i64(j, "advance_ns", a->advance_p50);
	json_i64(j, "advance_ns_p99", a->advance_p99);
	json_object_begin(j, "spin_ns");
	json_i64(j, "p50", a->spin_p50);
	json_i64(j, "p99", a->spin_p99);
	json_double(j, "mean", a->spin_mean);
	json_u64(j, "spins", a->spins);
	json_object_end(j);
}

void vmm_cli_json(struct json *j, const struct vmm *vm)
{
	struct vmm_totals t;
	const char *resnap;
	uint64_t resnapshots = total_resnapshots(vm, &resnap);

	vmm_totals(vm, &t);
	json_string(j, "guest_clock", vm->cfg.clock_src == PVT_CLK_XEN ? "xen" : "kvm");
	json_string(j, "guest_clock_description", vmm_cli_clock_name(&vm->cfg));
	json_u64(j, "tsc_khz", vm->tsc_khz);
	if (vm->cfg.clock_src == PVT_CLK_XEN) {
		json_u64(j, "advertise_khz", vm->cfg.advertise_khz ? vm->cfg.advertise_khz : vm->tsc_khz);
		json_u64(j, "uptime_s", vm->cfg.uptime_s);
	}
	json_u64(j, "vcpus", vm->nr_vcpus);
	json_u64(j, "guest_cpl", vm->cfg.kernel_mode ? 0 : 3);
	json_string(j, "kvm_backend", kvm_is_pvm() ? "kvm_pvm" : "kvm");
	json_u64(j, "early_wakeups", t.early_wakeups);
	json_u64(j, "exits", t.exits);
	json_u64(j, "hypercalls", t.hypercalls);
	vmm_cli_irq_json(j, vm);
	vmm_cli_advance_json(j, vm);
	json_object_begin(j, "oracle");
	json_u64(j, "page_checks", t.page_checks);
	json_u64(j, "page_mismatches", t.page_mismatches);
	json_u64(j, "resnapshots", resnapshots);
	if (resnap)
		json_string(j, "first_resnapshot", resnap);
	json_u64(j, "sample_checks", t.sample_checks);
	json_u64(j, "sample_mismatches", t.sample_mismatches);
	if (t.first_mismatch)
		json_string(j, "first_mismatch", t.first_mismatch);
	json_object_end(j);
	json_array_begin(j, "vcpu");
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		json_object_begin(j, NULL);
		json_u64(j, "id", c);
		json_u64(j, "loops", r->loops_done);
		json_u64(j, "early_wakeups", r->early_wakeups);
		json_u64(j, "singleshot_fired", r->singleshot_fired);
		json_u64(j, "periodic_fired", r->periodic_fired);
		json_u64(j, "tsc_offset", r->tsc_offset);
		json_bool(j, "master_clock", r->master_clock);
		json_u64(j, "page_checks", r->page_checks);
		json_u64(j, "page_mismatches", r->page_mismatches);
		json_u64(j, "resnapshots", r->resnapshots);
		json_u64(j, "sample_checks", r->sample_checks);
		json_u64(j, "sample_mismatches", r->sample_mismatches);
		json_object_end(j);
	}
	json_array_end(j);
}

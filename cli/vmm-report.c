// SPDX-License-Identifier: MIT
/* A finished VM's results as text (the figures and their JSON are vmm/results.c's). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm-cli.h"

void vmm_cli_print(FILE *out, const struct vmm *vm)
{
	struct vmm_totals t;
	const char *resnap;
	uint64_t resnapshots = vmm_resnapshots(vm, &resnap);

	vmm_totals(vm, &t);
	fprintf(out, "# guest clock: %s\n", vmm_clock_name(&vm->cfg));
	if (vm->cfg.clock_src == PVT_CLK_XEN)
		fprintf(out, "# advertised %u kHz (TSC %u kHz), reference %llu s in the past\n",
			vm->cfg.advertise_khz ? vm->cfg.advertise_khz : vm->tsc_khz,
			vm->tsc_khz, (unsigned long long)vm->cfg.uptime_s);
	fprintf(out, "# algo %s, %u vCPUs, TSC %u kHz, guest measures at CPL %d\n",
		pvt_timer_algo_name(vm->cfg.algo), vm->nr_vcpus, vm->tsc_khz,
		vm->cfg.kernel_mode ? 0 : 3);
	if (vmm_host_is_pvm())
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

/* The upcall scenarios (busy/mixed): how the upcalls went and the interrupt path. */
void vmm_cli_irq_print(FILE *out, const struct vmm *vm)
{
	struct vmm_irq_totals t;
	struct vmm_irq_breakdown b;

	if (vm->irq_mode == PVT_IRQ_NONE)
		return;
	vmm_irq_totals(vm, &t);
	fprintf(out, "# upcall delivery: %s%s%s%s\n", vmm_irq_name(vm),
		vm->irq_why[0] ? " (" : "", vm->irq_why, vm->irq_why[0] ? ")" : "");
	fprintf(out, "upcalls: raised %llu, by interrupt %llu, on unmask %llu; kicks %llu, "
		"KVM_INTERRUPT %llu, interrupt windows %llu, MSIs %llu, blocks %llu; "
		"software timers armed %llu, fired %llu\n",
		(unsigned long long)t.raises, (unsigned long long)t.upcalls,
		(unsigned long long)t.upcalls_direct, (unsigned long long)t.kicks,
		(unsigned long long)t.injections, (unsigned long long)t.windows,
		(unsigned long long)t.msis, (unsigned long long)t.blocks,
		(unsigned long long)t.timers_armed, (unsigned long long)t.timers_fired);
	if (!vmm_irq_breakdown(vm, &b) && b.n)
		fprintf(out, "interrupt path p50 (n=%zu): wake %lld ns, kick %lld ns, inject %lld ns, "
			"entry %lld ns, handler %lld ns (raise to fire %lld ns)\n", b.n,
			(long long)b.wake_ns, (long long)b.kick_ns, (long long)b.inject_ns,
			(long long)b.entry_ns, (long long)b.handler_ns, (long long)b.raise_to_fire_ns);
}


// SPDX-License-Identifier: MIT
/* The upcall scenarios (busy/mixed) as text and JSON; the figures are vmm/results.c's. */
#include <string.h>

#include "vmm-cli.h"

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

void vmm_cli_irq_json_breakdown(struct json *j, const struct vmm_irq_breakdown *b)
{
	json_object_begin(j, "interrupt_path_p50_ns");
	json_u64(j, "n", b->n);
	json_i64(j, "wake", b->wake_ns);
	json_i64(j, "kick", b->kick_ns);
	json_i64(j, "inject", b->inject_ns);
	json_i64(j, "entry", b->entry_ns);
	json_i64(j, "handler", b->handler_ns);
	json_i64(j, "raise_to_fire", b->raise_to_fire_ns);
	json_object_end(j);
}

void vmm_cli_irq_json(struct json *j, const struct vmm *vm)
{
	struct vmm_irq_totals t;
	struct vmm_irq_breakdown b;

	if (vm->irq_mode == PVT_IRQ_NONE)
		return;
	vmm_irq_totals(vm, &t);
	json_object_begin(j, "upcalls");
	json_string(j, "delivery", vm->irq_mode == PVT_IRQ_CHIP ? "irqchip" : "userspace");
	json_string(j, "why", vm->irq_why);
	json_u64(j, "raised", t.raises);
	json_u64(j, "by_interrupt", t.upcalls);
	json_u64(j, "on_unmask", t.upcalls_direct);
	json_u64(j, "kicks", t.kicks);
	json_u64(j, "kvm_interrupt", t.injections);
	json_u64(j, "interrupt_windows", t.windows);
	json_u64(j, "msis", t.msis);
	json_u64(j, "blocks", t.blocks);
	json_u64(j, "timers_armed", t.timers_armed);
	json_u64(j, "timers_fired", t.timers_fired);
	if (!vmm_irq_breakdown(vm, &b))
		vmm_cli_irq_json_breakdown(j, &b);
	json_object_end(j);
}

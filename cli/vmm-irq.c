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


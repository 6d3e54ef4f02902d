// SPDX-License-Identifier: MIT
/*
 * The upcall scenarios (busy/mixed) in figures: how the interrupt was
 * delivered, how often, and where the time between a deadline and the
 * guest's software timer firing goes:
 *   wake    deadline -> the VMM raised the upcall (host timer wake-up), guest clock
 *   kick    raise -> the vCPU out of guest mode (userspace: the signal's EINTR;
 *           irqchip: until the MSI ioctl starts)
 *   inject  -> KVM_INTERRUPT / KVM_SIGNAL_MSI returned
 *   entry   -> the guest's handler runs at the interrupted CPL (the emulated
 *           CPL 0 entry stub included; negative when the MSI landed first)
 *   handler -> the clock read that fired the software timer
 * Each stage's p50 over the upcalls that came by interrupt (not by unmask).
 */
#include <string.h>

#include "vmm-cli.h"

const char *vmm_irq_name(const struct vmm *vm)
{
	switch (vm->irq_mode) {
	case PVT_IRQ_CHIP:
		return "in-kernel irqchip (KVM_SIGNAL_MSI to the local APIC)";
	case PVT_IRQ_USER:
		return "userspace (KVM_INTERRUPT + interrupt window, SIGUSR1 kick)";
	default:
		return "none";
	}
}

const char *vmm_guest_name(const struct vmm_config *cfg)
{
	switch (cfg->scenario) {
	case PVT_SCN_TIMERLAT:
		return "idle";
	case PVT_SCN_BUSY:
		return "busy";
	case PVT_SCN_MIXED:
		return "mixed";
	default:
		return "other";
	}
}

int vmm_irq_lateness(const struct vmm *vm, struct stats *s)
{
	stats_init(s);
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		for (uint64_t i = 0; i < r->nr_irq_recs; i++)
			if (stats_add(s, r->irq_recs[i].late_ns))
				return -1;
	}
	return 0;
}

/* Signed ticks to ns; the records live in guest memory, so no overflow on any value. */
static int64_t ticks_ns(const struct vmm *vm, int64_t ticks)
{
	uint64_t mag = ticks < 0 ? 0 - (uint64_t)ticks : (uint64_t)ticks;
	uint64_t ns = vmm_tsc_to_ns(vm, mag);

	if (ns > INT64_MAX)
		ns = INT64_MAX;
	return ticks < 0 ? -(int64_t)ns : (int64_t)ns;
}

static int64_t p50(struct stats *s)
{
	return s->count ? stats_percentile(s, 50, 100) : -1;
}

int vmm_irq_breakdown(const struct vmm *vm, struct vmm_irq_breakdown *b)
{
	struct stats st[5], wake;
	int ret = 0;

	memset(b, 0, sizeof(*b));
	for (int k = 0; k < 5; k++)
		stats_init(&st[k]);
	for (unsigned c = 0; c < vm->nr_vcpus && !ret; c++) {
		const struct vmm_vcpu *v = &vm->vcpus[c];
		const struct vmm_vcpu_result *r = &v->res;

		for (uint64_t i = 0; i < r->nr_irq_recs && !ret; i++) {
			const struct pvt_guest_irq_rec *x = &r->irq_recs[i];
			/* Guest TSC back to host TSC (no scaling here). */
			uint64_t entry = x->entry_tsc - v->tsc_offset;
			uint64_t fire = x->fire_tsc - v->tsc_offset;
			int64_t d[5];

			/* Only upcalls that came by interrupt, with a consistent path. */
			if (x->direct || !x->raise_tsc || x->kick_tsc < x->raise_tsc ||
			    x->inject_tsc < x->kick_tsc || fire < entry || fire < x->raise_tsc)
				continue;
			/* A record whose raise stamps belong to an older upcall: skip. */
			if (vmm_tsc_to_ns(vm, fire - x->raise_tsc) > 10000000)
				continue;
			/* All within 10 ms of each other now: the differences fit. */
			d[0] = (int64_t)(x->kick_tsc - x->raise_tsc);
			d[1] = (int64_t)(x->inject_tsc - x->kick_tsc);
			d[2] = (int64_t)(entry - x->inject_tsc);
			d[3] = (int64_t)(fire - entry);
			d[4] = (int64_t)(fire - x->raise_tsc);
			for (int k = 0; k < 5 && !ret; k++)
				ret = stats_add(&st[k], ticks_ns(vm, d[k]));
		}
	}
	if (!ret)
		ret = vmm_cost(vm, 3, &wake);
	else
		stats_init(&wake);
	b->n = st[0].count;
	b->wake_ns = p50(&wake);
	b->kick_ns = p50(&st[0]);
	b->inject_ns = p50(&st[1]);
	b->entry_ns = p50(&st[2]);
	b->handler_ns = p50(&st[3]);
	b->raise_to_fire_ns = p50(&st[4]);
	for (int k = 0; k < 5; k++)
		stats_free(&st[k]);
	stats_free(&wake);
	return ret ? -1 : 0;
}

void vmm_irq_totals(const struct vmm *vm, struct vmm_irq_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		t->raises += r->raises;
		t->kicks += r->kicks;
		t->injections += r->injections;
		t->msis += r->msis;
		t->windows += r->windows;
		t->blocks += r->blocks;
		t->upcalls += r->upcalls;
		t->upcalls_direct += r->upcalls_direct;
		t->timers_fired += r->timers_fired;
		t->timers_armed += r->timers_armed;
	}
}

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

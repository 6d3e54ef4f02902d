// SPDX-License-Identifier: MIT
/*
 * A finished VM's results in figures: totals over vCPUs, the timerlat
 * report, handling costs, the timer advance and the upcall path.
 *
 * The upcall scenarios (busy/mixed): where the time between a deadline and
 * the guest's software timer firing goes:
 *   wake    deadline -> the VMM raised the upcall (host timer wake-up), guest clock
 *   kick    raise -> the vCPU out of guest mode (userspace: the signal's EINTR;
 *           irqchip: until the MSI ioctl starts)
 *   inject  -> KVM_INTERRUPT / KVM_SIGNAL_MSI returned
 *   entry   -> the guest's handler runs at the interrupted CPL (the emulated
 *           CPL 0 entry stub included; negative when the MSI landed first)
 *   handler -> the clock read that fired the software timer
 * Each stage's p50 over the upcalls that came by interrupt (not by unmask).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "results.h"

uint64_t vmm_tsc_to_ns(const struct vmm *vm, uint64_t ticks)
{
	return (uint64_t)((unsigned __int128)ticks * 1000000 / vm->tsc_khz);
}

int vmm_timerlat_report(struct vmm *vm, struct timerlat_report *r)
{
	char tag[32];

	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *res = &vm->vcpus[c].res;

		snprintf(tag, sizeof(tag), " vcpu %u", c);
		/* busy/mixed: each software timer's lateness, as a sleep of one interval. */
		if (vm->irq_mode) {
			for (uint64_t i = 0; i < res->nr_irq_recs; i++)
				if (timerlat_report_add_tagged(r, r->interval_ns +
							       (uint64_t)res->irq_recs[i].late_ns,
							       vm->nr_vcpus > 1 ? tag : NULL))
					return -ENOMEM;
			continue;
		}
		for (uint64_t i = 0; i + 1 < res->nr_samples && i / 2 < res->loops_done; i += 2) {
			uint64_t lat = res->samples[i + 1].ns - res->samples[i].ns;

			if (timerlat_report_add_tagged(r, lat, vm->nr_vcpus > 1 ? tag : NULL))
				return -ENOMEM;
		}
	}
	return 0;
}

uint64_t vmm_vcpu_lost(const struct vmm *vm, unsigned c)
{
	enum pvt_guest_scenario scn = vm->cfg.scenario;
	bool sleeps = scn == PVT_SCN_TIMERLAT || scn == PVT_SCN_BUSY || scn == PVT_SCN_MIXED;

	return vm->watchdog_fired && sleeps && vm->vcpus[c].res.loops_done < vm->cfg.loops;
}

void vmm_totals(const struct vmm *vm, struct vmm_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		t->loops += r->loops_done;
		t->early_wakeups += r->early_wakeups;
		/*
		 * A timerlat vCPU that had loops left when the watchdog ended the
		 * run was asleep on a timer that never came.
		 */
		t->lost_timers += vmm_vcpu_lost(vm, c);
		t->exits += r->exits;
		t->hypercalls += r->hypercalls;
		t->page_checks += r->page_checks;
		t->page_mismatches += r->page_mismatches;
		t->sample_checks += r->sample_checks;
		t->sample_mismatches += r->sample_mismatches;
		t->singleshot_fired += r->singleshot_fired;
		t->periodic_fired += r->periodic_fired;
		if (!t->first_mismatch && r->mismatch[0])
			t->first_mismatch = r->mismatch;
	}
}

int vmm_advance_summary(const struct vmm *vm, struct vmm_advance_summary *s)
{
	struct stats sp, ad;
	uint64_t total = 0;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	stats_init(&sp);
	stats_init(&ad);
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_vcpu_result *r = &vm->vcpus[c].res;

		s->expiries += r->advanced_expiries;
		s->spins += r->spins;
		total += r->spin_total_ns;
		for (uint64_t i = 0; !ret && i < r->n_spin; i++)
			if (stats_add(&sp, (int64_t)r->spin_ns[i]) ||
			    stats_add(&ad, (int64_t)r->advance_ns[i]))
				ret = -ENOMEM;
	}
	s->on = s->expiries > 0;
	s->spin_mean = s->expiries ? (double)total / (double)s->expiries : 0;
	s->advance_p50 = ad.count ? stats_percentile(&ad, 50, 100) : -1;
	s->advance_p99 = ad.count ? stats_percentile(&ad, 99, 100) : -1;
	s->spin_p50 = sp.count ? stats_percentile(&sp, 50, 100) : -1;
	s->spin_p99 = sp.count ? stats_percentile(&sp, 99, 100) : -1;
	stats_free(&sp);
	stats_free(&ad);
	return ret;
}

int vmm_cost(const struct vmm *vm, enum vmm_cost_kind kind, struct stats *s)
{
	stats_init(s);
	if ((unsigned)kind > VMM_COST_DELIVERY)
		return -EINVAL;
	for (unsigned c = 0; c < vm->nr_vcpus; c++) {
		const struct vmm_costs *k = &vm->vcpus[c].res.cost;

		if (kind == VMM_COST_DELIVERY) {
			for (uint64_t i = 0; i < k->n_wake_late; i++)
				if (stats_add(s, k->wake_late[i]))
					return -ENOMEM;
			continue;
		}
		for (uint64_t i = 0; i < k->n[kind]; i++)
			if (stats_add(s, (int64_t)vmm_tsc_to_ns(vm, k->ticks[kind][i])))
				return -ENOMEM;
	}
	return 0;
}

const char *vmm_advance_name(const struct vmm_config *cfg, char *buf, size_t len)
{
	if (cfg->algo != PVT_ALGO_PVTIME || cfg->advance_mode == VMM_ADV_OFF)
		return "off";
	if (cfg->advance_mode == VMM_ADV_ADAPTIVE)
		return "adaptive";
	snprintf(buf, len, "%llu", (unsigned long long)cfg->advance_ns);
	return buf;
}

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
		ret = vmm_cost(vm, VMM_COST_DELIVERY, &wake);
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

/* ---- as JSON members (the keys of `pvtime vmm --json` and the reports built on it) ---- */

/* kvm_pvm runs guests without VMX/SVM: worth a line in every report. */
bool vmm_host_is_pvm(void)
{
	return !access("/sys/module/kvm_pvm", F_OK);
}


/* Oracle (a) checks voided by a master-clock re-snapshot, over vCPUs. */
uint64_t vmm_resnapshots(const struct vmm *vm, const char **first)
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


const char *vmm_clock_name(const struct vmm_config *cfg)
{
	if (cfg->clock_src == PVT_CLK_XEN)
		return "the VMM's Xen vcpu_time_info (advertised kHz, reference point in the past)";
	return "its own kvmclock (the pvclock page KVM writes, MSR_KVM_SYSTEM_TIME_NEW)";
}

void vmm_advance_summary_json(struct json *j, const struct vmm_advance_summary *a)
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


void vmm_advance_json(struct json *j, const struct vmm *vm)
{
	struct vmm_advance_summary a;
	char buf[24];

	json_string(j, "advance", vmm_advance_name(&vm->cfg, buf, sizeof(buf)));
	if (vmm_advance_summary(vm, &a) || !a.on)
		return;
	vmm_advance_summary_json(j, &a);
}


void vmm_irq_breakdown_json(struct json *j, const struct vmm_irq_breakdown *b)
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


void vmm_irq_json(struct json *j, const struct vmm *vm)
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
		vmm_irq_breakdown_json(j, &b);
	json_object_end(j);
}

void vmm_json(struct json *j, const struct vmm *vm)
{
	struct vmm_totals t;
	const char *resnap;
	uint64_t resnapshots = vmm_resnapshots(vm, &resnap);

	vmm_totals(vm, &t);
	json_string(j, "guest_clock", vm->cfg.clock_src == PVT_CLK_XEN ? "xen" : "kvm");
	json_string(j, "guest_clock_description", vmm_clock_name(&vm->cfg));
	json_u64(j, "tsc_khz", vm->tsc_khz);
	if (vm->cfg.clock_src == PVT_CLK_XEN) {
		json_u64(j, "advertise_khz", vm->cfg.advertise_khz ? vm->cfg.advertise_khz : vm->tsc_khz);
		json_u64(j, "uptime_s", vm->cfg.uptime_s);
	}
	json_u64(j, "vcpus", vm->nr_vcpus);
	json_u64(j, "guest_cpl", vm->cfg.kernel_mode ? 0 : 3);
	json_string(j, "kvm_backend", vmm_host_is_pvm() ? "kvm_pvm" : "kvm");
	json_u64(j, "early_wakeups", t.early_wakeups);
	json_u64(j, "exits", t.exits);
	json_u64(j, "hypercalls", t.hypercalls);
	vmm_irq_json(j, vm);
	vmm_advance_json(j, vm);
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

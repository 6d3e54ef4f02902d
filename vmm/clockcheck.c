// SPDX-License-Identifier: MIT
/*
 * Exactness oracles that share no code with the guest's conversion.
 *
 * (a) The page KVM wrote must equal the page the guest-clock model predicts
 *     from KVM_GET_TSC_KHZ, KVM_GET_CLOCK and KVM_VCPU_TSC_OFFSET. No ioctl
 *     exposes KVM's master_tsc, so the model takes it from the page's
 *     tsc_timestamp minus the TSC offset; master_ns then comes from
 *     KVM_GET_CLOCK (host_tsc and the one-step clock from one kernel TSC
 *     read), which makes system_time an independent check: it matches only
 *     if the page and KVM_GET_CLOCK derive from the same master pair and the
 *     mul/shift are KVM's. mul, shift and flags are predicted outright.
 *     Without a master clock (per-vCPU TSC offsets) KVM stamps each page at
 *     its own update, so only mul/shift/flags can be predicted.
 *     KVM can re-snapshot its master clock (KVM_REQ_MASTERCLOCK_UPDATE) after
 *     it wrote the page and before KVM_GET_CLOCK; the page follows only at
 *     the vCPU's next entry. So a disagreement is confirmed at the next exit:
 *     a page still unchanged is a mismatch, a rewritten one voids the check
 *     (counted in resnapshots) and is checked anew.
 * (b) Every guest (TSC, ns) sample must lie between the host TSC read
 *     before KVM_RUN and after it returned (plus the TSC offset), and its ns
 *     must equal vmm__oracle_ns() of the validated page to the nanosecond.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm-internal.h"

uint64_t vmm__oracle_ns(const struct pvt_pvclock_page *page, uint64_t tsc)
{
	uint64_t d = tsc - page->tsc_timestamp, m = page->tsc_to_system_mul;
	int sh = page->tsc_shift;

	d = sh >= 0 ? d << sh : d >> -sh;
	/* (d * m) >> 32 from two 32x32 products: no 128-bit arithmetic. */
	return page->system_time + (d >> 32) * m + (((d & 0xffffffffull) * m) >> 32);
}

static void mismatch(struct vmm_vcpu *vcpu, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void mismatch(struct vmm_vcpu *vcpu, const char *fmt, ...)
{
	va_list ap;

	if (vcpu->res.mismatch[0])
		return;
	va_start(ap, fmt);
	vsnprintf(vcpu->res.mismatch, sizeof(vcpu->res.mismatch), fmt, ap);
	va_end(ap);
}

static bool pages_equal(const struct pvt_pvclock_page *a, const struct pvt_pvclock_page *b)
{
	return a->tsc_timestamp == b->tsc_timestamp && a->system_time == b->system_time &&
	       a->tsc_to_system_mul == b->tsc_to_system_mul &&
	       a->tsc_shift == b->tsc_shift && a->flags == b->flags;
}

int vcpu__check_page(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;
	struct pvt_pvclock_page page, model;
	struct kvm_clock_data data;
	struct pvt_kvm_clock k;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock clock;
	uint64_t offset;
	int ret, khz;

	if (vm->cfg.clock_src != PVT_CLK_KVM)
		return 0;
	ret = vcpu__read_guest_page(vcpu, &page);
	if (ret)
		return ret;
	khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
	ret = vcpu__get_tsc_offset(vcpu, &offset);
	if (khz <= 0 || ret || vmm__get_clock(vm, &data))
		return vcpu__fail(vcpu, -EIO, "oracle (a): KVM_GET_TSC_KHZ/TSC offset/KVM_GET_CLOCK failed");
	vcpu->tsc_offset = offset;
	if (pvt_kvm_clock_init(&k, (uint32_t)khz, PVT_FRAC_BITS_SVM) ||
	    pvt_kvm_tsc_scaling(&k, (uint32_t)khz, offset, &tsc))
		return vcpu__fail(vcpu, -EINVAL, "oracle (a): no model for %d kHz", khz);

	vcpu->res.master_clock = (data.flags & KVM_CLOCK_TSC_STABLE) &&
				 (data.flags & KVM_CLOCK_HOST_TSC);
	if (vcpu->res.master_clock) {
		k.master_tsc = page.tsc_timestamp - offset;
		k.master_ns = data.clock - pvt_scale_delta(data.host_tsc - k.master_tsc,
							   k.host_mul, k.host_shift);
		ret = pvt_kvm_guest_clock(&k, &tsc, &clock);
		model = clock.page;
	} else {
		/* Per-vCPU clocks: only the scale and the flags are predictable. */
		ret = pvt_kvm_guest_clock(&k, &tsc, &clock);
		model = page;
		model.tsc_to_system_mul = clock.page.tsc_to_system_mul;
		model.tsc_shift = clock.page.tsc_shift;
		model.flags = page.flags & PVT_PVCLOCK_GUEST_STOPPED;
	}
	if (ret)
		return vcpu__fail(vcpu, ret, "oracle (a): model failed");
	model.version = page.version;
	vcpu->res.page_checks++;
	vcpu->res.kvm_page = page;
	vcpu->res.model_page = model;
	vcpu->res.clock_data = data;
	/*
	 * A disagreement is only suspect: KVM may have re-snapshotted its master
	 * clock after it wrote this page (which it rewrites at the vCPU's next
	 * entry) and before KVM_GET_CLOCK. The first suspect stands until then.
	 */
	if (vmm__page_verdict(&page, &model, NULL) != VMM_PAGE_OK && !vcpu->oracle.page_suspect) {
		vcpu->oracle.page_suspect = true;
		vcpu->oracle.suspect_page = page;
		vcpu->oracle.suspect_model = model;
	}
	vcpu->oracle.model_page = model;
	vcpu->oracle.model_valid = true;
	return 0;
}

enum vmm_page_verdict vmm__page_verdict(const struct pvt_pvclock_page *seen,
					const struct pvt_pvclock_page *model,
					const struct pvt_pvclock_page *after)
{
	if (pages_equal(seen, model))
		return VMM_PAGE_OK;
	if (!after)
		return VMM_PAGE_SUSPECT;
	return pages_equal(seen, after) ? VMM_PAGE_MISMATCH : VMM_PAGE_VOID;
}

static void page_mismatch(struct vmm_vcpu *vcpu, const char *why)
{
	const struct pvt_pvclock_page *page = &vcpu->oracle.suspect_page, *model = &vcpu->oracle.suspect_model;

	vcpu->res.page_mismatches++;
	mismatch(vcpu,
		 "oracle (a) page mismatch%s: KVM {tsc_timestamp %llu system_time %llu mul %u shift %d flags %u} "
		 "model {tsc_timestamp %llu system_time %llu mul %u shift %d flags %u}",
		 why, (unsigned long long)page->tsc_timestamp,
		 (unsigned long long)page->system_time, page->tsc_to_system_mul,
		 page->tsc_shift, page->flags,
		 (unsigned long long)model->tsc_timestamp,
		 (unsigned long long)model->system_time, model->tsc_to_system_mul,
		 model->tsc_shift, model->flags);
}

int vcpu__confirm_page(struct vmm_vcpu *vcpu)
{
	struct pvt_pvclock_page now;
	const struct pvt_pvclock_page *old = &vcpu->oracle.suspect_page;
	int ret;

	if (!vcpu->oracle.page_suspect)
		return 0;
	ret = vcpu__read_guest_page(vcpu, &now);
	if (ret)
		return ret;
	vcpu->oracle.page_suspect = false;
	switch (vmm__page_verdict(old, &vcpu->oracle.suspect_model, &now)) {
	case VMM_PAGE_VOID:
		vcpu->res.resnapshots++;
		if (!vcpu->res.resnapshot[0])
			snprintf(vcpu->res.resnapshot, sizeof(vcpu->res.resnapshot),
				 "page {tsc_timestamp %llu system_time %llu} vs model system_time %llu: "
				 "KVM rewrote it at the next entry as {tsc_timestamp %llu system_time %llu}",
				 (unsigned long long)old->tsc_timestamp,
				 (unsigned long long)old->system_time,
				 (unsigned long long)vcpu->oracle.suspect_model.system_time,
				 (unsigned long long)now.tsc_timestamp,
				 (unsigned long long)now.system_time);
		/* The rewritten page gets its own check (it may be suspect in turn). */
		return vcpu__check_page(vcpu);
	case VMM_PAGE_MISMATCH:
		page_mismatch(vcpu, " (confirmed: unchanged after the vCPU ran again)");
		return 0;
	default:
		return 0;
	}
}

void vcpu__page_unsettled(struct vmm_vcpu *vcpu)
{
	if (!vcpu->oracle.page_suspect)
		return;
	vcpu->oracle.page_suspect = false;
	page_mismatch(vcpu, " (unconfirmed: the vCPU never ran again)");
}

/* The page the samples must follow: re-validated if KVM rewrote it since. */
static int refresh_model(struct vmm_vcpu *vcpu)
{
	struct pvt_pvclock_page page;

	if (vcpu->vm->cfg.clock_src != PVT_CLK_KVM || !vcpu->clock_gpa)
		return 0;
	if (vcpu__read_guest_page(vcpu, &page))
		return -EFAULT;
	if (vcpu->oracle.model_valid && pages_equal(&page, &vcpu->oracle.model_page))
		return 0;
	return vcpu__check_page(vcpu);
}

int vcpu__check_samples(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;
	const struct pvt_guest_config *cfg = vmm__gpa(vm, PVT_GPA_CONFIG, sizeof(*cfg));
	uint64_t n = __atomic_load_n(&vcpu->shared->nr_samples, __ATOMIC_ACQUIRE);
	uint64_t lo = (vcpu->oracle.bracket_tsc ? vcpu->oracle.bracket_tsc : vcpu->entry_tsc) + vcpu->tsc_offset;
	uint64_t hi = vcpu->exit_tsc + vcpu->tsc_offset;
	const struct pvt_guest_sample *s;
	bool refreshed = false;

	if (n > cfg->samples_per_vcpu)
		n = cfg->samples_per_vcpu;
	if (n <= vcpu->oracle.samples_checked)
		return 0;
	s = vmm__gpa(vm, PVT_GPA_SAMPLES + vcpu->id * cfg->samples_per_vcpu * sizeof(*s),
		     n * sizeof(*s));
	if (!s)
		return vcpu__fail(vcpu, -EFAULT, "sample array outside RAM");
	if (!vcpu->oracle.model_valid && refresh_model(vcpu))
		return -EFAULT;
	for (uint64_t i = vcpu->oracle.samples_checked; i < n; i++) {
		uint64_t expect;

		vcpu->res.sample_checks++;
		if (s[i].tsc - lo > hi - lo) {
			vcpu->res.sample_mismatches++;
			mismatch(vcpu, "oracle (b): sample %llu guest TSC %llu outside the host bracket [%llu, %llu] (+offset)",
				 (unsigned long long)i, (unsigned long long)s[i].tsc,
				 (unsigned long long)lo, (unsigned long long)hi);
			continue;
		}
		expect = vmm__oracle_ns(&vcpu->oracle.model_page, s[i].tsc);
		if (expect != s[i].ns && !refreshed) {
			/* KVM may have rewritten the page since it was validated. */
			refreshed = true;
			if (refresh_model(vcpu))
				return -EFAULT;
			expect = vmm__oracle_ns(&vcpu->oracle.model_page, s[i].tsc);
		}
		if (expect != s[i].ns) {
			vcpu->res.sample_mismatches++;
			mismatch(vcpu, "oracle (b): sample %llu at guest TSC %llu: guest ns %llu, model ns %llu",
				 (unsigned long long)i, (unsigned long long)s[i].tsc,
				 (unsigned long long)s[i].ns, (unsigned long long)expect);
		}
	}
	vcpu->oracle.samples_checked = n;
	return 0;
}

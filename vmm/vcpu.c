// SPDX-License-Identifier: MIT
/* A vCPU: creation (CPUID, long mode, TSC offset), its thread and exit loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm-internal.h"

/*
 * KVM_GET_SUPPORTED_CPUID wants a table at least as large as its list and
 * says E2BIG otherwise: start at a size that usually fits and double. KVM
 * bounds its list at a few hundred entries: past this an E2BIG is not our
 * table being small, and the loop must end.
 */
#define CPUID_FIRST_ENTRIES	64
#define CPUID_MAX_ENTRIES	4096

/* The guest gets what KVM supports: long mode needs CPUID.LM to be set. */
static int set_cpuid(struct vmm_vcpu *vcpu)
{
	struct kvm_cpuid2 *cpuid = NULL;
	int nent = CPUID_FIRST_ENTRIES, ret;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = nent;
		if (!ioctl(vcpu->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid))
			break;
		ret = -errno;
		free(cpuid);
		if (ret != -E2BIG || nent > CPUID_MAX_ENTRIES)
			return ret;
		nent *= 2;
	}
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
	free(cpuid);
	return ret;
}

int vcpu__get_tsc_offset(struct vmm_vcpu *vcpu, uint64_t *offset)
{
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uintptr_t)offset,
	};

	return ioctl(vcpu->fd, KVM_GET_DEVICE_ATTR, &attr) < 0 ? -errno : 0;
}

int vcpu__set_tsc_offset(struct vmm_vcpu *vcpu, uint64_t offset)
{
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uintptr_t)&offset,
	};

	return ioctl(vcpu->fd, KVM_SET_DEVICE_ATTR, &attr) < 0 ? -errno : 0;
}


/* One MSR through KVM_GET_MSRS / KVM_SET_MSRS (which return the count done). */
static int msr_io(struct vmm_vcpu *vcpu, unsigned long req, uint32_t index, uint64_t *value)
{
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} buf;
	struct kvm_msr_entry *entry = (struct kvm_msr_entry *)(buf.bytes + sizeof(struct kvm_msrs));

	memset(&buf, 0, sizeof(buf));
	buf.hdr.nmsrs = 1;
	entry->index = index;
	entry->data = *value;
	if (ioctl(vcpu->fd, req, &buf) != 1)
		return -EIO;
	*value = entry->data;
	return 0;
}

int vcpu__get_msr(struct vmm_vcpu *vcpu, uint32_t index, uint64_t *value)
{
	return msr_io(vcpu, KVM_GET_MSRS, index, value);
}

int vcpu__set_msr(struct vmm_vcpu *vcpu, uint32_t index, uint64_t value)
{
	return msr_io(vcpu, KVM_SET_MSRS, index, &value);
}

/*
 * MTRRs enabled with write-back as the default type: at reset they are off,
 * which on hardware-assisted KVM can make guest memory uncached.
 */
static int set_mtrr_wb(struct vmm_vcpu *vcpu)
{
	return vcpu__set_msr(vcpu, 0x2ff, (1u << 11) | 6);	/* MTRRdefType: E | WB */
}

int vcpu__create(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;
	struct kvm_regs regs;
	int ret, size;

	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, vcpu->id);
	if (vcpu->fd < 0)
		return vcpu__fail(vcpu, -errno, "KVM_CREATE_VCPU: %s", strerror(errno));
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return vcpu__fail(vcpu, -EIO, "KVM_GET_VCPU_MMAP_SIZE: %d", size);
	vcpu->run_size = (size_t)size;
	vcpu->run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return vcpu__fail(vcpu, -errno, "mmap kvm_run: %s", strerror(errno));
	}
	ret = set_cpuid(vcpu);
	if (ret)
		return vcpu__fail(vcpu, ret, "KVM_SET_CPUID2: %s", strerror(-ret));
	ret = set_mtrr_wb(vcpu);
	if (ret)
		return vcpu__fail(vcpu, ret, "KVM_SET_MSRS MTRRdefType failed");
	ret = vcpu__setup_long_mode(vcpu);
	if (ret)
		return vcpu__fail(vcpu, ret, "long mode sregs: %s", strerror(-ret));

	memset(&regs, 0, sizeof(regs));
	regs.rip = PVT_GPA_CODE;
	regs.rsp = PVT_GPA_STACKS + (vcpu->id + 1) * PVT_GUEST_STACK_SIZE;
	regs.rdi = vcpu->id;
	regs.rflags = 2;	/* bit 1 is reserved-one; interrupts stay off */
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return vcpu__fail(vcpu, -errno, "KVM_SET_REGS: %s", strerror(errno));

	if (vm->cfg.set_tsc_offset) {
		uint64_t want = vm->cfg.tsc_offset + vcpu->id * vm->cfg.tsc_offset_step, got;

		ret = vcpu__set_tsc_offset(vcpu, want);
		if (!ret)
			ret = vcpu__get_tsc_offset(vcpu, &got);
		if (ret)
			return vcpu__fail(vcpu, ret, "KVM_VCPU_TSC_OFFSET: %s", strerror(-ret));
		/* kvm_pvm accepts the write but runs every guest on the host TSC. */
		if (got != want)
			return vcpu__fail(vcpu, -ENOTSUP,
					  "this KVM accepts KVM_VCPU_TSC_OFFSET %llu but keeps %llu: "
					  "guests run on the host TSC, a non-zero offset cannot be tested here",
					  (unsigned long long)want, (unsigned long long)got);
	}
	vcpu->shared = vmm__gpa(vm, PVT_GPA_VCPU_PAGE(vcpu->id), VMM_PAGE_SIZE);
	memset(vcpu->shared, 0, VMM_PAGE_SIZE);
	return 0;
}

void vcpu__destroy(struct vmm_vcpu *vcpu)
{
	pvt_xen_vcpu_free(vcpu->xen);
	vcpu->xen = NULL;
	vcpu__advance_destroy(vcpu);
	pvt_hosttimer_free(vcpu->timer);
	vcpu->timer = NULL;
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	vcpu->run = NULL;
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->fd = -1;
	free(vcpu->res.samples);
	for (unsigned k = 0; k < VMM_COST_EXIT_KINDS; k++)
		free(vcpu->res.cost.ticks[k]);
	free(vcpu->res.cost.wake_late);
	free(vcpu->res.spin_ns);
	free(vcpu->res.advance_ns);
	free(vcpu->res.irq_recs);
	memset(&vcpu->res, 0, sizeof(vcpu->res));
}

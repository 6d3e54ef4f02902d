// SPDX-License-Identifier: MIT
/*
 * Long mode for the guest: identity page tables for the first 1 GiB (2 MiB
 * pages) and a flat GDT, so each vCPU starts straight in 64-bit C code.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm-internal.h"

#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_US		(1ull << 2)	/* user mode may access: the guest measures at CPL 3 */
#define PTE_PS		(1ull << 7)	/* 2 MiB page in a PD entry */

#define CR0_PE		(1ull << 0)
#define CR0_MP		(1ull << 1)
#define CR0_ET		(1ull << 4)
#define CR0_NE		(1ull << 5)
#define CR0_WP		(1ull << 16)
#define CR0_PG		(1ull << 31)
#define CR4_PAE		(1ull << 5)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)

#define GPA_PML4	(PVT_GPA_PAGE_TABLES)
#define GPA_PDPT	(PVT_GPA_PAGE_TABLES + 0x1000)
#define GPA_PD		(PVT_GPA_PAGE_TABLES + 0x2000)
#define GPA_GDT		(PVT_GPA_PAGE_TABLES + 0x3000)
#define GPA_PD_HIGH	0x7000ull	/* 3..4 GiB: only the local APIC's page */
#define PTE_PWT		(1ull << 3)
#define PTE_PCD		(1ull << 4)
#define APIC_GPA	0xfee00000ull

#define PT_ENTRIES	(VMM_PAGE_SIZE / 8)	/* 8-byte entries in a one-page table: 512 */
#define LARGE_PAGE_SHIFT 21			/* a PD entry with PTE_PS maps 2 MiB */
#define LARGE_PAGE_SIZE	(1ull << LARGE_PAGE_SHIFT)
#define PD_HIGH_BASE	(3ull << 30)		/* what pdpt[3], so GPA_PD_HIGH, maps: 3..4 GiB */

void vmm__setup_paging(struct vmm *vm)
{
	uint64_t *pml4 = vmm__gpa(vm, GPA_PML4, VMM_PAGE_SIZE);
	uint64_t *pdpt = vmm__gpa(vm, GPA_PDPT, VMM_PAGE_SIZE);
	uint64_t *pd = vmm__gpa(vm, GPA_PD, VMM_PAGE_SIZE);
	uint64_t *pd_high = vmm__gpa(vm, GPA_PD_HIGH, VMM_PAGE_SIZE);
	uint64_t *gdt = vmm__gpa(vm, GPA_GDT, PVT_SEL_TSS + 16 * PVT_GUEST_MAX_VCPUS);

	memset(pml4, 0, VMM_PAGE_SIZE);
	memset(pdpt, 0, VMM_PAGE_SIZE);
	memset(pd_high, 0, VMM_PAGE_SIZE);
	pml4[0] = GPA_PDPT | PTE_P | PTE_RW | PTE_US;
	pdpt[0] = GPA_PD | PTE_P | PTE_RW | PTE_US;
	/* All of the first GiB is mapped: a stray access beyond RAM exits as MMIO. */
	for (uint64_t i = 0; i < PT_ENTRIES; i++)
		pd[i] = (i << LARGE_PAGE_SHIFT) | PTE_P | PTE_RW | PTE_US | PTE_PS;
	/* The local APIC (in-kernel irqchip), uncached; the handler EOIs it at CPL 0. */
	pdpt[3] = GPA_PD_HIGH | PTE_P | PTE_RW | PTE_US;
	pd_high[(APIC_GPA - PD_HIGH_BASE) >> LARGE_PAGE_SHIFT] = (APIC_GPA & ~(LARGE_PAGE_SIZE - 1)) |
		PTE_P | PTE_RW | PTE_PS | PTE_PWT | PTE_PCD;
	gdt[0] = 0;
	gdt[PVT_SEL_KERNEL_CS / 8] = 0x00af9b000000ffffull;	/* 64-bit code, DPL 0 */
	gdt[PVT_SEL_KERNEL_DS / 8] = 0x00cf93000000ffffull;	/* flat data, DPL 0 */
	gdt[PVT_SEL_USER_DS / 8] = 0x00cff3000000ffffull;	/* flat data, DPL 3 */
	gdt[PVT_SEL_USER_CS / 8] = 0x00affb000000ffffull;	/* 64-bit code, DPL 3 */
	/* One 64-bit busy TSS per vCPU (RSP0, IST1 for the upcall), limit 0x67. */
	for (unsigned i = 0; i < PVT_GUEST_MAX_VCPUS; i++) {
		uint64_t base = PVT_GPA_TSS(i);

		gdt[PVT_SEL_TSS / 8 + 2 * i] = 0x67 | ((base & 0xffffff) << 16) |
			(0x8bull << 40) | ((base >> 24 & 0xff) << 56);
		gdt[PVT_SEL_TSS / 8 + 2 * i + 1] = base >> 32;
	}
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code ? 0 : 1,
		.s = 1,
		.l = code ? 1 : 0,
		.g = 1,
	};
}

int vcpu__setup_long_mode(struct vmm_vcpu *vcpu)
{
	struct kvm_sregs sregs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	flat_segment(&sregs.cs, PVT_SEL_KERNEL_CS, 11, true);
	flat_segment(&sregs.ds, PVT_SEL_KERNEL_DS, 3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){
		.base = PVT_GPA_TSS(vcpu->id), .limit = 0x67,
		.selector = (uint16_t)(PVT_SEL_TSS + 16 * vcpu->id), .type = 11, .present = 1,
	};
	sregs.gdt.base = GPA_GDT;
	sregs.gdt.limit = PVT_SEL_TSS + 16 * PVT_GUEST_MAX_VCPUS - 1;
	sregs.cr3 = GPA_PML4;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	return 0;
}

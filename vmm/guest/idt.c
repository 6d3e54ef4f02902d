// SPDX-License-Identifier: MIT
/*
 * The guest's interrupt setup (at CPL 0, once per vCPU): an IDT gate for the
 * upcall vector on IST 1, a few exception gates that report and stop, this
 * vCPU's TSS (RSP0 and IST1), the local APIC when the VMM uses the
 * in-kernel one, then Xen's HVMOP_set_evtchn_upcall_vector.
 */
#include "guest.h"

/* Linux's HYPERVISOR_CALLBACK_VECTOR; any vector >= 0x10 would do. */
#define GUEST_UPCALL_VECTOR	0xf3
#define APIC_SVR		0xfee000f0ull
#define APIC_SVR_ENABLE		0x100u

_Static_assert(__builtin_offsetof(struct pvt_guest_vcpu, upcall_mask) ==
	       PVT_GUEST_VCPU_MASK_OFF, "irq.S pokes the mask at this offset");

void guest_upcall_entry(void);
void guest_upcall_entry_eoi(void);
void guest_fault_0(void);
void guest_fault_6(void);
void guest_fault_13(void);
void guest_fault_14(void);

struct idt_gate {
	uint16_t offset_lo, selector;
	uint8_t ist, type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi, zero;
};

static void set_gate(unsigned vec, void (*fn)(void), unsigned ist)
{
	volatile struct idt_gate *idt = (volatile struct idt_gate *)PVT_GPA_IDT;
	uint64_t a = (uint64_t)(uintptr_t)fn;

	idt[vec].offset_lo = (uint16_t)a;
	idt[vec].selector = PVT_SEL_KERNEL_CS;
	idt[vec].ist = (uint8_t)ist;
	idt[vec].type_attr = 0x8e;	/* present, DPL 0, 64-bit interrupt gate (IF off) */
	idt[vec].offset_mid = (uint16_t)(a >> 16);
	idt[vec].offset_hi = (uint32_t)(a >> 32);
	idt[vec].zero = 0;
}

/* The 64-bit TSS has its stack pointers at 4-byte offsets: write them in halves. */
static void tss_set(uint64_t tss, unsigned off, uint64_t v)
{
	volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)(tss + off);

	p[0] = (uint32_t)v;
	p[1] = (uint32_t)(v >> 32);
}

void guest_irq_init(struct guest_cpu *g)
{
	uint64_t top = PVT_GPA_IST(g->id) + PVT_GUEST_IST_SIZE - 16;
	uint64_t tss = PVT_GPA_TSS(g->id);
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
		256 * sizeof(struct idt_gate) - 1, PVT_GPA_IDT
	};
	struct { uint32_t vcpu; uint8_t vector; } arg = { g->id, GUEST_UPCALL_VECTOR }, bad = arg;
	int chip = g->cfg->irq_mode == PVT_IRQ_CHIP;

	/* What the entry stub needs: the vCPU page (mask) and the context (handler). */
	((volatile uint64_t *)(uintptr_t)top)[0] = (uint64_t)(uintptr_t)g->vp;
	((volatile uint64_t *)(uintptr_t)top)[1] = (uint64_t)(uintptr_t)g;
	tss_set(tss, 4, top);		/* RSP0: exceptions from CPL 3 */
	tss_set(tss, 36, top);		/* IST1: the upcall, at any CPL */
	/*
	 * I/O bitmap at offset 0, as in the VMM's zeroed TSS: kvm_pvm checks
	 * the bitmap even at IOPL 3, and ports 0xe0-0xe2 then fall on the
	 * TSS's reserved (zero: allowed) bytes 28-29.
	 */
	*(volatile uint16_t *)(uintptr_t)(tss + 102) = 0;
	/* The vCPUs share one IDT: writing the same gates twice is harmless. */
	set_gate(0, guest_fault_0, 0);
	set_gate(6, guest_fault_6, 0);
	set_gate(13, guest_fault_13, 0);
	set_gate(14, guest_fault_14, 0);
	set_gate(GUEST_UPCALL_VECTOR, chip ? guest_upcall_entry_eoi : guest_upcall_entry, 1);
	__asm__ volatile("lidt %0" :: "m"(idtr) : "memory");
	/* The in-kernel local APIC starts software-disabled: it would drop the MSI. */
	if (chip)
		*(volatile uint32_t *)(uintptr_t)APIC_SVR = APIC_SVR_ENABLE | 0xff;
	g->programmed_ns = 0;
	g->programmed_min_ns = UINT64_MAX;
	/* The VMM refuses what Xen refuses, before accepting the real one. */
	bad.vector = 0x0f;	/* an exception vector */
	GUEST_ASSERT_EQ(hc3(PVT_XEN_hvm_op, PVT_HVMOP_set_evtchn_upcall_vector,
			    (uint64_t)(uintptr_t)&bad, 0), -PVT_XEN_EINVAL);
	bad.vector = GUEST_UPCALL_VECTOR;
	bad.vcpu = PVT_GUEST_MAX_VCPUS + 1;
	GUEST_ASSERT_EQ(hc3(PVT_XEN_hvm_op, PVT_HVMOP_set_evtchn_upcall_vector,
			    (uint64_t)(uintptr_t)&bad, 0), -PVT_XEN_ENOENT);
	GUEST_ASSERT_EQ(hc3(PVT_XEN_hvm_op, PVT_HVMOP_set_evtchn_upcall_vector,
			    g->cfg->mem_size - 2, 0), -PVT_XEN_EFAULT);
	GUEST_ASSERT_EQ(hc3(PVT_XEN_hvm_op, 99, (uint64_t)(uintptr_t)&arg, 0), -PVT_XEN_ENOSYS);
	GUEST_ASSERT_EQ(hc3(PVT_XEN_hvm_op, PVT_HVMOP_set_evtchn_upcall_vector,
			    (uint64_t)(uintptr_t)&arg, 0), 0);
}

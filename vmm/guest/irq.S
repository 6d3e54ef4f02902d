/* SPDX-License-Identifier: MIT */
/*
 * The upcall's way in. kvm_pvm emulates guest CPL 0 code one instruction at
 * a time (~0.4 us each), so the interrupt entry does as little as it can at
 * CPL 0: it masks further upcalls in the vCPU page, (EOIs the local APIC),
 * and rewrites its own return frame so that iretq lands in
 * guest_upcall_tramp at the interrupted privilege level, with the
 * interrupted RIP and the vCPU's context pushed on the interrupted stack
 * (as a signal frame would be). The handler proper runs there, natively at
 * CPL 3 in the measured scenarios, then returns to the interrupted code.
 *
 * The gate uses IST 1 at every privilege level; the top 16 bytes of that
 * stack hold the vCPU page and struct guest_cpu pointers (guest_irq_init).
 */
#define VCPU_MASK_OFF	4	/* PVT_GUEST_VCPU_MASK_OFF */
#define APIC_EOI	0xfee000b0

	.text
	.code64

/* Frame after the two pushes: rcx, rax, RIP, CS, RFLAGS, RSP, SS, vp, g. */
.macro UPCALL_ENTRY name, eoi
	.globl \name
\name:
	push %rax
	push %rcx
	mov 56(%rsp), %rax		/* vp */
	/*
	 * Masked already: an interrupt sent before the guest masked (an MSI
	 * in flight) must not run the handler inside the masked section. The
	 * event stays pending; the unmask looks at it.
	 */
	cmpb $0, VCPU_MASK_OFF(%rax)
	jne 2f
	movb $1, VCPU_MASK_OFF(%rax)
	mov 40(%rsp), %rax		/* interrupted RSP */
	sub $16, %rax
	mov 16(%rsp), %rcx		/* interrupted RIP */
	mov %rcx, 8(%rax)
	mov 64(%rsp), %rcx		/* g */
	mov %rcx, (%rax)
	mov %rax, 40(%rsp)
	movq $guest_upcall_tramp, 16(%rsp)
2:
	.if \eoi
	mov $APIC_EOI, %eax
	movl $0, (%rax)
	.endif
	pop %rcx
	pop %rax
	iretq
.endm

	UPCALL_ENTRY guest_upcall_entry, 0
	UPCALL_ENTRY guest_upcall_entry_eoi, 1

/*
 * At the interrupted privilege level: [rsp] = g, [rsp + 8] = interrupted
 * RIP. Saves what the C handler may clobber, calls it on an aligned stack.
 */
	.globl guest_upcall_tramp
guest_upcall_tramp:
	pushfq
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	push %rbx
	push %rbp
	mov 96(%rsp), %rdi		/* g: above the 12 saved qwords */
	mov %rsp, %rbx
	and $-16, %rsp
	call guest_upcall_irq
	mov %rbx, %rsp
	pop %rbp
	pop %rbx
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	popfq
	lea 8(%rsp), %rsp		/* drop g; lea keeps the flags */
	ret

/* An unexpected exception: report its vector and RIP (the VM stops). */
.macro FAULT vec, errcode
	.globl guest_fault_\vec
guest_fault_\vec:
	.if \errcode
	add $8, %rsp
	.endif
	mov $\vec, %esi
	jmp guest_fault_common
.endm

	FAULT 0, 0
	FAULT 6, 0
	FAULT 13, 1
	FAULT 14, 1

guest_fault_common:
	mov (%rsp), %rdx		/* faulting RIP */
	mov $0xfa01, %edi		/* "line": a fault, not a check */
	lea fault_file(%rip), %r10
	mov $2, %eax			/* PVT_UCALL_ABORT */
	outl %eax, $0xe1
1:	hlt
	jmp 1b

	.section .rodata
fault_file:
	.asciz "guest exception (seen = vector, expected = rip)"
	.section .note.GNU-stack, "", @progbits

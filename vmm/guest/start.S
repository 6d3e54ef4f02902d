/* SPDX-License-Identifier: MIT */
/*
 * Guest entry. The VMM starts each vCPU directly in 64-bit long mode with
 * identity paging, rsp at the top of its stack and rdi = vCPU index, so all
 * that is left is to call C and never return.
 */
	.section .text.start, "ax"
	.globl _start
	.code64
_start:
	xor %ebp, %ebp
	and $-16, %rsp
	call guest_main
1:	hlt
	jmp 1b

/*
 * guest_enter_user(fn, arg, stack, rflags): iretq to fn(arg) at CPL 3 on
 * stack, with IOPL 3 so the hypercall port stays reachable; rflags says
 * whether interrupts are on (the upcall scenarios) or off.
 */
	.globl guest_enter_user
guest_enter_user:
	mov %rdx, %rax
	pushq $0x1b		/* SS = PVT_SEL_USER_DS | 3 */
	pushq %rax		/* RSP */
	pushq %rcx		/* RFLAGS: IOPL 3, reserved bit 1, maybe IF */
	pushq $0x23		/* CS = PVT_SEL_USER_CS | 3 */
	pushq %rdi		/* RIP */
	mov %rsi, %rdi
	iretq
	.section .note.GNU-stack, "", @progbits

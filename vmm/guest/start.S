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
	.section .note.GNU-stack, "", @progbits

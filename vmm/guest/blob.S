/* SPDX-License-Identifier: MIT */
/* Embeds the flat guest image (built by vmm/CMakeLists.txt) into libpvtime_vmm. */
	.section .rodata.pvt_guest, "a"
	.globl pvt_guest_image, pvt_guest_image_end
	.balign 64
pvt_guest_image:
	.incbin PVT_GUEST_BIN
pvt_guest_image_end:
	.section .note.GNU-stack, "", @progbits

// SPDX-License-Identifier: MIT
/* Placeholder until the VMM lands: keeps the pvtime_vmm target non-empty. */
int pvt_vmm_placeholder(void);
int pvt_vmm_placeholder(void) { return 0; }

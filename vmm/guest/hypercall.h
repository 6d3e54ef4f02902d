/* SPDX-License-Identifier: MIT */
/* Guest side of the hypercall and ucall ports (ABI in abi.h). */
#ifndef PVT_GUEST_HYPERCALL_H
#define PVT_GUEST_HYPERCALL_H

#include "abi.h"

static inline int64_t hc3(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
	uint64_t ret = nr;

	__asm__ volatile("outl %%eax, %[port]"
			 : "+a"(ret)
			 : [port] "i"(PVT_HC_PORT), "D"(a1), "S"(a2), "d"(a3)
			 : "memory");
	return (int64_t)ret;
}

static inline void ucall4(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
			  const char *a4)
{
	register uint64_t r10 __asm__("r10") = (uint64_t)(uintptr_t)a4;

	__asm__ volatile("outl %%eax, %[port]"
			 : "+a"(nr)
			 : [port] "i"(PVT_UCALL_PORT), "D"(a1), "S"(a2), "d"(a3),
			   "r"(r10)
			 : "memory");
}

#define ucall(nr, a1, a2, a3)	ucall4(nr, a1, a2, a3, __FILE__)

static inline int64_t hc_set_timer_op(uint64_t deadline_ns)
{
	return hc3(PVT_XEN_set_timer_op, deadline_ns, 0, 0);
}

static inline int64_t hc_vcpu_op(uint64_t cmd, uint64_t vcpu, const void *arg)
{
	return hc3(PVT_XEN_vcpu_op, cmd, vcpu, (uint64_t)(uintptr_t)arg);
}

static inline int64_t hc_sched_op(uint64_t cmd)
{
	return hc3(PVT_XEN_sched_op, cmd, 0, 0);
}

/* Stops the vCPU with the line, the value seen and the value expected. */
#define GUEST_ASSERT_EQ(seen, expected)						\
	do {									\
		uint64_t s_ = (uint64_t)(seen), e_ = (uint64_t)(expected);	\
		if (s_ != e_)							\
			ucall(PVT_UCALL_ABORT, __LINE__, s_, e_);		\
	} while (0)

#define GUEST_ASSERT(cond)							\
	do {									\
		if (!(cond))							\
			ucall(PVT_UCALL_ABORT, __LINE__, 0, 1);			\
	} while (0)

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The contract between the tiny VMM and its freestanding guest: memory map,
 * hypercall port ABI, shared pages and the ucall channel. Included by both
 * sides, so it uses only fixed-width types.
 *
 * Hypercalls. KVM here has no in-kernel Xen and a VMCALL never reaches
 * userspace, so a hypercall is `outl %eax, $PVT_HC_PORT`: one port-I/O exit.
 * Registers follow Xen's x86-64 ABI: rax = hypercall number, arguments in
 * rdi, rsi, rdx, r10, r8, result in rax (0 or a negative Xen errno). The
 * immediate port form keeps rdx free for the third argument. The VMM reads
 * the registers from kvm_run's synced registers (KVM_CAP_SYNC_REGS) and
 * writes rax back the same way: no extra ioctl per hypercall.
 *
 *   set_timer_op (15)  rdi = absolute deadline, guest ns (0 stops the timer)
 *   vcpu_op (24)       rdi = VCPUOP_*, rsi = vCPU id, rdx = GPA of the arg
 *     6 set_periodic_timer   { u64 period_ns }
 *     7 stop_periodic_timer
 *     8 set_singleshot_timer { u64 timeout_abs_ns; u32 flags }
 *     9 stop_singleshot_timer
 *   sched_op (29)      rdi = SCHEDOP_yield (0) | SCHEDOP_block (1)
 *   PVT_HC_kvmclock_register (pvtime's own number, outside Xen's range)
 *                      rdi = GPA: the VMM writes MSR_KVM_SYSTEM_TIME_NEW =
 *                      GPA | 1 for the calling vCPU (KVM_SET_MSRS), because
 *                      the guest's user mode cannot WRMSR; a GPA outside
 *                      RAM stops the VM with a message.
 *
 * Privilege: each vCPU starts at CPL 0, enables its kvmclock with WRMSR,
 * then drops to CPL 3 with IOPL 3 (port I/O allowed) for the measurement,
 * as the seed's timerlat is a user program in its guest. On kvm_pvm (this
 * project's hosts: KVM without VMX/SVM) guest CPL 0 is emulated instruction
 * by instruction (~0.4 us each, RDTSC ~3 us) while CPL 3 runs natively.
 *
 * set_timer_op and vcpu_op return -EINVAL while the caller's own kvmclock
 * page is garbage (it scribbled on it): the VMM keeps the clock it had.
 *
 * vcpu_op on a vCPU id that does not exist returns -ENOENT. As in Xen's
 * do_vcpu_op, set/stop_periodic_timer may name any existing vCPU (its ticks
 * go to that vCPU's page and wake it), set/stop_singleshot_timer only the
 * calling one (-EINVAL otherwise, before the argument is read).
 *
 * SCHEDOP_block returns at once if an event is pending, else sleeps the vCPU
 * on its host timer until one is; with no timer armed, or one that cannot
 * fire because no guest clock is registered yet, it returns -EDEADLK (Xen
 * would hang the vCPU forever, which no test can tell from a bug).
 * Events: the VMM ORs PVT_EV_* into the vCPU page's `pending` word (Xen's
 * evtchn_upcall_pending) and counts each expiry; the guest takes them with
 * an atomic exchange.
 *
 * Upcalls (Xen's HVM per-vCPU callback vector): hvm_op (34) with rdi =
 * HVMOP_set_evtchn_upcall_vector (23), rsi = GPA of { u32 vcpu; u8 vector }
 * registers the calling vCPU's vector (>= 0x10, -EINVAL otherwise; another
 * vCPU: -EINVAL). From then on an expiry raises the upcall: the VMM ORs the
 * event into `pending` and, while `upcall_mask` is 0, interrupts the vCPU
 * (running or not) with that vector; the guest acknowledges by exchanging
 * `pending` with 0 and, after clearing its mask, re-checks `pending` itself.
 *
 * Ucalls: `outl %eax, $PVT_UCALL_PORT` with rax = PVT_UCALL_*, rdi/rsi/rdx
 * = arguments (see the enum). DONE and ABORT end the vCPU.
 */
#ifndef PVT_VMM_GUEST_ABI_H
#define PVT_VMM_GUEST_ABI_H

#include <stdint.h>

#include "pvtime/pvclock.h"

#define PVT_HC_PORT			0xe0
#define PVT_UCALL_PORT			0xe1
#define PVT_NULL_PORT			0xe2	/* empty handler: a bare exit */

/* Xen hypercall numbers and sub-ops (xen/include/public/xen.h, vcpu.h, sched.h). */
#define PVT_XEN_set_timer_op		15
#define PVT_XEN_vcpu_op			24
#define PVT_XEN_sched_op		29
#define PVT_XEN_hvm_op			34
#define PVT_HVMOP_set_evtchn_upcall_vector 23
#define PVT_HC_kvmclock_register	0x10000
#define PVT_VCPUOP_set_periodic_timer	6
#define PVT_VCPUOP_stop_periodic_timer	7
#define PVT_VCPUOP_set_singleshot_timer	8
#define PVT_VCPUOP_stop_singleshot_timer 9
#define PVT_SCHEDOP_yield		0
#define PVT_SCHEDOP_block		1
#define PVT_VCPU_SSHOTTMR_future	1

/* Xen errno values (same numbers as Linux for these). */
#define PVT_XEN_ENOENT			2
#define PVT_XEN_EFAULT			14
#define PVT_XEN_EINVAL			22
#define PVT_XEN_EDEADLK			35
#define PVT_XEN_ENOSYS			38

/* KVM's kvmclock MSR: GPA of the page | 1 enables it. */
#define PVT_MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01u

/* ---- guest physical memory map (identity-mapped with 2 MiB pages) ---- */
#define PVT_GPA_PAGE_TABLES		0x1000ull	/* PML4, PDPT, PD: 3 pages */
#define PVT_GPA_CONFIG			0x10000ull	/* struct pvt_guest_config */
#define PVT_GPA_VCPU_PAGE(i)		(0x20000ull + (uint64_t)(i) * 0x1000)
#define PVT_GPA_KVMCLOCK(i)		(0x40000ull + (uint64_t)(i) * 0x1000)
#define PVT_GPA_KVMCLOCK_ALT(i)		(0x60000ull + (uint64_t)(i) * 0x1000)
#define PVT_GPA_TSS(i)			(0x5000ull + (uint64_t)(i) * 0x80)	/* 64-bit TSS per vCPU */
#define PVT_GPA_IDT			0x6000ull	/* 256 gates, shared by all vCPUs */
#define PVT_GPA_IST(i)			(0x80000ull + (uint64_t)(i) * 0x1000)	/* interrupt stacks */
#define PVT_GUEST_IST_SIZE		0x1000ull
#define PVT_GPA_CODE			0x100000ull	/* guest image, up to 1 MiB */
#define PVT_GPA_STACKS			0x200000ull	/* 64 KiB per vCPU */
#define PVT_GUEST_STACK_SIZE		0x10000ull
#define PVT_GPA_SAMPLES			0x400000ull	/* per-vCPU sample arrays */
#define PVT_GUEST_MAX_VCPUS		16
#define PVT_GUEST_MAGIC			0x70767431u	/* "pvt1" */

/* GDT selectors (built by the VMM, used by the guest's switch to user mode). */
#define PVT_SEL_KERNEL_CS		0x08
#define PVT_SEL_KERNEL_DS		0x10
#define PVT_SEL_USER_DS			0x18	/* | RPL 3 */
#define PVT_SEL_USER_CS			0x20	/* | RPL 3 */
#define PVT_SEL_TSS			0x28	/* vCPU i: PVT_SEL_TSS + 16 * i */

/* What the guest program does. */
enum pvt_guest_scenario {
	PVT_SCN_TIMERLAT = 1,	/* the seed's loop: sleep interval, record latency */
	PVT_SCN_CLOCKCHECK,	/* read the clock in bursts, yield between, re-register */
	PVT_SCN_TIMERS,		/* stop-before-fire, re-arm-while-pending, periodic */
	PVT_SCN_BAD,		/* one bad request, chosen by config.bad_case */
	PVT_SCN_NULLCALL,	/* bare exits (yield to an empty handler) for the bench */
	PVT_SCN_CROSS,		/* vCPU 0 programs vCPU 1's periodic timer (2+ vCPUs) */
	PVT_SCN_BUSY,		/* one software timer; the vCPU computes, only the upcall says it fired */
	PVT_SCN_MIXED,		/* several software timers per vCPU, computing and blocking */
	PVT_SCN_HOSTILE,	/* vCPU 0: seeded random hypercalls; vCPU 1: timerlat (hostile.c) */
	PVT_SCN_SOAK,		/* every vCPU: seeded mixed timers, each expiry checked (hostile.c) */
};

/* How the VMM delivers the upcall vector (config.irq_mode). */
enum pvt_guest_irq_mode {
	PVT_IRQ_NONE = 0,	/* no upcall: events only in the page (timerlat etc.) */
	PVT_IRQ_USER,		/* userspace: KVM_INTERRUPT, no local APIC (no EOI) */
	PVT_IRQ_CHIP,		/* in-kernel local APIC: MSI, the handler EOIs */
};

/* Which clock the guest reads (and asks its timers on). */
enum pvt_guest_clock_src {
	PVT_CLK_KVM = 1,	/* its own kvmclock page, written by KVM */
	PVT_CLK_XEN,		/* the vcpu_time_info the VMM publishes in the vCPU page */
};

/* How timerlat arms its timer. */
enum pvt_guest_timer_api {
	PVT_API_SET_TIMER_OP = 1,
	PVT_API_SINGLESHOT,	/* VCPUOP_set_singleshot_timer */
};

enum pvt_guest_bad_case {
	PVT_BAD_UNKNOWN_HC = 1,	/* hypercall 999 -> -ENOSYS */
	PVT_BAD_UNKNOWN_VCPUOP,	/* vcpu_op 77 -> -ENOSYS */
	PVT_BAD_ARG_GPA,	/* singleshot arg outside memory -> -EFAULT */
	PVT_BAD_PERIOD_ZERO,	/* periodic period 0 -> -EINVAL */
	PVT_BAD_BLOCK_NO_TIMER,	/* block with nothing armed -> -EDEADLK */
	PVT_BAD_OTHER_VCPU,	/* singleshot for another vCPU -> -EINVAL */
	PVT_BAD_KVMCLOCK_GPA,	/* kvmclock page outside memory -> VM stop */
	PVT_BAD_SCHEDOP,	/* sched_op 99 -> -ENOSYS */
	PVT_BAD_TIMER_NO_CLOCK,	/* timer before any clock, then block -> -EDEADLK */
	PVT_BAD_FAULT,		/* HLT in user mode: #GP with no IDT -> VM stop */
	PVT_BAD_CASES_END,
};

/* Read-only for the guest, written by the VMM before the first run. */
struct pvt_guest_config {
	uint32_t magic;
	uint32_t scenario;		/* enum pvt_guest_scenario */
	uint32_t nr_vcpus;
	uint32_t clock_src;		/* enum pvt_guest_clock_src */
	uint32_t timer_api;		/* enum pvt_guest_timer_api */
	uint32_t bad_case;		/* enum pvt_guest_bad_case */
	uint64_t loops;			/* timerlat loops / clockcheck bursts */
	uint64_t interval_ns;		/* timerlat sleep */
	uint64_t burst;			/* clockcheck: reads between two exits */
	uint64_t samples_per_vcpu;	/* capacity of each sample array */
	uint64_t mem_size;		/* guest memory size, for a bad GPA */
	uint32_t user_mode;		/* 1: measure at CPL 3, 0: stay at CPL 0 */
	uint32_t irq_mode;		/* enum pvt_guest_irq_mode */
	uint64_t irq_recs;		/* GPA of the per-vCPU pvt_guest_irq_rec arrays */
	uint64_t irq_recs_per_vcpu;	/* capacity of each */
	uint64_t seed;			/* hostile/soak: the guest's PRNG seed */
};

/*
 * One software timer that fired in the upcall handler (busy/mixed): its
 * lateness on the guest's clock and the interrupt path's timestamps. The
 * raise/kick/inject TSCs are the VMM's (host TSC), copied from the vCPU
 * page at handler entry; entry/fire are the guest's TSC.
 */
struct pvt_guest_irq_rec {
	int64_t late_ns;		/* guest clock at fire - deadline */
	uint32_t timer;			/* which software timer */
	uint32_t direct;		/* 1: run from an unmask, not an interrupt */
	uint64_t raise_tsc, kick_tsc, inject_tsc;
	uint64_t entry_tsc;		/* handler entry (guest TSC) */
	uint64_t fire_tsc;		/* the clock read that fired the timer */
};

/* One clock reading: the guest TSC and the ns the guest computed from it. */
struct pvt_guest_sample {
	uint64_t tsc;
	uint64_t ns;
};

#define PVT_EV_SINGLESHOT	(1u << 0)
#define PVT_EV_PERIODIC		(1u << 1)

/* Per-vCPU page shared by guest and VMM (like Xen's vcpu_info). */
struct pvt_guest_vcpu {
	uint32_t pending;		/* PVT_EV_*; VMM sets, guest exchanges with 0 */
	uint8_t upcall_mask;		/* guest: 1 = no upcall now (Xen's evtchn_upcall_mask) */
	uint8_t pad0[3];
	struct pvt_pvclock_page xen_time; /* VMM-published vcpu_time_info (PVT_CLK_XEN) */
	uint64_t singleshot_fired;	/* VMM: singleshot expiries delivered */
	uint64_t periodic_fired;	/* VMM: periodic ticks delivered */
	/* written by the guest */
	uint64_t nr_samples;		/* samples[] entries written */
	uint64_t loops_done;
	uint64_t early_wakeups;		/* woke before its deadline on its own clock */
	uint64_t kvmclock_gpa;		/* page currently registered (0: none) */
	uint64_t peer;			/* written by another vCPU (PVT_SCN_CROSS handshake) */
	uint64_t peer_ns;		/* another vCPU's clock reading (PVT_SCN_CROSS) */
	/* upcall path (busy/mixed), written by the VMM when it raises/injects */
	uint64_t irq_raise_tsc, irq_kick_tsc, irq_inject_tsc;
	/* written by the guest */
	uint64_t upcalls;		/* interrupt-delivered handler runs */
	uint64_t upcalls_direct;	/* handler runs from an unmask that found events */
	uint64_t nr_irq_recs;		/* irq records written */
	uint64_t timers_fired;		/* software timers fired */
	uint64_t timers_armed;		/* software timer arms */
	/* hostile/soak (hostile.c), written by the guest */
	uint64_t hostile_calls;		/* random hypercalls issued */
	uint64_t timers_checked;	/* expiries checked against what was armed */
	uint64_t lost_timers;		/* an armed timer not delivered by deadline + 1 s */
	uint64_t duplicate_expiries;	/* an expiry with nothing armed, or a second one */
	uint64_t wait_deadline_ns;	/* the deadline a block waits for (0: none): lost if it never comes */
};

/* Where the upcall entry stub finds the mask (checked by the guest at build time). */
#define PVT_GUEST_VCPU_MASK_OFF		4

enum pvt_ucall {
	PVT_UCALL_DONE = 1,	/* rdi = 0 */
	PVT_UCALL_ABORT,	/* rdi = line, rsi = seen, rdx = expected, r10 = file name GPA */
	PVT_UCALL_CLOCK,	/* rdi = kvmclock GPA just registered: check it now */
	PVT_UCALL_PRINT,	/* rdi = GPA of a NUL-terminated string */
	PVT_UCALL_CHECKPOINT,	/* rdi = tag: the VMM checks samples so far */
};

#endif

/* SPDX-License-Identifier: MIT */
/*
 * What the code in docs/integration.md assumes of the VMM around it: its own
 * vCPU struct and helpers, declared only, so that tests/docs_snippets.sh can
 * compile every snippet against the real headers.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <linux/kvm.h>

#include <pvtime/xentimer.h>

struct my_vm;
struct my_vcpu {
	struct pvt_xen_vcpu *xv;
	struct pvt_hosttimer *timer;
	struct my_vm *vm;
	int kick_fd;
};

struct pvt_xen_vcpu *my_vcpu_by_id(struct my_vm *vm, uint64_t id);
int copy_from_guest(struct my_vcpu *c, void *dst, uint64_t gpa, size_t len);
void inject_virq_timer(struct my_vcpu *c, const struct pvt_xen_events *ev);
int vmm_fail(int err);
void vm_stop(struct my_vcpu *c, int err);
int guest_is_blocked(struct my_vcpu *c);
void run_guest_until_exit(struct my_vcpu *c);
int my_wheel_schedule(void *ctx, uint64_t deadline_ns);
int my_wheel_cancel(void *ctx);
extern pthread_mutex_t big_lock;

// SPDX-License-Identifier: MIT
/* The VM: /dev/kvm, capabilities, guest RAM, KVM_GET_CLOCK, create/destroy. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm-internal.h"

#define VMM_MIB			(1ull << 20)
#define VMM_DEFAULT_MEM		(64 * VMM_MIB)
#define VMM_MEM_ALIGN		(2 * VMM_MIB)	/* one large page of the identity map */
#define VMM_MAX_MEM		(1024 * VMM_MIB)	/* the identity map covers 1 GiB */
#define VMM_MAX_LOOPS		(1ull << 32)	/* the sample area must fit guest RAM */
#define VMM_MAX_BURST		(1ull << 20)

void vmm_config_default(struct vmm_config *cfg)
{
	*cfg = (struct vmm_config){
		.nr_vcpus = 2,
		.mem_size = VMM_DEFAULT_MEM,
		.scenario = PVT_SCN_TIMERLAT,
		.clock_src = PVT_CLK_KVM,
		.timer_api = PVT_API_SET_TIMER_OP,
		.algo = PVT_ALGO_PVTIME,
		.loops = 100,
		.interval_ns = 100000,
		.burst = 64,
		.check_samples = true,
		.measure_costs = true,
		.watchdog_ms = 50000,
	};
}

static int kvm_cap(int kvm_fd, long cap)
{
	int r = ioctl(kvm_fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

/* Capabilities without which the VMM cannot do what it promises. */
static const struct { long cap; const char *name; } needed_caps[] = {
	{ KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS (hypercall args without ioctls)" },
	{ KVM_CAP_ADJUST_CLOCK, "KVM_CAP_ADJUST_CLOCK (KVM_GET_CLOCK)" },
	{ KVM_CAP_VCPU_ATTRIBUTES, "KVM_CAP_VCPU_ATTRIBUTES (TSC offset)" },
	{ KVM_CAP_GET_TSC_KHZ, "KVM_CAP_GET_TSC_KHZ" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
};

static int probe_fd(int fd, char *msg, unsigned len)
{
	int v = ioctl(fd, KVM_GET_API_VERSION, 0);

	if (v < 0) {
		snprintf(msg, len, "/dev/kvm is not a KVM device (KVM_GET_API_VERSION: %s)",
			 strerror(errno));
		return -ENOTTY;
	}
	if (v != KVM_API_VERSION) {
		snprintf(msg, len, "/dev/kvm: API version %d, need %d", v, KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sizeof(needed_caps) / sizeof(needed_caps[0]); i++) {
		if (!kvm_cap(fd, needed_caps[i].cap)) {
			snprintf(msg, len, "/dev/kvm lacks %s", needed_caps[i].name);
			return -ENOTSUP;
		}
	}
	if (!(kvm_cap(fd, KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS)) {
		snprintf(msg, len, "/dev/kvm cannot sync x86 registers");
		return -ENOTSUP;
	}
	return 0;
}

int vmm_probe(char *msg, unsigned len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), ret, vm;

	if (fd < 0) {
		ret = -errno;
		snprintf(msg, len, "cannot open /dev/kvm: %s", strerror(errno));
		return ret;
	}
	ret = probe_fd(fd, msg, len);
	if (!ret) {
		vm = ioctl(fd, KVM_CREATE_VM, 0);
		if (vm < 0) {
			ret = -errno;
			snprintf(msg, len, "KVM_CREATE_VM failed: %s", strerror(errno));
		} else {
			close(vm);
		}
	}
	close(fd);
	return ret;
}

int vmm__kvm_open(struct vmm *vm)
{
	struct kvm_userspace_memory_region region;
	int ret;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return vmm__fail(vm, -errno, "cannot open /dev/kvm: %s", strerror(errno));
	ret = probe_fd(vm->kvm_fd, vm->error, sizeof(vm->error));
	if (ret)
		return ret;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return vmm__fail(vm, -errno, "KVM_CREATE_VM: %s", strerror(errno));

	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return vmm__fail(vm, -errno, "guest RAM (%llu bytes): %s",
				 (unsigned long long)vm->mem_size, strerror(errno));
	}
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return vmm__fail(vm, -errno, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	return 0;
}

int vmm__get_clock(struct vmm *vm, struct kvm_clock_data *data)
{
	memset(data, 0, sizeof(*data));
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, data) < 0)
		return -errno;
	return 0;
}

/* One record per software timer fired, plus slack (mixed fires a little past loops). */
static uint64_t irq_records(const struct vmm_config *cfg)
{
	return cfg->loops + 64;
}

static int load_guest(struct vmm *vm)
{
	uint64_t size = (uint64_t)(pvt_guest_image_end - pvt_guest_image);
	struct pvt_guest_config *cfg = vmm__gpa(vm, PVT_GPA_CONFIG, sizeof(*cfg));
	/* Upcall records at the top of RAM, one array per vCPU; samples get the rest. */
	uint64_t irq_per_vcpu = vm->irq_mode ? irq_records(&vm->cfg) : 0;
	uint64_t irq_recs = (vm->mem_size - vm->cfg.nr_vcpus * irq_per_vcpu *
			     sizeof(struct pvt_guest_irq_rec)) & ~0xfffull;
	uint64_t per_vcpu = vm->cfg.nr_vcpus ?
		(irq_recs - PVT_GPA_SAMPLES) / vm->cfg.nr_vcpus /
		sizeof(struct pvt_guest_sample) : 0;

	if (size > PVT_GPA_STACKS - PVT_GPA_CODE)
		return vmm__fail(vm, -E2BIG, "guest image too large (%llu bytes)",
				 (unsigned long long)size);
	memcpy(vm->mem + PVT_GPA_CODE, pvt_guest_image, size);
	*cfg = (struct pvt_guest_config){
		.magic = PVT_GUEST_MAGIC,
		.scenario = vm->cfg.scenario,
		.nr_vcpus = vm->cfg.nr_vcpus,
		.clock_src = vm->cfg.clock_src,
		.timer_api = vm->cfg.timer_api,
		.bad_case = vm->cfg.bad_case,
		.loops = vm->cfg.loops,
		.interval_ns = vm->cfg.interval_ns,
		.burst = vm->cfg.burst,
		.samples_per_vcpu = per_vcpu,
		.mem_size = vm->mem_size,
		.user_mode = !vm->cfg.kernel_mode,
		.irq_mode = (uint32_t)vm->irq_mode,
		.irq_recs = irq_recs,
		.irq_recs_per_vcpu = irq_per_vcpu,
		.seed = vm->cfg.seed,
	};
	vm->irq_recs_gpa = irq_recs;
	vm->irq_recs_per_vcpu = irq_per_vcpu;
	return 0;
}

/*
 * Per vCPU, samples beyond the loops' own: the guest stops recording when
 * its area is full, so this only has to be generous, not exact.
 */
#define SAMPLES_SLACK		4096
/* busy/mixed: room for the few clock reads the guest takes per timer. */
#define BUSY_SAMPLES_PER_LOOP	8

/* Enough sample space for the scenario: two samples per loop plus slack. */
static uint64_t needed_mem(const struct vmm_config *cfg)
{
	uint64_t per_loop = cfg->scenario == PVT_SCN_CLOCKCHECK ? cfg->burst : 2;
	uint64_t samples = cfg->loops * per_loop + SAMPLES_SLACK;

	/* busy/mixed: a few clock reads per timer, plus the upcall records. */
	if (cfg->scenario == PVT_SCN_BUSY || cfg->scenario == PVT_SCN_MIXED)
		samples = cfg->loops * BUSY_SAMPLES_PER_LOOP + SAMPLES_SLACK +
			  (irq_records(cfg) * sizeof(struct pvt_guest_irq_rec) +
			   sizeof(struct pvt_guest_sample)) / sizeof(struct pvt_guest_sample) + 1;
	return PVT_GPA_SAMPLES + cfg->nr_vcpus * samples * sizeof(struct pvt_guest_sample);
}

int vmm_create(struct vmm *vm, const struct vmm_config *cfg)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	vm->epoll_fd = vm->irq_stop_fd = -1;
	vm->cfg = *cfg;
	if (!cfg->nr_vcpus || cfg->nr_vcpus > PVT_GUEST_MAX_VCPUS)
		return vmm__fail(vm, -EINVAL, "vcpus must be 1..%d", PVT_GUEST_MAX_VCPUS);
	if (cfg->loops > VMM_MAX_LOOPS || cfg->burst > VMM_MAX_BURST)
		return vmm__fail(vm, -EINVAL, "too many loops for guest memory");
	vm->mem_size = cfg->mem_size;
	if (vm->mem_size < needed_mem(cfg))
		vm->mem_size = (needed_mem(cfg) + VMM_MEM_ALIGN - 1) & ~(VMM_MEM_ALIGN - 1);
	if (vm->mem_size > VMM_MAX_MEM)
		return vmm__fail(vm, -E2BIG, "guest would need %llu MiB (> 1 GiB identity map)",
				 (unsigned long long)(vm->mem_size / VMM_MIB));
	vm->cfg.mem_size = vm->mem_size;

	ret = vmm__kvm_open(vm);
	if (ret)
		return ret;
	ret = vmm__irq_create(vm);	/* an in-kernel irqchip must precede the vCPUs */
	if (ret)
		return ret;
	vmm__setup_paging(vm);
	ret = load_guest(vm);
	if (ret)
		return ret;

	vm->vcpus = calloc(cfg->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return vmm__fail(vm, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < cfg->nr_vcpus; i++) {
		struct vmm_vcpu *vcpu = &vm->vcpus[i];

		vcpu->vm = vm;
		vcpu->id = i;
		vcpu->fd = -1;
		vcpu->wake_fd = -1;
		vm->nr_vcpus = i + 1;
		ret = vcpu__create(vcpu);
		if (!ret)
			ret = vcpu__irq_create(vcpu);
		if (ret)
			return vmm__fail(vm, ret, "vCPU %u: %s", i, vcpu->error);
	}
	ret = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	if (ret <= 0)
		return vmm__fail(vm, -EIO, "KVM_GET_TSC_KHZ: %s", strerror(errno));
	vm->tsc_khz = (uint32_t)ret;
	return vmm__engine_init(vm);
}

void vmm_destroy(struct vmm *vm)
{
	vmm__irq_stop(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		vcpu__irq_destroy(&vm->vcpus[i]);
		vcpu__destroy(&vm->vcpus[i]);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	pvt_xen_vm_free(vm->xen);
	vm->xen = NULL;
	pvt_hostclock_free(vm->hostclock);
	vm->hostclock = NULL;
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	vm->mem = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}

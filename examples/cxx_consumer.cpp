// SPDX-License-Identifier: MIT
/*
 * libpvtime from C++17: RAII owners for the opaque handles, and vCPUs kept
 * by value in a std::vector. The vector moves its elements every time it
 * grows; that is safe because a wrapper only holds pointers to objects the
 * library allocated (they never move). Giving the library the address of
 * a wrapper (as a callback context, say) would dangle after the first
 * reallocation: this example hands it the library's own vCPU pointer.
 *
 *   c++ examples/cxx_consumer.cpp $(pkg-config --cflags --libs pvtime)
 *   ./a.out              simulated host: deterministic output
 *   ./a.out --real       the host's TSC and CLOCK_MONOTONIC, timerfds and poll()
 *
 * Eight vCPUs each run a periodic timer and one singleshot for 20 ms.
 * Checked: the singleshot fires once and not early, every tick is on its
 * grid and none is missing. Exit 0 if that held.
 */
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <poll.h>

#include <pvtime/guestclock.h>
#include <pvtime/hostclock.h>
#include <pvtime/hosttimer.h>
#include <pvtime/simhost.h>
#include <pvtime/xentimer.h>

namespace {

constexpr uint64_t us = 1000, ms = 1000 * us;

// The library's -errno convention as exceptions, at the boundary only.
void check(int ret, const char *what)
{
	if (ret < 0)
		throw std::system_error(-ret, std::generic_category(), what);
}

// One deleter for every handle: overloads on the library's free functions
// (which all accept NULL).
struct Free {
	void operator()(pvt_simhost *p) const { pvt_simhost_free(p); }
	void operator()(pvt_hostclock *p) const { pvt_hostclock_free(p); }
	void operator()(pvt_hosttimer *p) const { pvt_hosttimer_free(p); }
	void operator()(pvt_xen_vm *p) const { pvt_xen_vm_free(p); }
	void operator()(pvt_xen_vcpu *p) const { pvt_xen_vcpu_free(p); }
};
using SimHost = std::unique_ptr<pvt_simhost, Free>;
using HostClock = std::unique_ptr<pvt_hostclock, Free>;
using HostTimer = std::unique_ptr<pvt_hosttimer, Free>;
using XenVm = std::unique_ptr<pvt_xen_vm, Free>;
using XenVcpu = std::unique_ptr<pvt_xen_vcpu, Free>;

// Simulated timers that fired, by the library's vCPU pointer (stable).
std::vector<pvt_xen_vcpu *> sim_fired;

// Called from C (pvt_simhost_step): no exception may unwind through it.
void sim_notify(void *ctx) noexcept
{
	sim_fired.push_back(static_cast<pvt_xen_vcpu *>(ctx));
}

class Vcpu {
public:
	Vcpu(pvt_xen_vm *vm, pvt_simhost *sim, uint32_t id, clockid_t clockid)
	{
		pvt_hosttimer *t;
		pvt_xen_vcpu *v;

		check(sim ? pvt_simhost_timer_new(sim, &t) : pvt_hosttimer_new_timerfd(clockid, &t),
		      "host timer");
		timer_.reset(t);
		check(pvt_xen_vcpu_new(vm, id, t, &v), "vCPU");
		vcpu_.reset(v);
		if (sim)
			check(pvt_simhost_timer_set_notify(t, sim_notify, v), "notify hook");
	}
	// Movable (the members are), not copyable: the defaults say exactly that.

	uint32_t id() const { return pvt_xen_vcpu_id(vcpu_.get()); }
	pvt_xen_vcpu *get() const { return vcpu_.get(); }
	int fd() const { return pvt_hosttimer_fd(timer_.get()); }

	uint64_t guest_now() const
	{
		uint64_t ns;

		check(pvt_xen_vcpu_guest_now(vcpu_.get(), &ns), "guest clock");
		return ns;
	}

	// Returns the Xen result; a host failure throws (it is not the guest's).
	int64_t op(int cmd, const void *arg, size_t len)
	{
		int64_t guest_ret;

		check(pvt_xen_vcpu_op(vcpu_.get(), vcpu_.get(), cmd, arg, len, &guest_ret), "VCPUOP");
		take();
		return guest_ret;
	}

	void take()
	{
		pvt_xen_events ev;

		if (pvt_xen_vcpu_take(vcpu_.get(), &ev))
			inject(ev);
	}

	void service()
	{
		pvt_xen_events ev;

		check(pvt_xen_vcpu_service(vcpu_.get(), &ev), "service");
		inject(ev);
	}

	// What the guest armed and what it got.
	uint64_t singleshot_ns = 0, singleshots = 0;
	uint64_t first_tick_ns = 0, period_ns = 0, ticks = 0;
	std::string error;

private:
	void inject(const pvt_xen_events &ev)
	{
		uint64_t now = guest_now();

		if (ev.fired & PVT_XEN_FIRED_SINGLESHOT) {
			if (ev.singleshot_deadline_ns != singleshot_ns || singleshots++)
				fail("singleshot stale or delivered twice");
			if (now < ev.singleshot_deadline_ns)
				fail("singleshot early");
		}
		if (ev.fired & PVT_XEN_FIRED_PERIODIC) {
			ticks += ev.periodic_ticks;
			if (ev.periodic_deadline_ns != first_tick_ns + (ticks - 1) * period_ns)
				fail("tick off its grid");
			if (now < ev.periodic_deadline_ns)
				fail("tick early");
		}
	}

	void fail(const char *what)
	{
		if (error.empty())
			error = what;
	}

	// Declaration order is destruction order reversed: the vCPU goes first,
	// then its timer, as the library requires.
	HostTimer timer_;
	XenVcpu vcpu_;
};

// A 3 GHz guest TSC on this host, as KVM would scale it.
pvt_guest_clock make_guest_clock(pvt_hostclock *hc, uint32_t host_khz)
{
	pvt_kvm_clock kvm;
	pvt_tsc_scaling tsc;
	pvt_guest_clock clock;

	check(pvt_kvm_clock_init(&kvm, host_khz, PVT_FRAC_BITS_VMX), "kvm clock");
	/* KVM's master clock: a host TSC and its host ns (the guest's clock starts there). */
	kvm.master_tsc = pvt_hostclock_read_tsc(hc);
	kvm.master_ns = pvt_hostclock_read_mono(hc);
	check(pvt_kvm_tsc_scaling(&kvm, 3000000, 0, &tsc), "TSC scaling");
	check(pvt_kvm_guest_clock(&kvm, &tsc, &clock), "guest clock");
	return clock;
}

int run(bool real)
{
	// Declared in the order they must be freed last to first.
	SimHost sim;
	HostClock hc;
	XenVm vm;
	std::vector<Vcpu> vcpus;
	uint32_t host_khz = 2596136;
	pvt_hostclock *raw_hc;
	pvt_xen_vm *raw_vm;

	if (real) {
		pvt_clock_pair pair;
		pvt_rate rate;

		check(pvt_hostclock_new_vdso(0, &raw_hc), "vDSO host clock");
		hc.reset(raw_hc);
		pvt_hostclock_current(raw_hc, &pair, &rate, nullptr);
		host_khz = static_cast<uint32_t>(1000000000000000ull /
						 pvt_rate_apply(&rate, 1000000000ull, false));
	} else {
		pvt_simhost_config cfg{};
		pvt_simhost *raw_sim;

		cfg.tsc_khz = host_khz;
		cfg.start_true_ns = cfg.start_mono_ns = 3600 * 1000 * ms;
		cfg.wake_latency_ns = 2 * us;
		cfg.max_timers = 8;
		check(pvt_simhost_new(&cfg, &raw_sim), "simulated host");
		sim.reset(raw_sim);
		check(pvt_simhost_hostclock_new(raw_sim, &raw_hc), "simulated host clock");
		hc.reset(raw_hc);
	}
	check(pvt_xen_vm_new(nullptr, hc.get(), nullptr, &raw_vm), "VM");
	vm.reset(raw_vm);
	pvt_guest_clock clock = make_guest_clock(hc.get(), host_khz);

	// No reserve(): let the vector reallocate and move the wrappers.
	unsigned moves = 0;
	for (uint32_t i = 0; i < 8; i++) {
		size_t cap = vcpus.capacity();

		vcpus.emplace_back(vm.get(), sim.get(), i, pvt_hostclock_clockid(hc.get()));
		moves += vcpus.capacity() != cap && cap;
	}
	std::printf("cxx_consumer: %s host, %zu vCPUs in a std::vector that reallocated %u times\n",
		    real ? "real" : "simulated", vcpus.size(), moves);

	uint64_t start = 0;
	for (Vcpu &v : vcpus) {
		pvt_xen_periodic_arg per{ PVT_XEN_PERIOD_MIN_NS + v.id() * 250 * us };
		pvt_xen_singleshot_arg ss{};
		pvt_xen_vcpu_state st;

		check(pvt_xen_vcpu_set_guest_clock(v.get(), &clock), "set_guest_clock");
		start = v.guest_now();
		v.period_ns = per.period_ns;
		// (Xen refuses periods under 1 ms with -EINVAL: the guest's error, not ours.)
		if (v.op(PVT_XEN_VCPUOP_set_periodic_timer, &per, sizeof(per)))
			throw std::runtime_error("set_periodic_timer refused");
		pvt_xen_vcpu_get_state(v.get(), &st);
		v.first_tick_ns = st.periodic_deadline_ns;
		ss.timeout_abs_ns = v.singleshot_ns = start + 5 * ms + v.id() * 100 * us;
		if (v.op(PVT_XEN_VCPUOP_set_singleshot_timer, &ss, sizeof(ss)))
			throw std::runtime_error("set_singleshot_timer refused");
	}

	// 20 ms of timers: the simulated queue, or poll() on every timerfd.
	if (!real) {
		uint64_t end = pvt_simhost_now_ns(sim.get()) + 20 * ms;

		while (pvt_simhost_step(sim.get(), end)) {
			for (pvt_xen_vcpu *fired : sim_fired)
				vcpus[pvt_xen_vcpu_id(fired)].service();
			sim_fired.clear();
		}
	} else {
		// At least 20 ms, and on a loaded machine until the singleshots came (5 s at most).
		auto now = std::chrono::steady_clock::now();
		auto end = now + std::chrono::milliseconds(20), give_up = now + std::chrono::seconds(5);
		std::vector<pollfd> fds;
		auto pending = [&vcpus] {
			for (const Vcpu &v : vcpus)
				if (!v.singleshots)
					return true;
			return false;
		};

		for (const Vcpu &v : vcpus)
			fds.push_back(pollfd{ v.fd(), POLLIN, 0 });
		while ((now < end || pending()) && now < give_up) {
			if (poll(fds.data(), fds.size(), 1) < 0 && errno != EINTR)
				check(-errno, "poll");
			for (size_t i = 0; i < fds.size(); i++)
				if (fds[i].revents & POLLIN)
					vcpus[i].service();
			now = std::chrono::steady_clock::now();
		}
	}

	int status = 0;
	for (Vcpu &v : vcpus) {
		pvt_xen_vcpu_state st;
		int64_t guest_ret;

		// All ticks before the next one were delivered: none lost.
		pvt_xen_vcpu_get_state(v.get(), &st);
		if (st.periodic_deadline_ns != v.first_tick_ns + v.ticks * v.period_ns)
			v.error = v.error.empty() ? "a tick is missing" : v.error;
		if (v.singleshots != 1)
			v.error = v.error.empty() ? "the singleshot did not fire" : v.error;
		check(pvt_xen_stop_periodic(v.get(), &guest_ret), "stop_periodic");
		std::printf("vCPU %" PRIu32 ": singleshot at +%" PRIu64 " us fired %" PRIu64
			    " time(s); %" PRIu64 " ticks of %" PRIu64 " us%s%s\n", v.id(),
			    (5 * ms + v.id() * 100 * us) / us, v.singleshots, v.ticks,
			    v.period_ns / us, v.error.empty() ? "" : ": FAILED: ", v.error.c_str());
		if (!v.error.empty())
			status = 1;
	}
	if (!status)
		std::printf("OK: each singleshot once, never early; every tick on its grid; moved wrappers kept working\n");
	return status;
}

} // namespace

int main(int argc, char **argv)
{
	bool real = argc == 2 && !std::strcmp(argv[1], "--real");

	if (argc > 1 && !real) {
		std::fprintf(stderr, "usage: %s [--real]\n", argv[0]);
		return 2;
	}
	try {
		return run(real);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "cxx_consumer: %s\n", e.what());
		return 1;
	}
}

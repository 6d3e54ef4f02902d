// SPDX-License-Identifier: MIT
#include "pvtime/guestclock.h"
#include "sim.h"

int sim_model(const struct sim_config *cfg, struct sim_model *m)
{
	struct pvt_kvm_clock kvm;
	struct pvt_tsc_scaling tsc;
	struct pvt_guest_clock gc;
	int ret;

	ret = pvt_kvm_clock_init(&kvm, cfg->host_khz, cfg->frac_bits);
	if (!ret)
		ret = pvt_kvm_tsc_scaling(&kvm, cfg->guest_khz, 0, &tsc);
	if (!ret)
		ret = pvt_kvm_guest_clock(&kvm, &tsc, &gc);
	if (ret)
		return ret;
	m->ratio = tsc.ratio;
	m->scaled = tsc.ratio != pvt_tsc_ratio_one(cfg->frac_bits);
	m->advertised_khz = pvt_kvm_advertised_khz(&kvm, &tsc);
	m->start_host_tsc = cfg->uptime_s * cfg->host_khz * 1000;
	m->start_guest_ns = pvt_guest_clock_ns(&gc, m->start_host_tsc);
	m->onestep_error_ns = (int64_t)(pvt_kvm_clock_legacy_ns(&kvm, m->start_host_tsc) -
					m->start_guest_ns);
	return 0;
}

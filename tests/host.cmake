# Host facts: the vDSO backend's calibration against scripted reads (the test
# includes lib/hostclock-vdso.c, so it links the per-object archive: the
# library's own copy of that object is then never pulled in).
pvt_internal_test(test_hostclock_vdso test_hostclock_vdso.c)
# Host facts (include/pvtime/hostinfo.h): TSC kHz, ratio width, a live vCPU's TSC.
pvt_unit_test(test_hostinfo test_hostinfo.c)
pvt_unit_test(test_hostinfo_kvm test_hostinfo_kvm.c)
set_tests_properties(test_hostinfo_kvm PROPERTIES LABELS kvm TIMEOUT 60)

# Host facts: the vDSO backend's calibration against scripted reads (the test
# includes lib/hostclock-vdso.c, so it links the per-object archive: the
# library's own copy of that object is then never pulled in).
pvt_internal_test(test_hostclock_vdso test_hostclock_vdso.c)

# Xen timer engine: host clock pairing, host timers, simulated host, xentimer.
pvt_unit_test(test_simhost test_simhost.c)
pvt_unit_test(test_hostclock test_hostclock.c)
pvt_unit_test(test_xentimer_exact test_xentimer_exact.c)
pvt_unit_test(test_xentimer_table test_xentimer_table.c)
pvt_unit_test(test_xentimer_ntp test_xentimer_ntp.c)
pvt_unit_test(test_xentimer_periodic test_xentimer_periodic.c)
pvt_unit_test(test_xentimer_save test_xentimer_save.c)
pvt_unit_test(test_hosttimer_real test_hosttimer_real.c)
# The concurrency stress test; CI runs it in a -DPVT_SANITIZE=thread build with `ctest -L tsan`.
pvt_unit_test(test_engine_stress test_engine_stress.c)
set_tests_properties(test_engine_stress PROPERTIES LABELS "tsan")
pvt_unit_test(test_xentimer_clockstep test_xentimer_clockstep.c)
pvt_unit_test(test_xentimer_algos test_xentimer_algos.c)

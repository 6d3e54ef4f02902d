pvt_unit_test(pvclock_smoke pvclock_smoke.c)

# Foundation: pvclock arithmetic, guest-clock model, calc/tsdrift CLI, conversion bench.
pvt_unit_test(pvclock_smoke pvclock_smoke.c)
pvt_unit_test(test_pvclock test_pvclock.c)
pvt_unit_test(test_pvclock_props test_pvclock_props.c ref_pvclock.c)
pvt_unit_test(test_guestclock test_guestclock.c ref_pvclock.c)
pvt_unit_test(layout_xen layout_xen.c)
pvt_cli_test(cli_calc cli_calc.sh)
pvt_cli_test(cli_tsdrift cli_tsdrift.sh)

# The library must stay freestanding: no libgcc 128-bit division helpers.
add_test(NAME foundation_no_libgcc_div
  COMMAND sh -c "objs='$<JOIN:$<TARGET_OBJECTS:pvtime_objects>, >'; nm $objs >/dev/null || exit 1; if nm -A $objs | grep -E '__(u)?(div|mod)ti3'; then echo 'lib objects call libgcc 128-bit division' >&2; exit 1; fi; echo \"no 128-bit division helpers in: $objs\"")

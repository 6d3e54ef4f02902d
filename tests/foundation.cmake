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

# The man page renders without warnings and documents every subcommand and calc calculation.
add_test(NAME foundation_manpage
  COMMAND sh -c "command -v groff >/dev/null || { echo 'groff not installed: skipped'; exit 77; }; w=$(groff -man -ww -z '${CMAKE_SOURCE_DIR}/doc/pvtime.1' 2>&1); [ -z \"$w\" ] || { echo \"$w\"; exit 1; }; for c in calc tsdrift sim timerlat vmm bench demo scale read ratio guest-tsc page deadline conversion; do tr -d '\\\\' <'${CMAKE_SOURCE_DIR}/doc/pvtime.1' | grep -q \"pvtime.*$c\" || { echo \"man page misses $c\"; exit 1; }; done")
set_tests_properties(foundation_manpage PROPERTIES SKIP_RETURN_CODE 77)

# Instructions per conversion (deterministic under callgrind): forward <= 60, inverse <= 200.
# Skipped without valgrind and in sanitizer builds (valgrind cannot run ASan binaries).
add_test(NAME foundation_callgrind_conversion
  COMMAND sh -c "[ -z '${PVT_SANITIZE}' ] || { echo 'sanitizer build: skipped'; exit 77; }; out=$(N2=21000 bash '${CMAKE_SOURCE_DIR}/bench/callgrind-conversion.sh' '$<TARGET_FILE:pvtime>') || exit $?; echo \"$out\"; echo \"$out\" | grep -q '\"within_targets\": true'")
set_tests_properties(foundation_callgrind_conversion PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
pvt_unit_test(test_pvclock_div test_pvclock_div.c ref_pvclock.c)

# pvtime bench conversion --json: one object with every figure (a smoke run, not a timing test).
add_test(NAME foundation_bench_conversion_json
  COMMAND sh -c "'$<TARGET_FILE:pvtime>' bench conversion --iterations 20000 --repeat 3 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); ks=[o+s for o in (\"forward\",\"inverse\",\"clock_gettime\",\"rdtsc\",\"empty\",\"forward_chained\") for s in (\"_ns_per_op\",\"_ns_per_op_min\")]; missing=[k for k in ks if not isinstance(d.get(k), (int, float)) or d[k] <= 0]; assert not missing, missing; assert d[\"bench\"] == \"conversion\" and d[\"iterations\"] == 20000; print(\"ok\", d[\"forward_ns_per_op\"], d[\"inverse_ns_per_op\"])' && '$<TARGET_FILE:pvtime>' bench conversion --op forward 2>/dev/null; [ $? -eq 2 ]")

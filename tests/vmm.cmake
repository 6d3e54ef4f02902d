# Real-KVM tests of the tiny VMM: each skips (77) with a message when /dev/kvm is unusable.
# vCPU threads, the watchdog and the timer engine run concurrently: also run under TSan.
foreach(t test_vmm_exact test_vmm_timers test_vmm_bad test_vmm_irq test_vmm_advance)
  pvt_unit_test(${t} ${t}.c)
  target_link_libraries(${t} PRIVATE pvtime_vmm)
  set_tests_properties(${t} PROPERTIES TIMEOUT 120 RUN_SERIAL TRUE LABELS "kvm;tsan")
endforeach()
# Non-zero TSC offsets: their own tests, skipped (77) where KVM keeps the guest on the host TSC.
foreach(c test_nonzero_offset test_per_vcpu_offsets)
  pvt_unit_test_case(test_vmm_exact ${c})
  set_tests_properties(test_vmm_exact.${c} PROPERTIES TIMEOUT 120 RUN_SERIAL TRUE LABELS "kvm;tsan")
endforeach()
pvt_cli_test(cli_vmm cli_vmm.sh)
set_tests_properties(cli_vmm PROPERTIES TIMEOUT 120 RUN_SERIAL TRUE LABELS kvm)
# Oracle (a)'s confirm/void/mismatch rule as a pure function: no /dev/kvm needed.
pvt_unit_test(test_vmm_confirm test_vmm_confirm.c)
target_link_libraries(test_vmm_confirm PRIVATE pvtime_vmm)
# The results API (vmm/results.c) on a hand-made finished VM: no /dev/kvm needed.
pvt_unit_test(test_vmm_results test_vmm_results.c)
target_link_libraries(test_vmm_results PRIVATE pvtime_vmm)

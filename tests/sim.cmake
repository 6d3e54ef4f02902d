# Simulator, timerlat and demo (issue 5).
pvt_unit_test(test_sim test_sim.c)
target_link_libraries(test_sim PRIVATE pvtime_sim)
pvt_cli_test(cli_sim cli_sim.sh)
pvt_cli_test(cli_timerlat cli_timerlat.sh)
pvt_cli_test(cli_demo cli_demo.sh)
# Its real-KVM part: skipped (77) with the reason where the demo cannot run a guest.
add_test(NAME cli_demo.real_kvm COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli_demo.sh $<TARGET_FILE:pvtime> kvm)
set_tests_properties(cli_demo.real_kvm PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600 RUN_SERIAL TRUE LABELS kvm)
pvt_unit_test(test_sim_report test_sim_report.c)
target_link_libraries(test_sim_report PRIVATE pvtime_report)
target_include_directories(test_sim_report PRIVATE ${CMAKE_SOURCE_DIR}/sim)

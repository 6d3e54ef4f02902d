# examples/: each one built against an installed copy of the library exactly as
# examples/README.md says (cc examples/NAME.c $(pkg-config --cflags --libs pvtime)),
# run in simulation twice (exit 0, the same bytes) and with --real.
if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
  set(PVT_EXAMPLES_CXX clang++)
else()
  set(PVT_EXAMPLES_CXX g++)
endif()
add_test(NAME examples_installed
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/examples.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}
    ${CMAKE_C_COMPILER} ${PVT_EXAMPLES_CXX})
set_tests_properties(examples_installed PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)

# The C examples also build in the tree, with the project's warnings (and -Werror in
# CI) and its sanitizer flags. In the TSan build (ctest -L tsan) the event-loop
# example's big-lock pattern runs 10 000 expiries across 4 vCPU threads on the real
# host clock: TSan must report no race and no lock-order inversion (halt_on_error
# makes any report fail the test) and the example must not deadlock.
foreach(ex eventloop vcpu_threads save_restore)
  add_executable(example_${ex} ${CMAKE_SOURCE_DIR}/examples/${ex}.c)
  target_link_libraries(example_${ex} PRIVATE pvtime_static)
endforeach()
add_test(NAME examples_eventloop_biglock
  COMMAND example_eventloop --real --vcpus 4 --expiries 10000)
add_test(NAME examples_vcpu_threads_real COMMAND example_vcpu_threads --real)
# The simulation's hand-over between threads (one runs at a time) must be race-free too.
add_test(NAME examples_eventloop_sim COMMAND example_eventloop)
add_test(NAME examples_vcpu_threads_sim COMMAND example_vcpu_threads)
set_tests_properties(examples_eventloop_biglock examples_vcpu_threads_real
  examples_eventloop_sim examples_vcpu_threads_sim PROPERTIES
  LABELS tsan TIMEOUT 300
  ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:detect_deadlocks=1:second_deadlock_stack=1")

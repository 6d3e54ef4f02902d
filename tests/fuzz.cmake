# libFuzzer targets (clang only). Each also runs as a bounded CTest so that the
# sanitizer build exercises them on every test run.
if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
  function(pvt_fuzz_test name runs)
    add_executable(${name} ${ARGN})
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/lib)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    # The conversion code is compiled in with coverage so the fuzzer can steer.
    target_sources(${name} PRIVATE ${CMAKE_SOURCE_DIR}/lib/pvclock.c ${CMAKE_SOURCE_DIR}/lib/guestclock.c)
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/include)
    add_test(NAME ${name} COMMAND ${name} -runs=${runs} -seed=1 -max_len=256)
    set_tests_properties(${name} PROPERTIES TIMEOUT 300 LABELS fuzz)
  endfunction()
  pvt_fuzz_test(fuzz_guestclock 300000 fuzz_guestclock.c)
endif()

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
  pvt_fuzz_test(fuzz_guestclock 300000 fuzz_guestclock.c ref_pvclock.c)

  # The engine fuzzers compile the whole library in (coverage everywhere) and
  # run on the simulated host; -timeout turns a hang into a failure.
  file(GLOB PVT_FUZZ_LIB_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/lib/*.c)
  function(pvt_fuzz_engine_test name runs max_len)
    add_executable(${name} ${ARGN} ${PVT_FUZZ_LIB_SOURCES})
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests
      ${CMAKE_SOURCE_DIR}/lib ${CMAKE_SOURCE_DIR}/include)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE pthread)
    add_test(NAME ${name} COMMAND ${name} -runs=${runs} -seed=1 -max_len=${max_len} -timeout=10)
    set_tests_properties(${name} PROPERTIES TIMEOUT 120 LABELS fuzz)
  endfunction()
  pvt_fuzz_engine_test(fuzz_xentimer_restore 50000 256 fuzz_xentimer_restore.c)
  pvt_fuzz_engine_test(fuzz_xentimer_hypercalls 50000 1024 fuzz_xentimer_hypercalls.c)
endif()

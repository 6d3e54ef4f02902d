# libFuzzer targets (clang only). Each also runs as a bounded CTest so that the
# sanitizer build exercises them on every test run: a fresh seed each time
# (printed, for replay), inputs up to max_len at once, the committed seed corpus
# in tests/corpus/<target>/ (tests/fuzz_run.sh). Campaigns: scripts/fuzz.sh.
if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
  # name -> max_len and CI seconds, shared with scripts/fuzz.sh.
  file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_targets.txt PVT_FUZZ_TARGETS REGEX "^fuzz_")
  function(pvt_fuzz_register name)
    foreach(line ${PVT_FUZZ_TARGETS})
      string(REPLACE " " ";" f "${line}")
      list(GET f 0 n)
      if(n STREQUAL name)
        list(GET f 1 max_len)
        list(GET f 2 secs)
      endif()
    endforeach()
    if(NOT max_len)
      message(FATAL_ERROR "${name} is not in tests/fuzz_targets.txt")
    endif()
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests
      ${CMAKE_SOURCE_DIR}/lib ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/common)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    add_test(NAME ${name} COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_run.sh
      $<TARGET_FILE:${name}> ${CMAKE_CURRENT_SOURCE_DIR}/corpus/${name} ${max_len} ${secs}
      ${CMAKE_CURRENT_BINARY_DIR}/fuzz-artifacts)
    set_tests_properties(${name} PROPERTIES TIMEOUT 120 LABELS fuzz)
  endfunction()

  # The conversion code is compiled in with coverage so the fuzzer can steer.
  add_executable(fuzz_guestclock fuzz_guestclock.c ref_pvclock.c
    ${CMAKE_SOURCE_DIR}/lib/pvclock.c ${CMAKE_SOURCE_DIR}/lib/guestclock.c)
  pvt_fuzz_register(fuzz_guestclock)

  # The engine fuzzers compile the whole library in (coverage everywhere) and
  # run on the simulated host; -timeout turns a hang into a failure.
  file(GLOB PVT_FUZZ_LIB_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/lib/*.c)
  foreach(name fuzz_xentimer_restore fuzz_xentimer_hypercalls)
    add_executable(${name} ${name}.c ${PVT_FUZZ_LIB_SOURCES})
    target_link_libraries(${name} PRIVATE pthread)
    pvt_fuzz_register(${name})
  endforeach()

  # The VMM's hypercall dispatch on a fake vCPU: the real vmm/hypercall.c and
  # vmm/engine.c on the whole library; the VMM's two timerfd calls (creating
  # and waiting) are linked to the fuzzer's simulated ones instead.
  # vmm/irq.c (the raise, the wait) and vmm/advance.c come along: with no
  # upcall vector and no advance they only touch the vCPU page. vmm/fail.c
  # is the real failure reporting.
  add_executable(fuzz_vmm_hypercall fuzz_vmm_hypercall.c ${CMAKE_SOURCE_DIR}/vmm/hypercall.c
    ${CMAKE_SOURCE_DIR}/vmm/engine.c ${CMAKE_SOURCE_DIR}/vmm/irq.c
    ${CMAKE_SOURCE_DIR}/vmm/advance.c ${CMAKE_SOURCE_DIR}/vmm/fail.c
    ${PVT_FUZZ_LIB_SOURCES})
  target_include_directories(fuzz_vmm_hypercall PRIVATE ${CMAKE_SOURCE_DIR}/vmm)
  target_link_options(fuzz_vmm_hypercall PRIVATE
    -Wl,--wrap=pvt_hosttimer_new_timerfd -Wl,--wrap=pvt_hosttimer_wait)
  target_link_libraries(fuzz_vmm_hypercall PRIVATE pthread)
  pvt_fuzz_register(fuzz_vmm_hypercall)
endif()

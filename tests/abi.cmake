# The library's ABI surface (docs/abi.md).
# Every public header compiles alone as C99, C11 and C++17 with gcc and clang.
add_test(NAME abi_headers_standalone
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/headers_standalone.sh ${CMAKE_SOURCE_DIR}/include)
# libpvtime.so and libpvtime.a define no global symbol without the pvt_ prefix.
add_test(NAME abi_exported_symbols
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/abi_symbols.sh
    $<TARGET_FILE:pvtime_shared> $<TARGET_FILE:pvtime_static>)
# libpvtime.so has exactly the ABI in abi/libpvtime.abi (abidiff; gcc builds
# with debug info only, else skipped). scripts/abi-baseline.sh regenerates it.
add_test(NAME abi_baseline COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/abi-check.sh ${CMAKE_BINARY_DIR})
set_tests_properties(abi_baseline PROPERTIES SKIP_RETURN_CODE 77 DEPENDS abi_exported_symbols)

# The installed library, headers, pkg-config file and CMake package config are
# usable by an outside program (C, and C++ with the matching C++ compiler).
if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
  set(PVT_CONSUMER_CXX clang++)
else()
  set(PVT_CONSUMER_CXX g++)
endif()
add_test(NAME install_pkgconfig
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install_pkgconfig.sh ${CMAKE_BINARY_DIR} ${CMAKE_C_COMPILER}
    ${PVT_CONSUMER_CXX})
set_tests_properties(install_pkgconfig PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)

# A library-only build (-DPVT_BUILD_TOOLS=OFF: the tests follow) configures
# without looking for cmocka: it needs a C compiler and CMake alone.
add_test(NAME build_library_only
  COMMAND sh -c "d=$(mktemp -d) && trap 'rm -rf $d' EXIT && cmake -S '${CMAKE_SOURCE_DIR}' -B $d -DCMAKE_C_COMPILER='${CMAKE_C_COMPILER}' -DPVT_BUILD_TOOLS=OFF >$d.log 2>&1 || { cat $d.log; rm -f $d.log; exit 1; }; rm -f $d.log; if grep CMOCKA_LIBRARY $d/CMakeCache.txt; then echo 'library-only configure looked for cmocka'; exit 1; fi; grep -q 'pvtime_shared' $d/Makefile || { echo 'no library target'; exit 1; }; echo 'library-only configure: no cmocka, no tools'")

# The installed library, headers and pkg-config file are usable by an outside program.
add_test(NAME install_pkgconfig
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install_pkgconfig.sh ${CMAKE_BINARY_DIR} ${CMAKE_C_COMPILER})
set_tests_properties(install_pkgconfig PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)

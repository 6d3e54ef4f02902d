# The version has one source, CMakeLists.txt's project(VERSION): the CLI prints
# it (a define), and the man page's header, kept by hand, must name the same.
add_test(NAME cli_version COMMAND sh -c "out=$(\"$0\" --version) && test \"$out\" = \"pvtime $1\" || { echo \"--version: got '$out', want 'pvtime $1'\"; exit 1; }; grep -q \"^\\.TH PVTIME 1 .* \\\"pvtime $1\\\"\" \"$2\" || { echo \"$2: .TH does not name pvtime $1\"; exit 1; }"
  $<TARGET_FILE:pvtime> ${PROJECT_VERSION} ${CMAKE_SOURCE_DIR}/doc/pvtime.1)

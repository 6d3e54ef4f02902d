# The version has one source, CMakeLists.txt's project(VERSION): the CLI prints it.
add_test(NAME cli_version COMMAND sh -c "out=$(\"$0\" --version) && test \"$out\" = \"pvtime $1\" || { echo \"got '$out', want 'pvtime $1'\"; exit 1; }"
  $<TARGET_FILE:pvtime> ${PROJECT_VERSION})

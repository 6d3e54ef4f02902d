# The README's benchmark tables are exactly what scripts/bench-tables.py makes of
# the committed bench/results/*.json: no figure typed in by hand.
add_test(NAME readme_bench_tables
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/readme_bench_tables.sh ${CMAKE_SOURCE_DIR})

# The repository stands alone: nothing points outside it, docs/ exists, the
# upstream patch is cited by title and commit id.
add_test(NAME docs_self_contained
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/docs_self_contained.sh ${CMAKE_SOURCE_DIR})

# The README's library example is a whole program that compiles and runs.
add_test(NAME readme_example
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/readme_example.sh ${CMAKE_SOURCE_DIR}
    $<TARGET_FILE:pvtime_static> ${CMAKE_C_COMPILER})
set_tests_properties(readme_example PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)

# libpvtime(3) renders without groff warnings and names every public header.
add_test(NAME docs_libpvtime_man
  COMMAND sh -c "command -v groff >/dev/null || { echo 'groff not installed: skipped'; exit 77; }; w=$(groff -man -ww -z '${CMAKE_SOURCE_DIR}/doc/libpvtime.3' 2>&1); [ -z \"$w\" ] || { echo \"$w\"; exit 1; }; for h in '${CMAKE_SOURCE_DIR}'/include/pvtime/*.h; do b=$(basename $h); [ $b = export.h ] && continue; grep -q \"pvtime/$b\" '${CMAKE_SOURCE_DIR}/doc/libpvtime.3' || { echo \"libpvtime.3 misses $b\"; exit 1; }; done")
set_tests_properties(docs_libpvtime_man PROPERTIES SKIP_RETURN_CODE 77)

# Every pvt_/PVT_ name in README, docs/ and libpvtime(3) is declared in a public header.
add_test(NAME docs_api_names
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/docs_api_names.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(docs_api_names PROPERTIES SKIP_RETURN_CODE 77)

# libpvtime(3)'s SYNOPSIS compiles against the headers and lists every PVT_API function.
add_test(NAME docs_man_synopsis
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/docs_man_synopsis.sh ${CMAKE_SOURCE_DIR} ${CMAKE_C_COMPILER})
set_tests_properties(docs_man_synopsis PROPERTIES SKIP_RETURN_CODE 77)

# Every C snippet of docs/integration.md compiles against the public headers.
add_test(NAME docs_snippets
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/docs_snippets.sh ${CMAKE_SOURCE_DIR} ${CMAKE_C_COMPILER})
set_tests_properties(docs_snippets PROPERTIES SKIP_RETURN_CODE 77)

# One home per concept, kept: cli/ thin (<= 4 000 lines, one option parser),
# the modules never parse a command line nor print the CLI's messages.
add_test(NAME layout_modules
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/layout_modules.sh ${CMAKE_SOURCE_DIR})

# The README's benchmark tables are exactly what scripts/bench-tables.py makes of
# the committed bench/results/*.json: no figure typed in by hand.
add_test(NAME readme_bench_tables
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/readme_bench_tables.sh ${CMAKE_SOURCE_DIR})

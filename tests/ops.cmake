# Operations (issue #13): interrupted runs, --duration, OpenMetrics output, pvtime inspect.
pvt_unit_test(test_metrics test_metrics.c)
pvt_cli_test(cli_interrupt cli_interrupt.sh)
pvt_cli_test(cli_openmetrics cli_openmetrics.sh)
pvt_cli_test(cli_inspect cli_inspect.sh)

# The man page and README document what issue #13 added.
add_test(NAME ops_docs
  COMMAND sh -c "m='${CMAKE_SOURCE_DIR}/doc/pvtime.1'; r='${CMAKE_SOURCE_DIR}/README.md'; for w in 'pvtime inspect' 'duration' 'format openmetrics' 'metrics' '130' '143' 'vvar_vclock' 'pvtime_timerlat_lateness_seconds' 'PVTIME_REPORT_RESOURCES' 'SIGTERM'; do tr -d '\\\\' <\"$m\" | grep -q -- \"$w\" || { echo \"man page misses: $w\"; exit 1; }; done; for w in 'pvtime inspect' '--duration' '--format openmetrics' '--metrics FILE' '130/143' 'pvt_metrics_xen_vcpus'; do grep -q -- \"$w\" \"$r\" || { echo \"README misses: $w\"; exit 1; }; done; echo documented")
set_tests_properties(cli_interrupt PROPERTIES LABELS tsan)

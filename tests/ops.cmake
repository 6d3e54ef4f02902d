# Operations (issue #13): interrupted runs, --duration, OpenMetrics output, pvtime inspect.
pvt_unit_test(test_metrics test_metrics.c)
pvt_cli_test(cli_interrupt cli_interrupt.sh)
pvt_cli_test(cli_openmetrics cli_openmetrics.sh)
pvt_cli_test(cli_inspect cli_inspect.sh)

# Bad input never crashes, hangs or half-runs: every subcommand's bad
# arguments exit 2 with one line naming the argument (the engine's hostile
# guest and saved-state fuzzers are in fuzz.cmake).
pvt_cli_test(cli_badinput cli_badinput.sh)
# Engine regressions the fuzzers found.
pvt_internal_test(test_hardening_engine test_hardening_engine.c)

#!/usr/bin/env bash
# layout_modules.sh TOP: one home per concept, kept that way.
# - cli/ is thin: parsing and printing, at most 4 000 lines in all;
# - one option parser: no getopt in cli/, every subcommand calls opts_parse();
# - the modules under it never parse argv or print through the CLI's
#   messages (usage_error/runtime_error are cli/args.h's);
# - no test compiles a cli/ file by path.
set -u
top=${1:?usage: layout_modules.sh TOP}
cd "$top" || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }

lines=$(cat cli/*.c cli/*.h | wc -l)
echo "cli/: $lines lines"
[ "$lines" -le 4000 ] || bad "cli/ has $lines lines, more than 4000: move logic to a module"

hits=$(grep -ln 'getopt' cli/*.c cli/*.h)
[ -z "$hits" ] || bad "getopt in cli/ (use options.h): $hits"
for f in cli/cmd-*.c cli/bench-*.c; do
	[ "$f" = cli/cmd-bench.c ] && continue	# dispatches to bench-*.c
	grep -q 'opts_parse(\|sim_parse(\|vmm_cli_parse(' "$f" || bad "$f parses no options through options.h"
done

hits=$(grep -lnE '\b(usage_error|runtime_error)\(|#include "args.h"' lib/*.c sim/*.c report/*.c measure/*.c vmm/*.c 2>/dev/null)
[ -z "$hits" ] || bad "a module prints through the CLI's messages: $hits"
hits=$(grep -lnE 'opts_parse|getopt|#include "options.h"' lib/*.c sim/*.c report/*.c measure/*.c vmm/*.c 2>/dev/null)
[ -z "$hits" ] || bad "a module parses a command line: $hits"

hits=$(grep -lnE 'cli/[a-z-]+\.c' tests/*.cmake tests/CMakeLists.txt)
[ -z "$hits" ] || bad "a test compiles cli/ sources by path: $hits"
exit $fail

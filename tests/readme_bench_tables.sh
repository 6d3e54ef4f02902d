#!/usr/bin/env bash
# readme_bench_tables.sh TOP: regenerating the README's tables from the stored
# benchmark JSON must change nothing.
set -euo pipefail
top=$1
copy=$(mktemp)
trap 'rm -f "$copy"' EXIT
cp "$top/README.md" "$copy"
python3 "$top/scripts/bench-tables.py" "$top/bench/results" "$copy"
if ! diff -u "$top/README.md" "$copy"; then
	echo "FAIL: README tables differ from bench/results (run scripts/bench-report.sh)"
	exit 1
fi
echo "PASS: README tables match bench/results"

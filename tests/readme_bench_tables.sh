#!/usr/bin/env bash
# readme_bench_tables.sh TOP: regenerating the README's (and vmm/README.md's)
# tables from the stored benchmark JSON must change nothing.
set -euo pipefail
top=$1
copy=$(mktemp)
vcopy=$(mktemp)
trap 'rm -f "$copy" "$vcopy"' EXIT
cp "$top/README.md" "$copy"
cp "$top/vmm/README.md" "$vcopy"
python3 "$top/scripts/bench-tables.py" "$top/bench/results" "$copy" "$vcopy"
if ! diff -u "$top/README.md" "$copy"; then
	echo "FAIL: README tables differ from bench/results (run scripts/bench-report.sh)"
	exit 1
fi
if ! diff -u "$top/vmm/README.md" "$vcopy"; then
	echo "FAIL: vmm/README.md tables differ from bench/results (run scripts/bench-report.sh)"
	exit 1
fi
echo "PASS: README and vmm/README tables match bench/results"

#!/bin/bash
# Instructions per conversion, counted by callgrind: each loop of `pvtime bench conversion
# --callgrind-iterations N --op OP` runs at two iteration counts and the difference of the
# total instruction counts is divided by the difference of N, so start-up and setup cancel.
# The empty loop's count is the loop overhead; "net" figures subtract it.
# Usage: bench/callgrind-conversion.sh [PATH/TO/pvtime]   (prints one JSON object)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
PVTIME=${1:-$here/build/pvtime}
N1=${N1:-1000}
N2=${N2:-101000}

if ! command -v valgrind >/dev/null; then
	echo "callgrind-conversion: valgrind not found (apt-get install -y valgrind)" >&2
	exit 77
fi
if [ ! -x "$PVTIME" ]; then
	echo "callgrind-conversion: $PVTIME not built (cmake -S . -B build && cmake --build build)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Total instructions (Ir) of one run.
count() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$PVTIME" bench conversion \
		--callgrind-iterations "$2" --op "$1" >/dev/null 2>"$tmp/log" || {
		cat "$tmp/log" >&2
		exit 1
	}
	awk '/^(summary|totals):/ { print $2; exit }' "$tmp/out"
}

per_op() {
	local a b
	a=$(count "$1" "$N1")
	b=$(count "$1" "$N2")
	python3 -c "print(($b - $a) / ($N2 - $N1))"
}

fwd=$(per_op forward)
inv=$(per_op inverse)
empty=$(per_op empty)
python3 - "$fwd" "$inv" "$empty" "$N1" "$N2" "$(uname -m)" <<'PY'
import json, sys
fwd, inv, empty = map(float, sys.argv[1:4])
print(json.dumps({
    "bench": "conversion-callgrind",
    "iterations": [int(sys.argv[4]), int(sys.argv[5])],
    "arch": sys.argv[6],
    "forward_instructions_per_op": round(fwd, 2),
    "inverse_instructions_per_op": round(inv, 2),
    "empty_loop_instructions_per_op": round(empty, 2),
    "forward_net_instructions_per_op": round(fwd - empty, 2),
    "inverse_net_instructions_per_op": round(inv - empty, 2),
    "targets": {"forward_max": 60, "inverse_max": 200},
    "within_targets": fwd <= 60 and inv <= 200,
}))
PY

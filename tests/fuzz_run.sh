#!/bin/sh
# tests/fuzz_run.sh BINARY CORPUS_DIR MAX_LEN SECONDS ARTIFACT_DIR: one bounded
# libFuzzer run for CTest. A fresh seed each run (printed; PVT_FUZZ_SEED=N
# repeats it), inputs up to MAX_LEN from the start (-len_control=0), the
# committed seed corpus read but never written (new inputs go to a temporary
# directory). PVT_FUZZ_SECONDS overrides the time bound.
bin=$1 corpus=$2 max_len=$3 secs=${PVT_FUZZ_SECONDS:-$4} artifacts=$5
name=$(basename "$bin")
seed=${PVT_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
[ "$seed" -gt 0 ] 2>/dev/null || seed=1	# libFuzzer reads 0 as "pick one"
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts" || exit 1
echo "fuzz: $name seed $seed, ${secs}s, max_len $max_len, corpus $corpus"
"$bin" -seed="$seed" -len_control=0 -max_len="$max_len" -max_total_time="$secs" \
	-timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
	"$work" "$corpus" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	echo "fuzz: $name FAILED (exit $rc) with seed $seed. Replay:"
	echo "  the input:  $bin $artifacts/$name-<crash file named above>"
	echo "  the run:    PVT_FUZZ_SEED=$seed ctest -R '^$name\$' --output-on-failure"
fi
exit $rc

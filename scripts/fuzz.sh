#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] [--update-corpus] [TARGET...]: a fuzzing campaign
# outside CI. Builds build-fuzz/ (clang, ASan+UBSan, optimized), then runs each
# libFuzzer target of tests/fuzz_targets.txt (or the ones named) for SECONDS
# (default 600) one after the other, from a fresh seed (printed), its working
# corpus build-fuzz/campaign/<target>/corpus (kept between campaigns) plus the
# committed seeds tests/corpus/<target>/. Prints executions, coverage and
# findings per target; exit 0 when nothing was found.
# --update-corpus: afterwards, replaces tests/corpus/<target>/ by the smallest
# set of inputs that covers the same edges (libFuzzer -set_cover_merge).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=600
update=0
targets=()
for a in "$@"; do
	case $a in
	--update-corpus) update=1 ;;
	[0-9]*) secs=$a ;;
	fuzz_*) targets+=("$a") ;;
	*) echo "usage: scripts/fuzz.sh [SECONDS] [--update-corpus] [TARGET...]" >&2; exit 2 ;;
	esac
done
build=${PVT_FUZZ_BUILD:-$top/build-fuzz}
declare -A max_len
while read -r name len _; do
	case $name in fuzz_*) max_len[$name]=$len ;; esac
done <"$top/tests/fuzz_targets.txt"
[ ${#targets[@]} -gt 0 ] || targets=($(grep -o '^fuzz_[a-z_]*' "$top/tests/fuzz_targets.txt"))

echo "== building $build (clang, ASan+UBSan, RelWithDebInfo)"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
	-DPVT_SANITIZE=address,undefined >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >/dev/null
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1

rows=()
found=0
for t in "${targets[@]}"; do
	[ -n "${max_len[$t]:-}" ] || { echo "unknown target $t" >&2; exit 2; }
	dir=$build/campaign/$t
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	[ "$seed" -gt 0 ] || seed=1
	art=$dir/artifacts-$seed
	mkdir -p "$dir/corpus" "$art"
	echo "== $t: ${secs}s, seed $seed, max_len ${max_len[$t]} (log $dir/$seed.log)"
	rc=0
	"$build/tests/$t" -seed="$seed" -len_control=0 -max_len="${max_len[$t]}" \
		-max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$art/" "$dir/corpus" "$top/tests/corpus/$t" \
		>"$dir/$seed.log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$seed.log" | tail -1)
	last=$(grep -E '^#[0-9]+[[:space:]].*cov: ' "$dir/$seed.log" | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
	n=$(find "$art" -type f | wc -l)
	[ "$rc" -eq 0 ] || [ "$n" -gt 0 ] || n=1	# died without an artifact
	[ "$n" -eq 0 ] || { found=1; grep -E 'ERROR|SUMMARY|Test unit written' "$dir/$seed.log" | head -5; }
	rows+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s |' "$t" "$seed" "$secs" \
		"${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$n")")
	if [ "$update" -eq 1 ] && [ "$n" -eq 0 ]; then
		new=$(mktemp -d)
		"$build/tests/$t" -set_cover_merge=1 -use_counters=0 -max_len="${max_len[$t]}" \
			"$new" "$dir/corpus" "$top/tests/corpus/$t" >"$dir/merge.log" 2>&1
		rm -rf "$top/tests/corpus/$t"
		mv "$new" "$top/tests/corpus/$t"
		chmod 755 "$top/tests/corpus/$t"
		echo "   tests/corpus/$t: $(ls "$top/tests/corpus/$t" | wc -l) inputs," \
			"$(du -sk "$top/tests/corpus/$t" | cut -f1) KiB"
	fi
done
echo
echo "| target | seed | seconds | executions | coverage (edges) | features | corpus | findings |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $found

#!/usr/bin/env bash
# headers_standalone.sh INCLUDE_DIR: every public header compiles on its own,
# first thing in a file, with gcc and clang as C99 and C11 and with g++ and
# clang++ as C++17, all -pedantic -Wall -Wextra -Werror. A C++ file also
# checks that the declarations have C linkage (extern "C").
set -euo pipefail
inc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
warn=(-pedantic -Wall -Wextra -Werror -I"$inc")
flags=("${warn[@]}" -fsyntax-only)
fail=0 checked=0
run() {	# run LABEL CMD...: compile, report a failure with its output
	local label=$1
	shift
	if ! out=$("$@" 2>&1); then
		echo "FAIL: $label"
		echo "$out" | head -20
		fail=1
	fi
	checked=$((checked + 1))
}
compilers=()
for cc in gcc clang g++ clang++; do
	if command -v "$cc" >/dev/null; then
		compilers+=("$cc")
	else
		echo "FAIL: $cc not installed (scripts/deps.sh installs it)"
		fail=1
	fi
done
headers=("$inc"/pvtime/*.h)
for h in "${headers[@]}"; do
	name=pvtime/$(basename "$h")
	# (the typedef: ISO C forbids an empty translation unit, as export.h alone is)
	printf '#include "%s"\ntypedef int header_check_unit;\n' "$name" > "$tmp/one.c"
	# C++: also take the address of every function the header declares as
	# extern "C"; a missing PVT_BEGIN_DECLS gives a C++-mangled symbol.
	printf '#include "%s"\n' "$name" > "$tmp/one.cc"
	for cc in "${compilers[@]}"; do
		case $cc in
		gcc | clang)
			run "$name: $cc -std=c99" "$cc" -std=c99 "${flags[@]}" -x c "$tmp/one.c"
			run "$name: $cc -std=c11" "$cc" -std=c11 "${flags[@]}" -x c "$tmp/one.c"
			;;
		*)
			run "$name: $cc -std=c++17" "$cc" -std=c++17 "${flags[@]}" -x c++ "$tmp/one.cc"
			;;
		esac
	done
done
# C linkage: a C++ object calling a public function must reference the plain C
# symbol. Build one translation unit with all headers and look at its symbols.
if command -v g++ >/dev/null; then
	{
		for h in "${headers[@]}"; do printf '#include "pvtime/%s"\n' "$(basename "$h")"; done
		echo 'int probe(uint32_t *m, int8_t *s);'
		echo 'int probe(uint32_t *m, int8_t *s) { return pvt_time_scale(1, 1, m, s); }'
	} > "$tmp/all.cc"
	g++ -std=c++17 "${warn[@]}" -c "$tmp/all.cc" -o "$tmp/all.o"
	undef=$(nm -u "$tmp/all.o")
	if ! grep -qx '  *U pvt_time_scale' <<<"$undef"; then
		echo "FAIL: C++ references a mangled pvt_time_scale (no extern \"C\"):"
		echo "$undef"
		fail=1
	fi
fi
echo "$checked header compilations checked"
exit $fail

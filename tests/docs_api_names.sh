#!/usr/bin/env bash
# docs_api_names.sh TOP: every pvt_/PVT_ name the documentation uses (README,
# docs/*.md, doc/libpvtime.3) is declared in a public header, so the docs cannot
# drift from the API unnoticed. A function that libpvtime(3)'s SYNOPSIS places
# in a header this tree does not have yet (another branch adds it) is skipped.
set -euo pipefail
top=$1
cd "$top"
if ! grep -Eq 'pvt_xen_vcpu_take[[:space:]]*\(' include/pvtime/xentimer.h; then
	echo "SKIP: include/pvtime/xentimer.h predates the engine API the docs describe"
	exit 77
fi
# name -> header, from the SYNOPSIS: every pvt_ name (function or type) of a
# header's prototype lines, first header wins.
awk '/^\.SH SYNOPSIS/ { on = 1; next }
     on && /^\.fi/ { exit }
     on && /^\.B #include/ { h = $0; sub(/^.*<pvtime\//, "", h); sub(/>.*$/, "", h); next }
     on && /^\.BI / {
	line = $0
	while (match(line, /pvt_[a-z0-9_]*[a-z0-9]/)) {
		n = substr(line, RSTART, RLENGTH)
		if (!(n in seen)) { seen[n] = 1; print n, h }
		line = substr(line, RSTART + RLENGTH)
	} }' \
	doc/libpvtime.3 >"${TMPDIR:-/tmp}/docs_api_names.$$"
trap 'rm -f "${TMPDIR:-/tmp}/docs_api_names.$$"' EXIT
# roff escapes (\-) are not part of names; a trailing _ (PVT_XEN_VCPUOP_*) is a wildcard.
names=$(cat README.md docs/*.md doc/libpvtime.3 | sed 's/\\-/-/g' |
	grep -oE '\b(pvt|PVT)_[A-Za-z0-9_]*[A-Za-z0-9]\b' | sort -u)
missing= later=
for n in $names; do
	grep -qw -- "$n" include/pvtime/*.h && continue
	# Build options, CMake functions and environment variables are not API.
	grep -qw -- "$n" CMakeLists.txt tests/CMakeLists.txt tests/*.cmake scripts/* tests/fuzz_run.sh && continue
	h=$(awk -v n="$n" '$1 == n { print $2; exit }' "${TMPDIR:-/tmp}/docs_api_names.$$")
	if [ -n "$h" ] && [ ! -f "include/pvtime/$h" ]; then
		later="$later $n"
		continue
	fi
	missing="$missing $n"
done
if [ -n "$missing" ]; then
	echo "FAIL: the documentation names what no public header declares:$missing"
	exit 1
fi
echo "PASS: $(echo "$names" | wc -l) pvt_/PVT_ names in the docs, declared in include/pvtime/"
[ -z "$later" ] || echo "(skipped, their header is not in this tree yet:$later)"

#!/usr/bin/env bash
# abi_symbols.sh LIBPVTIME.so LIBPVTIME.a: only pvt_ symbols leave the library.
# The shared library's dynamic symbols must all be pvt_ and carry the
# PVTIME_ version node; the static archive must define no other global.
set -euo pipefail
so=$1 ar=$2
fail=0
# Defined dynamic symbols (nm -D --defined-only), minus the version node itself.
dyn=$(nm -D --defined-only "$so" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }')
bad=$(grep -v '^pvt_' <<<"$dyn" || true)
if [ -n "$bad" ]; then
	echo "FAIL: $so exports symbols without the pvt_ prefix:"
	echo "$bad"
	fail=1
fi
unversioned=$(nm -D --defined-only --with-symbol-versions "$so" |
	awk '$2 != "A" && $3 !~ /@@?PVTIME_/ { print $3 }')
if [ -n "$unversioned" ]; then
	echo "FAIL: $so exports symbols outside a PVTIME_ version node:"
	echo "$unversioned"
	fail=1
fi
n_dyn=$(grep -c '^pvt_' <<<"$dyn" || true)
[ "$n_dyn" -gt 0 ] || { echo "FAIL: $so exports nothing"; fail=1; }
# The static archive: every defined global (weak included) must be pvt_.
glob=$(nm -g --defined-only "$ar" | awk 'NF == 3 { print $3 }')
bad=$(grep -v '^pvt_' <<<"$glob" || true)
if [ -n "$bad" ]; then
	echo "FAIL: $ar defines global symbols without the pvt_ prefix:"
	echo "$bad"
	fail=1
fi
n_ar=$(grep -c '^pvt_' <<<"$glob" || true)
# Both libraries export the same API.
if [ "$(sort <<<"$dyn")" != "$(sort <<<"$glob")" ]; then
	echo "FAIL: libpvtime.so and libpvtime.a export different symbols:"
	diff <(sort <<<"$dyn") <(sort <<<"$glob") || true
	fail=1
fi
[ $fail = 0 ] && echo "PASS: $n_dyn pvt_ symbols in libpvtime.so (PVTIME_ node), $n_ar in libpvtime.a, nothing else"
exit $fail

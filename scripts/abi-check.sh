#!/usr/bin/env bash
# scripts/abi-check.sh BUILD_DIR: libpvtime.so in BUILD_DIR must have exactly
# the ABI recorded in abi/libpvtime.abi (same symbols and versions, same
# public types, same SONAME). Any difference fails with abidiff's report.
# Exit 77 (skipped) for a build whose DWARF cannot be compared with the
# baseline: not gcc, no debug info, or a sanitizer build.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
base=$top/abi/libpvtime.abi
command -v abidiff >/dev/null || { echo "SKIP: abidiff not found (apt-get install abigail-tools)"; exit 77; }
cache=$dir/CMakeCache.txt
compiler=$(sed -n 's/^CMAKE_C_COMPILER_ID:[A-Z]*=//p' "$cache" 2>/dev/null || true)
[ -n "$compiler" ] || compiler=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$cache")
sanitize=$(sed -n 's/^PVT_SANITIZE:STRING=//p' "$cache")
case $(basename "$compiler") in
*gcc* | GNU) ;;
*) echo "SKIP: the baseline is gcc's DWARF; this build uses $compiler"; exit 77 ;;
esac
[ -z "$sanitize" ] || { echo "SKIP: sanitizer build ($sanitize)"; exit 77; }
lib=$(readlink -f "$dir/libpvtime.so")
if ! readelf -S "$lib" | grep -c "\.debug_info" >/dev/null; then
	echo "SKIP: $lib has no debug info (build RelWithDebInfo or Debug)"
	exit 77
fi
[ -f "$base" ] || { echo "FAIL: no baseline $base (scripts/abi-baseline.sh makes it)"; exit 1; }
set +e
# Added symbols count too: the baseline must list the whole ABI.
report=$(abidiff "$base" "$lib" 2>&1)
rc=$?
set -e
if [ $rc -ne 0 ]; then
	cat <<MSG
FAIL: the ABI of $(basename "$lib") differs from abi/libpvtime.abi (abidiff exit $rc;
bit 4 = changed, bit 8 = incompatible). The report:
------------------------------------------------------------------------
$report
------------------------------------------------------------------------
If this change is deliberate: read docs/abi.md (an incompatible change
bumps PVT_SOVERSION and the version node in lib/libpvtime.map), then run
  scripts/abi-baseline.sh
and commit abi/libpvtime.abi with the change.
MSG
	exit 1
fi
echo "PASS: $(basename "$lib") matches abi/libpvtime.abi ($(grep -c '<elf-symbol ' "$base") symbols)"

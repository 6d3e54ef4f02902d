#!/usr/bin/env bash
# scripts/abi-baseline.sh [BUILD_DIR]: regenerates abi/libpvtime.abi, the ABI
# baseline that scripts/abi-check.sh (CI) compares every build against.
# Run it only for a deliberate ABI change, and commit the result together
# with that change (docs/abi.md says when PVT_SOVERSION must be bumped too).
# BUILD_DIR (default build-abi) is configured as gcc RelWithDebInfo, library
# only: the baseline needs gcc's DWARF, as the check does.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build-abi}
command -v abidw >/dev/null || { echo "abi-baseline: abidw not found (apt-get install abigail-tools)" >&2; exit 1; }
"$top/scripts/build.sh" "$dir" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DPVT_BUILD_TESTS=OFF -DPVT_BUILD_TOOLS=OFF -DPVT_SANITIZE= >/dev/null
lib=$(readlink -f "$dir/libpvtime.so")
mkdir -p "$top/abi"
# Public types only (those in include/pvtime), no paths or line numbers:
# the file changes only when the ABI does.
abidw --no-corpus-path --no-show-locs --type-id-style hash \
	--headers-dir "$top/include/pvtime" --drop-private-types \
	--out-file "$top/abi/libpvtime.abi" "$lib"
echo "abi/libpvtime.abi: $(grep -c '<elf-symbol ' "$top/abi/libpvtime.abi") symbols of $(basename "$lib")" \
	"(soname $(sed -n "s/.*soname='\([^']*\)'.*/\1/p" "$top/abi/libpvtime.abi" | head -1))"
git -C "$top" diff --stat -- abi/libpvtime.abi || true

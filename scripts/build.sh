#!/usr/bin/env bash
# scripts/build.sh DIR [cmake args...]: configure and build pvtime in DIR.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
cmake -S "$top" -B "$dir" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"

#!/usr/bin/env bash
# Builds pvtime and runs its demo: the seed's timer bug and the fix, side by side.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc
exec build/pvtime demo "$@"

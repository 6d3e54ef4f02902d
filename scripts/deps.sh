#!/usr/bin/env bash
# Installs what pvtime needs to build, test and demo on Debian (as root), only if missing.
set -euo pipefail

packages=(cmake make gcc g++ clang libclang-rt-14-dev libcmocka-dev libxen-dev
          python3 valgrind binutils rt-tests pkg-config abigail-tools
          prometheus python3-prometheus-client  # promtool + a Python parser check OpenMetrics output
          libxml2-utils)  # xmllint checks the SVG plots
missing=()
for p in "${packages[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "scripts/deps.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

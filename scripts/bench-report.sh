#!/usr/bin/env bash
# Regenerates the README's "Results" tables (and vmm/README.md's) from benchmark JSON.
#   scripts/bench-report.sh --run   runs every benchmark (build/pvtime), stores the JSON and
#                                   a machine description in bench/results/, then regenerates
#   scripts/bench-report.sh         only regenerates the README from the stored JSON
# The README's figures come only from here: never edit them by hand.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=bench/results
pvtime=${PVTIME:-build/pvtime}

if [ "${1:-}" = "--run" ]; then
	[ -x "$pvtime" ] || scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	mkdir -p "$out"
	python3 - "$out/machine.json" <<'PY'
import json, os, platform, subprocess, sys, time
def read(p):
    try: return open(p).read().strip()
    except OSError: return None
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), None)
json.dump({"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
           "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
           "clocksource": read("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
           "dev_kvm": os.access("/dev/kvm", os.R_OK | os.W_OK)},
          open(sys.argv[1], "w"), indent=1)
PY
	"$pvtime" bench conversion --json > "$out/conversion.json"
	bash bench/callgrind-conversion.sh "$pvtime" > "$out/conversion-callgrind.json"
	"$pvtime" bench timer --json > "$out/timer.json"
	"$pvtime" bench sim --json > "$out/sim.json"
	# The three guests: idle (vmm.json), busy and mixed (the timer interrupt), with
	# pvtime's default adaptive timer advance; then idle without it, in the same session.
	for guest in idle busy mixed idle-advance-off; do
		name=vmm
		[ "$guest" = idle ] || name=vmm-$guest
		args=(--guest "${guest%-advance-off}")
		[ "$guest" = idle-advance-off ] && args+=(--advance off)
		if "$pvtime" bench vmm "${args[@]}" --json > "$out/$name.json.tmp"; then
			mv "$out/$name.json.tmp" "$out/$name.json"
		else
			rm -f "$out/$name.json.tmp"
			echo "bench-report: bench vmm ${args[*]} failed or /dev/kvm unusable; keeping the stored $name.json" >&2
		fi
	done
fi
python3 scripts/bench-tables.py "$out" README.md vmm/README.md

#!/bin/bash
# pvtime timerlat on the host: the seed's line format, statistics, JSON, usage errors.
set -u
PVTIME=${1:?usage: cli_timerlat.sh PVTIME}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
. "$(dirname "$0")/svg_check.sh"

"$PVTIME" timerlat -n 20 -i 50000 >"$TMP/out" || fail "timerlat run"
[ "$(grep -Ec '^[0-9]{8} latency [0-9]+/50000 \(-?[0-9]+\.[0-9]{4}%\)$' "$TMP/out")" -eq 20 ] ||
	fail "20 seed-format lines expected"
grep -Eq '^# cpu_dma_latency: (held at 0|not held \(.*\))$' "$TMP/out" || fail "cpu_dma_latency status line"
grep -q '^summary: algo=host loops=20 interval_ns=50000$' "$TMP/out" || fail "summary line"
grep -Eq '^latency_ns: +min=[0-9]+ mean=[0-9.]+ max=[0-9]+ p50=[0-9]+ p99=[0-9]+ p99.9=[0-9]+$' "$TMP/out" ||
	fail "latency statistics line"
grep -q '^# Histogram: lateness' "$TMP/out" || fail "histogram"
# Every line's percentage is (latency - interval) / interval.
awk '/^[0-9]+ latency / { split($3, a, "/"); p = (a[1] - a[2]) * 100 / a[2]; gsub(/[(%)]/, "", $4);
	if (p - $4 > 0.00005 || $4 - p > 0.00005) bad = 1 } END { exit bad }' "$TMP/out" || fail "percentages"
# Never early: clock_nanosleep(TIMER_ABSTIME) cannot return before the deadline.
awk '/^[0-9]+ latency / { split($3, a, "/"); if (a[1] < a[2]) bad = 1 } END { exit bad }' "$TMP/out" ||
	fail "a sleep shorter than asked"

"$PVTIME" timerlat -n 30 --quiet >"$TMP/q" || fail "--quiet run"
grep -Eq '^[0-9]{8} latency ' "$TMP/q" && fail "--quiet printed loop lines"
grep -q '^summary: algo=host loops=30 interval_ns=100000$' "$TMP/q" || fail "--quiet summary"

"$PVTIME" timerlat -n 25 -i 20000 --json >"$TMP/j" || fail "--json run"
python3 - "$TMP/j" <<'PY' || fail "JSON summary"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["algo"] == "host" and d["loops"] == 25 and d["interval_ns"] == 20000, d
for k in ("latency_ns", "lateness_ns"):
    for s in ("min", "mean", "max", "p50", "p99", "p999"):
        assert s in d[k], (k, s)
l, t = d["latency_ns"], d["lateness_ns"]
assert l["min"] >= 20000 and l["min"] <= l["p50"] <= l["p99"] <= l["p999"] <= l["max"], l
assert l["max"] - t["max"] == 20000
assert isinstance(d["environment"]["cpu_dma_latency_held"], bool)
PY

# Optional real-time scheduling: works as root, a clear message otherwise.
if "$PVTIME" timerlat -n 5 --fifo 10 --cpu 0 --quiet >"$TMP/f" 2>"$TMP/fe"; then
	grep -q '^# scheduler: SCHED_FIFO 10$' "$TMP/f" || fail "--fifo not reported"
	grep -q '^# cpu: 0$' "$TMP/f" || fail "--cpu not reported"
else
	grep -q -- '--fifo' "$TMP/fe" || fail "--fifo failure message: $(cat "$TMP/fe")"
fi

# --fifo 0 is SCHED_OTHER, as in every command (one --fifo everywhere).
"$PVTIME" timerlat -n 2 --fifo 0 >"$TMP/f0" || fail "--fifo 0"
grep -q '^# scheduler: SCHED_OTHER$' "$TMP/f0" || fail "--fifo 0 not reported as SCHED_OTHER"

# The simulator target is the sim command, line for line.
SIM="--algo legacy --host-khz 2596136 --guest-khz 3000000 --uptime 10 -n 3"
"$PVTIME" timerlat --sim $SIM >"$TMP/ts" || fail "timerlat --sim"
"$PVTIME" sim $SIM >"$TMP/s" || fail "sim"
cmp -s "$TMP/ts" "$TMP/s" || fail "timerlat --sim differs from sim"
grep -q '^00000000 latency 103333/100000 (3.3330%)$' "$TMP/ts" || fail "timerlat --sim line"

expect_usage() {
	local word=$1; shift
	"$PVTIME" timerlat "$@" >/dev/null 2>"$TMP/err"
	local rc=$?
	[ $rc -eq 2 ] || fail "timerlat $* exited $rc, expected 2"
	grep -q -- "$word" "$TMP/err" || fail "timerlat $*: error does not name $word"
}
expect_usage -i -i 0
expect_usage -i -i abc
expect_usage -n -n 0
expect_usage -n -n -5
expect_usage --fifo --fifo 100
expect_usage --cpu --cpu x
expect_usage --bogus --bogus
expect_usage -i -i
"$PVTIME" timerlat --help >/dev/null || fail "--help"
"$PVTIME" timerlat --sim --algo nope --host-khz 1 --guest-khz 1 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--sim bad algo"

# --plot: the latency histogram is well-formed SVG, on the host and in the simulator.
"$PVTIME" timerlat -n 20 -i 50000 --quiet --plot "$TMP/host.svg" >/dev/null || fail "timerlat --plot"
svg_check "$TMP/host.svg"
"$PVTIME" timerlat --sim --algo legacy --host-khz 2596136 --guest-khz 3000000 --uptime 86400 -n 200 --quiet --plot "$TMP/sim.svg" >/dev/null || fail "timerlat --sim --plot"
svg_check "$TMP/sim.svg"

[ $fails -eq 0 ] && echo "cli_timerlat: all passed"
exit $((fails > 0))

#!/bin/bash
# Interrupted runs (issue #13): SIGINT and SIGTERM sent mid-run to every
# long-running command end it cleanly: the partial report is valid JSON with
# the loops actually done and "interrupted", the text report says so, a
# --plot is still written, the exit status is 130 (SIGINT) / 143 (SIGTERM),
# and the VMM leaves no thread or fd behind. Also --duration and the
# progress line (only on a terminal stderr, never with --quiet).
# The VMM parts are skipped (with a message) when /dev/kvm is unusable.
set -u
P=${1:?usage: cli_interrupt.sh /path/to/pvtime}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run_sig SIG DELAY_S OUT ARGS...: starts pvtime ARGS, sends SIG after DELAY_S; sets rc.
run_sig() {
	local sig=$1 delay=$2 out=$3
	shift 3
	PVTIME_REPORT_RESOURCES=1 "$P" "$@" >"$out" 2>"$out.err" &
	local pid=$!
	sleep "$delay"
	kill -s "$sig" "$pid"
	# A stuck run must not hang the test: 20 s, then it fails.
	for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		fail "pvtime $* did not end within 20 s of $sig"
	fi
	wait "$pid"
	rc=$?
}

want_rc() { # SIG
	case $1 in INT) echo 130 ;; TERM) echo 143 ;; esac
}

# check_json FILE SIG MINLOOPS MAXLOOPS [KEY]: valid JSON, interrupted == SIG, loops in range.
check_json() {
	"$PY" - "$@" <<'PY'
import json, sys
path, sig, lo, hi = sys.argv[1], "SIG" + sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
d = json.load(open(path))
assert d.get("interrupted") == sig, ("interrupted", d.get("interrupted"))
n = d["loops"]
assert lo <= n <= hi, ("loops", n, lo, hi)
if n:
    assert d["lateness_ns"]["min"] <= d["lateness_ns"]["p50"] <= d["lateness_ns"]["max"], d
PY
}

# Resources at the end of a run: the same as a run that never started a thread.
"$P" calc scale --base-hz 1000 --scaled-hz 1000 >/dev/null
base=$(PVTIME_REPORT_RESOURCES=1 "$P" timerlat -n 1 -q 2>&1 >/dev/null | grep resources)
[ -n "$base" ] || fail "PVTIME_REPORT_RESOURCES printed nothing"

for sig in INT TERM; do
	want=$(want_rc $sig)
	# ---- host ----
	run_sig $sig 1.5 "$T/h.json" timerlat -n 200000 --json --plot "$T/h.svg"
	[ "$rc" -eq "$want" ] || fail "timerlat host SIG$sig: exit $rc, want $want"
	check_json "$T/h.json" $sig 100 199999 || fail "timerlat host SIG$sig: partial JSON"
	grep -q '<svg' "$T/h.svg" 2>/dev/null || fail "timerlat host SIG$sig: no plot written"
	run_sig $sig 1 "$T/h.txt" timerlat -n 200000 -q
	[ "$rc" -eq "$want" ] || fail "timerlat host text SIG$sig: exit $rc"
	grep -Eq "^# interrupted by SIG$sig after [0-9]+ loops$" "$T/h.txt" ||
		fail "timerlat host SIG$sig: no 'interrupted' line"
	n=$(sed -n 's/^summary: algo=host loops=\([0-9]*\) .*/\1/p' "$T/h.txt")
	m=$(sed -n 's/^# interrupted by .* after \([0-9]*\) loops$/\1/p' "$T/h.txt")
	[ -n "$n" ] && [ "$n" = "$m" ] && [ "$n" -gt 0 ] || fail "timerlat host SIG$sig: summary loops '$n' vs '$m'"

	# ---- sim (through timerlat --sim and sim) ----
	run_sig $sig 1 "$T/s.json" timerlat --sim --algo legacy --host-khz 2596136 \
		--guest-khz 3000000 -n 2000000000 --json
	[ "$rc" -eq "$want" ] || fail "timerlat --sim SIG$sig: exit $rc"
	check_json "$T/s.json" $sig 1 1999999999 || fail "timerlat --sim SIG$sig: partial JSON"
	run_sig $sig 1 "$T/s.om" sim --algo kvm --host-khz 2596136 --guest-khz 3000000 \
		-n 2000000000 --vcpus 3 --format openmetrics
	[ "$rc" -eq "$want" ] || fail "sim openmetrics SIG$sig: exit $rc"
	"$PY" - "$T/s.om" <<'PY' || fail "sim SIG$sig: OpenMetrics after an interrupt"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as p
fs = {f.name: f for f in p(open(sys.argv[1]).read())}
loops = [s.value for s in fs["pvtime_timerlat_loops"].samples if s.name.endswith("_total")]
assert loops and loops[0] > 0, loops
assert [s.value for s in fs["pvtime_timerlat_interrupted"].samples] == [1.0]
PY
done

# ---- demo (simulator part), bench sim, bench conversion ----
for sig in INT TERM; do
	want=$(want_rc $sig)
	# The simulated demo takes well under a second on a fast machine: if the
	# signal came after the report, try again sooner.
	for delay in 0.3 0.15 0.05; do
		run_sig $sig $delay "$T/demo.json" demo -n 100000 --no-kvm --json --out "$T/demo"
		grep -q '"interrupted"' "$T/demo.json" && break
		echo "note: demo finished within $delay s; again with a shorter delay"
	done
	[ "$rc" -eq "$want" ] || fail "demo SIG$sig: exit $rc"
	"$PY" - "$T/demo.json" $sig <<'PY' || fail "demo SIG$sig: partial JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["interrupted"] == "SIG" + sys.argv[2], d.get("interrupted")
rows = [r for s in d["sections"] for r in s["rows"]]
assert len(rows) < 9, "nothing was cut"
for r in rows:
    for a in ("legacy", "kvm", "pvtime"):
        assert isinstance(r[a]["mean_lateness_ns"], (int, float)), r
assert d["plots"] == []
PY
	run_sig $sig 1 "$T/bs.json" bench sim -n 2000000000 --json
	[ "$rc" -eq "$want" ] || fail "bench sim SIG$sig: exit $rc"
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["results"]; assert d["interrupted"] and r and r[0]["events"] > 0, d' \
		"$T/bs.json" || fail "bench sim SIG$sig: partial JSON"
	run_sig $sig 0.6 "$T/bc.json" bench conversion --iterations 20000000 --json
	[ "$rc" -eq "$want" ] || fail "bench conversion SIG$sig: exit $rc"
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["interrupted"] and d["forward_ns_per_op"] > 0 and d["forward_chained_ns_per_op"] is None, d' \
		"$T/bc.json" || fail "bench conversion SIG$sig: partial JSON"
done

# ---- --duration ----
t0=$(date +%s%N)
"$P" timerlat --duration 0.5 -i 1000000 --json >"$T/d.json" || fail "timerlat --duration"
t1=$(date +%s%N)
el=$(( (t1 - t0) / 1000000 ))
[ "$el" -ge 500 ] && [ "$el" -lt 3000 ] || fail "timerlat --duration 0.5 took $el ms"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert 100 <= d["loops"] <= 501 and "interrupted" not in d, d["loops"]' \
	"$T/d.json" || fail "timerlat --duration 0.5 -i 1 ms: loops"
# Simulated time: 0.25 s of 100 us sleeps (plus ~1 ns each) is 2499 or 2500 loops, deterministic.
a=$("$P" sim --algo pvtime --host-khz 2596136 --guest-khz 3000000 --duration 0.25 --json)
b=$("$P" sim --algo pvtime --host-khz 2596136 --guest-khz 3000000 --duration 0.25 --json)
[ "$a" = "$b" ] || fail "sim --duration is not deterministic"
echo "$a" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert 2490 <= d["loops"] <= 2500, d["loops"]' ||
	fail "sim --duration 0.25: loops"

# ---- progress: a terminal stderr gets it, a pipe and --quiet do not ----
"$P" timerlat -n 3000 --json 2>"$T/pipe.err" >/dev/null
[ -s "$T/pipe.err" ] && fail "progress written to a non-terminal stderr: $(head -c 100 "$T/pipe.err")"
if command -v script >/dev/null; then
	script -qec "$P timerlat -n 5000 --json >/dev/null" "$T/tty.log" >/dev/null 2>&1
	grep -aq 'timerlat: [0-9]* loops of 5000' "$T/tty.log" || fail "no progress line on a terminal"
	script -qec "$P timerlat -n 5000 --json --quiet >/dev/null" "$T/ttyq.log" >/dev/null 2>&1
	grep -aq 'loops of' "$T/ttyq.log" && fail "progress line despite --quiet"
else
	echo "note: script(1) missing: terminal progress not checked"
fi

# ---- the VMM ----
if ! "$P" vmm -n 1 --vcpus 1 -q >"$T/kvm" 2>&1; then
	grep -q "/dev/kvm is not usable" "$T/kvm" || { cat "$T/kvm"; fail "vmm failed on a usable /dev/kvm"; }
	echo "SKIP (VMM part): $(cat "$T/kvm")"
	[ "$fails" -eq 0 ] && { echo "cli_interrupt: host and sim parts passed"; exit 77; }
	exit 1
fi
# What a VMM run that was not interrupted leaves: its fds must be the host
# run's; a sanitizer's runtime may keep a thread of its own (TSan does).
base_vmm=$(PVTIME_REPORT_RESOURCES=1 "$P" vmm -n 5 --vcpus 2 -q 2>&1 >/dev/null | grep resources)
[ "${base_vmm##*fds=}" = "${base##*fds=}" ] || fail "a plain VMM run left fds: '$base_vmm' vs '$base'"
base=$base_vmm
for sig in INT TERM; do
	want=$(want_rc $sig)
	run_sig $sig 2 "$T/v.json" timerlat --vmm -n 1000000 --vcpus 2 --json --watchdog 0
	[ "$rc" -eq "$want" ] || fail "timerlat --vmm SIG$sig: exit $rc, want $want ($(cat "$T/v.json.err"))"
	check_json "$T/v.json" $sig 1 1999999 || fail "timerlat --vmm SIG$sig: partial JSON"
	res=$(grep resources "$T/v.json.err")
	[ "$res" = "$base" ] || fail "timerlat --vmm SIG$sig: left '$res', a plain run '$base'"
	run_sig $sig 2 "$T/v.txt" vmm -n 1000000 --vcpus 2 -q
	[ "$rc" -eq "$want" ] || fail "vmm SIG$sig: exit $rc ($(cat "$T/v.txt.err"))"
	grep -Eq "^# interrupted by SIG$sig after [1-9][0-9]* loops$" "$T/v.txt" || fail "vmm SIG$sig: no interrupted line"
	res=$(grep resources "$T/v.txt.err")
	[ "$res" = "$base" ] || fail "vmm SIG$sig: left '$res', a plain run '$base'"
	run_sig $sig 3 "$T/b.json" bench vmm -n 1000000 --repeat 2 --json
	[ "$rc" -eq "$want" ] || fail "bench vmm SIG$sig: exit $rc ($(cat "$T/b.json.err"))"
	"$PY" - "$T/b.json" $sig <<'PY' || fail "bench vmm SIG$sig: partial JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["interrupted"] == "SIG" + sys.argv[2], d.get("interrupted")
done = [r["loops"] for r in d["runs"]]
assert done[0] > 0 and all(n < 1000000 for n in done), done
PY
	res=$(grep resources "$T/b.json.err")
	[ "$res" = "$base" ] || fail "bench vmm SIG$sig: left '$res', a plain run '$base'"
done
"$P" timerlat --vmm --duration 1 --json >"$T/vd.json" || fail "timerlat --vmm --duration 1"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["loops"] > 100 and "interrupted" not in d, d["loops"]' \
	"$T/vd.json" || fail "timerlat --vmm --duration: loops"

echo "cli_interrupt: $fails failure(s)"
[ "$fails" -eq 0 ]

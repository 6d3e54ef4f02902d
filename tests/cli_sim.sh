#!/bin/bash
# pvtime sim through the command line: the contract of doc/pvtime.1.
set -u
PVTIME=${1:?usage: cli_sim.sh PVTIME}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# A JSON field through python3 (parsing is part of the test).
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d' + sys.argv[2]))" "$@"; }

# |a - b| <= tol, decimals allowed.
near() { python3 -c "import sys; a,b,t=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b)<=t else 1)" "$@"; }

expect_usage() {	# expect_usage WORD args...: exit 2 and a stderr line naming WORD
	local word=$1; shift
	"$PVTIME" sim "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	[ $rc -eq 2 ] || fail "sim $* exited $rc, expected 2"
	grep -q -- "$word" "$TMP/err" || fail "sim $*: error does not name $word: $(cat "$TMP/err")"
	[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "sim $*: error is not one line"
}

H1="--host-khz 2596136 --guest-khz 3000000 --frac-bits 48"
H2="--host-khz 2893202 --guest-khz 2500000 --frac-bits 32"

# Pinned vectors: legacy's observed 100 us sleep = interval - tsdrift's error_ns.
"$PVTIME" sim --algo legacy $H1 --uptime 10 -n 5 --json >"$TMP/a.json" || fail "legacy run 1"
near "$(jget "$TMP/a.json" "['latency_ns']['mean']")" 103333 3 || fail "H1 uptime 10: mean latency $(jget "$TMP/a.json" "['latency_ns']['mean']") not ~103333"
"$PVTIME" sim --algo legacy $H2 --uptime 60 -n 5 --json >"$TMP/b.json" || fail "legacy run 2"
near "$(jget "$TMP/b.json" "['latency_ns']['mean']")" 123984 3 || fail "H2 uptime 60: mean latency $(jget "$TMP/b.json" "['latency_ns']['mean']") not ~123984"

# Cross-check against tsdrift's CSV (a tsdrift that fails is a failure, not a skip).
if "$PVTIME" tsdrift $H1 --duration 60 --step 10 --format csv >"$TMP/drift.csv" 2>"$TMP/drift.err"; then
	head -1 "$TMP/drift.csv" | grep -qx 'elapsed_s,host_tsc,guest_tsc,kvmclock_ns,onestep_ns,error_ns' ||
		fail "tsdrift CSV header"
	for up in 10 60; do
		err=$(awk -F, -v u=$up '$1 == u { print $6 }' "$TMP/drift.csv")
		"$PVTIME" sim --algo legacy $H1 --uptime $up -n 3 --json >"$TMP/c.json"
		near "$(jget "$TMP/c.json" "['latency_ns']['mean']")" "$((100000 - err))" 3 ||
			fail "uptime $up: sim $(jget "$TMP/c.json" "['latency_ns']['mean']") vs tsdrift 100000-($err)"
	done
else
	fail "tsdrift for the cross-check: $(cat "$TMP/drift.err")"
fi

# legacy grows with uptime; kvm and pvtime add nothing at any uptime.
prev=-1
for up in 10 3600 86400 31536000; do
	"$PVTIME" sim --algo legacy $H1 --uptime $up -n 3 --json >"$TMP/l.json"
	m=$(jget "$TMP/l.json" "['lateness_ns']['mean']")
	python3 -c "import sys; sys.exit(0 if $m > $prev else 1)" || fail "legacy lateness $m at $up s not above $prev"
	prev=$m
	for algo in kvm pvtime; do
		"$PVTIME" sim --algo $algo $H1 --uptime $up -n 50 --json >"$TMP/f.json"
		for k in min max; do
			v=$(jget "$TMP/f.json" "['lateness_ns']['$k']")
			near "$v" 0 1 || fail "$algo uptime $up: lateness $k $v"
		done
	done
done

# 10 s timers under +100 ppm slew: kvm off by ~ -1 ms + 3.3 us, pvtime exact.
"$PVTIME" sim --algo kvm $H1 --uptime 10 -n 2 -i 10000000000 --ntp-ppm 100 --json >"$TMP/k.json"
near "$(jget "$TMP/k.json" "['lateness_ns']['mean']")" -996567 50 || fail "kvm +100 ppm: $(jget "$TMP/k.json" "['lateness_ns']['mean']")"
"$PVTIME" sim --algo kvm $H1 --uptime 10 -n 2 -i 10000000000 --json >"$TMP/k0.json"
near "$(jget "$TMP/k0.json" "['lateness_ns']['mean']")" 3333 5 || fail "kvm 0 ppm 10 s: $(jget "$TMP/k0.json" "['lateness_ns']['mean']")"
"$PVTIME" sim --algo pvtime $H1 --uptime 10 -n 2 -i 10000000000 --ntp-ppm -100.5 --json >"$TMP/p.json"
near "$(jget "$TMP/p.json" "['lateness_ns']['max']")" 0 1 || fail "pvtime -100.5 ppm: $(jget "$TMP/p.json" "['lateness_ns']['max']")"
[ "$(jget "$TMP/p.json" "['config']['ntp_ppm']")" = "-100.5" ] || fail "ntp_ppm echo"

# --preempt makes only legacy later.
for algo in legacy kvm pvtime; do
	"$PVTIME" sim --algo $algo $H1 --uptime 10 -n 5 --json >"$TMP/q0.json"
	"$PVTIME" sim --algo $algo $H1 --uptime 10 -n 5 --preempt 4000 --json >"$TMP/q1.json"
	d=$(python3 -c "import json; a=json.load(open('$TMP/q0.json')); b=json.load(open('$TMP/q1.json')); print(b['lateness_ns']['mean']-a['lateness_ns']['mean'])")
	want=0; [ $algo = legacy ] && want=4000
	near "$d" $want 2 || fail "$algo --preempt 4000 moved lateness by $d"
done

# JSON summary keys (contract) and exact integers.
python3 - "$TMP/a.json" <<'EOF' || fail "JSON keys"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["algo"] == "legacy" and d["loops"] == 5 and d["interval_ns"] == 100000, d
for key in ("latency_ns", "lateness_ns"):
    for s in ("min", "mean", "max", "p50", "p99", "p999"):
        assert s in d[key], (key, s)
    assert isinstance(d[key]["p99"], int)
assert d["latency_ns"]["min"] - d["lateness_ns"]["min"] == 100000
assert d["format_version"] >= 1 and d["command"][1] == "sim"
EOF

# Seed line format, and determinism.
ARGS="--algo kvm $H1 --uptime 3600 -n 40 --vcpus 3 --wake-latency 2000 --wake-jitter 5000"
"$PVTIME" sim $ARGS --seed 1 >"$TMP/s1a" || fail "seeded run"
"$PVTIME" sim $ARGS --seed 1 >"$TMP/s1b"
"$PVTIME" sim $ARGS --seed 2 >"$TMP/s2"
cmp -s "$TMP/s1a" "$TMP/s1b" || fail "same seed, different output"
cmp -s "$TMP/s1a" "$TMP/s2" && fail "different seeds, identical output despite jitter"
grep -Eq '^00000000 latency [0-9]+/100000 \(-?[0-9]+\.[0-9]{4}%\) vcpu [0-9]+$' "$TMP/s1a" || fail "seed line format"
[ "$(grep -Ec '^[0-9]+ latency ' "$TMP/s1a")" -eq 120 ] || fail "3 vcpus x 40 loops lines"
# Only the random parts differ: same header (but the seed), same line count, latencies within the jitter.
diff <(head -4 "$TMP/s1a" | sed 's/seed=[0-9]*//') <(head -4 "$TMP/s2" | sed 's/seed=[0-9]*//') >/dev/null ||
	fail "headers differ beyond the seed"
awk '/^[0-9]+ latency / { split($3, a, "/"); if (a[1] < 102000 || a[1] > 107001) bad = 1 } END { exit bad }' "$TMP/s2" ||
	fail "jittered latencies outside interval + [2000, 7000]"
# Without randomness the seed changes nothing but the header's seed.
"$PVTIME" sim --algo legacy $H1 --uptime 10 -n 10 --seed 5 | grep -v seed= >"$TMP/n1"
"$PVTIME" sim --algo legacy $H1 --uptime 10 -n 10 --seed 6 | grep -v seed= >"$TMP/n2"
cmp -s "$TMP/n1" "$TMP/n2" || fail "seed changed a run without random parts"
# --quiet: summary only.
"$PVTIME" sim --algo kvm $H1 -n 10 --quiet >"$TMP/qq"
grep -Eq '^[0-9]+ latency ' "$TMP/qq" && fail "--quiet printed loop lines"
grep -q '^summary: algo=kvm loops=10 interval_ns=100000' "$TMP/qq" || fail "--quiet summary"

# Bad usage: exit 2, one line naming the argument.
expect_usage --algo --algo bogus $H1
expect_usage --host-khz --algo kvm --host-khz 0 --guest-khz 3000000
expect_usage --host-khz --algo kvm --host-khz -2596136 --guest-khz 3000000
expect_usage --guest-khz --algo kvm --host-khz 2596136 --guest-khz 0
expect_usage --guest-khz --algo kvm --host-khz 2596136 --guest-khz -1
expect_usage -i --algo kvm $H1 -i 0
expect_usage --uptime --algo kvm $H1 --uptime 10000000000
expect_usage --uptime --algo kvm $H1 --uptime 6500000000
expect_usage --uptime --algo kvm $H1 --uptime 99999999999999999999999
expect_usage --frac-bits --algo kvm --host-khz 2596136 --guest-khz 3000000 --frac-bits 40
expect_usage --ntp-ppm --algo kvm $H1 --ntp-ppm 12.x
expect_usage --ntp-ppm --algo kvm $H1 --ntp-ppm 200000
expect_usage --hypercall --algo kvm $H1 --hypercall vcpu_op
expect_usage --algo $H1
expect_usage --bogus --algo kvm $H1 --bogus
expect_usage --seed --algo kvm $H1 --seed
"$PVTIME" sim --help >/dev/null || fail "--help"

[ $fails -eq 0 ] && echo "cli_sim: all passed"
exit $((fails > 0))

#!/bin/bash
# pvtime vmm --scenario hostile on real KVM: vCPU 0 issues seeded random hypercalls and
# scribbles on its own pages, vCPU 1 runs timerlat beside it. The VM must run to its
# duration (no stop, no watchdog), vCPU 1 must lose, double and advance no timer.
# A fixed seed and a fresh one (printed, so a failure can be repeated with --seed).
# Skips (77) with a message when /dev/kvm is unusable.
set -u
PVTIME=$1
fail() { echo "FAIL: $*"; exit 1; }
out=/tmp/cli_vmm_hostile.$$
trap 'rm -f $out $out.json' EXIT

if ! "$PVTIME" vmm -n 1 --vcpus 1 -q >$out 2>&1; then
	if grep -q "/dev/kvm is not usable" $out; then
		echo "SKIP: /dev/kvm is not usable here: $(cat $out)"
		exit 77
	fi
	cat $out; fail "pvtime vmm failed on a usable /dev/kvm"
fi

check() {
	local seed=$1
	echo "hostile: --seed $seed"
	timeout -s KILL 120 "$PVTIME" vmm --scenario hostile --vcpus 2 --seed "$seed" \
		--duration 4 --json >$out.json 2>$out
	local rc=$?
	[ $rc -eq 137 ] && fail "seed $seed: the VMM hung (killed after 120 s for a 4 s run)"
	[ $rc -eq 0 ] || { cat $out $out.json; fail "seed $seed: exit $rc"; }
	python3 - $out.json "$seed" <<'PY' || fail "seed $seed: hostile JSON"
import json, sys
d = json.load(open(sys.argv[1]))
print({k: d[k] for k in ("hostile_hypercalls", "timerlat_loops", "timers", "early_wakeups",
                         "lost_timers", "duplicate_expiries", "vm_stopped")})
assert d["scenario"] == "hostile" and d["seed"] == int(sys.argv[2]), d
assert d["vm_stopped"] is False, d.get("stop_reason")
assert d["hostile_hypercalls"] > 1000, d
assert d["timerlat_loops"] > 100 and d["timers"] >= d["timerlat_loops"], d
assert d["early_wakeups"] == 0 and d["lost_timers"] == 0 and d["duplicate_expiries"] == 0, d
PY
}

check 1
check "$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"

# Text output names the seed, so any run can be repeated.
"$PVTIME" vmm --scenario hostile --vcpus 2 --seed 42 --duration 1 >$out 2>&1 || { cat $out; fail "text run"; }
grep -q -- "--seed 42 repeats it" $out || { cat $out; fail "text output does not name the seed"; }
grep -q "VM stopped: *no" $out || { cat $out; fail "text output: VM stopped"; }
echo "PASS"

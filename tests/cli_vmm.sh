#!/bin/bash
# CLI tests of `pvtime vmm` / `pvtime timerlat --vmm` / `pvtime bench vmm` on real KVM.
# Skips (77) with a message when /dev/kvm is unusable, after checking the CLI says so (exit 1).
set -u
PVTIME=$1
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() { local want=$1; shift; "$@" >/tmp/cli_vmm.$$ 2>&1; local rc=$?; [ $rc -eq $want ] || { cat /tmp/cli_vmm.$$; fail "'$*' exited $rc, expected $want"; }; }
trap 'rm -f /tmp/cli_vmm.$$ /tmp/cli_vmm_json.$$' EXIT

# Usage errors name the argument, exit 2, whatever /dev/kvm says.
expect_rc 2 "$PVTIME" vmm --algo bogus
grep -q -- "--algo" /tmp/cli_vmm.$$ || fail "--algo error does not name the argument"
expect_rc 2 "$PVTIME" vmm --vcpus 0
expect_rc 2 "$PVTIME" vmm --vcpus 17
expect_rc 2 "$PVTIME" vmm -n 0
expect_rc 2 "$PVTIME" vmm --advertise-khz 2000000
grep -q -- "--clock xen" /tmp/cli_vmm.$$ || fail "--advertise-khz without --clock xen not explained"
expect_rc 2 "$PVTIME" vmm --bad nonsense
expect_rc 2 "$PVTIME" bench vmm --loops x

if ! "$PVTIME" vmm -n 1 --vcpus 1 -q >/tmp/cli_vmm.$$ 2>&1; then
	if grep -q "/dev/kvm is not usable" /tmp/cli_vmm.$$; then
		expect_rc 1 "$PVTIME" vmm -n 1
		echo "SKIP: /dev/kvm is not usable here: $(cat /tmp/cli_vmm.$$)"
		exit 77
	fi
	cat /tmp/cli_vmm.$$; fail "pvtime vmm failed on a usable /dev/kvm"
fi

# The seed's per-loop lines, one per loop.
"$PVTIME" vmm -n 5 --vcpus 1 >/tmp/cli_vmm.$$ || fail "pvtime vmm -n 5"
n=$(grep -cE '^0000000[0-4] latency [0-9]+/100000 \(-?[0-9]+\.[0-9]{4}%\)$' /tmp/cli_vmm.$$)
[ "$n" -eq 5 ] || { cat /tmp/cli_vmm.$$; fail "expected 5 seed lines, got $n"; }
grep -q "guest clock: its own kvmclock" /tmp/cli_vmm.$$ || fail "output does not say which clock the guest used"

# JSON: one object, exact counters, no early wake-up, no oracle mismatch.
"$PVTIME" vmm -n 20 --vcpus 2 --algo kvm --json >/tmp/cli_vmm_json.$$ || fail "pvtime vmm --json"
python3 - /tmp/cli_vmm_json.$$ <<'PY' || fail "vmm JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["algo"] == "kvm", d["algo"]
assert d["loops"] == 40, d["loops"]
assert d["vcpus"] == 2
assert d["early_wakeups"] == 0
assert d["oracle"]["page_mismatches"] == 0 and d["oracle"]["sample_mismatches"] == 0
assert d["oracle"]["sample_checks"] == 80, d["oracle"]
assert d["lateness_ns"]["min"] >= 0, d["lateness_ns"]
assert d["guest_clock"] == "kvm"
for v in d["vcpu"]:
    assert v["singleshot_fired"] == 20 and v["early_wakeups"] == 0, v
PY

# Bug 1 on the VMM's Xen page: legacy late by the model's error, pvtime not.
"$PVTIME" vmm -n 5 --vcpus 1 --clock xen --uptime 36000 --algo legacy --json >/tmp/cli_vmm_json.$$ || fail "legacy xen"
legacy=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lateness_ns"]["min"])' /tmp/cli_vmm_json.$$)
"$PVTIME" vmm -n 5 --vcpus 1 --clock xen --uptime 36000 --algo pvtime --json >/tmp/cli_vmm_json.$$ || fail "pvtime xen"
pvt=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lateness_ns"]["max"])' /tmp/cli_vmm_json.$$)
[ "$legacy" -gt 10000000 ] || fail "legacy on a 10 h old Xen page should be >10 ms late, min was $legacy"
[ "$pvt" -lt "$legacy" ] || fail "pvtime ($pvt) not better than legacy ($legacy)"
"$PVTIME" vmm -n 2 --vcpus 1 --clock xen >/tmp/cli_vmm.$$ || fail "xen text"
grep -q "guest clock: the VMM's Xen vcpu_time_info" /tmp/cli_vmm.$$ || fail "xen output does not name the clock"

# --plot writes an SVG histogram of the guest's lateness.
plot=$(mktemp --suffix=.svg)
"$PVTIME" vmm -n 20 --vcpus 1 -q --plot "$plot" >/dev/null || fail "vmm --plot"
grep -q "<svg" "$plot" || fail "vmm --plot wrote no SVG"
rm -f "$plot"

# A bad guest: clean stop with a message and exit 1.
expect_rc 1 "$PVTIME" vmm --bad kvmclock-outside --vcpus 1
grep -q "outside its" /tmp/cli_vmm.$$ || fail "no message for a pvclock page outside RAM"
expect_rc 0 "$PVTIME" vmm --bad block-no-timer --vcpus 2
expect_rc 1 "$PVTIME" vmm --bad fault --vcpus 2
grep -q "triple-faulted" /tmp/cli_vmm.$$ || fail "no message for a crashing guest"

# timerlat --vmm: guest lines + host baseline + difference table.
"$PVTIME" timerlat --vmm -n 20 --vcpus 1 --json >/tmp/cli_vmm_json.$$ 2>/tmp/cli_vmm.$$ || { cat /tmp/cli_vmm.$$; fail "timerlat --vmm --json"; }
python3 - /tmp/cli_vmm_json.$$ <<'PY' || fail "timerlat --vmm JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["target"] == "vmm" and d["loops"] == 20
assert d["host"]["loops"] == 20
assert "p50" in d["guest_minus_host_lateness_ns"]
assert d["early_wakeups"] == 0 and d["oracle_mismatches"] == 0
assert d["lost_timers"] == 0 and d["watchdog"] is False
assert isinstance(d["cpu_dma_latency_held"], bool)
PY

# A run the watchdog ends: the loops done so far are reported, and each vCPU still
# asleep on its timer counts as a lost timer; exit 1 with the watchdog's message.
"$PVTIME" timerlat --vmm -n 100000 --vcpus 2 --watchdog 200 --json >/tmp/cli_vmm_json.$$ 2>/tmp/cli_vmm.$$
rc=$?
[ $rc -eq 1 ] || { cat /tmp/cli_vmm.$$; fail "timerlat --vmm ended by the watchdog exited $rc, expected 1"; }
grep -q "watchdog" /tmp/cli_vmm.$$ || fail "no watchdog message"
python3 - /tmp/cli_vmm_json.$$ <<'PY' || fail "timerlat --vmm JSON after the watchdog"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["watchdog"] is True
assert d["lost_timers"] == 2, d["lost_timers"]
assert 0 < d["loops"] < 2 * 100000
assert d["early_wakeups"] == 0
PY

# bench vmm: handling costs next to a bare exit, lateness vs host.
"$PVTIME" bench vmm -n 50 --repeat 1 --json >/tmp/cli_vmm_json.$$ || fail "bench vmm --json"
python3 - /tmp/cli_vmm_json.$$ <<'PY' || fail "bench vmm JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["bare_exit_round_trip_ns"]["p50"] > 0
algos = {r["algo"]: r for r in d["runs"]}
assert set(algos) == {"legacy", "kvm", "pvtime"}, algos.keys()
for r in algos.values():
    assert r["hypercall_handling_ns"]["p50"] > 0 and r["early_wakeups"] == 0
assert d["host"]["lateness_ns"]["p50"] >= 0
PY
# busy/mixed: the timer interrupt reaches a computing guest; both delivery paths.
for irq in chip user; do
	"$PVTIME" vmm --guest busy --irq $irq -n 50 --vcpus 2 --json >/tmp/cli_vmm_json.$$ || fail "vmm --guest busy --irq $irq"
	python3 - /tmp/cli_vmm_json.$$ $irq <<'PY' || fail "vmm --guest busy --irq $irq JSON"
import json, sys
d = json.load(open(sys.argv[1]))
u = d["upcalls"]
assert u["delivery"] == {"chip": "irqchip", "user": "userspace"}[sys.argv[2]], u
assert u["timers_fired"] == 100 and u["by_interrupt"] > 0 and u["blocks"] == 0, u
assert d["early_wakeups"] == 0
assert u["interrupt_path_p50_ns"]["n"] > 0
PY
done
# The timer advance: a fixed one is used as given, never early; off reports none.
"$PVTIME" timerlat --vmm --advance 20000 -n 200 --vcpus 1 --json >/tmp/cli_vmm_json.$$ || fail "timerlat --vmm --advance 20000"
python3 - /tmp/cli_vmm_json.$$ <<'PY' || fail "timerlat --vmm --advance JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["advance"] == "20000" and d["advance_ns"] == 20000, d
assert d["early_wakeups"] == 0 and d["delivery_lateness_p50_ns"] >= 0, d
assert d["advanced_expiries"] > 0 and set(d["spin_ns"]) >= {"p50", "p99", "mean"}, d
PY
"$PVTIME" timerlat --vmm --advance off --algo pvtime -n 50 --vcpus 1 --json >/tmp/cli_vmm_json.$$ || fail "timerlat --vmm --advance off"
python3 - /tmp/cli_vmm_json.$$ <<'PY' || fail "timerlat --vmm --advance off JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["advance"] == "off" and "spin_ns" not in d, d
PY
"$PVTIME" bench vmm -n 100 --repeat 1 --json >/tmp/cli_vmm_json.$$ || fail "bench vmm (default advance)"
python3 - /tmp/cli_vmm_json.$$ <<'PY' || fail "bench vmm advance JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["advance"] == "adaptive", d["advance"]
runs = {r["algo"]: r for r in d["runs"]}
for a in ("legacy", "kvm"):
    assert runs[a]["advance"] == "off" and runs[a]["advance_ns"] == 0 and "spin_ns" not in runs[a]
p = runs["pvtime"]
assert p["advance"] == "adaptive" and 0 < p["advance_ns"] <= 30000, p
assert set(p["spin_ns"]) >= {"p50", "p99", "mean"} and p["early_wakeups"] == 0, p
t = d["target"]
assert {"delivery_budget_ns", "delivery_met", "spin_met"} <= set(t) and t["floor_includes_host_wake"] is False, t
PY
"$PVTIME" timerlat --vmm --guest mixed -n 100 --vcpus 2 --json >/tmp/cli_vmm_json.$$ || fail "timerlat --vmm --guest mixed"
python3 - /tmp/cli_vmm_json.$$ <<'PY' || fail "timerlat --vmm --guest mixed JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["guest"] == "mixed" and d["early_wakeups"] == 0, d
assert "interrupt_path_p50_ns" in d and "upcall_delivery" in d
PY
"$PVTIME" bench vmm --guest busy -n 50 --repeat 1 --json >/tmp/cli_vmm_json.$$ || fail "bench vmm --guest busy --json"
python3 - /tmp/cli_vmm_json.$$ <<'PY' || fail "bench vmm --guest busy JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["guest"] == "busy"
for r in d["runs"]:
    assert r["early_wakeups"] == 0 and r["lateness_ns"]["p50"] > 0
    b = r["interrupt_path_p50_ns"]
    assert all(k in b for k in ("wake", "kick", "inject", "entry", "handler")), b
assert d["host"]["lateness_ns"]["p50"] >= 0
assert d["target"]["budget_ns"] == 10000 and "floor_p50_ns" in d["target"]
PY
echo PASS

#!/bin/bash
# pvtime vmm --scenario soak, CI length: 2 VMs x 2 vCPUs for 20 s in one process, VMs
# re-created every few seconds, save/restore round trips at random exits. No lost,
# early or duplicated timer, no VM failure, RSS and open fds flat (the CLI's tolerance:
# the same fds, RSS within max(4 MiB, 10 %) of the start; re-checked here).
# Skips (77) with a message when /dev/kvm is unusable.
set -u
PVTIME=$1
fail() { echo "FAIL: $*"; exit 1; }
out=/tmp/cli_vmm_soak.$$
trap 'rm -f $out $out.json' EXIT

if ! "$PVTIME" vmm -n 1 --vcpus 1 -q >$out 2>&1; then
	if grep -q "/dev/kvm is not usable" $out; then
		echo "SKIP: /dev/kvm is not usable here: $(cat $out)"
		exit 77
	fi
	cat $out; fail "pvtime vmm failed on a usable /dev/kvm"
fi

timeout -s KILL 150 "$PVTIME" vmm --scenario soak --vms 2 --vcpus 2 --duration 20 --json >$out.json 2>$out
rc=$?
[ $rc -eq 137 ] && fail "the soak hung (killed after 150 s for a 20 s run)"
[ $rc -eq 0 ] || { cat $out $out.json; fail "soak exit $rc"; }
python3 - $out.json <<'PY' || fail "soak JSON"
import json, sys
d = json.load(open(sys.argv[1]))
print({k: d[k] for k in ("timers", "lost_timers", "early_wakeups", "duplicate_expiries", "roundtrips",
                         "vms_created", "rss_kb_start", "rss_kb_end", "fds_start", "fds_end")})
assert d["scenario"] == "soak" and d["vms"] == 2 and d["vcpus"] == 2, d
assert d["vm_failures"] == 0, d.get("first_error")
assert d["timers"] > 1000, d
assert d["lost_timers"] == 0 and d["early_wakeups"] == 0 and d["duplicate_expiries"] == 0, d
assert d["roundtrips"] > 0, d
assert d["vms_created"] > 2, d          # re-created: create/destroy is part of the soak
assert d["rss_kb_start"] > 0 and d["fds_start"] > 0, d
assert d["fds_end"] == d["fds_start"], d
# An ASan build reports RSS without judging it (its quarantine grows by design).
if d["rss_judged"]:
    assert d["rss_kb_end"] <= d["rss_kb_start"] + max(4096, d["rss_kb_start"] // 10), d
assert d["rss_flat"] is True and d["fds_flat"] is True, d
PY
echo "PASS"

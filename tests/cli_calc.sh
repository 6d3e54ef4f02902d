#!/bin/bash
# pvtime calc: pinned vectors (python3 big integers from the formulas in docs/design.md), JSON, and bad input.
set -u
PVTIME=${1:?usage: cli_calc.sh PVTIME}
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect_out "expected stdout" args...
expect_out() {
	local want=$1 got rc
	shift
	got=$("$PVTIME" "$@" 2>/tmp/cli_calc_err.$$); rc=$?
	if [ $rc -ne 0 ] || [ "$got" != "$want" ]; then
		fail "pvtime $*: exit $rc, got '$got', want '$want' ($(cat /tmp/cli_calc_err.$$))"
	fi
}

# expect_usage WORD args...: exit 2 and exactly one stderr line that names WORD.
expect_usage() {
	local word=$1 err rc
	shift
	"$PVTIME" "$@" >/dev/null 2>/tmp/cli_calc_err.$$; rc=$?
	err=$(cat /tmp/cli_calc_err.$$)
	if [ $rc -ne 2 ]; then
		fail "pvtime $*: exit $rc, want 2 (stderr: $err)"
	elif [ "$(wc -l </tmp/cli_calc_err.$$)" -ne 1 ]; then
		fail "pvtime $*: want one stderr line, got: $err"
	elif [[ "$err" != *"$word"* ]]; then
		fail "pvtime $*: message does not name $word: $err"
	fi
}

# Known vectors.
expect_out "mul=3308738291 shift=-1" calc scale --base-hz 2596136000 --scaled-hz 1000000000
expect_out "mul=3308738291 shift=-1" calc scale --base-hz 0x9abde440 --scaled-hz 1000000000
expect_out "mul=2863312485 shift=-1" calc scale --base-hz 2999999000 --scaled-hz 1000000000
expect_out "mul=4096000000 shift=20" calc scale --base-hz 1000 --scaled-hz 1000000000
expect_out "ns=999999999" calc read --tsc-timestamp 0 --system-time 0 --mul 3308738291 --shift -1 --tsc 2596136000
expect_out "ns=9223372036854780807" calc read --tsc-timestamp 100 --system-time 5000 --mul 2147483648 --shift 1 --tsc 99
expect_out "ratio=325262208964387" calc ratio --host-khz 2596136 --guest-khz 3000000
expect_out "ratio=325262208964387" calc ratio --host-khz 2596136 --guest-khz 3000000 --frac-bits 48
expect_out "ratio=4963107436" calc ratio --host-khz 2596136 --guest-khz 3000000 --frac-bits 32
expect_out "ratio=3711257713" calc ratio --host-khz 2893202 --guest-khz 2500000 --frac-bits 32
# calc ratio is the raw formula: no +-250 ppm tolerance.
expect_out "ratio=281471073564148" calc ratio --host-khz 2596136 --guest-khz 2596100
expect_out "guest_tsc=259199999999999" calc guest-tsc --host-tsc 224306150400000 --ratio 325262208964387
expect_out "guest_tsc=259200000000009" calc guest-tsc --host-tsc 224306150400000 --ratio 325262208964387 --offset 10
expect_out "guest_tsc=9" calc guest-tsc --host-tsc 0 --ratio 1 --offset 0xfffffffffffffff7 --frac-bits 32 --offset 9
expect_out "guest_tsc=18446744073709420544" calc guest-tsc --host-tsc 18446744073709551615 --ratio 18446744073709551615

# calc page: the page KVM gives a 3 GHz vCPU one day after the master clock reference.
page=$("$PVTIME" calc page --host-khz 2596136 --guest-khz 3000000 --master-tsc 224306150400000 \
	--master-ns 86400000000000 --kvmclock-offset -1000 --tsc-offset 12345)
for kv in scaling=yes ratio=325262208964387 advertised_khz=2999999 tsc_timestamp=259200000012344 \
	system_time=86399999999000 tsc_to_system_mul=2863312485 tsc_shift=-1 flags=1 version=2; do
	grep -qx "$kv" <<<"$page" || fail "calc page: missing $kv in: $page"
done
page=$("$PVTIME" calc page --host-khz 2596136 --guest-khz 2596100)
grep -qx "scaling=no" <<<"$page" && grep -qx "advertised_khz=2596136" <<<"$page" &&
	grep -qx "tsc_to_system_mul=3308738291" <<<"$page" || fail "calc page within tolerance: $page"

# calc deadline, checked against an independent python3 evaluation of the guest clock.
"$PVTIME" calc deadline --host-khz 2596136 --guest-khz 3000000 --now-tsc 25961360000 \
	--deadline-ns 10000103333 --master-tsc 1000 --tsc-offset 77 --json >/tmp/cli_calc_dl.$$ ||
	fail "calc deadline failed"
python3 - /tmp/cli_calc_dl.$$ <<'PY' || fail "calc deadline: python check"
import json, sys
d = json.load(open(sys.argv[1]))
M64 = (1 << 64) - 1
ratio = (3000000 << 48) // 2596136
def gtsc(h): return (((h * ratio) >> 48) + 77) & M64
mul, shift = 2863312485, -1          # time_scale(1e9, 2999999 kHz), pinned above
stamp = gtsc(1000)
def ns(h): return (((gtsc(h) - stamp) & M64) >> 1) * mul >> 32
h = d["host_tsc"]
assert d["reachable"] is True, d
assert isinstance(h, int) and h >= d["now_tsc"] == 25961360000, d
assert ns(h) >= 10000103333 > ns(h - 1), (h, ns(h), ns(h - 1))
assert d["ns_at_host_tsc"] == ns(h) and d["ns_one_tick_before"] == ns(h - 1), d
assert d["now_ns"] == ns(25961360000) and d["wait_tsc"] == h - 25961360000, d
print("calc deadline ok: host_tsc", h)
PY
# A deadline at or before now gives now; one past any 64-bit TSC saturates.
dl=$("$PVTIME" calc deadline --host-khz 2596136 --guest-khz 3000000 --now-tsc 25961360000 --deadline-ns 5)
grep -qx "host_tsc=25961360000" <<<"$dl" || fail "past deadline: $dl"
dl=$("$PVTIME" calc deadline --host-khz 3000000 --guest-khz 1500000 --now-tsc 18446744073709551600 \
	--deadline-ns 9223372036854775807)
grep -qx "reachable=no" <<<"$dl" && grep -qx "host_tsc=18446744073709551615" <<<"$dl" || fail "saturation: $dl"

# Issue #12: a 1 MHz vCPU (tsc_shift 10) at TSC 2^63 + 5 has a wrapped shifted delta and
# reads 5000 ns; it reads 10000 ns five ticks later. Readings step by 1000 ns, so a deadline
# between now + 2^63 - 808 (the last reading before the past) and now + 2^63 is skipped.
python3 - "$PVTIME" <<'PY' || fail "calc deadline with a wrapped shifted delta"
import json, subprocess, sys
def run(*a):
    return json.loads(subprocess.run([sys.argv[1], "calc", "deadline", "--host-khz", "1000",
        "--guest-khz", "1000", "--now-tsc", "9223372036854775813", *a, "--json"],
        check=True, capture_output=True, text=True).stdout)
d = run("--deadline-ns", "10000")
assert d["reachable"] is True and d["now_ns"] == 5000, d
assert d["host_tsc"] == 9223372036854775818 and d["ns_at_host_tsc"] == 10000, d
assert d["ns_one_tick_before"] == 9000, d
d = run("--deadline-ns", str(5000 + 2**63 - 808))
assert d["reachable"] is True and d["ns_at_host_tsc"] == 5000 + 2**63 - 808, d
d = run("--deadline-ns", str(5000 + 2**63 - 807))
assert d["reachable"] is False and d["host_tsc"] == 2**64 - 1 and d["now_ns"] == 5000, d
print("calc deadline wrapped shifted delta ok")
PY

# JSON: one object, exact integers.
python3 -c '
import json, subprocess, sys
p = sys.argv[1]
def run(*a): return json.loads(subprocess.run([p, *a], check=True, capture_output=True, text=True).stdout)
s = run("calc", "scale", "--base-hz", "2596136000", "--scaled-hz", "1000000000", "--json")
assert s["mul"] == 3308738291 and s["shift"] == -1 and s["format_version"] == 1, s
r = run("calc", "read", "--tsc-timestamp", "100", "--system-time", "5000", "--mul", "2147483648", "--shift", "1", "--tsc", "99", "--json")
assert r["ns"] == 9223372036854780807, r
r = run("calc", "ratio", "--host-khz", "1", "--guest-khz", "4294967295", "--frac-bits", "32", "--json")
assert r["ratio"] == 18446744069414584320, r
g = run("calc", "guest-tsc", "--host-tsc", "18446744073709551615", "--ratio", "18446744073709551615", "--json")
assert g["guest_tsc"] == 18446744073709420544, g
pg = run("calc", "page", "--host-khz", "2596136", "--guest-khz", "3000000", "--json")
for k in ("scaling", "ratio", "advertised_khz", "tsc_timestamp", "system_time", "tsc_to_system_mul", "tsc_shift", "flags", "version"):
    assert k in pg, k
print("calc JSON ok")
' "$PVTIME" || fail "calc JSON"

# Bad input: exit 2, one line naming the argument.
expect_usage "--base-hz" calc scale --base-hz
expect_usage "--base-hz" calc scale --base-hz abc --scaled-hz 1
expect_usage "--base-hz" calc scale --base-hz -1 --scaled-hz 1
expect_usage "--base-hz" calc scale --base-hz 18446744073709551616 --scaled-hz 1
expect_usage "--base-hz" calc scale --base-hz 0 --scaled-hz 1
expect_usage "--scaled-hz" calc scale --base-hz 1
expect_usage "--scaled-hz" calc scale --base-hz 1 --scaled-hz 18446744073709551615
expect_usage "--host-khz" calc ratio --host-khz 0 --guest-khz 1
expect_usage "--guest-khz" calc ratio --host-khz 1 --guest-khz 0
expect_usage "--host-khz" calc ratio --host-khz 4294967296 --guest-khz 1
expect_usage "--guest-khz" calc ratio --host-khz 1 --guest-khz 4294967295
expect_usage "--frac-bits" calc ratio --host-khz 1 --guest-khz 1 --frac-bits 40
expect_usage "--frac-bits" calc ratio --host-khz 1 --guest-khz 1 --frac-bits x
expect_usage "--shift" calc read --tsc-timestamp 0 --system-time 0 --mul 1 --shift 64 --tsc 0
expect_usage "--shift" calc read --tsc-timestamp 0 --system-time 0 --mul 1 --shift -64 --tsc 0
expect_usage "--mul" calc read --tsc-timestamp 0 --system-time 0 --mul 4294967296 --shift 0 --tsc 0
expect_usage "--tsc" calc read --tsc-timestamp 0 --system-time 0 --mul 1 --shift 0 --tsc 1.5
expect_usage "--host-tsc" calc guest-tsc --host-tsc -5 --ratio 1
expect_usage "--offset" calc guest-tsc --host-tsc 5 --ratio 1 --offset
expect_usage "--kvmclock-offset" calc page --host-khz 1 --guest-khz 1 --kvmclock-offset 9223372036854775808
expect_usage "--deadline-ns" calc deadline --host-khz 1000 --guest-khz 1000 --now-tsc 0
expect_usage "--guest-khz" calc page --host-khz 4294967295 --guest-khz 1
expect_usage "--bogus" calc ratio --bogus 1
expect_usage "stray" calc ratio --host-khz 1 --guest-khz 1 stray
expect_usage "frobnicate" calc frobnicate
expect_usage "calc" calc

# Every spelling of an option is the same option.
a=$("$PVTIME" calc ratio --host-khz 2596136 --guest-khz 3000000)
b=$("$PVTIME" calc ratio --host-khz=2596136 --guest-khz=0x2dc6c0 --frac-bits=48 --)
[ "$a" = "$b" ] || fail "calc ratio: --name=VALUE and 0x forms differ: '$a' vs '$b'"

# --help works and exits 0.
"$PVTIME" calc --help >/dev/null || fail "calc --help"
"$PVTIME" calc page --help | grep -q -- "--kvmclock-offset" || fail "calc page --help"

rm -f /tmp/cli_calc_err.$$ /tmp/cli_calc_dl.$$
if [ $fails -ne 0 ]; then
	echo "$fails failure(s)" >&2
	exit 1
fi
echo "cli_calc: all checks passed"

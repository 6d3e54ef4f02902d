#!/bin/bash
# OpenMetrics output (issue #13): every producer (timerlat host/--sim/--vmm,
# sim, tsdrift, bench vmm; stdout and --metrics FILE) passes two real
# parsers: Python's prometheus_client OpenMetrics parser (strict) and
# promtool check metrics (Debian's prometheus package). promtool lints the
# Prometheus 0.0.4 text format, where a counter's TYPE/HELP carry the
# _total name while OpenMetrics puts them on the name without it: the one
# lint finding accepted is "<counter>_total no help text" for our counters,
# anything else (and any parse error, exit 1) fails. The textfile written
# with --metrics is never seen half-written by a concurrent reader.
set -u
P=${1:?usage: cli_openmetrics.sh /path/to/pvtime}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

command -v promtool >/dev/null || { echo "promtool missing (scripts/deps.sh installs prometheus)"; exit 1; }
"$PY" -c 'import prometheus_client' 2>/dev/null ||
	{ echo "python3-prometheus-client missing (scripts/deps.sh installs it)"; exit 1; }

# parse FILE WHAT [python assertions on fs (name -> family)]
parse() {
	local f=$1 what=$2 extra=${3:-}
	"$PY" - "$f" "$extra" <<'PY' || fail "$what: prometheus_client rejected it"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as p
text = open(sys.argv[1]).read()
assert text.endswith("# EOF\n"), "no # EOF at the end"
fs = {f.name: f for f in p(text)}
assert fs, "no metric families"
exec(sys.argv[2])
PY
	promtool check metrics <"$f" >"$T/lint" 2>&1
	local rc=$?
	if [ "$rc" -eq 1 ]; then
		fail "$what: promtool cannot parse it: $(head -3 "$T/lint")"
	elif [ "$rc" -ne 0 ]; then
		# Counters declared in the file (OpenMetrics family names).
		local counters
		counters=$(sed -n 's/^# TYPE \([a-z_:]*\) counter$/\1/p' "$f")
		while read -r line; do
			[ -z "$line" ] && continue
			local ok=0
			for c in $counters; do
				[ "$line" = "${c}_total no help text" ] && ok=1
			done
			[ "$ok" -eq 1 ] || fail "$what: promtool lint: $line"
		done <"$T/lint"
	fi
}

HIST='h = fs["pvtime_timerlat_lateness_seconds"]; assert h.type == "histogram" and h.unit == "seconds"
c = fs["pvtime_timerlat_loops"]; assert c.type == "counter"
for n in ("pvtime_timerlat_early_wakeups", "pvtime_timerlat_lost_timers"): assert fs[n].type == "counter"
les = [s.labels["le"] for s in h.samples if s.name.endswith("_bucket")]
assert "+Inf" in les and "0.001000000" in les, les
for s in h.samples: assert set(("target", "algo", "vcpu", "guest_clock")) <= set(s.labels), s.labels
'

# ---- timerlat host: stdout and --metrics give the same text ----
"$P" timerlat -n 200 --format openmetrics --metrics "$T/host.prom" >"$T/host.om" || fail "timerlat host run"
parse "$T/host.om" "timerlat host" "$HIST
loops = [s for s in fs['pvtime_timerlat_loops'].samples if s.name.endswith('_total')]
assert [(s.labels['target'], s.value) for s in loops] == [('host', 200.0)], loops"
cmp -s "$T/host.om" "$T/host.prom" || fail "timerlat: --metrics file differs from stdout"
[ "$(stat -c %a "$T/host.prom")" = 644 ] || fail "--metrics file mode $(stat -c %a "$T/host.prom"), want 644"
ls "$T" | grep -q '\.tmp\.' && fail "a temporary file was left behind"
grep -q '^summary' "$T/host.om" && fail "text report mixed into OpenMetrics stdout"
# --metrics alone keeps the text report on stdout.
"$P" timerlat -n 50 -q --metrics "$T/h2.prom" >"$T/h2.txt" || fail "timerlat --metrics"
grep -q '^summary: algo=host loops=50 ' "$T/h2.txt" || fail "--metrics suppressed the text report"
parse "$T/h2.prom" "timerlat --metrics file" "$HIST"

# ---- sim: legacy at a day of uptime is ~29 ms late: the buckets must show it ----
"$P" timerlat --sim --algo legacy --host-khz 2596136 --guest-khz 3000000 --uptime 86400 -n 50 \
	--vcpus 2 --format openmetrics >"$T/sim.om" || fail "timerlat --sim run"
parse "$T/sim.om" "timerlat --sim" "$HIST
b = {s.labels['le']: s.value for s in fs['pvtime_timerlat_lateness_seconds'].samples if s.name.endswith('_bucket')}
assert b['0.020000000'] == 0 and b['0.050000000'] == 100, b
assert all(s.labels['target'] == 'sim' and s.labels['algo'] == 'legacy' for s in fs['pvtime_timerlat_loops'].samples)"

# ---- tsdrift ----
"$P" tsdrift --host-khz 2596136 --guest-khz 3000000 --format openmetrics --metrics "$T/drift.prom" \
	>"$T/drift.om" || fail "tsdrift run"
parse "$T/drift.om" "tsdrift" "e = {s.labels['uptime_seconds']: s.value for s in fs['pvtime_tsdrift_error_seconds'].samples}
assert e['86400'] == -0.028798439 and e['0'] == 0, e
assert fs['pvtime_tsdrift_advertised_hertz'].samples[0].value == 2999999000"
cmp -s "$T/drift.om" "$T/drift.prom" || fail "tsdrift: --metrics file differs from stdout"

# ---- the textfile is never half-written: a reader polls while pvtime rewrites it ----
: >"$T/reader.bad"
(
	end=$((SECONDS + 4))
	while [ $SECONDS -lt $end ]; do
		if [ -e "$T/live.prom" ]; then
			c=$(cat "$T/live.prom")
			case $c in *"# EOF") ;; *) echo "torn read: ${#c} bytes" >>"$T/reader.bad" ;; esac
		fi
	done
) &
reader=$!
for _ in $(seq 40); do
	"$P" tsdrift --host-khz 2596136 --guest-khz 3000000 --step 60 --format csv \
		--metrics "$T/live.prom" >/dev/null || fail "tsdrift --metrics rewrite"
done
wait $reader
[ -s "$T/reader.bad" ] && fail "reader saw a partial textfile: $(head -2 "$T/reader.bad")"
parse "$T/live.prom" "tsdrift textfile (1441 rows)"
ls "$T" | grep -q '\.tmp\.' && fail "a temporary file was left behind"
# An unwritable place: a clear error, exit 1, no stray file.
"$P" tsdrift --host-khz 2596136 --guest-khz 3000000 --metrics /nonexistent/dir/x.prom >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q -- '--metrics /nonexistent/dir/x.prom' "$T/err" || fail "unwritable --metrics: $(cat "$T/err")"

# ---- the VMM ----
if "$P" vmm -n 1 --vcpus 1 -q >"$T/kvm" 2>&1; then
	"$P" timerlat --vmm -n 300 --vcpus 2 --format openmetrics --metrics "$T/vmm.prom" >"$T/vmm.om" ||
		fail "timerlat --vmm run"
	parse "$T/vmm.om" "timerlat --vmm" "$HIST
v = sorted((s.labels['target'], s.labels['vcpu'], s.value) for s in fs['pvtime_timerlat_loops'].samples)
assert v == [('host', 'all', 300.0), ('vmm', '0', 300.0), ('vmm', '1', 300.0), ('vmm', 'all', 600.0)], v
assert {s.labels['guest_clock'] for s in fs['pvtime_timerlat_loops'].samples} == {'kvm', 'none'}"
	cmp -s "$T/vmm.om" "$T/vmm.prom" || fail "timerlat --vmm: --metrics file differs from stdout"
	"$P" timerlat --vmm -n 100 --clock xen --algo legacy --format openmetrics >"$T/xen.om" || fail "--clock xen run"
	parse "$T/xen.om" "timerlat --vmm --clock xen" "assert {s.labels['guest_clock'] for s in fs['pvtime_timerlat_loops'].samples} == {'xen', 'none'}"
	"$P" bench vmm -n 200 --repeat 1 --format openmetrics --metrics "$T/bench.prom" >"$T/bench.om" ||
		fail "bench vmm run"
	parse "$T/bench.om" "bench vmm" "$HIST
assert {s.labels['algo'] for s in fs['pvtime_timerlat_loops'].samples} == {'legacy', 'kvm', 'pvtime', 'none'}
assert len(fs['pvtime_bench_vmm_hypercall_handling_seconds'].samples) == 3"
	cmp -s "$T/bench.om" "$T/bench.prom" || fail "bench vmm: --metrics file differs from stdout"
else
	grep -q "/dev/kvm is not usable" "$T/kvm" || fail "vmm failed on a usable /dev/kvm: $(cat "$T/kvm")"
	echo "note: /dev/kvm unusable: the VMM producers were not checked"
fi

echo "cli_openmetrics: $fails failure(s)"
[ "$fails" -eq 0 ]

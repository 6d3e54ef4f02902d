#!/usr/bin/env bash
# Bad-input sweep over every subcommand: missing values, non-numbers,
# negatives, overflow past 2^64, empty strings, trailing junk, unknown
# options and subcommands, zero where not allowed, bad choices, --ntp-ppm
# junk. Each case must exit exactly 2 within 10 s (no crash, no hang, no
# measurement started), print exactly one line on stderr that names the
# bad argument, and nothing on stdout.
# Usage: cli_badinput.sh /path/to/pvtime
set -u
P=${1:?usage: cli_badinput.sh /path/to/pvtime}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1	# a stray --plot/--out would land here, not in the tree
cases=0
failed=0

# names A|B...: the error line names one of the argument's spellings.
names() {
	local alt
	IFS='|' read -r -a alt <<<"$1"
	for a in "${alt[@]}"; do
		grep -qF -- "$a" "$tmp/err" && return 0
	done
	return 1
}

# bad NAME ARGS...: pvtime ARGS must be rejected as bad usage naming NAME
# (NAME may list spellings of one option: "-n|--loops").
bad() {
	local name=$1 rc lines why=
	shift
	cases=$((cases + 1))
	timeout 10 "$P" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	lines=$(wc -l <"$tmp/err")
	if [ "$rc" -eq 124 ]; then
		why="timed out (hang or a measurement started)"
	elif [ "$rc" -ge 128 ]; then
		why="crashed (exit $rc)"
	elif [ "$rc" -ne 2 ]; then
		why="exit $rc, want 2"
	elif [ -s "$tmp/out" ]; then
		why="wrote to stdout"
	elif [ "$lines" -ne 1 ] || [ "$(tail -c1 "$tmp/err" | od -An -c | tr -d ' ')" != '\n' ]; then
		why="$lines lines on stderr, want exactly 1"
	elif ! names "$name"; then
		why="error does not name '$name'"
	fi
	if [ -n "$why" ]; then
		failed=$((failed + 1))
		printf 'FAIL: pvtime'
		printf ' %q' "$@"
		printf ': %s\n' "$why"
		sed 's/^/    stderr: /' "$tmp/err" | head -5
		head -c 300 "$tmp/out" | sed 's/^/    stdout: /'
	fi
}

# num KIND OPT BASE...: the numeric option OPT (appended after the valid
# BASE arguments) with every kind of bad value. KIND letters: u unsigned
# (negative rejected), s signed 64-bit, z zero rejected, k 32-bit (kHz).
num() {
	local kind=$1 opt=$2 name=$2
	shift 2
	case $opt in
	-n|--loops) name="-n|--loops" ;;
	-i|--interval) name="-i|--interval" ;;
	esac
	bad "$name" "$@" "$opt"				# missing value
	bad "$name" "$@" "$opt" abc			# not a number
	bad "$name" "$@" "$opt" 12abc			# trailing junk
	bad "$name" "$@" "$opt" ""			# empty
	bad "$name" "$@" "$opt" 1.5			# not an integer
	bad "$name" "$@" "$opt" " "			# blank
	case $kind in *u*)
		bad "$name" "$@" "$opt" -5
		bad "$name" "$@" "$opt" 18446744073709551616
		bad "$name" "$@" "$opt" 99999999999999999999999999
		;;
	esac
	case $kind in *s*)
		bad "$name" "$@" "$opt" 9223372036854775808
		bad "$name" "$@" "$opt" -9223372036854775809
		;;
	esac
	case $kind in *z*) bad "$name" "$@" "$opt" 0 ;; esac
	case $kind in *k*) bad "$name" "$@" "$opt" 4294967296 ;; esac
}

# choice OPT BASE...: a string option with a fixed set of values.
choice() {
	local opt=$1
	shift
	bad "$opt" "$@" "$opt"
	bad "$opt" "$@" "$opt" bogus
	bad "$opt" "$@" "$opt" ""
}

# advance BASE...: --advance's bad values (off, adaptive or 1..1000000 ns).
advance() {
	bad "--advance" "$@" --advance
	for v in "" bogus Adaptive 0 -5 1.5 12abc 1000001 18446744073709551616 " "; do
		bad "--advance" "$@" --advance "$v"
	done
}

# dur BASE...: --duration's bad values (seconds, a decimal with at most 9
# places, more than 0, within the command's limit).
dur() {
	bad "--duration" "$@" --duration
	for v in "" abc 0 0.0 0.000000000 -1 1.0000000001 1e3 1x 99999999999999999999 . - +; do
		bad "--duration" "$@" --duration "$v"
	done
}

# om BASE...: --format choices, --json with another format, --metrics without a file.
om() {
	choice --format "$@"
	bad "--json|--format" "$@" --json --format openmetrics
	bad "--json|--format" "$@" --format openmetrics --json
	bad "--metrics" "$@" --metrics
	bad "--metrics" "$@" --metrics ""
}

# common CMD...: unknown option, stray argument.
common() {
	bad "--bogus" "$@" --bogus
	bad "--bogus" "$@" --bogus=1
	bad "stray" "$@" stray
}

# ---- top level ----
bad "command" 			# no command at all
bad "bogus" bogus
bad "--bogus" --bogus
bad "calc" calc
bad "bogus" calc bogus
bad "bench" bench
bad "bogus" bench bogus

# ---- calc ----
H=(--host-khz 2596136 --guest-khz 3000000)
common calc scale --base-hz 1 --scaled-hz 1
num uz --base-hz calc scale --scaled-hz 1000000000
num uz --scaled-hz calc scale --base-hz 1000000000
bad "--scaled-hz" calc scale --base-hz 1		# required
common calc read --tsc-timestamp 0 --system-time 0 --mul 1 --shift 0 --tsc 0
for o in --tsc-timestamp --system-time --tsc; do
	num u $o calc read --mul 1 --shift 0
done
num u --mul calc read --tsc-timestamp 0 --system-time 0 --shift 0 --tsc 0
bad "--mul" calc read --tsc-timestamp 0 --system-time 0 --shift 0 --tsc 0 --mul 4294967296
num s --shift calc read --tsc-timestamp 0 --system-time 0 --mul 1 --tsc 0
bad "--shift" calc read --tsc-timestamp 0 --system-time 0 --mul 1 --tsc 0 --shift 64
bad "--shift" calc read --tsc-timestamp 0 --system-time 0 --mul 1 --tsc 0 --shift -64
bad "--tsc" calc read --tsc-timestamp 0 --system-time 0 --mul 1 --shift 0
common calc ratio "${H[@]}"
num uzk --host-khz calc ratio --guest-khz 3000000
num uzk --guest-khz calc ratio --host-khz 2596136
choice --frac-bits calc ratio "${H[@]}"
bad "--frac-bits" calc ratio "${H[@]}" --frac-bits 31
bad "--frac-bits" calc ratio "${H[@]}" --frac-bits 0
common calc guest-tsc --host-tsc 1 --ratio 1
num u --host-tsc calc guest-tsc --ratio 1
num u --ratio calc guest-tsc --host-tsc 1
num u --offset calc guest-tsc --host-tsc 1 --ratio 1
common calc page "${H[@]}"
for o in --tsc-offset --master-tsc --master-ns; do
	num u $o calc page "${H[@]}"
done
num s --kvmclock-offset calc page "${H[@]}"
num uzk --host-khz calc page --guest-khz 3000000
common calc deadline "${H[@]}" --now-tsc 0 --deadline-ns 0
num u --now-tsc calc deadline "${H[@]}" --deadline-ns 0
num u --deadline-ns calc deadline "${H[@]}" --now-tsc 0
num uzk --guest-khz calc deadline --host-khz 2596136 --now-tsc 0 --deadline-ns 0

# ---- tsdrift ----
common tsdrift "${H[@]}"
num uzk --host-khz tsdrift --guest-khz 3000000
num uzk --guest-khz tsdrift --host-khz 2596136
choice --frac-bits tsdrift "${H[@]}"
num u --master-tsc tsdrift "${H[@]}"
num u --duration tsdrift "${H[@]}"
num uz --step tsdrift "${H[@]}"
choice --format tsdrift "${H[@]}"
bad "--json|--format" tsdrift "${H[@]}" --json --format openmetrics
bad "--json|--format" tsdrift "${H[@]}" --format csv --json
bad "--metrics" tsdrift "${H[@]}" --metrics
bad "--metrics" tsdrift "${H[@]}" --metrics ""
bad "--plot" tsdrift "${H[@]}" --plot
bad "--host-khz" tsdrift --guest-khz 3000000		# required

# ---- sim (also reached through timerlat --sim) ----
S=(--algo pvtime "${H[@]}" -n 10)
for sim in "sim" "timerlat --sim"; do
	# shellcheck disable=SC2086
	set -- $sim
	common "$@" "${S[@]}"
	choice --algo "$@" "${H[@]}"
	num uzk --host-khz "$@" --algo pvtime --guest-khz 3000000
	num uzk --guest-khz "$@" --algo pvtime --host-khz 2596136
	choice --frac-bits "$@" "${S[@]}"
	num uz -n "$@" --algo pvtime "${H[@]}"
	num uz -i "$@" "${S[@]}"
	num uz --loops "$@" --algo pvtime "${H[@]}"
	num uz --interval "$@" "${S[@]}"
	num uz --vcpus "$@" "${S[@]}"
	bad "--vcpus" "$@" "${S[@]}" --vcpus 100000
	for o in --uptime --wake-latency --wake-jitter --preempt --seed --resnapshot; do
		num u $o "$@" "${S[@]}"
	done
	choice --hypercall "$@" "${S[@]}"
	bad "--ntp-ppm" "$@" "${S[@]}" --ntp-ppm
	for v in junk "" 1.1234567 1.2.3 1e3 12x -x 1000000 -1000000 \
		 99999999999999999999 -99999999999999999999 . - +; do
		bad "--ntp-ppm" "$@" "${S[@]}" --ntp-ppm "$v"
	done
	bad "--plot" "$@" "${S[@]}" --plot
	bad "--algo" "$@" "${H[@]}"			# required
	dur "$@" --algo pvtime "${H[@]}"
	bad "--duration" "$@" "${S[@]}" --duration 1	# and -n
	bad "--duration" "$@" --algo pvtime "${H[@]}" --duration 315360001
	om "$@" "${S[@]}"
done

# ---- timerlat (never a valid full invocation: no measurement starts) ----
common timerlat -n 1 -i 1000
num uz -n timerlat -i 1000
num uz -i timerlat -n 1
num uz --loops timerlat -i 1000
num uz --interval timerlat -n 1
num u --fifo timerlat -n 1
bad "--fifo" timerlat -n 1 --fifo 100
num u --cpu timerlat -n 1
bad "--cpu" timerlat -n 1 --cpu 100000
bad "--plot" timerlat -n 1 --plot
dur timerlat
bad "--duration" timerlat -n 5 --duration 1
bad "--duration" timerlat --duration 1 -n 5
bad "--duration" timerlat --duration 31622401
om timerlat -n 1

# ---- vmm (the same; also through timerlat --vmm) ----
for vmm in "vmm" "timerlat --vmm"; do
	# shellcheck disable=SC2086
	set -- $vmm
	common "$@" -n 1
	choice --algo "$@" -n 1
	num uz --vcpus "$@" -n 1
	bad "--vcpus" "$@" -n 1 --vcpus 100000
	num uz -n "$@" -i 100000
	num uz -i "$@" -n 1
	choice --clock "$@" -n 1
	num uzk --advertise-khz "$@" -n 1 --clock xen
	num u --uptime "$@" -n 1
	choice --api "$@" -n 1
	num u --tsc-offset "$@" -n 1
	num u --tsc-offset-step "$@" -n 1
	choice --scenario "$@" -n 1
	choice --guest "$@" -n 1
	choice --irq "$@" -n 1 --guest busy
	bad "--irq" "$@" -n 1 --irq user
	advance "$@" -n 1
	choice --bad "$@" -n 1 --scenario bad
	num uz --burst "$@" -n 1
	num u --fifo "$@" -n 1
	bad "--fifo" "$@" -n 1 --fifo 100
	num u --watchdog "$@" -n 1	# 0 is valid (no watchdog)
	bad "--plot" "$@" -n 1 --plot
	dur "$@"
	bad "--duration" "$@" -n 5 --duration 1
	bad "--duration" "$@" --duration 86401
	bad "--duration" "$@" --duration 1 --scenario clockcheck
	om "$@" -n 1
	bad "--scenario|OpenMetrics" "$@" -n 1 --scenario clockcheck --format openmetrics
done
bad "--format|OpenMetrics" vmm -n 1 --format openmetrics
# --scenario hostile|soak: --seed (any u64), --vms (soak, 1..64), --duration instead of -n.
for scn in hostile soak; do
	num u --seed vmm --scenario $scn
	dur vmm --scenario $scn
	bad "--duration" vmm --scenario $scn --duration 86401
	bad "-n" vmm --scenario $scn -n 5
	bad "--plot" vmm --scenario $scn --plot x.svg
	bad "--scenario" timerlat --vmm --scenario $scn
done
num uz --vms vmm --scenario soak
bad "--vms" vmm --scenario soak --vms 65
bad "--vms" vmm --scenario hostile --vms 2
bad "--vms" vmm -n 1 --vms 2
bad "--seed" vmm -n 1 --seed 1
bad "--vcpus" vmm --scenario hostile --vcpus 1
bad "--metrics|OpenMetrics" vmm -n 1 --metrics x.prom

# ---- bench ----
common bench conversion --iterations 1
num uz --iterations bench conversion --repeat 1
num uz --repeat bench conversion --iterations 1
bad "--repeat" bench conversion --iterations 1 --repeat 65
num u --callgrind-iterations bench conversion --op empty
choice --op bench conversion --callgrind-iterations 1
common bench timer --iterations 100
num uz --iterations bench timer
bad "--iterations" bench timer --iterations 99
common bench sim -n 1
num uz -n bench sim
num uz --loops bench sim
common bench vmm -n 1
num uz -n bench vmm -i 100000
num uz -i bench vmm -n 1
num uz --repeat bench vmm -n 1
num u --fifo bench vmm -n 1
bad "--fifo" bench vmm -n 1 --fifo 100
num uz --vcpus bench vmm -n 1
bad "--vcpus" bench vmm -n 1 --vcpus 100000
choice --guest bench vmm -n 1
choice --irq bench vmm -n 1 --guest busy
bad "--irq" bench vmm -n 1 --irq chip
advance bench vmm -n 1
dur bench vmm
bad "--duration" bench vmm -n 5 --duration 1
bad "--duration" bench vmm --duration 3601
om bench vmm -n 1

# ---- inspect ----
common inspect
num uzk --khz inspect

# ---- demo ----
common demo -n 1 --no-kvm
num uz -n demo --no-kvm
num uz --loops demo --no-kvm
num uzk --host-khz demo -n 1 --no-kvm
num uz --kvm-loops demo -n 1
bad "--out" demo -n 1 --no-kvm --out
bad "--out" demo -n 1 --no-kvm --out ""
choice --guest demo -n 1 --no-kvm
choice --irq demo -n 1 --no-kvm --guest busy
bad "--irq" demo -n 1 --no-kvm --irq user
advance demo -n 1 --no-kvm

# ---- the parser's own forms: --name=VALUE, -nVALUE, flags with a value, "--" ----
bad "-n|--loops" sim "${H[@]}" --algo pvtime --loops=abc
bad "-n|--loops" sim "${H[@]}" --algo pvtime -nabc
bad "-n|--loops" sim "${H[@]}" --algo pvtime --loops=
bad "--json" calc ratio "${H[@]}" --json=1
bad "--quiet" sim "${S[@]}" --quiet=yes
bad "stray" calc ratio "${H[@]}" -- stray
bad "--loo" sim "${S[@]}" --loo 5			# no abbreviations
bad "-x" sim "${S[@]}" -x

# ---- combinations: inconsistent options, and --json never turns an
# error into JSON on stdout ----
bad "--op" bench conversion --op empty
bad "--bad" vmm -n 1 --scenario bad
bad "--bad" vmm -n 1 --bad bad-gpa --scenario timerlat
bad "--vcpus" vmm -n 1 --vcpus 1 --scenario cross
bad "--vmm" timerlat --sim --vmm
bad "--sim" timerlat --vmm --sim -n 1
bad "--guest-khz" sim --algo pvtime --host-khz 4294967295 --guest-khz 1 -n 1
bad "--guest-khz" calc page --host-khz 1 --guest-khz 4294967295
bad "--guest-khz" calc deadline --host-khz 1 --guest-khz 4294967295 --now-tsc 0 --deadline-ns 5
bad "--tsc-timestamp" calc read --json
bad "--base-hz" calc scale --json --base-hz 0 --scaled-hz 1
bad "--step" tsdrift --json "${H[@]}" --step 0
bad "--algo" sim --json "${H[@]}" --algo x
bad "-n|--loops" timerlat --json -n 0
bad "--bogus" vmm --json --bogus
bad "--iterations" bench conversion --json --iterations 0
bad "--iterations" bench timer --json --iterations 0
bad "-n|--loops" bench sim --json -n 0
bad "-n|--loops" bench vmm --json -n 0
bad "-n|--loops" demo --json -n 0 --no-kvm

echo "cli_badinput: $cases cases, $failed failed"
[ "$failed" -eq 0 ]

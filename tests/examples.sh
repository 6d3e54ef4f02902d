#!/usr/bin/env bash
# examples.sh BUILD_DIR SOURCE_DIR CC [CXX]: installs the library into a temporary
# prefix and builds every example against that copy exactly as examples/README.md
# says, with CC (or CXX for .cpp) in the place of cc:
#     cc examples/NAME.c $(pkg-config --cflags --libs pvtime)
# That links the installed libpvtime.so (pvtime.pc sets no rpath), so the runs
# get LD_LIBRARY_PATH=$(pkg-config --variable=libdir pvtime). Each example then
# runs with no arguments twice (simulation: exit 0 and the same bytes both
# times) and with --real (the host's TSC and timerfds; x86-64 only).
# The examples must also compile warning-free: -Wall -Wextra -pedantic -Werror.
set -euo pipefail
shopt -s nullglob
build=$1 src=$2 cc=$3 cxx=${4:-}
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config not installed"; exit 77; }
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name pvtime.pc)")
export PKG_CONFIG_PATH
LD_LIBRARY_PATH=$(pkg-config --variable=libdir pvtime)
export LD_LIBRARY_PATH
# A sanitizer build's libpvtime.so needs the runtime in the executable.
sanitize=$(sed -n 's/^PVT_SANITIZE:STRING=//p' "$build/CMakeCache.txt")
extra=${sanitize:+-fsanitize=$sanitize}
real=1
[ "$(uname -m)" = x86_64 ] || { real=; echo "# not x86-64: no vDSO host clock, --real runs skipped"; }

cd "$src"
status=0
fail() { echo "FAIL: $*"; status=1; }
for ex in examples/*.c examples/*.cpp; do
	name=$(basename "${ex%.*}")
	bin=$prefix/$name
	case $ex in
	*.cpp)
		if [ -z "$cxx" ] || ! command -v "$cxx" >/dev/null; then
			echo "# $ex: no C++ compiler, skipped"
			continue
		fi
		compiler=$cxx std=-std=c++17 ;;
	*)	compiler=$cc std=-std=c11 ;;
	esac
	echo "== $compiler $ex \$(pkg-config --cflags --libs pvtime)"
	# shellcheck disable=SC2046,SC2086 # pkg-config's output is a word list
	"$compiler" $extra -o "$bin" "$ex" $(pkg-config --cflags --libs pvtime) ||
		{ fail "$ex does not build against the installed library"; continue; }
	# shellcheck disable=SC2046,SC2086
	"$compiler" $extra $std -Wall -Wextra -pedantic -Werror -fsyntax-only "$ex" \
		$(pkg-config --cflags pvtime) || fail "$ex has warnings"
	deps=$(ldd "$bin")
	grep -q "$prefix/.*libpvtime\.so" <<<"$deps" ||
		{ echo "$deps"; fail "$name does not load the installed libpvtime.so"; }
	if ! "$bin" >"$bin.out1" 2>"$bin.err"; then
		cat "$bin.out1" "$bin.err"
		fail "$name (simulation) exited non-zero"
		continue
	fi
	cat "$bin.out1"
	"$bin" >"$bin.out2" 2>"$bin.err" || { cat "$bin.err"; fail "$name (simulation, 2nd run) exited non-zero"; }
	cmp -s "$bin.out1" "$bin.out2" ||
		{ diff "$bin.out1" "$bin.out2" || true; fail "$name: two simulated runs differ"; }
	if [ -n "$real" ]; then
		echo "-- $name --real"
		"$bin" --real || fail "$name --real exited non-zero"
	fi
done
# The static library as examples/README.md links it: same program, same output.
ex=examples/eventloop.c
echo "== $cc $ex \$(pkg-config --cflags pvtime) \$(pkg-config --variable=libdir pvtime)/libpvtime.a -lpthread"
# shellcheck disable=SC2046,SC2086
"$cc" $extra -o "$prefix/eventloop-static" "$ex" $(pkg-config --cflags pvtime) \
	"$(pkg-config --variable=libdir pvtime)/libpvtime.a" -lpthread || fail "$ex does not link statically"
if [ -x "$prefix/eventloop-static" ]; then
	grep -q libpvtime <<<"$(ldd "$prefix/eventloop-static")" && fail "eventloop-static loads libpvtime.so"
	"$prefix/eventloop-static" >"$prefix/eventloop-static.out" || fail "eventloop (static) exited non-zero"
	cmp -s "$prefix/eventloop.out1" "$prefix/eventloop-static.out" ||
		fail "eventloop: the static and the shared build print different output"
fi
[ $status = 0 ] && echo "PASS: every example builds against the installed library and runs"
exit $status

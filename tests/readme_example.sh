#!/usr/bin/env bash
# readme_example.sh TOP LIBPVTIME_A CC: the README's library example (between
# the "readme-example" markers) is a complete program: extract it, compile it
# with warnings as errors against the public headers and the built static
# library, and run it (it arms a 1 ms Xen singleshot timer on the vDSO host
# clock and a timerfd, and exits 0 once the expiry was taken).
set -euo pipefail
top=$1 lib=$2 cc=$3
# The example is written against the engine API with pvt_xen_vcpu_take().
if ! grep -Eq 'pvt_xen_vcpu_take[[:space:]]*\(' "$top/include/pvtime/xentimer.h"; then
	echo "SKIP: include/pvtime/xentimer.h predates the engine API the README example uses"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/<!-- readme-example:begin -->/ { on = 1; next }
     /<!-- readme-example:end -->/ { on = 0 }
     on && /^```/ { code = !code; next }
     on && code' "$top/README.md" >"$tmp/example.c"
[ -s "$tmp/example.c" ] || { echo "FAIL: no example between the readme-example markers"; exit 1; }
grep -q 'int main' "$tmp/example.c" || { echo "FAIL: the README example is not a whole program"; exit 1; }
build=$(dirname "$lib")
sanitize=$(sed -n 's/^PVT_SANITIZE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
extra=${sanitize:+-fsanitize=$sanitize}
if ! "$cc" -std=gnu11 -Wall -Wextra -Werror $extra -I"$top/include" \
	-o "$tmp/example" "$tmp/example.c" "$lib" -lpthread 2>"$tmp/cc.log"; then
	echo "FAIL: the README example does not compile:"
	cat "$tmp/cc.log"
	exit 1
fi
case $(uname -m) in
x86_64) ;;
*) echo "PASS (compiled; not run: the vDSO host clock needs x86-64)"; exit 0 ;;
esac
if ! timeout 20 "$tmp/example" >"$tmp/out" 2>&1; then
	echo "FAIL: the README example did not exit 0:"
	cat "$tmp/out"
	exit 1
fi
cat "$tmp/out"
echo "PASS: the README example compiles and runs"

#!/usr/bin/env bash
# install_pkgconfig.sh BUILD_DIR CC: installs into a temporary prefix and builds a
# consumer against it through pkg-config, statically and dynamically.
set -euo pipefail
build=$1 cc=$2
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config not installed"; exit 77; }
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name pvtime.pc)")
test -f "$prefix/share/man/man1/pvtime.1" || { echo "FAIL: man page not installed"; exit 1; }
test -f "$prefix/share/man/man3/libpvtime.3" || { echo "FAIL: libpvtime(3) not installed"; exit 1; }
cat > "$prefix/consumer.c" <<'C'
#include <pvtime/guestclock.h>
#include <stdio.h>
int main(void)
{
	uint32_t mul;
	int8_t shift;
	if (pvt_time_scale(1000000000ull, 2596136000ull, &mul, &shift))
		return 1;
	printf("mul=%u shift=%d\n", mul, shift);
	return !(mul == 3308738291u && shift == -1);
}
C
# Sanitizer builds need the runtime at link time; plain flags otherwise.
sanitize=$(sed -n 's/^PVT_SANITIZE:STRING=//p' "$build/CMakeCache.txt")
extra=${sanitize:+-fsanitize=$sanitize}
"$cc" $extra -o "$prefix/consumer-dyn" "$prefix/consumer.c" $(pkg-config --cflags --libs pvtime)
LD_LIBRARY_PATH=$(pkg-config --variable=libdir pvtime) "$prefix/consumer-dyn"
"$cc" $extra -o "$prefix/consumer-static" "$prefix/consumer.c" $(pkg-config --cflags pvtime) \
	"$(pkg-config --variable=libdir pvtime)/libpvtime.a" -lpthread
"$prefix/consumer-static"
echo "PASS: installed library, headers, pvtime.pc and man page work"

#!/usr/bin/env bash
# install_pkgconfig.sh BUILD_DIR CC [CXX]: installs into a temporary prefix and
# builds a consumer against it through pkg-config and through CMake's
# find_package(pvtime), statically and dynamically (and as C++ when a C++
# compiler is given: the headers declare C linkage).
set -euo pipefail
build=$1 cc=$2 cxx=${3:-}
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
if [ -n "$cxx" ] && command -v "$cxx" >/dev/null; then
	cp "$prefix/consumer.c" "$prefix/consumer.cc"
	"$cxx" $extra -o "$prefix/consumer-cxx" "$prefix/consumer.cc" $(pkg-config --cflags --libs pvtime)
	LD_LIBRARY_PATH=$(pkg-config --variable=libdir pvtime) "$prefix/consumer-cxx"
fi

# find_package(pvtime): pvtime::pvtime (shared) and pvtime::pvtime_static.
mkdir -p "$prefix/cmake-consumer"
cp "$prefix/consumer.c" "$prefix/cmake-consumer/consumer.c"
cat > "$prefix/cmake-consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(consumer LANGUAGES C)
find_package(pvtime 0.1 REQUIRED)
add_executable(consumer-dyn consumer.c)
target_link_libraries(consumer-dyn PRIVATE pvtime::pvtime)
add_executable(consumer-static consumer.c)
target_link_libraries(consumer-static PRIVATE pvtime::pvtime_static)
CMAKE
cmake -S "$prefix/cmake-consumer" -B "$prefix/cmake-build" -DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" \
	>"$prefix/cmake.log" 2>&1 ||
	{ cat "$prefix/cmake.log"; echo "FAIL: find_package(pvtime) did not configure"; exit 1; }
cmake --build "$prefix/cmake-build" >"$prefix/cmake.log" 2>&1 ||
	{ cat "$prefix/cmake.log"; echo "FAIL: the find_package consumer did not build"; exit 1; }
"$prefix/cmake-build/consumer-dyn"
"$prefix/cmake-build/consumer-static"
# The dynamic one really uses the installed libpvtime.so.N (via its RUNPATH);
# the static one has the library inside. (Outputs are captured first: under
# pipefail, grep -q closing the pipe early would fail the producer.)
deps=$(ldd "$prefix/cmake-build/consumer-dyn")
grep -q "$prefix/.*libpvtime\.so" <<<"$deps" ||
	{ echo "$deps"; echo "FAIL: consumer-dyn does not load the installed libpvtime.so"; exit 1; }
deps=$(ldd "$prefix/cmake-build/consumer-static")
syms=$(nm "$prefix/cmake-build/consumer-static")
if grep -q libpvtime <<<"$deps" || ! grep -q ' T pvt_time_scale$' <<<"$syms"; then
	echo "FAIL: consumer-static is not linked with libpvtime.a"; exit 1
fi
echo "PASS: installed library, headers, pvtime.pc, pvtimeConfig.cmake and man page work"

#!/usr/bin/env bash
# Builds pvtime in several ways and runs every test:
#   build/       gcc, -Werror, all tests (KVM tests run where /dev/kvm works, else skip),
#                then the ABI check against abi/libpvtime.abi
#   build-release-{gcc,clang}/  Release, -Werror, library and tools (no tests run)
#   build-asan/  clang, AddressSanitizer + UndefinedBehaviorSanitizer, all tests
#   build-tsan/  clang, ThreadSanitizer, the concurrency tests (label tsan)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1
status=0

echo "== gcc -Werror build, all tests"
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc -DPVT_WERROR=ON
(cd build && ctest --output-on-failure) || status=1

echo "== ABI of libpvtime.so against abi/libpvtime.abi"
scripts/abi-check.sh build || status=1

# Release (-O3) warns about things -O2 does not see: build it with both compilers.
for cc in gcc clang; do
	echo "== $cc Release -Werror build, library and tools"
	scripts/build.sh build-release-$cc -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=$cc \
		-DPVT_WERROR=ON -DPVT_BUILD_TESTS=OFF || status=1
done

echo "== clang ASan+UBSan build, all tests"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	-DPVT_SANITIZE=address,undefined -DPVT_WERROR=ON
(cd build-asan && ctest --output-on-failure) || status=1

echo "== clang TSan build, concurrency tests"
scripts/build.sh build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
	-DPVT_SANITIZE=thread -DPVT_WERROR=ON
(cd build-tsan && ctest --output-on-failure -L tsan) || status=1

exit $status

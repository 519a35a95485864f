#!/usr/bin/env bash
# Builds Tafel and runs every test: a release build with gcc (all labels, browser tests
# included), a clang AddressSanitizer + UndefinedBehaviorSanitizer build (unit, checkasm,
# fuzz-replay, integration), a clang ThreadSanitizer server under the three-browser room test,
# then a benchmark smoke run. Every build is -Wall -Wextra -Werror.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${TAFEL_JOBS:-2}

echo "== release build (gcc) =="
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc >/dev/null
cmake --build build/release -j"$jobs"
ctest --test-dir build/release --output-on-failure -j"$jobs"

echo "== sanitizer build (clang, ASan + UBSan) =="
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DTAFEL_SANITIZE=ON >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j"$jobs" -L 'unit|checkasm|fuzz-replay|integration'

echo "== thread sanitizer (clang TSan): media workers and I/O loop with three browsers =="
cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build build/tsan -j"$jobs" --target tafel tafel-relay
TSAN_OPTIONS=halt_on_error=1 TAFEL_E2E_ONLY=tests/e2e/room.test.js \
  tests/e2e/run.sh build/tsan/tafel build/tsan/e2e.work
if grep -q "ThreadSanitizer" build/tsan/e2e.work/server.log; then
  echo "TSan reported a data race in the server:"; grep -A20 ThreadSanitizer build/tsan/e2e.work/server.log
  exit 1
fi

echo "== bench smoke (release) =="
bench/run.sh --quick build/release

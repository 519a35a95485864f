#!/usr/bin/env bash
# Builds Tafel twice and runs every test: a release build with gcc (all labels) and a
# clang AddressSanitizer + UndefinedBehaviorSanitizer build (unit, checkasm, fuzz-replay,
# integration). Both builds are -Wall -Wextra -Werror.
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

echo "== bench smoke (release) =="
bench/run.sh --quick build/release

#!/usr/bin/env bash
# Runs every Tafel benchmark against a build folder and prints Markdown tables.
#   bench/run.sh [--quick] [BUILD_DIR]     (default build dir: build)
# --quick is the CI smoke mode: tiny iteration counts, checks the plumbing, not the figures.
set -euo pipefail
quick=""
if [ "${1:-}" = "--quick" ]; then quick="--quick"; shift; fi
build=${1:-build}
work="$build/bench-work"
mkdir -p "$work"

echo "## Tafel benchmarks ($(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo
echo "### Scaler vs libswscale"
echo
"$build/bench/bench_scale" $quick
echo
"$build/bench/bench_pipeline" "$build/tafel" "$work" $quick
echo
"$build/bench/bench_room" $quick
echo
"$build/bench/bench_opus" $quick
echo
"$build/bench/bench_tier_preset" $quick
echo
"$build/bench/bench_roi" $quick
echo
"$build/bench/bench_screen" $quick
echo
echo "### WebRTC transport"
echo
"$build/bench/bench_rtc" $quick
echo
echo "### SRTP (libsrtp2)"
echo
"$build/bench/bench_srtp" $quick

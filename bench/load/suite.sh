#!/usr/bin/env bash
# suite.sh — the operators' full run of tafel-load, as recorded in docs/benchmarks.md
# ("Operators' suite"): steady 30-participant rooms with shared tier encoders and with one encoder
# per receiver (5, 15, 30), the capacity ramp, the weak-link profiles for one pupil in a
# 30-participant room, and a soak. Each run writes its own results folder under OUT.
#   bench/load/suite.sh [BUILD_DIR [OUT]]     (defaults: build, BUILD_DIR/load-results/suite)
# WEAK_N=5 runs the weak-link profiles in 5-participant rooms (for a machine that cannot hold a
# 30-participant room in real time; the pupil's own link is what these figures measure).
# About 17 minutes. Figures on a shared machine wander: compare rows of one suite run.
set -uo pipefail
build=${1:-build}
out=${2:-$build/load-results/suite}
load="$build/tafel-load"
mkdir -p "$out"
run() { # name, args...
  local name=$1; shift
  echo "== $name: tafel-load $*" >&2
  "$load" --quiet --out "$out/$name" "$@" | tail -1 >&2
}
for n in 5 15 30; do
  run "shared-$n" --rooms 1 --participants "$n" --duration 30
  run "permember-$n" --rooms 1 --participants "$n" --duration 30 \
    --server-arg --bench-per-member-encoders --server-arg on
done
run ramp --participants 30 --ramp --ramp-step 20 --max-rooms 6
for p in dsl 3g step tunnel cellular; do
  d=60; [ "$p" = step ] && d=70
  run "weak-$p" --rooms 1 --participants "${WEAK_N:-30}" --relay-profile "$p" --relay-who 1 \
    --duration "$d"
done
run soak --rooms 1 --participants 10 --soak 180
echo "suite: results in $out" >&2

#!/usr/bin/env bash
# suite.sh — the operators' full run of tafel-load, as recorded in docs/benchmarks.md
# ("Operators' suite"): steady 30-participant rooms with shared tier encoders and with one encoder
# per receiver (5, 15, 30), Janus VideoRoom as the SFU for the same rooms (janus-5/15/30), the
# capacity ramp, the weak-link profiles for one pupil in a 30-participant room, and a soak. Each
# run writes its own results folder under OUT.
#   bench/load/suite.sh [BUILD_DIR [OUT]]     (defaults: build, BUILD_DIR/load-results/suite)
# Every room is a lesson: the first TALKERS (default 3) participants speak, the others listen with
# a quiet microphone; shared-30-alltalk is the same 30-participant room with everybody speaking.
# WEAK_N=5 runs the weak-link profiles in 5-participant rooms (for a machine that cannot hold a
# 30-participant room in real time; the pupil's own link is what these figures measure).
# About 20 minutes. Figures on a shared machine wander: compare rows of one suite run.
set -uo pipefail
build=${1:-build}
out=${2:-$build/load-results/suite}
load="$build/tafel-load"
talk=(--talkers "${TALKERS:-3}")
mkdir -p "$out"
run() { # name, args...
  local name=$1; shift
  echo "== $name: tafel-load $*" >&2
  "$load" --quiet --out "$out/$name" "$@" | tail -1 >&2
}
for n in 5 15 30; do
  run "shared-$n" --rooms 1 --participants "$n" --duration 30 "${talk[@]}"
  run "permember-$n" --rooms 1 --participants "$n" --duration 30 "${talk[@]}" \
    --server-arg --bench-per-member-encoders --server-arg on
done
run shared-30-alltalk --rooms 1 --participants 30 --duration 30
# The SFU side: Janus VideoRoom driven by the same generator (bench/load/janus.sh: its own
# loopback-only Janus in a private network namespace), same clips and room sizes.
if command -v janus > /dev/null 2>&1; then
  for n in 5 15 30; do
    # Janus sends no `uplink` message: its senders send, throughout, the clip size most of
    # Tafel's senders ended on in shared-N (0 = 320x180, 1 = 160x90), so both sides get the same
    # uplink. Janus has no latency stamps to read: its figures are CPU and downstream bitrate.
    clip=$(grep -o "senders' uplink at the end: [0-9]* on [0-9x]* ([0-9]* kbit/s), [0-9]* on" \
      "$out/shared-$n/report.md" 2>/dev/null | awk '{print ($11 > $6) ? 1 : 0; exit}')
    echo "== janus-$n: bench/load/janus.sh --participants $n --uplink-clip ${clip:-0}" >&2
    bash "$(dirname "$0")/janus.sh" "$build" "$out/janus-$n" --quiet --rooms 1 --participants "$n" \
      --duration 30 "${talk[@]}" --uplink-clip "${clip:-0}" | grep 'janus:' >&2
  done
else
  echo "== janus-5/15/30: skipped, janus is not installed (deploy/install-deps.sh --bench)" >&2
fi
run ramp --participants 30 --ramp --ramp-step 20 --max-rooms 6 "${talk[@]}"
for p in dsl 3g step tunnel cellular; do
  d=60; [ "$p" = step ] && d=70
  run "weak-$p" --rooms 1 --participants "${WEAK_N:-30}" --relay-profile "$p" --relay-who 1 \
    --duration "$d" "${talk[@]}"
done
run soak --rooms 1 --participants 10 --soak 180 "${talk[@]}"
echo "suite: results in $out" >&2

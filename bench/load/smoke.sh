#!/usr/bin/env bash
# smoke.sh — CI's smoke run of tafel-load (CTest load_smoke): starts tafel and tafel-relay on
# 127.0.0.1 with free ports, 2 rooms x 4 participants for 20 s, every participant through the
# relay's 3G profile, and asserts the plumbing only (tafel-load --check: every receiver connected
# and decoded frames, frame stamps were read; report.md and report.json written). No timing
# thresholds: those live in docs/benchmarks.md.
#   smoke.sh TAFEL_LOAD WORKDIR
set -euo pipefail
load=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
"$load" --rooms 2 --participants 4 --duration 20 --relay-profile 3g --out "$work" --check \
  --join-interval-ms 50 --quiet
for f in report.md report.json series.dat; do
  test -s "$work/$f" || { echo "smoke: $f missing"; exit 1; }
done
grep -q '"stamps_read": [1-9]' "$work/report.json" || { echo "smoke: no stamps in report.json"; exit 1; }
echo "smoke: ok"

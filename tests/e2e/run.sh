#!/usr/bin/env bash
# Runs the browser end-to-end tests: a private network namespace (so no packet leaves loopback,
# TOOLCHAIN-NOTES), generated fake camera/microphone files, `tafel serve` on 127.0.0.1, then
# node's test runner over tests/e2e/*.test.js driving Debian's Chromium with playwright-core.
#   tests/e2e/run.sh TAFEL_BIN WORK_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tafel=$(realpath "$1")
work=$(realpath -m "$2")
mkdir -p "$work"

if [ -z "${TAFEL_IN_NETNS:-}" ]; then
  # npm needs the network, so it runs before entering the private namespace.
  if [ ! -d "$here/node_modules/playwright-core" ]; then
    echo "e2e: installing playwright-core from npm"
    (cd "$here" && npm ci --no-audit --no-fund)
  fi
  command -v chromium >/dev/null || { echo "e2e: chromium is not installed (deploy/install-deps.sh)"; exit 1; }
  exec unshare -n env TAFEL_IN_NETNS=1 bash "$0" "$@"
fi
ip link set lo up

# Fake devices: a moving test pattern (y4m gives 30 fps) and a 440 Hz tone; and for the room
# tests one solid colour and one tone per participant.
if [ ! -f "$work/camera.y4m" ]; then
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=640x360:rate=30" -t 3 -pix_fmt yuv420p "$work/camera.y4m"
  ffmpeg -v error -y -f lavfi -i "sine=frequency=440:sample_rate=48000" -t 3 -ac 1 "$work/microphone.wav"
  for p in red:440 lime:660 blue:880; do
    c=${p%%:*} f=${p##*:}
    ffmpeg -v error -y -f lavfi -i "color=c=$c:size=640x360:rate=30" -t 2 -pix_fmt yuv420p "$work/$c.y4m"
    ffmpeg -v error -y -f lavfi -i "sine=frequency=$f:sample_rate=48000" -t 3 -ac 1 "$work/$c.wav"
  done
fi
export TAFEL_MEDIA_DIR="$work"

http_port=18443
media_port=18444
"$tafel" serve --tls off --http-port $http_port --media-port $media_port \
  --data-dir "$work/data" --log-level 2 >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null && break
  sleep 0.1
done

export TAFEL_URL="http://127.0.0.1:$http_port" TAFEL_MEDIA_PORT=$media_port
export TAFEL_BIN="$tafel" # tests that start their own server (accounts: auth on)
[ -x "$(dirname "$tafel")/tafel-relay" ] && export TAFEL_RELAY="$(dirname "$tafel")/tafel-relay"
export TAFEL_FAKE_VIDEO="$work/camera.y4m" TAFEL_FAKE_AUDIO="$work/microphone.wav"
status=0
ran=$(echo ${TAFEL_E2E_ONLY:-"$here"/*.test.js}) # the test files, glob expanded
touch "$work/.run-start" # screenshots newer than this are this run's
node --test --test-concurrency=1 $ran || status=$?
# The teachers' guides' pictures: checked against the tests, this run's copied to $work/guide/.
TAFEL_E2E_RAN="$ran" TAFEL_E2E_WORK="$work" TAFEL_E2E_STAMP="$work/.run-start" \
  node --test "$here/guide-images.js" || status=$?
kill -INT $server
wait $server || true
trap - EXIT
if [ $status -ne 0 ]; then
  echo "--- server log ---"
  tail -50 "$work/server.log"
fi
exit $status

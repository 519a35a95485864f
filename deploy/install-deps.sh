#!/usr/bin/env bash
# Installs every Debian 12 package Tafel's build, tests and benchmarks need. Idempotent and
# non-interactive; fetches nothing but Debian packages.
#   deploy/install-deps.sh [--bench]
# --bench adds what only the operators' suite needs: Janus VideoRoom, the SFU it measures Tafel
# against (bench/load/janus.sh runs its own loopback-only instance; the package's system service
# is switched off).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libavcodec-dev libavformat-dev libavfilter-dev libswscale-dev libswresample-dev libavutil-dev
  libx264-dev libopus-dev libvpx-dev
  libuv1-dev libsrtp2-dev libssl-dev libwebsockets-dev libcjson-dev libsqlite3-dev
  libargon2-dev
  libldap-dev libcjose-dev libjansson-dev slapd ldap-utils openssl
  libcmocka-dev zlib1g-dev
  ffmpeg valgrind time
  gnuplot-nox
  chromium iproute2 util-linux curl
  fonts-noto-color-emoji
)
[ "${1:-}" = "--bench" ] && PKGS+=(janus)
# The browser tests drive Chromium with npm's playwright-core; Node.js comes from Debian when
# the machine has none of its own.
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# slapd: the LDAP tests start their own slapd with a generated config; the package must not
# configure (or keep running) a system directory.
if printf '%s\n' "${missing[@]}" | grep -qx slapd; then
  echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# A package-started system slapd is not needed by anything (the tests run their own).
# Nor is a package-started Janus (it would listen on every interface): janus.sh starts its own.
for svc in slapd janus; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q "$svc" 2>/dev/null; then
    $SUDO systemctl disable --now "$svc" || true
  fi
done

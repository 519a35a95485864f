#!/usr/bin/env bash
# janus.sh — runs tafel-load against Janus VideoRoom (Debian's `janus`) for the SFU side of the
# operators' suite: in a private network namespace it writes a fresh Janus configuration into the
# results folder, starts Janus (HTTP transport on 127.0.0.1 only, admin API off, videoroom the only
# plugin, no other transport, logger or event handler, ICE lite, half trickle, no STUN/TURN), runs
# `tafel-load --janus` with its pid for the CPU figures, and always stops Janus again (trap). It
# does not install Janus or touch /etc/janus.
# Debugging: JANUS_DEBUG_LEVEL=5 JANUS_NICE_DEBUG=true (into janus.log),
# TAFEL_LOAD_JANUS_DEBUG=1 (tafel-load prints every event batch).
#   bench/load/janus.sh BUILD_DIR OUT [tafel-load options...]     e.g. --participants 15
# Exits 77 (skip) when janus is not installed.
set -uo pipefail
build=${1:?usage: janus.sh BUILD_DIR OUT [tafel-load options]}
out=${2:?usage: janus.sh BUILD_DIR OUT [tafel-load options]}
shift 2
JANUS=${JANUS:-$(command -v janus || true)}
if [ -z "$JANUS" ]; then
  echo "janus.sh: janus is not installed (deploy/install-deps.sh --bench): skipped" >&2
  exit 77
fi
# Janus gathers ICE candidates on every interface that is up *except* loopback ones (ice.c skips
# IFF_LOOPBACK), so `ice_enforce_list = "lo"` alone leaves it on the machine's real addresses. The
# run therefore happens in a private network namespace (like the browser tests): only lo, plus a
# veth pair whose one end carries 10.254.0.1/32 for Janus's candidates and the generator's sockets
# (127.0.0.2 on the veth does not work: libnice's replies to 127.0.0.1 fail with EINVAL). The pair
# has no route anywhere: nothing in the namespace can reach another host.
if [ -z "${TAFEL_JANUS_NETNS:-}" ]; then
  userns=""; [ "$(id -u)" -eq 0 ] || userns="-r"
  TAFEL_JANUS_NETNS=1 exec unshare $userns -n "$0" "$build" "$out" "$@"
fi
ip link set lo up
ip link add tlj0 type veth peer name tlj1 && ip addr add 10.254.0.1/32 dev tlj0 &&
  ip link set tlj1 up && ip link set tlj0 up ||
  { echo "janus.sh: cannot set up the namespace's veth pair" >&2; exit 2; }
for _ in $(seq 50); do ip -br link show tlj0 | grep -q LOWER_UP && break; sleep 0.1; done
libdir=$(dirname "$(dpkg -L janus 2>/dev/null | grep -m1 '/janus/plugins/libjanus_videoroom.so$')" 2>/dev/null)
libdir=${libdir%/plugins}
[ -d "$libdir/plugins" ] || libdir=/usr/lib/x86_64-linux-gnu/janus
mkdir -p "$out"
out=$(cd "$out" && pwd)
conf="$out/janus-conf"
mkdir -p "$conf"

# A free TCP port on loopback for the HTTP API.
port=""
for _ in $(seq 50); do
  p=$((20000 + RANDOM % 20000))
  if ! ss -Hltn "sport = :$p" | grep -q .; then port=$p; break; fi
done
[ -n "$port" ] || { echo "janus.sh: no free port" >&2; exit 2; }

# Everything but what the run needs is disabled: listed by file name, as Janus expects.
others() { # folder, the one to keep
  (cd "$1" && ls lib*.so 2>/dev/null) | grep -vx "${2:-none}" | paste -sd, -
}
cat > "$conf/janus.jcfg" <<EOF
general: {
	configs_folder = "$conf"
	plugins_folder = "$libdir/plugins"
	transports_folder = "$libdir/transports"
	events_folder = "$libdir/events"
	loggers_folder = "$libdir/loggers"
	debug_level = ${JANUS_DEBUG_LEVEL:-2}
	log_to_stdout = true
	session_timeout = 60
	hide_dependencies = true
	server_name = "tafel-load-janus"
	# A fixed pool of media loops instead of one thread per handle (Janus's default): a 30-member
	# room is 180 handles, and 180 runnable threads would starve the one-thread generator on a
	# small machine. One loop per core is Janus's own advice for many handles.
	event_loops = ${JANUS_EVENT_LOOPS:-$(nproc)}
	interface = "127.0.0.1"
}
media: {
	rtp_port_range = "30000-60000"
}
nat: {
	nice_debug = ${JANUS_NICE_DEBUG:-false}
	full_trickle = false
	ice_lite = true
	ice_tcp = false
	ice_enforce_list = "10.254.0.1"
	ignore_mdns = true
}
plugins: {
	disable = "$(others "$libdir/plugins" libjanus_videoroom.so)"
}
transports: {
	disable = "$(others "$libdir/transports" libjanus_http.so)"
}
loggers: {
	disable = "$(others "$libdir/loggers")"
}
events: {
	broadcast = false
	disable = "$(others "$libdir/events")"
}
EOF
cat > "$conf/janus.transport.http.jcfg" <<EOF
general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = $port
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
	admin_https = false
}
EOF
cat > "$conf/janus.plugin.videoroom.jcfg" <<EOF
general: {
}
EOF

"$JANUS" -F "$conf" -C "$conf/janus.jcfg" > "$out/janus.log" 2>&1 &
jpid=$!
trap 'kill "$jpid" 2>/dev/null; for _ in $(seq 50); do kill -0 "$jpid" 2>/dev/null || break; sleep 0.1; done; kill -9 "$jpid" 2>/dev/null; wait "$jpid" 2>/dev/null' EXIT INT TERM
up=""
for _ in $(seq 100); do
  if curl -s -m 1 "http://127.0.0.1:$port/janus/info" > /dev/null 2>&1; then up=1; break; fi
  kill -0 "$jpid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$up" ]; then
  echo "janus.sh: Janus did not start (see $out/janus.log)" >&2
  exit 2
fi
# Nothing of Janus's may listen beyond loopback and the namespace's own 10.254.0.1 (checked again
# at the end, when its media sockets exist; both lists go to janus-sockets.txt).
bad_socks() { ss -Hlunpt | grep "pid=$jpid," | awk '{print $5}' | grep -v '^127\.' | grep -v '^10\.254\.0\.1:'; }
if bad_socks | grep -q .; then
  echo "janus.sh: Janus listens beyond 127.0.0.1, stopping:" >&2
  ss -Hlunpt | grep "pid=$jpid," >&2
  exit 2
fi
ss -Hlunpt | grep "pid=$jpid," > "$out/janus-sockets.txt"
"$build/tafel-load" --janus "127.0.0.1:$port" --server-pid "$jpid" --local-ip 10.254.0.1 --out "$out" "$@"
rc=$?
ss -Hlunpt | grep "pid=$jpid," >> "$out/janus-sockets.txt"
if [ "$rc" -ne 77 ] && bad_socks | grep -q .; then
  echo "janus.sh: Janus had sockets beyond loopback / 10.254.0.1:" >&2
  bad_socks >&2
  rc=2
fi
exit $rc

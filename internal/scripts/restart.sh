#!/usr/bin/env bash
# Restart benchmark: a relay on 127.0.0.1 with SESSIONS password accounts
# (default 1000), each logged in by a reconnecting client of the load tool,
# plus a real `talk record` and a websocket client (as the web page) through
# a gateway. The relay is killed (SIGKILL), restarted 1 s
# later on the same port and data directory, and the run prints how long
# until the last session is back in its channel, when each real client was
# back, and what a text and 3 s of voice sent after the restart lost (the
# first channel keeps voice: sessions not back yet when it was said are sent
# the transmission on their return, counted apart); then the same with
# SIGTERM.
#
# Bounded: at most 5000 sessions, 60 s per restart, 20 minutes in all; the
# first logins check every password (bcrypt), about a minute for 1000 on two
# cores. Usage: internal/scripts/restart.sh [SESSIONS] [extra loadgen flags]
#
# PIN=1 runs the relay on CPU 0 and the load tool (with talk record and the
# gateway) on CPU 1, so the two do not take each other's CPU (RELAY_CPUS and
# LOAD_CPUS choose others).
set -euo pipefail
cd "$(dirname "$0")/../.."
sessions=${1:-1000}
shift || true
: "${BIN:=bin}"
mkdir -p "$BIN"
go build -o "$BIN/" ./cmd/relay ./cmd/talk ./cmd/loadgen ./cmd/gateway
# Each session has a UDP socket of its own.
ulimit -n "$(( sessions * 2 + 1024 ))" 2>/dev/null || true
echo "machine: $(nproc) cores, $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg)"
pin=()
if [ -n "${PIN:-}${RELAY_CPUS:-}${LOAD_CPUS:-}" ]; then
	pin=(taskset -c "${LOAD_CPUS:-1}")
	set -- --relay-cpus "${RELAY_CPUS:-0}" "$@"
	echo "relay on CPU ${RELAY_CPUS:-0}, load tool on CPU ${LOAD_CPUS:-1}"
fi
exec "${pin[@]}" "$BIN/loadgen" restart --relay-bin "$BIN/relay" --talk-bin "$BIN/talk" --gateway-bin "$BIN/gateway" --sessions "$sessions" "$@"

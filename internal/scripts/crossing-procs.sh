#!/usr/bin/env bash
# crossing-procs: the CPU a voice frame costs when it crosses from one relay
# process to another of a cluster, against the same frame staying at its
# relay (issue 15), with real relay processes, each pinned to a core, their
# CPU time read from /proc/PID/stat (utime + stime).
#
# Three relays (bin/relay) clustered on loopback stay up for the whole run;
# bin/loadgen runs M channels of two sessions, one talker and one listener
# each, M frames every 20 ms, in windows that alternate:
#
#   idle:   no sessions: the cluster's own background (NATS heartbeats,
#           raft, the relays' heartbeats), measured over WINDOW.
#   local:  talker and listener at relay A (A publishes each frame to its
#           NATS server too, where nobody else listens).
#   cross:  talker at A, listener at B: each frame crosses A → B once.
#
# Local and cross deliver the same frames to the same number of listeners;
# the difference of the three relays' CPU over the talking window, per
# frame sent, is what a crossing costs (publish and TLS route at A, route,
# NATS client and handler at B). loadgen reads the relays' CPU over its
# talking window only (not the logins). Mean ± sd over ROUNDS.
#
# Knobs (environment): M=20 (talkers: M × 50 frames a second)
# DURATION=60s ROUNDS=4 PAYLOAD=80 BIN=bin CPU_A=0 CPU_B=1 CPU_C=1 (taskset
# cores of the three relays; CPU_A= empty: not pinned).
# The machine may be shared: the load average is printed with each window.
set -euo pipefail
: "${BIN:=bin}" "${M:=20}" "${DURATION:=60s}" "${ROUNDS:=4}" "${PAYLOAD:=80}"
: "${CPU_A=0}" "${CPU_B=1}" "${CPU_C=1}"
BIN=$(cd "$BIN" && pwd)
[ -x "$BIN/loadgen" ] && [ -x "$BIN/relay" ] || { echo "bin/relay or bin/loadgen is missing: run 'make build'." >&2; exit 1; }
WORK=$(mktemp -d /tmp/crossing-procs.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
cpu_of() { # user+system CPU seconds of PID
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"
}
cpus_sum() { local s=0 p; for p in "${PIDS[@]}"; do s=$(echo "$s + $(cpu_of "$p")" | bc); done; echo "$s"; }

routes=() peers=()
for i in 0 1 2; do routes+=("127.0.0.1:$(freeport)"); done
for r in "${routes[@]}"; do peers+=(--peer "nats://$r"); done
mkdir -p "$WORK/0"
"$BIN/relay" cluster init --data "$WORK/0" > /dev/null
cores=("$CPU_A" "$CPU_B" "$CPU_C")
ADDRS=()
for i in 0 1 2; do
  mkdir -p "$WORK/$i"
  [ "$i" = 0 ] || cp -r "$WORK/0/cluster" "$WORK/$i/"
  "$BIN/loadgen" channels -n $((2 * M)) -m "$M" --group 2 > "$WORK/$i/channels.json"
  pin=()
  [ -n "${cores[$i]}" ] && pin=(taskset -c "${cores[$i]}")
  "${pin[@]}" "$BIN/relay" --listen 127.0.0.1:0 --data "$WORK/$i" --open --log-level info \
    --cluster xcpu --cluster-listen "${routes[$i]}" --node "relay$i" "${peers[@]}" > "$WORK/$i/log" 2>&1 &
  PIDS+=($!)
done
for i in 0 1 2; do
  for _ in $(seq 300); do grep -q 'listening on UDP' "$WORK/$i/log" && grep -q 'cluster: ready' "$WORK/$i/log" && break; sleep 0.1; done
  grep -q 'cluster: ready' "$WORK/$i/log" || { echo "relay $i did not start:" >&2; cat "$WORK/$i/log" >&2; exit 1; }
  ADDRS+=("$(grep -o 'listening on UDP [^ ]*' "$WORK/$i/log" | head -1 | awk '{print $4}')")
done
FP=$(grep -o 'SHA256:[^ ]*' "$WORK/0/log" | head -1)
more="--more-pids $(IFS=,; echo "${PIDS[*]:1}")"
echo "crossing-procs: M=$M DURATION=$DURATION ROUNDS=$ROUNDS PAYLOAD=$PAYLOAD cores A=${CPU_A:-any} B=${CPU_B:-any} C=${CPU_C:-any} nproc=$(nproc)"

run() { # run KIND RELAYS
  local kind=$1 relay=$2 out
  # shellcheck disable=SC2086
  out=$("$BIN/loadgen" --relay "$relay" --fingerprint "$FP" --pid "${PIDS[0]}" $more \
    -n $((2 * M)) -m "$M" --group 2 --duration "$DURATION" --payload "$PAYLOAD" 2>/dev/null | grep '^RESULT' || true)
  echo "$kind load=$(cut -d' ' -f1 /proc/loadavg) $out"
}
secs=${DURATION%s}
for ((round = 1; round <= ROUNDS; round++)); do
  c0=$(cpus_sum); sleep "$secs"; c1=$(cpus_sum)
  echo "idle load=$(cut -d' ' -f1 /proc/loadavg) relay_cpu_s=$(echo "$c1 - $c0" | bc)"
  run local "${ADDRS[0]}"
  run cross "${ADDRS[0]},${ADDRS[1]}"
done

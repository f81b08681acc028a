#!/usr/bin/env bash
# cluster-bench: N sessions and M talkers (bin/loadgen) over RELAYS relays
# clustered on loopback (issue 15), against one relay alone, runs
# interleaved, ROUNDS times each:
#
#   one:      one relay, no cluster, every session on it.
#   local:    RELAYS relays clustered, every session on the first one (its
#             talkers' frames are published to NATS, nobody elsewhere
#             subscribes): the cluster's cost without crossings.
#   spread:   RELAYS relays clustered, session i on relay i mod RELAYS: each
#             channel has members at every relay, so each frame crosses to
#             the RELAYS-1 others.
#
# Each run prints loadgen's RESULT line (delivered/expected, p50/p99, the
# relays' CPU time summed over every relay process, and CPU per delivered
# frame) and the frames the relays passed to each other (their metrics).
# CPU per frame crossing a relay boundary: (spread CPU − local CPU) /
# (frames sent × (RELAYS−1)) — see BENCHMARKS.md.
#
# Knobs (environment): N=600 M=12 GROUP=50 RELAYS=3 ROUNDS=2 DURATION=15s
# PAYLOAD=80 KINDS="one local spread" BIN=bin
# The machine may be shared: the load average is printed with every run.
set -euo pipefail
: "${BIN:=bin}" "${N:=600}" "${M:=12}" "${GROUP:=50}" "${RELAYS:=3}" "${ROUNDS:=2}"
: "${DURATION:=15s}" "${PAYLOAD:=80}" "${KINDS:=one local spread}"
BIN=$(cd "$BIN" && pwd)
[ -x "$BIN/loadgen" ] && [ -x "$BIN/relay" ] || { echo "bin/relay or bin/loadgen is missing: run 'make build'." >&2; exit 1; }

WORK=$(mktemp -d /tmp/cluster-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && cp -r "$WORK/r" "$KEEP" ; rm -rf "$WORK"
}
trap cleanup EXIT

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# start_relays K CLUSTERED: starts K relays (clustered or not), fills
# ADDRS, FP, PIDS and METRICS.
start_relays() {
  local k=$1 clustered=$2 i
  rm -rf "$WORK/r"; mkdir -p "$WORK/r"
  PIDS=(); ADDRS=(); METRICS=()
  local peers=() routes=()
  for ((i = 0; i < k; i++)); do
    mkdir -p "$WORK/r/$i"
    "$BIN/loadgen" channels -n "$N" -m "$M" --group "$GROUP" > "$WORK/r/$i/channels.json"
    routes+=("127.0.0.1:$(freeport)")
  done
  if [ "$clustered" = 1 ]; then
    "$BIN/relay" cluster init --data "$WORK/r/0" > /dev/null
    for ((i = 1; i < k; i++)); do cp -r "$WORK/r/0/cluster" "$WORK/r/$i/"; done
    for r in "${routes[@]}"; do peers+=(--peer "nats://$r"); done
  fi
  for ((i = 0; i < k; i++)); do
    local mport; mport=$(freeport)
    local args=(--listen 127.0.0.1:0 --data "$WORK/r/$i" --open --log-level info --metrics "127.0.0.1:$mport")
    if [ "$clustered" = 1 ]; then
      args+=(--cluster bench --cluster-listen "${routes[$i]}" --node "relay$i" "${peers[@]}")
    fi
    "$BIN/relay" "${args[@]}" > "$WORK/r/$i/log" 2>&1 &
    PIDS+=($!)
    METRICS+=("http://127.0.0.1:$mport/metrics")
  done
  for ((i = 0; i < k; i++)); do
    for _ in $(seq 300); do
      grep -q 'listening on UDP' "$WORK/r/$i/log" && { [ "$clustered" = 0 ] || grep -q 'cluster: ready' "$WORK/r/$i/log"; } && break
      sleep 0.1
    done
    grep -q 'listening on UDP' "$WORK/r/$i/log" || { echo "relay $i did not start:" >&2; cat "$WORK/r/$i/log" >&2; exit 1; }
    ADDRS+=("$(grep -o 'listening on UDP [^ ]*' "$WORK/r/$i/log" | head -1 | awk '{print $4}')")
  done
  FP=$(grep -o 'SHA256:[^ ]*' "$WORK/r/0/log" | head -1)
}

stop_relays() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}

crossed() { # frames the relays published to and received from the others
  local out=0 in=0 m
  for m in "${METRICS[@]}"; do
    out=$((out + $(curl -s "$m" | awk '/^hark_relay_cluster_frames_published_total/ {printf "%d", $2}' || echo 0)))
    in=$((in + $(curl -s "$m" | awk '/^hark_relay_cluster_frames_received_total/ {printf "%d", $2}' || echo 0)))
  done
  echo "published=$out received=$in"
  for m in "${METRICS[@]}"; do
    curl -s "$m" | grep -E '^hark_relay_frames_dropped_total|^hark_relay_cluster_floor_leases_lost_total|^hark_relay_cluster_frames_dropped_total|^hark_relay_cluster_floor_requests_total' | awk '$2 != 0' | tr '\n' ' '
    echo
  done
}

run() { # run KIND
  local kind=$1 relay more=""
  case $kind in
    one) start_relays 1 0; relay=${ADDRS[0]} ;;
    local) start_relays "$RELAYS" 1; relay=${ADDRS[0]} ;;
    spread) start_relays "$RELAYS" 1; relay=$(IFS=,; echo "${ADDRS[*]}") ;;
  esac
  if [ "${#PIDS[@]}" -gt 1 ]; then more="--more-pids $(IFS=,; echo "${PIDS[*]:1}")"; fi
  echo "== $kind: N=$N M=$M relays=${#PIDS[@]} load: $(cut -d' ' -f1-3 /proc/loadavg)"
  # shellcheck disable=SC2086
  "$BIN/loadgen" --relay "$relay" --fingerprint "$FP" --pid "${PIDS[0]}" $more \
    -n "$N" -m "$M" --group "$GROUP" --duration "$DURATION" --payload "$PAYLOAD" 2>/dev/null | grep -E '^RESULT|^frames sent|^forward latency|^relay CPU' || true
  [ "$kind" = one ] || echo "cluster: $(crossed)"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  stop_relays
}

for ((round = 1; round <= ROUNDS; round++)); do
  for kind in $KINDS; do run "$kind"; done
done

#!/usr/bin/env bash
# crossing-cpu: the CPU a voice frame costs the relays when it crosses to
# another relay of a cluster, against the same frame staying at its relay
# (issue 15). cluster-bench.sh measures whole relays with 600 sessions,
# where the deliveries to the listeners (the same work at either relay)
# swamp the crossing; this measures only what differs: the publish queue,
# the NATS client and embedded servers, the TLS route, the other relay's
# NATS client and handler (internal/cluster's TestCrossingCPU: three
# relays' cluster memberships in one process, its CPU time from getrusage
# in alternating idle / local / crossing windows, mean ± sd over rounds).
#
# Knobs (environment): WINDOW=20s ROUNDS=5 RATE=600 (frames a second: 12
# talkers) PAYLOAD=80 (bytes of Opus) CPUS= (taskset list to pin the
# process, e.g. CPUS=1; empty: not pinned).
# The machine may be shared: the load average is printed with each round.
set -euo pipefail
: "${WINDOW:=20s}" "${ROUNDS:=5}" "${RATE:=600}" "${PAYLOAD:=80}" "${CPUS:=}"
export GOFLAGS="${GOFLAGS:--tags=libsqlite3}"
cd "$(dirname "$0")/../.."
dir=$(mktemp -d /tmp/crossing-cpu.XXXXXX)
trap 'rm -rf "$dir"' EXIT
go test -c -o "$dir/cluster.test" ./internal/cluster
pin=()
[ -n "$CPUS" ] && pin=(taskset -c "$CPUS")
echo "crossing-cpu: WINDOW=$WINDOW ROUNDS=$ROUNDS RATE=$RATE PAYLOAD=$PAYLOAD CPUS=${CPUS:-unpinned} load: $(cut -d' ' -f1-3 /proc/loadavg)"
HARK_CROSSING_CPU=1 HARK_CROSSING_WINDOW="$WINDOW" HARK_CROSSING_ROUNDS="$ROUNDS" \
  HARK_CROSSING_RATE="$RATE" HARK_CROSSING_PAYLOAD="$PAYLOAD" \
  "${pin[@]}" "$dir/cluster.test" -test.run '^TestCrossingCPU$' -test.v -test.count=1 2>&1 |
  grep -E 'round [0-9]|^RESULT|FAIL|panic' || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

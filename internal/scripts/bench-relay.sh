#!/usr/bin/env bash
# bench-relay: Hark's relay and murmurd (Debian mumble-server) side by side,
# in one sitting, runs interleaved (the order alternates every round), with
# the same sessions N, talkers M, payload and duration, all in one channel.
#
#   per core:  each server pinned to SERVER_CPU, its load tool to TOOL_CPU;
#              N=NS × M=MS, ROUNDS times each: CPU µs per forwarded frame,
#              delivered/expected, p50/p99.
#   peak:      N climbs PEAK_NS at M=4 until a run loses a frame; the
#              server's peak is the largest N with 0 loss and p99 < 20 ms
#              (and, for a machine too busy for that latency, the largest N
#              with 0 loss whatever the p99).
#              Pinned as above, and (BOTH_CORES=1) once more for Hark's
#              relay free to use every core, beside its load tool.
#
# Hark's relay is driven by bin/loadgen (--spawn: a fresh relay per run,
# open mode, loopback), murmurd by bin/mumbleload (internal/tools/mumbleload;
# a fresh murmurd per run with its own murmur.ini and database). Every run
# ends with a RESULT line; the tables go to OUT_DIR/results.md, the raw
# output of every run to OUT_DIR/runs/.
#
# Extra Hark builds to compare in the same sitting: EXTRA="name=path ...",
# e.g. EXTRA="before=/tmp/relay-before" (each runs wherever "hark" runs).
#
# Knobs (environment): NS="200" MS="2 4" ROUNDS=2 DURATION=10s PAYLOAD=72
# PEAK_NS="100 200 300 500 700 1000 1500 2000" PEAK=1 BOTH_CORES=1
# SERVER_CPU=0 TOOL_CPU=1 PORT=64738 BIN=bin OUT_DIR=.run/bench-relay
# LOADGEN=$BIN/loadgen (e.g. bin/quicpatch/loadgen, see quicpatch/build.sh)
# MURMUR=0 leaves murmurd out (to compare Hark builds alone)
#
# Every row says, besides CPU per frame: CPU per packet and frames per
# packet (a QUIC relay that falls behind packs the frames waiting for a
# listener into one packet and so spends less per frame: compare CPU per
# packet between runs whose latencies differ), how much of a core the
# server and the load tool used, and the load average when the run ended. A
# run whose load tool used ≥ 90 % of one core or sent under 98 % of its
# frames is marked: it may have measured the tool, so it does not count for
# the peak, and the peak ladder stops there for that server (said in the
# peak line).
#
# The machine may be shared: the load average is printed for every run, and
# CPU figures from a busy machine are noisy (compare runs of one sitting).
set -euo pipefail
: "${BIN:=bin}" "${OUT_DIR:=.run/bench-relay}" "${NS:=200}" "${MS:=2 4}" "${ROUNDS:=2}"
: "${DURATION:=10s}" "${PAYLOAD:=72}" "${PEAK_NS:=100 200 300 500 700 1000 1500 2000}"
: "${PEAK:=1}" "${BOTH_CORES:=1}" "${SERVER_CPU:=0}" "${TOOL_CPU:=1}" "${PORT:=64738}" "${EXTRA:=}"
: "${GO:=go}" "${MURMUR:=1}"

[ "$MURMUR" = 0 ] || command -v murmurd >/dev/null || { echo "murmurd is missing: run 'make deps-bench' (Debian package mumble-server)." >&2; exit 1; }
command -v taskset >/dev/null || { echo "taskset is missing (Debian package util-linux)." >&2; exit 1; }
ncpu=$(nproc)
if [ "$ncpu" -lt 2 ]; then
  echo "bench-relay pins the server and the load tool to different cores: this machine has $ncpu." >&2; exit 1
fi
case "$DURATION" in
  *[0-9]s) DUR_S=${DURATION%s} ;;
  *) echo "DURATION must be whole seconds, as 10s (got $DURATION)." >&2; exit 1 ;;
esac
[[ "$DUR_S" =~ ^[0-9]+$ ]] || { echo "DURATION must be whole seconds, as 10s (got $DURATION)." >&2; exit 1; }
FRAME_PER_S=50
BIN=$(cd "$BIN" && pwd)
mkdir -p "$OUT_DIR/runs"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
"$GO" build -o "$BIN/mumbleload" ./internal/tools/mumbleload
: "${LOADGEN:=$BIN/loadgen}"
[ -x "$LOADGEN" ] && [ -x "$BIN/relay" ] || { echo "$BIN/relay or $LOADGEN is missing: run 'make build'." >&2; exit 1; }

declare -A HARK=([hark]="$BIN/relay")
ORDER=(hark)
for e in $EXTRA; do HARK[${e%%=*}]=${e#*=}; ORDER+=("${e%%=*}"); done
[ "$MURMUR" = 0 ] || ORDER+=(murmur)

WORK=$(mktemp -d /tmp/bench-relay.XXXXXX)
MPID=
cleanup() { [ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
chmod 755 "$WORK"

# murmurd started as root switches to the mumble-server user, so its data
# directory must belong to that user.
start_murmur() { # cpus
  local d="$WORK/murmur"
  rm -rf "$d"; mkdir -p "$d"
  chown mumble-server:mumble-server "$d" 2>/dev/null || true
  cat >"$d/murmur.ini" <<INI
database=$d/murmur.sqlite
ice=
dbus=
logfile=
pidfile=
welcometext=""
host=127.0.0.1
port=$PORT
serverpassword=
bandwidth=72000
users=6000
usersperchannel=0
timeout=30
registerName=
bonjour=false
certrequired=false
autobanAttempts=0
autobanTimeframe=0
autobanTime=0
opusthreshold=0
INI
  taskset -c "$1" murmurd -fg -ini "$d/murmur.ini" >"$d/murmurd.log" 2>&1 &
  MPID=$!
  for _ in $(seq 100); do
    if ss -lnt "sport = :$PORT" | grep -q LISTEN && ss -lnu "sport = :$PORT" | grep -q ":$PORT"; then return 0; fi
    kill -0 "$MPID" 2>/dev/null || break
    sleep 0.1
  done
  echo "murmurd did not start; its output:" >&2; cat "$d/murmurd.log" >&2; exit 1
}
stop_murmur() { kill "$MPID" 2>/dev/null || true; wait "$MPID" 2>/dev/null || true; MPID=; }

# run SERVER N M SERVER_CPUS TOOL_CPUS TAG: one run; prints its RESULT line
# (or "RESULT failed") and keeps the output in runs/.
run() {
  local srv=$1 n=$2 m=$3 scpu=$4 tcpu=$5 tag=$6 out
  out="$OUT_DIR/runs/${tag// /-}-$srv-n$n-m$m.txt"
  if [ "$srv" = murmur ]; then
    start_murmur "$scpu"
    timeout 600 taskset -c "$tcpu" "$BIN/mumbleload" -addr "127.0.0.1:$PORT" -transport udp -n "$n" -m "$m" \
      -duration "$DURATION" -frame-bytes "$PAYLOAD" -connect-parallel 16 -server-pid "$MPID" >"$out" 2>&1 || true
    stop_murmur
  else
    timeout 600 taskset -c "$tcpu" "$LOADGEN" --spawn "${HARK[$srv]}" --spawn-cpus "$scpu" \
      --sessions "$n" --talkers "$m" --group "$n" --duration "$DURATION" --payload "$PAYLOAD" >"$out" 2>&1 || true
  fi
  # The load average when the run ended goes with its figures: other
  # tenants of the machine take CPU from the server and its load tool.
  { grep -h '^RESULT' "$out" | tail -1 || echo "RESULT failed"; } | sed "s/\$/ load1=$(cut -d' ' -f1 /proc/loadavg)/"
}

# row SERVER TAG RESULT-LINE: a markdown row with the figures both tools report.
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
row() {
  local srv=$1 tag=$2 r=$3 n m sent exp got p50 p99 cpu tool per pk pper fpp win score tcore note
  if [ "${r% load1=*}" = "RESULT failed" ]; then echo "| $srv | $tag | run failed (see runs/) ||||||||||||"; return; fi
  n=$(kv n "$r"); m=$(kv m "$r"); sent=$(kv sent "$r"); p50=$(kv p50_ms "$r"); p99=$(kv p99_ms "$r"); tool=$(kv tool_cpu_s "$r")
  # The window the CPU times cover: the talking plus the tool's drain.
  if [ "$srv" = murmur ]; then exp=$(kv expected "$r"); got=$(kv recv "$r"); cpu=$(kv server_cpu_s "$r"); win=$((DUR_S + 1))
  else exp=$(kv expected "$r"); got=$(kv delivered "$r"); cpu=$(kv relay_cpu_s "$r"); win=$DUR_S.5; fi
  # Packets the listeners received from the server: murmurd sends one UDP
  # datagram per frame; QUIC packs the frames waiting for a listener.
  if [ "$srv" = murmur ]; then pk=$got; else pk=$(kv packets "$r"); fi
  per=$(awk -v c="$cpu" -v g="$got" 'BEGIN{ if (g>0) printf "%.2f", c*1e6/g; else print "-" }')
  pper=$(awk -v c="$cpu" -v p="$pk" 'BEGIN{ if (p>0) printf "%.2f", c*1e6/p; else print "-" }')
  fpp=$(awk -v g="$got" -v p="$pk" 'BEGIN{ if (p>0) printf "%.2f", g/p; else print "-" }')
  tper=$(awk -v c="$tool" -v g="$got" 'BEGIN{ if (g>0) printf "%.2f", c*1e6/g; else print "-" }')
  score=$(awk -v c="$cpu" -v w="$win" 'BEGIN{ printf "%.0f", 100*c/w }')
  tcore=$(awk -v c="$tool" -v w="$win" 'BEGIN{ printf "%.0f", 100*c/w }')
  note=
  if toolbound "$r"; then note=" (load tool saturated: the run measures the tool)"; fi
  echo "| $srv | $tag | $n | $m | $got/$exp | $per | $pper | $fpp | $tper | $score | $tcore | $p50 | $p99 | $(kv load1 "$r")$note |"
}
# toolbound RESULT-LINE: the load tool used ≥ 90 % of a core, or sent under
# 98 % of its nominal frames: it, not the server, may be what limited the run.
toolbound() {
  local r=$1 sent m
  sent=$(kv sent "$r"); m=$(kv m "$r")
  awk -v t="$(kv tool_cpu_s "$r")" -v d="$DUR_S" -v s="$sent" -v m="$m" -v per="$FRAME_PER_S" \
    'BEGIN{ exit !(t >= 0.9*d || s < 0.98*m*d*per) }'
}
lossless() { # RESULT-LINE SERVER: every frame delivered
  local r=$1 exp got
  [ "${r% load1=*}" != "RESULT failed" ] || return 1
  exp=$(kv expected "$r")
  if [ "$2" = murmur ]; then got=$(kv recv "$r"); else got=$(kv delivered "$r"); fi
  [ -n "$exp" ] && [ "$exp" -gt 0 ] && [ "$got" = "$exp" ]
}
pass() { # RESULT-LINE SERVER: 0 loss and p99 < 20 ms
  lossless "$1" "$2" && awk -v p="$(kv p99_ms "$1")" 'BEGIN{exit !(p < 20)}'
}

RES="$OUT_DIR/results.md"
HDR="| server | run | N | M | delivered/expected | server CPU µs/frame | server CPU µs/packet | frames/packet | load tool CPU µs/frame | server % of a core | load tool % of a core | p50 ms | p99 ms | load average (1 min) after |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
{
  echo "# bench-relay $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $ncpu cores; $(uname -sr)."
  echo "murmurd: mumble-server $(dpkg-query -W -f='${Version}' mumble-server 2>/dev/null || echo '?'). Hark relay: $(git describe --always --dirty 2>/dev/null || echo '?')."
  echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg). Duration $DURATION per run, payload $PAYLOAD bytes, one channel."
  echo
  echo "## Per core (server on CPU $SERVER_CPU, load tool on CPU $TOOL_CPU), interleaved"
  echo
  echo "$HDR"
} | tee "$RES"

for n in $NS; do for m in $MS; do
  for round in $(seq "$ROUNDS"); do
    list=("${ORDER[@]}")
    if [ $((round % 2)) = 0 ]; then list=(); for ((i=${#ORDER[@]}-1; i>=0; i--)); do list+=("${ORDER[$i]}"); done; fi
    for srv in "${list[@]}"; do
      r=$(run "$srv" "$n" "$m" "$SERVER_CPU" "$TOOL_CPU" "core-r$round")
      row "$srv" "pinned, round $round" "$r" | tee -a "$RES"
    done
  done
done; done

# peak SCPU TCPU LABEL SERVERS...: climb PEAK_NS at M=4, interleaved.
peak() {
  local scpu=$1 tcpu=$2 label=$3; shift 3
  local -A best=() loss0=() stopped=() tooled=()
  { echo; echo "## Peak N at M=4 with 0 loss and p99 < 20 ms: $label"; echo; echo "$HDR"; } | tee -a "$RES"
  local i=0
  for n in $PEAK_NS; do
    local list=("$@") any=0
    if [ $((i % 2)) = 1 ]; then list=(); for ((j=$#; j>=1; j--)); do list+=("${!j}"); done; fi
    i=$((i + 1))
    for srv in "${list[@]}"; do
      [ -z "${stopped[$srv]:-}" ] || continue
      any=1
      r=$(run "$srv" "$n" 4 "$scpu" "$tcpu" "peak-$label")
      row "$srv" "peak, $label" "$r" | tee -a "$RES"
      if toolbound "$r"; then tooled[$srv]=$n; stopped[$srv]=1; continue; fi
      if pass "$r" "$srv"; then best[$srv]=$n; fi
      if lossless "$r" "$srv"; then loss0[$srv]=$n; else stopped[$srv]=1; fi
    done
    [ "$any" = 1 ] || break
  done
  echo | tee -a "$RES"
  for srv in "$@"; do
    echo "Peak N ($label), $srv: ${best[$srv]:-none} with 0 loss and p99 < 20 ms; ${loss0[$srv]:-none} with 0 loss$([ -z "${stopped[$srv]:-}" ] && echo ' (the whole ladder)')$([ -n "${tooled[$srv]:-}" ] && echo "; the ladder stopped at N=${tooled[$srv]}, where the load tool saturated (not the server's limit)")." | tee -a "$RES"
  done
}
if [ "$PEAK" = 1 ]; then
  peak "$SERVER_CPU" "$TOOL_CPU" "server on one core" "${ORDER[@]}"
  if [ "$BOTH_CORES" = 1 ]; then
    # Hark's relay free to use every core (GOMAXPROCS = cores), the load
    # tool beside it as in a real deployment's worst case; murmurd for
    # comparison under the same rule (it forwards voice on one thread).
    all=$(seq -s, 0 $((ncpu - 1)))
    peak "$all" "$all" "every core for server and load tool" "${ORDER[@]}"
  fi
fi
{ echo; echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."; } | tee -a "$RES"
echo "Tables: $RES; the output of every run: $OUT_DIR/runs/"

#!/usr/bin/env bash
# Started by `make run`: a relay and a gateway on loopback, with data under
# $RUN_DIR, until Ctrl-C. With LAN=1 the gateway serves phones on this
# machine's local network instead (HTTPS on LAN_LISTEN, default :8443, the
# port on the LAN address) and the script shows its QR code and how to
# accept the certificate.
set -euo pipefail
: "${RUN_DIR:=.run}" "${RELAY_ADDR:=127.0.0.1:4275}" "${GATEWAY_ADDR:=127.0.0.1:8080}"
: "${LAN:=}" "${LAN_LISTEN:=:8443}"
: "${METRICS_ADDR:=127.0.0.1:9275}" "${BIN:=bin}"

mkdir -p "$RUN_DIR/relay" "$RUN_DIR/gateway"
pids=()
newlogs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for l in "${newlogs[@]}"; do rm -f "$l"; done
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# start NAME READY CMD…: runs CMD in the background, its output going to a
# new log file, and waits until the log says READY (it is listening). If
# CMD stops first, start says why and stops the script. Only a process that
# runs gets $RUN_DIR/NAME.log, so a second `make run` that cannot start
# leaves the logs of the one that is running alone.
start() {
  local name=$1 ready=$2 log pid
  shift 2
  log=$(mktemp "$RUN_DIR/.$name.log.XXXXXX")
  newlogs+=("$log")
  "$@" >"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 300); do # 30 s
    if grep -q -- "$ready" "$log"; then
      mv "$log" "$RUN_DIR/$name.log" # the process keeps writing to it
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      if grep -qi "address already in use" "$log"; then
        echo "Port in use: the $name cannot listen, so Hark was not started. Is another \`make run\` (or a relay or gateway) running?" >&2
        echo "Stop it, or use other ports: make run RELAY_ADDR=127.0.0.1:4276 GATEWAY_ADDR=127.0.0.1:8081 METRICS_ADDR=127.0.0.1:9276" >&2
      else
        echo "The $name did not start, so Hark was not started." >&2
      fi
      echo "What the $name said:" >&2
      sed 's/^/  /' "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "The $name did not say it was ready within 30 s; what it said:" >&2
  sed 's/^/  /' "$log" >&2
  exit 1
}

# The relay makes its certificate on first use; `relay fingerprint --create`
# prints it (and makes it if it does not exist yet), so the gateway can pin it.
fp=$("$BIN/relay" fingerprint --create --data "$RUN_DIR/relay")

start relay "Hark relay listening" \
  "$BIN/relay" --listen "$RELAY_ADDR" --data "$RUN_DIR/relay" --open --metrics "$METRICS_ADDR"

gateway_note="(the gateway is not built yet)"
lan=""
case "$LAN" in ""|0|no|false) ;; *) lan=1 ;; esac
if [ -x "$BIN/gateway" ] && [ -n "$lan" ]; then
  start gateway "gateway ready" \
    "$BIN/gateway" --relay "$RELAY_ADDR" --fingerprint "$fp" --lan --listen "$LAN_LISTEN" --data "$RUN_DIR/gateway"
  gateway_note=$(sed -n 's/.*msg="gateway ready" url=\([^ ]*\).*/\1/p' "$RUN_DIR/gateway.log" | head -n 1)
  echo
  sed -n '/^=== Join from a phone/,/^=== End of the phone instructions ===/p' "$RUN_DIR/gateway.log"
elif [ -x "$BIN/gateway" ]; then
  start gateway "gateway ready" \
    "$BIN/gateway" --relay "$RELAY_ADDR" --fingerprint "$fp" --listen "$GATEWAY_ADDR" --data "$RUN_DIR/gateway"
  gateway_note="http://$GATEWAY_ADDR/   (phones on this network: make run LAN=1)"
fi

cat <<MSG

  Hark is running on this machine.

    Web page (open it in a browser):  $gateway_note
    Relay:                            $RELAY_ADDR   fingerprint $fp
    Metrics:                          http://$METRICS_ADDR/metrics
    Logs:                             $RUN_DIR/relay.log  $RUN_DIR/gateway.log

  Join from a terminal (any name works: the relay runs in open mode):

    $BIN/talk --relay $RELAY_ADDR --fingerprint $fp --user alice record --out heard.wav
    $BIN/talk --relay $RELAY_ADDR --fingerprint $fp --user bob send some.wav
    $BIN/talk --relay $RELAY_ADDR --fingerprint $fp --user bob who
    $BIN/talk --relay $RELAY_ADDR --fingerprint $fp --user carol          # terminal intercom: hold space to talk
    (no sound card here? add --audio-backend null to join without sound)

  Press Ctrl-C to stop.
MSG

# Stop everything when one of them stops.
wait -n "${pids[@]}"
echo "A Hark process stopped; see the logs in $RUN_DIR. Stopping the rest." >&2
exit 1

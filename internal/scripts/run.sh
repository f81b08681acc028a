#!/usr/bin/env bash
# Started by `make run`: a relay and a gateway on loopback, with data under
# $RUN_DIR, until Ctrl-C.
set -euo pipefail
: "${RUN_DIR:=.run}" "${RELAY_ADDR:=127.0.0.1:4275}" "${GATEWAY_ADDR:=127.0.0.1:8080}" "${BIN:=bin}"

mkdir -p "$RUN_DIR/relay" "$RUN_DIR/gateway"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 0' INT TERM

# The relay makes its certificate on first use; `relay fingerprint` prints it
# (and makes it if it does not exist yet), so the gateway can pin it.
fp=$("$BIN/relay" fingerprint --create --data "$RUN_DIR/relay")

"$BIN/relay" --listen "$RELAY_ADDR" --data "$RUN_DIR/relay" --open --metrics 127.0.0.1:9275 \
  >"$RUN_DIR/relay.log" 2>&1 &
pids+=($!)

gateway_note="(the gateway is not built yet)"
if [ -x "$BIN/gateway" ]; then
  "$BIN/gateway" --relay "$RELAY_ADDR" --fingerprint "$fp" --listen "$GATEWAY_ADDR" \
    --data "$RUN_DIR/gateway" >"$RUN_DIR/gateway.log" 2>&1 &
  pids+=($!)
  gateway_note="http://$GATEWAY_ADDR/"
fi

cat <<MSG

  Hark is running on this machine.

    Web page (open it in a browser):  $gateway_note
    Relay:                            $RELAY_ADDR   fingerprint $fp
    Metrics:                          http://127.0.0.1:9275/metrics
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

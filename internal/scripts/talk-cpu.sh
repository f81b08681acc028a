#!/usr/bin/env bash
# CPU of a live `talk` (the terminal UI, null audio backend) for one
# full-duplex stream in the open channel "ops": it talks (toggle mode; the null
# microphone gives silence) while bob sends speech with `talk send`. Prints
# the talk process's user+system CPU over SECS seconds as a share of one core.
#   FRAME=10ms SECS=20 TALKENV=GOMAXPROCS=1 internal/scripts/talk-cpu.sh
# Needs bin/talk with the terminal UI wired, bin/relay, tmux, espeak-ng, sox.
set -euo pipefail
: "${BIN:=bin}" "${FRAME:=20ms}" "${PORT:=14275}" "${SECS:=20}" "${TALKENV:=HARK_X=1}"
D=$(mktemp -d); S=hark-cpu-$$
BIN=$(cd "$BIN" && pwd)
FP=$("$BIN/relay" fingerprint --create --data "$D/r")
"$BIN/relay" --open --listen 127.0.0.1:$PORT --data "$D/r" --max-talk 10m >"$D/relay.log" 2>&1 &
RP=$!; BP=
trap 'kill $RP $BP 2>/dev/null; tmux -L $S kill-server 2>/dev/null; rm -rf "$D"' EXIT
espeak-ng -w "$D/sp.wav" "Hello, this is the front door. Could somebody please come down and open it? Thank you very much."
sox "$D/sp.wav" -r 48000 -c 1 -b 16 "$D/one.wav"
sox "$D/one.wav" "$D/one.wav" "$D/one.wav" "$D/one.wav" "$D/one.wav" "$D/one.wav" "$D/one.wav" "$D/one.wav" "$D/long.wav"
wait_screen() { for _ in $(seq 200); do tmux -L $S capture-pane -p -t ui | grep -q "$1" && return; sleep 0.1; done; echo "no '$1' on screen" >&2; exit 1; }
tmux -L $S -f /dev/null new-session -d -s ui -x 80 -y 24 "env $TALKENV $BIN/talk --relay 127.0.0.1:$PORT --user alice --fingerprint $FP --known-relays $D/k1 --channel ops --audio-backend null --toggle --frame $FRAME"
wait_screen connected
tmux -L $S send-keys -t ui Space
wait_screen "ON AIR"
PID=$(tmux -L $S display -p -t ui '#{pane_pid}')
"$BIN/talk" send --relay 127.0.0.1:$PORT --user bob --fingerprint "$FP" --known-relays "$D/k2" --channel ops --frame $FRAME "$D/long.wav" >"$D/bob.log" 2>&1 &
BP=$!
wait_screen receiving
sleep 2
t0=$(awk '{print $14+$15}' /proc/$PID/stat); w0=$(date +%s.%N)
sleep "$SECS"
t1=$(awk '{print $14+$15}' /proc/$PID/stat); w1=$(date +%s.%N)
echo "frame $FRAME: talk CPU $(echo "scale=2; 100*($t1-$t0)/$(getconf CLK_TCK)/($w1-$w0)" | bc) % of one core ($TALKENV)"

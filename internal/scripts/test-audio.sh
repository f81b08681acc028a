#!/usr/bin/env bash
# make test-audio: the real-time audio scenarios (end-to-end and gateway
# tests that play speech through real processes and sockets), run RUNS
# times each without the race detector, with every score and delay
# recorded (HARK_AUDIO_SCORES, see internal/audiotest/quality.go). Prints
# each scenario's median, worst and best run, writes them to
# $OUT_DIR/report.md and to the test-audio section of BENCHMARKS.md, and
# fails when a scenario's median misses its target.
#
# Environment: GO, RUNS (default 5), OUT_DIR (default .run/test-audio),
# RUN (a go test -run pattern to pick scenarios; default all).
set -uo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
RUNS=${RUNS:-5}
OUT_DIR=${OUT_DIR:-.run/test-audio}
RUN=${RUN:-.}

mkdir -p "$OUT_DIR"
rm -f "$OUT_DIR/scores.jsonl" # this run's figures only
scores="$(cd "$OUT_DIR" && pwd)/scores.jsonl" # absolute: go test runs each package in its own directory
echo "Running the real-time audio scenarios $RUNS times each (load average $(cut -d' ' -f1-3 /proc/loadavg)); figures go to $scores"
HARK_AUDIO_SCORES="$scores" $GO test -count="$RUNS" -timeout 120m -p 1 -run "$RUN" \
	./internal/e2e/... ./internal/gateway/... 2>&1 | tee "$OUT_DIR/go-test.log"
test_rc=${PIPESTATUS[0]}
$GO run ./internal/tools/audioreport -scores "$scores" -out "$OUT_DIR/report.md" -bench BENCHMARKS.md \
	-runs "$RUNS" -command "make test-audio RUNS=$RUNS"
report_rc=$?
if [ "$test_rc" != 0 ]; then
	echo "make test-audio: some runs failed their behaviour checks (see $OUT_DIR/go-test.log)"
fi
[ "$test_rc" = 0 ] && [ "$report_rc" = 0 ]

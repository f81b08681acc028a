#!/usr/bin/env bash
# make test: every stage runs, even when one before it failed, and the end
# says which failed, with the ten slowest tests and "N passed, N failed".
#
# Stages:
#   hygiene  gofmt, go mod tidy -diff, go vet, staticcheck (pinned)
#   unit     every package but the real-time ones, under the race detector
#   e2e      real relay and talk processes (internal/e2e), one test binary at a time
#   gateway  the gateway with fake browsers and the page in headless Chromium,
#            Firefox and WebKitGTK (internal/gateway)
#
# The real-time stages assert behaviour only (the frame arrived, the floor
# was refused, the recording is the same speech); audio-quality figures are
# `make test-audio`'s (internal/scripts/test-audio.sh).
#
# Environment: GO (default go), TEST_DIR (where results go, default
# .run/test), STAGES (default "hygiene unit e2e gateway").
set -uo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
TEST_DIR=${TEST_DIR:-.run/test}
STAGES=${STAGES:-hygiene unit e2e gateway}
STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
REALTIME_PKGS=(./internal/e2e/... ./internal/gateway/...)

mkdir -p "$TEST_DIR"
rm -f "$TEST_DIR/tests.tsv" # this run's results only (the directory may hold other files)
# The summariser is built once, without the race detector.
if ! $GO build -o "$TEST_DIR/testsum" ./internal/tools/testsum; then
	echo "make test: cannot build internal/tools/testsum (see above)" >&2
	exit 2
fi
sum() { "$TEST_DIR/testsum" -record "$TEST_DIR" "$@"; }

step() { # step NAME COMMAND...: runs one hygiene check, says what failed
	local name=$1
	shift
	echo "--- hygiene: $name"
	if "$@"; then
		return 0
	fi
	echo "--- hygiene: $name FAILED"
	return 1
}

gofmt_check() {
	local out
	out=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.run/*'))
	if [ -n "$out" ]; then
		echo "gofmt would change these files (run gofmt -w on them):"
		echo "$out"
		return 1
	fi
}

tidy_check() {
	if ! $GO mod tidy -diff; then
		echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit the result."
		return 1
	fi
}

stage_hygiene() {
	local rc=0
	step gofmt gofmt_check || rc=1
	step "go mod tidy" tidy_check || rc=1
	step "go vet" $GO vet ./... || rc=1
	step staticcheck $GO run "$STATICCHECK" ./... || rc=1
	return $rc
}

stage_unit() {
	local pkgs
	pkgs=$($GO list ./... | grep -v -e /internal/e2e -e /internal/gateway) || return 1
	# shellcheck disable=SC2086
	$GO test -json -race -timeout 10m $pkgs | sum -stage unit
}

# The real-time packages build the binaries they run themselves, which go
# test's result cache cannot see, so they always run (-count=1), one test
# binary at a time so that they do not compete with each other for the CPU.
stage_e2e() {
	$GO test -json -race -count=1 -timeout 30m -p 1 ./internal/e2e/... | sum -stage e2e
}

stage_gateway() {
	$GO test -json -race -count=1 -timeout 30m -p 1 ./internal/gateway/... | sum -stage gateway
}

# The CPU time the stage's processes used (theirs and their waited-for
# children's: compilers, test binaries, browsers), from this shell's
# cumulative child times in /proc: with the wall time it says how much of the
# machine a stage keeps busy, which decides whether its tests could run side
# by side. A process whose parent did not wait for it (a browser's helper
# processes when the browser is killed at a test's end) is not counted: the
# figure is a lower bound.
TICKS=$(getconf CLK_TCK)
child_cpu() { awk '{print $16 + $17}' /proc/$$/stat; }

results=""
start=$(date +%s)
for s in $STAGES; do
	echo
	echo "==== stage $s ($(date -u +%H:%M:%S), load average $(cut -d' ' -f1-3 /proc/loadavg))"
	t0=$(date +%s)
	c0=$(child_cpu)
	"stage_$s"
	rc=$?
	wall=$(($(date +%s) - t0))
	cpu=$((($(child_cpu) - c0) / TICKS))
	echo "==== stage $s: $([ $rc = 0 ] && echo passed || echo "FAILED (exit $rc)") in $wall s (CPU $cpu s, $(awk -v c="$cpu" -v w="$wall" 'BEGIN{printf "%.2f", w ? c / w : 0}') cores; load average $(cut -d' ' -f1-3 /proc/loadavg))"
	results="$results $s=$rc"
done
echo
echo "make test took $(($(date +%s) - start)) s; per-test results in $TEST_DIR/tests.tsv"
# The summary ends with the line "N passed, N failed, N skipped": the last
# line of make test's output.
sum -summary -stages "$results"

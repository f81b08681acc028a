#!/bin/sh
# Per-stage timestamps of browser → talk record over WebTransport (issue 14):
# applies trace.patch to a copy of the committed tree (HEAD) in a temporary
# directory, builds the gateway tests there, runs a test RUNS times with
# HKTRACE set (the page, the in-process relay and both talk record
# processes append to one file per run; not HARK_*: the tests strip those
# from talk's environment) and prints analyse.py's table for each run.
#
#   internal/scripts/latencytrace/run.sh [RUNS] [TEST]
#
# TEST defaults to TestWebTransportBrowserToTalk$ (one press);
# TestLatencyTracePresses$ makes four presses of 2 s in one page (the
# first opens the microphone). Needs chromium, python3 and the usual
# GOFLAGS=-tags=libsqlite3. trace.patch was made against branch latency6 (issue 14);
# if it no longer applies, re-make it from the same hooks. Nothing in the
# repository is changed; the copy is removed at the end.
set -eu
runs=${1:-3}
test=${2:-'TestWebTransportBrowserToTalk$'}
here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$root" archive HEAD | tar -x -C "$tmp"
(cd "$tmp" && git apply "$here/trace.patch")
export GOFLAGS="${GOFLAGS:--tags=libsqlite3}"
(cd "$tmp" && go test -c -o "$tmp/gw.test" ./internal/gateway)
i=1
while [ "$i" -le "$runs" ]; do
	f="$tmp/trace-$i.txt"
	echo "=== run $i, load $(cut -d' ' -f1-3 /proc/loadavg)"
	(cd "$tmp/internal/gateway" && HKTRACE="$f" "$tmp/gw.test" -test.count=1 -test.v -test.run "$test" 2>&1 | grep -E 'mouth-to-ear|^--- ' || true)
	python3 "$here/analyse.py" "$f" L || true
	i=$((i + 1))
done

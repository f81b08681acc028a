#!/usr/bin/env bash
# quicpatch/build.sh: builds bin/quicpatch/{relay,loadgen,floorrelay}, the
# same programs linked against quic-go v0.65.0 with
# quic-go-v0.65.0-relay.patch applied, to measure in one sitting with
# bench-relay (EXTRA="quicpatch=bin/quicpatch/relay"). The repository's
# go.mod is not touched: a copy of it with a replace directive is used
# (go build -modfile). What the patch changes and what it saved: BENCHMARKS.md,
# "What is quic-go's".
#
# Knobs (environment): BIN=bin WORK=(a temporary directory) GO=go
set -euo pipefail
: "${BIN:=bin}" "${GO:=go}"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cd "$root"
ver=$(awk '$1 == "github.com/quic-go/quic-go" { print $2 }' go.mod)
if [ "$ver" != v0.65.0 ]; then
  echo "go.mod asks for quic-go $ver; the patch is for v0.65.0: port it first." >&2; exit 1
fi
"$GO" mod download github.com/quic-go/quic-go
src=$("$GO" list -m -f '{{.Dir}}' github.com/quic-go/quic-go)
WORK=${WORK:-$(mktemp -d /tmp/quicpatch.XXXXXX)}
rm -rf "$WORK/quic-go"; mkdir -p "$WORK"
cp -r "$src" "$WORK/quic-go"; chmod -R u+w "$WORK/quic-go"
patch -s -p1 -d "$WORK/quic-go" <"$here/quic-go-v0.65.0-relay.patch"
cp go.mod go.sum "$WORK/"
# Relative replace paths in the copy would resolve against WORK: make them absolute.
sed -i "s#=> \./#=> $root/#" "$WORK/go.mod"
echo "replace github.com/quic-go/quic-go => $WORK/quic-go" >>"$WORK/go.mod"
mkdir -p "$BIN/quicpatch"
"$GO" build -modfile="$WORK/go.mod" -o "$BIN/quicpatch/" ./cmd/relay ./cmd/loadgen ./internal/tools/floorrelay
echo "built $BIN/quicpatch/relay, loadgen and floorrelay against quic-go $ver + quic-go-v0.65.0-relay.patch (sources in $WORK)"

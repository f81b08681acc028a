#!/usr/bin/env bash
# flake.sh N [MODES]: runs the whole `make test` (internal/scripts/test.sh)
# N times idle and N times beside two CPU hogs, and prints how many runs
# passed in each mode and every test that failed at least once, with its
# count. MODES is "idle load" by default ("load" alone, say, to skip idle).
# The hogs are stress-ng --cpu 2 when installed (make deps-flake), else
# two shell busy loops; they are bounded by the run and stopped after it.
#
# Results per run in .run/flake/MODE-I/ (log, rc, test/tests.tsv).
set -uo pipefail
cd "$(dirname "$0")/../.."

N=${1:-10}
MODES=${2:-idle load}
OUT=${FLAKE_DIR:-.run/flake}
mkdir -p "$OUT"

hogs=()
start_hogs() {
	if command -v stress-ng >/dev/null; then
		stress-ng --cpu 2 --timeout 2h --quiet &
		hogs+=($!)
	else
		for _ in 1 2; do
			timeout 2h bash -c 'while :; do :; done' &
			hogs+=($!)
		done
	fi
}
stop_hogs() {
	for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
	wait "${hogs[@]}" 2>/dev/null
	hogs=()
}
trap stop_hogs EXIT

for mode in $MODES; do
	for i in $(seq 1 "$N"); do
		dir="$OUT/$mode-$i"
		mkdir -p "$dir"
		rm -f "$dir/log" "$dir/rc"
		[ "$mode" = load ] && start_hogs
		t0=$(date +%s)
		# -count=1: every run runs every test (go test would otherwise
		# reuse the last run's results for unchanged packages).
		GOFLAGS="${GOFLAGS:-} -count=1" TEST_DIR="$dir/test" bash internal/scripts/test.sh >"$dir/log" 2>&1
		rc=$?
		[ "$mode" = load ] && stop_hogs
		echo "$mode run $i: $([ $rc = 0 ] && echo passed || echo FAILED) in $(($(date +%s) - t0)) s ($(grep -E '^[0-9]+ passed, [0-9]+ failed' "$dir/log" | tail -1))"
		echo "$rc" >"$dir/rc"
	done
done

echo
echo "==== flake.sh $N: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
for mode in $MODES; do
	pass=0
	for i in $(seq 1 "$N"); do
		[ "$(cat "$OUT/$mode-$i/rc" 2>/dev/null)" = 0 ] && pass=$((pass + 1))
	done
	echo "$mode: $pass of $N runs of make test passed"
	cat "$OUT/$mode"-*/test/tests.tsv 2>/dev/null | awk -F'\t' -v mode="$mode" '
		$4 == "fail" { fail[$2 " " $3]++ }
		$4 == "pass" { pass[$2 " " $3]++ }
		END { for (k in fail) printf "  %s: %s failed %d time(s), passed %d\n", mode, k, fail[k], pass[k] }'
	for i in $(seq 1 "$N"); do
		grep -h 'FAILED' "$OUT/$mode-$i/log" 2>/dev/null | grep -E '^  [a-z0-9]+ +FAILED' | sed "s/^/  run $i stage/"
	done
	[ "$pass" = "$N" ] || failed=1
done
# Exit status: 0 when every run passed (the grep above ends with 1 when it
# finds no failure, which must not be the script's status).
exit "${failed:-0}"

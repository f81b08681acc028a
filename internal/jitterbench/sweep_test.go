package jitterbench

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestSweep12 measures issue 12's goals (as TestGoals12 does) on every
// trace over a range of seeds and reports, per trace, the worst late-loss
// and the worst mean delay ÷ ideal with their seeds, and every seed that
// misses a goal. It is a tool for trying the buffer on many seeds the
// default test does not run (seeds 1-300 take several minutes), not a
// check; it fails only on a malformed range:
//
//	JITTERBENCH_SWEEP=1-300 go test -count=1 -run TestSweep12 -v -timeout 1h ./internal/jitterbench
func TestSweep12(t *testing.T) {
	arg := os.Getenv("JITTERBENCH_SWEEP")
	if arg == "" {
		t.Skip("set JITTERBENCH_SWEEP=first-last, e.g. 1-300")
	}
	loText, hiText, _ := strings.Cut(arg, "-")
	lo, err1 := strconv.ParseUint(loText, 10, 64)
	hi, err2 := strconv.ParseUint(hiText, 10, 64)
	if err1 != nil || err2 != nil || lo == 0 || hi < lo {
		t.Fatalf("JITTERBENCH_SWEEP=%q: want first-last seeds, e.g. 1-300", arg)
	}
	res := map[string]*worst12{}
	var names []string
	for seed := lo; seed <= hi; seed++ {
		for _, tr := range append(StandardTraces(seed), KindTraces(seed)...) {
			w := res[tr.Name]
			if w == nil {
				w = &worst12{}
				res[tr.Name] = w
				names = append(names, tr.Name)
			}
			w.add(seed, measure12(tr))
		}
	}
	t.Logf("| network | seeds | worst late-loss %% of received (seed) | worst mean delay ÷ ideal (seed) | longest return after spike/outage | seeds missing a goal |")
	t.Logf("|---|---|---:|---:|---:|---|")
	for _, n := range names {
		t.Log(res[n].row(n, lo, hi))
	}
}

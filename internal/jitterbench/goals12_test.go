package jitterbench

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/netsim"
)

// goal12 is one run measured against issue 12's goals.
type goal12 struct {
	late, ratio float64
	back        time.Duration // -1: no event
}

// measure12 runs the adaptive buffer with a time-stretching consumer on
// tr and measures it the way issue 12 does: late-loss in % of frames
// received; mean delay ÷ the ideal fixed delay (after send time, Ideal)
// for the kinds, ÷ the oracle on the 10 ms tick grid for the four
// standard traces (whose ideal after send time, ~1.5 ms on the LAN, no
// consumer ticking every 10 ms can approach); the return after the
// spike or the outage.
func measure12(tr Trace) goal12 {
	r := RunHarkStretch("hark", tr, 480)
	g := goal12{late: max(r.LateRecvPct, r.LatePct), back: -1}
	if len(tr.Events) > 0 {
		g.ratio = float64(r.MeanSend) / float64(IdealOnTicks(tr.T, 480))
		g.back = r.EventRecover
	} else if tr.SpikeEnd > 0 {
		g.ratio = float64(r.Mean) / float64(OracleOnTicks(tr.T, 480))
		g.back = r.Recovery
	} else if isKind(tr.Name) {
		g.ratio = float64(r.MeanSend) / float64(IdealOnTicks(tr.T, 480))
	} else {
		g.ratio = float64(r.Mean) / float64(OracleOnTicks(tr.T, 480))
	}
	return g
}

func isKind(name string) bool {
	for _, k := range netsim.Kinds {
		if k.Name == name {
			return true
		}
	}
	return false
}

// goals12Seeds is how many seeds TestGoals12 runs every trace with
// (goals12Groups: 1-24, on which the buffer's rules were worked out;
// 25-48, held out until they were; 49-150, unseen until the seventh
// session, which tried 1-300 with TestSweep12). 150 seeds took 14 s at
// load 13 on 2 shared cores (6.5 s of CPU with the build).
const goals12Seeds = 150

// goals12Groups are the last seeds of the groups TestGoals12 reports
// apart.
var goals12Groups = []uint64{24, 48, goals12Seeds}

// goals12Bounds are, for the traces that do not meet issue 12's goals on
// every seed, the worst figures they reach (seeds 1-150), so that they do
// not get worse unnoticed: late-loss %, mean ÷ ideal.
var goals12Bounds = map[string][2]float64{
	// Mobile (issue 3's preset: 60 ms heavy-tailed jitter in correlated
	// bursts, 5 % bursty loss) meets the goals on seeds 1-89; seeds 90,
	// 96, 97 and 111 reach 1.16-1.18 × (late-loss 0.52-0.70 %). On 96
	// hardly a packet is late: the network's tail is heavier in its
	// first 20 s than after, the jitter history (20 s memory) follows it,
	// and the ideal fixed delay, which may spend its 1 % on the worst
	// seconds (1.6-2.0 % of the first 10 s late on these seeds), is
	// below what a buffer losing ≤ 1 % in each 20 s can hold; the
	// late-loss margin adds the rest (without it these seeds meet
	// 1.15 ×, but five others lose over 1 %; see BENCHMARKS.md,
	// jitter7). It was held here to 1.11 % and 1.16 ×
	// on seeds 1-48 until a missing packet whose successor is queued was
	// waited for a little past its deadline (jitter's waitExtraNs).
	"mobile": {1, 1.19},
}

// TestGoals12 checks issue 12's goals on every run of the eleven traces
// (netsim's seven kinds: issue 12's six and its bursty sender; issue 3's
// four; seeds 1-150), with a consumer that
// time-stretches (RunHarkStretch): late-loss ≤ 1 % of frames received,
// mean delay ≤ 1.15 × the ideal fixed delay on the 10 ms tick grid (see
// measure12), back within 2 s after a spike or an outage. Traces that do
// not meet them on every seed are held to their current worst instead
// (goals12Bounds) and logged.
func TestGoals12(t *testing.T) {
	// The worst of each trace over each group of seeds (goals12Groups).
	res := map[string]*[3]worst12{}
	var names []string
	for seed := uint64(1); seed <= goals12Seeds; seed++ {
		for _, tr := range append(StandardTraces(seed), KindTraces(seed)...) {
			g := measure12(tr)
			ws := res[tr.Name]
			if ws == nil {
				ws = &[3]worst12{}
				res[tr.Name] = ws
				names = append(names, tr.Name)
			}
			ws[slices.IndexFunc(goals12Groups, func(last uint64) bool { return seed <= last })].add(seed, g)
			lateMax, ratioMax := 1.0, 1.15
			if b, ok := goals12Bounds[tr.Name]; ok {
				lateMax, ratioMax = b[0], b[1]
			}
			if g.late > lateMax || g.ratio > ratioMax || g.back > 2*time.Second {
				t.Errorf("seed %d %s: late-loss %.2f%% (at most %.2f), mean %.2f × ideal (at most %.2f), back after %v (at most 2 s)",
					seed, tr.Name, g.late, lateMax, g.ratio, ratioMax, g.back)
			}
		}
	}
	t.Logf("| network | seeds | worst late-loss %% of received (seed) | worst mean delay ÷ ideal (seed) | longest return after spike/outage | seeds missing a goal |")
	t.Logf("|---|---|---:|---:|---:|---|")
	for _, n := range names {
		for i, w := range res[n] {
			first := uint64(1)
			if i > 0 {
				first = goals12Groups[i-1] + 1
			}
			t.Log(w.row(n, first, goals12Groups[i]))
		}
	}
}

// worst12 is the worst of one trace's goal12 figures over some seeds, and
// every seed that missed a goal (late-loss over 1 %, mean delay over 1.15
// × ideal, back after more than 2 s). The zero value is ready.
type worst12 struct {
	late, ratio         float64
	lateSeed, ratioSeed uint64
	back                time.Duration
	missed              []string // "seed (late %, ratio ×, back)"
}

// add takes seed's figures in.
func (w *worst12) add(seed uint64, g goal12) {
	if g.late >= w.late {
		w.late, w.lateSeed = g.late, seed
	}
	if g.ratio >= w.ratio {
		w.ratio, w.ratioSeed = g.ratio, seed
	}
	w.back = max(w.back, g.back)
	if g.late > 1 || g.ratio > 1.15 || g.back > 2*time.Second {
		w.missed = append(w.missed, fmt.Sprintf("%d (%.2f %%, %.3f ×, %v)", seed, g.late, g.ratio, max(g.back, 0).Round(time.Millisecond)))
	}
}

// row is w as a row of the table the goal tests log, for trace name over
// seeds first-last.
func (w *worst12) row(name string, first, last uint64) string {
	missed := "none"
	if len(w.missed) > 0 {
		missed = strings.Join(w.missed, ", ")
	}
	return fmt.Sprintf("| %s | %d-%d | %.2f (%d) | %.3f (%d) | %v | %s |", name, first, last,
		w.late, w.lateSeed, w.ratio, w.ratioSeed, max(w.back, 0).Round(time.Millisecond), missed)
}

package jitterbench

import (
	"fmt"
	"testing"
	"time"
	"slices"

	"github.com/hark-intercom/hark/jitter"
)

func TestDbg(t *testing.T) {
	trs := StandardTraces(1)
	for _, tr := range trs[2:] {
		b := jitter.New()
		_ = b
		r := RunHark("x", tr, 480)
		fmt.Printf("%s %.2f %v %+v\n", tr.Name, r.LatePct, r.Mean, r.Stats)
		base := captureBase(tr.T)
		type pd struct{ at, d time.Duration }
		var ps []pd
		for i, at := range r.playedAt { ps = append(ps, pd{at, at - base[i]}) }
		slices.SortFunc(ps, func(a, b pd) int { return int(a.at - b.at) })
		for k, p := range ps { if k%25 == 0 && (tr.Name != "spike" || (p.at > 9*time.Second && p.at < 20*time.Second)) { fmt.Printf("%v:%v ", p.at.Truncate(time.Millisecond), p.d.Truncate(time.Millisecond)) } }
		fmt.Println()
	}
}

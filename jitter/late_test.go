package jitter

import (
	"cmp"
	"slices"
	"testing"
	"time"
)

// TestLateLossFeedback: the margin the target adds to the jitter
// quantile falls while no packet is lost late and rises when packets are
// (noteLate), within its bounds; packets read late from a stalled
// receiver's backlog (Packet.Backlog) do not move it.
func TestLateLossFeedback(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	const n = 4500
	run := func(lateFrom int, backlog bool) (atLateFrom, end float64) {
		// The ceiling keeps the late ones late however the target grows.
		b := New(WithMaxDelay(200 * time.Millisecond))
		late := func(i int) bool { return i >= lateFrom && i%50 == 0 }
		// Packet i is complete at (i+1)×20 ms and arrives 2 ms later; a
		// late one 300 ms after that. The consumer ticks every 20 ms.
		type push struct {
			i  int
			at time.Duration
		}
		var pushes []push
		for i := range n {
			at := time.Duration(i+1)*20*time.Millisecond + 2*time.Millisecond
			if late(i) {
				at += 300 * time.Millisecond
			}
			pushes = append(pushes, push{i, at})
		}
		slices.SortStableFunc(pushes, func(a, b push) int { return cmp.Compare(a.at, b.at) })
		k := 0
		for tick := time.Duration(0); tick < time.Duration(n+10)*20*time.Millisecond; tick += 20 * time.Millisecond {
			for ; k < len(pushes) && pushes[k].at <= tick; k++ {
				i := pushes[k].i
				b.Push(Packet{Seq: uint16(i), Timestamp: uint32(i * 960), Duration: 960, Start: i == 0,
					Payload: []byte{1}, Arrival: t0.Add(pushes[k].at), Backlog: backlog && late(i)})
			}
			b.Next(t0.Add(tick), 960)
			if tick == time.Duration(lateFrom)*20*time.Millisecond {
				atLateFrom = b.est.margin
			}
		}
		if s := b.Stats(); s.Late < uint64(n-lateFrom)/50-1 {
			t.Fatalf("%d packets late, want %d: %+v", s.Late, (n-lateFrom)/50, s)
		}
		return atLateFrom, b.est.margin
	}
	calm, lateM := run(2000, false)
	if calm > lateMarginMin+1e-3 {
		t.Errorf("after 2000 packets none of them late, the margin is %.3f; want it down at %.3f", calm, lateMarginMin)
	}
	if lateM < lateMarginMax-lateStep {
		t.Errorf("with 1 packet in 50 lost late, the margin is %.3f; want it up at %.3f", lateM, lateMarginMax)
	}
	_, backlogM := run(2000, true)
	if backlogM > lateMarginMin+1e-3 {
		t.Errorf("with 1 packet in 50 read late from a receiver's backlog, the margin is %.3f; want it where no packet was late, %.3f", backlogM, lateMarginMin)
	}
	t.Logf("margin: %.3f after 2000 packets in time; 2500 more with 1 in 50 late %.3f, read from a backlog %.3f", calm, lateM, backlogM)
}

package jitter

import (
	"math"
	"testing"
)

// TestLateRunIsOneEvent: a run of late packets (a queue on the path that
// drained over several of them) moves the late-loss margin as one event
// of the recent runs' mean length, not by its own length; late packets
// that come one at a time move it by lateStep each, as before; and runs
// of a steady length still move it by lateStep per late packet on
// average, so the share lost late settles where it did (noteLate).
func TestLateRunIsOneEvent(t *testing.T) {
	const dur = 960 // 20 ms at 48 kHz
	const eps = 1e-9

	// Eight late packets one at a time, 49 played between each.
	b := New()
	for k := range 8 {
		b.noteLate(int64(k*50*dur), dur)
		for range 49 {
			b.notePlayed()
		}
	}
	want := 8*lateStep - 8*49*lateStep*lateBudget
	if got := b.est.margin; math.Abs(got-want) > eps {
		t.Errorf("8 independent late packets: margin %.4f, want %.4f (lateStep each)", got, want)
	}

	// Four late packets one at a time, then eight in a row: the run
	// counts as one event of the mean run length so far (1).
	b = New()
	for k := range 4 {
		b.noteLate(int64(k*50*dur), dur)
	}
	before := b.est.margin
	for i := range 8 {
		b.noteLate(int64((1000+i)*dur), dur)
	}
	if rise := b.est.margin - before; rise > 2*lateStep+eps {
		t.Errorf("a run of 8 late packets after independent ones raised the margin by %.3f, want at most %.3f (one event)", rise, 2*lateStep)
	}

	// Runs of four: after five of them, a sixth raises the margin by
	// lateStep times the mean run length (21 packets in 6 runs when it
	// starts), near the 4 × lateStep its packets would have.
	b = New()
	for r := range 5 {
		for i := range 4 {
			b.noteLate(int64((r*100+i)*dur), dur)
		}
	}
	before = b.est.margin
	for i := range 4 {
		b.noteLate(int64((500+i)*dur), dur)
	}
	if rise, want := b.est.margin-before, lateStep*21/6; math.Abs(rise-want) > eps {
		t.Errorf("a run of 4 after five like it raised the margin by %.4f, want %.4f", rise, want)
	}
}

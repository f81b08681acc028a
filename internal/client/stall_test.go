package client

import (
	"testing"
	"time"
)

// A timer that fires late (the process did not run) does not count the
// stall as the relay's silence; one on time does, so a relay that is gone
// is still given up once the timeout passed in running time.
func TestStallWatch(t *testing.T) {
	const base = 2 * time.Second
	t0 := time.Unix(1000, 0)
	var w stallWatch

	// On time: nothing excused, no recheck.
	if ex, re := w.late(t0, t0.Add(time.Second), t0.Add(time.Second+10*time.Millisecond)); ex != 0 || re {
		t.Fatalf("timer on time: excused %v, recheck %v; want 0, false", ex, re)
	}
	// The process stalled 1.5 s: a timer due at +1 s fires at +2.5 s. The
	// silence since the last sign of life is 2.5 s, over the 2 s timeout,
	// but 1.5 s of it is the stall.
	ex, re := w.late(t0, t0.Add(time.Second), t0.Add(2500*time.Millisecond))
	if ex != 1500*time.Millisecond || !re {
		t.Fatalf("stalled 1.5 s: excused %v, recheck %v; want 1.5s, true", ex, re)
	}
	if silent := 2500 * time.Millisecond; silent >= base+ex {
		t.Fatalf("a stalled client would give the relay up: silent %v, timeout %v", silent, base+ex)
	}
	// Further stalls add up; the on-time part of each look does not.
	ex, _ = w.late(t0, t0.Add(3*time.Second), t0.Add(4*time.Second))
	if ex != 2500*time.Millisecond {
		t.Fatalf("excused %v after stalls of 1.5 s and 1 s, want 2.5s", ex)
	}
	if silent := 4 * time.Second; silent >= base+ex {
		t.Fatalf("given up after 1.5 s of running time: silent %v, timeout %v", silent, base+ex)
	}
	// On time again: the silence grows, the excuse does not, and the
	// relay is given up once the timeout passed in running time.
	ex, _ = w.late(t0, t0.Add(4500*time.Millisecond), t0.Add(4500*time.Millisecond))
	if silent := 4500 * time.Millisecond; silent < base+ex {
		t.Fatalf("not given up after 2 s of running time: silent %v, timeout %v", silent, base+ex)
	}
	// A sign of life starts over.
	t1 := t0.Add(5 * time.Second)
	if ex, re := w.late(t1, t1.Add(time.Second), t1.Add(time.Second)); ex != 0 || re {
		t.Fatalf("after a sign of life: excused %v, recheck %v; want 0, false", ex, re)
	}
	// A stall that began before the last sign of life counts only from it.
	t2 := t1.Add(3 * time.Second)
	if ex, _ := w.late(t2, t1.Add(2*time.Second), t2.Add(500*time.Millisecond)); ex != 500*time.Millisecond {
		t.Fatalf("stall partly before the sign of life: excused %v, want 500ms", ex)
	}
}

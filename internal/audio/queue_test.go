package audio

import "testing"

func TestQueueTarget(t *testing.T) {
	const p = PeriodFrames
	q := newQueueTarget(p, 3*p, p)
	cb, x := uint64(0), uint64(0)
	step := func(n int, underrun bool) (changes int) {
		for range n {
			cb++
			if underrun {
				x += p
				underrun = false
			}
			if q.update(cb, x) {
				changes++
			}
		}
		return changes
	}
	// Underruns while the device starts do not count.
	step(1, true)
	if q.target != p {
		t.Fatalf("grew on a start-up underrun: %d", q.target)
	}
	step(20, false)
	// An underrun later queues one period more, a second one more again,
	// never beyond max.
	step(1, true)
	step(1, true)
	step(1, true)
	if q.target != 3*p {
		t.Fatalf("after three underruns target %d, want the max %d", q.target, 3*p)
	}
	// Calm for two seconds (200 callbacks) gives a period back, and so on
	// down to one chunk, never below.
	if n := step(initialCalm-1, false); n != 0 || q.target != 3*p {
		t.Fatalf("shrank before the calm period: %d changes, target %d", n, q.target)
	}
	step(1, false)
	if q.target != 2*p {
		t.Fatalf("after %d calm callbacks target %d, want %d", initialCalm, q.target, 2*p)
	}
	step(initialCalm, false)
	if q.target != p {
		t.Fatalf("after a long calm target %d, want one chunk %d", q.target, p)
	}
	// An underrun right after a step down: the machine is slow for good,
	// the next step down waits twice as long, and again after the next.
	step(1, true)
	if q.target != 2*p || q.calm != 2*initialCalm {
		t.Fatalf("underrun after a shrink: target %d calm %d, want %d and %d", q.target, q.calm, 2*p, 2*initialCalm)
	}
	if step(2*initialCalm-1, false) != 0 {
		t.Fatal("shrank before the doubled calm period")
	}
	step(1, false)
	step(1, true)
	if q.calm != 4*initialCalm {
		t.Fatalf("calm %d after a second quick underrun, want %d", q.calm, 4*initialCalm)
	}
	for range 20 {
		step(int(q.calm), false)
		step(1, true)
	}
	if q.calm != maxCalm {
		t.Fatalf("calm %d, want it capped at %d", q.calm, maxCalm)
	}
	step(10*maxCalm, false)
	if q.target != p {
		t.Fatalf("target %d after a long calm, want one chunk %d", q.target, p)
	}
}

package jitter_test

import (
	"testing"
	"time"

	"github.com/hark-intercom/hark/jitter"
)

// TestQuietDrops: after a first transmission (60 packets, on time: the
// buffer has learned the path), a second one starts with 120 ms of backlog
// sent at once and then one packet a frame, in a pause (the consumer says
// every packet played was quiet). The buffer sheds the backlog in that
// pause. Without
// WithQuietDrops it drops packets unheard (Stats.Dropped), so a first word
// starting in one is lost; with it, each such packet comes with Play and
// Skip covering all of it (the consumer keeps a sound that starts in it),
// nothing is dropped, and the delay comes down the same.
func TestQuietDrops(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		b := jitter.New(jitter.WithTimeStretch(true), jitter.WithQuietDrops(quiet))
		t0 := time.Unix(1000, 0)
		const frame = 960
		frameDur := 20 * time.Millisecond
		// Packets 0-59, the first transmission, are captured by (i+1)
		// frames. The second, packets 60-99, starts at 2 s; its first 6
		// are held until 120 ms after; 2 ms on the way.
		const first, n = 60, 100
		tx2 := 2 * time.Second
		capture := func(i int) time.Duration {
			if i < first {
				return time.Duration(i+1) * frameDur
			}
			return tx2 + time.Duration(i-first+1)*frameDur
		}
		arrive := func(i int) time.Time {
			at := capture(i)
			if i >= first {
				at = max(at, tx2+120*time.Millisecond)
			}
			return t0.Add(at + 2*time.Millisecond)
		}
		next := 0
		var skipped, played int
		var lastDelay time.Duration
		for now := t0; now.Before(t0.Add(capture(n - 1))); now = now.Add(frameDur) {
			for ; next < n && !arrive(next).After(now); next++ {
				b.Push(jitter.Packet{Seq: uint16(next), Timestamp: uint32(capture(next)/frameDur-1) * frame, Duration: frame,
					Start: next == 0 || next == first, End: next == first-1, Payload: []byte{1}, Arrival: arrive(next)})
			}
			if next <= first {
				for need := frame; need > 0; {
					d, _ := b.Next(now, need)
					need -= max(d.Samples, 1)
				}
				continue // the first transmission: only learning
			}
			for need := frame; need > 0; {
				d, _ := b.Next(now, need)
				if d.Action == jitter.Play {
					b.SetQuiet(true)
					played++
					if d.Skip == frame && d.Samples == 0 {
						skipped++
						continue // all of it was quiet: the consumer asks again
					}
					lastDelay = now.Sub(t0.Add(time.Duration(d.Timestamp/frame+1) * frameDur))
				}
				need -= d.Samples
			}
		}
		st := b.Stats()
		t.Logf("quiet drops %v: %d played, %d of them skipped whole, %d dropped; last delay %v", quiet, played, skipped, st.Dropped, lastDelay)
		if lastDelay > 45*time.Millisecond {
			t.Errorf("quiet drops %v: the last packet played %v after its capture, want the backlog shed (≤ 45 ms)", quiet, lastDelay)
		}
		switch {
		case quiet && (st.Dropped != 0 || skipped == 0):
			t.Errorf("with quiet drops: %d dropped and %d skipped whole, want 0 dropped and some skipped", st.Dropped, skipped)
		case !quiet && (st.Dropped == 0 || skipped != 0):
			t.Errorf("without quiet drops: %d dropped and %d skipped whole, want some dropped and none skipped", st.Dropped, skipped)
		}
	}
}

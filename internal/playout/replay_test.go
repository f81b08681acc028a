package playout

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/jitter"
)

// Shared by the tests that replay packet arrivals through a mixer on a
// fake clock (mouth_test, startstall_test, fec_test).

// encodeFrames encodes pcm in Opus packets of frame samples with cfg
// (whose FrameSamples it sets); a last part shorter than a frame is left
// out.
func encodeFrames(t *testing.T, pcm []int16, frame int, cfg codec.EncoderConfig) [][]byte {
	t.Helper()
	cfg.FrameSamples = frame
	enc, err := codec.NewEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for i := 0; i+frame <= len(pcm); i += frame {
		p, err := enc.Encode(pcm[i:i+frame], nil)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	return pkts
}

// arrival is a packet and when it reaches the listener, from the start of
// the run.
type arrival struct {
	at time.Duration
	p  jitter.Packet
}

// replayArrivals pushes arrs (sorted here by arrival, stably) into m as
// talker 1, each stamped t0 + its arrival, and ticks m every period from
// `from` while the clock is before `until`, as talk record does; it
// returns what m played.
func replayArrivals(m *Mixer, arrs []arrival, frame int, from, until, period time.Duration) []int16 {
	slices.SortStableFunc(arrs, func(a, b arrival) int { return cmp.Compare(a.at, b.at) })
	var out []int16
	buf := make([]int16, frame)
	ai := 0
	for now := from; now < until; now += period {
		for ; ai < len(arrs) && arrs[ai].at <= now; ai++ {
			p := arrs[ai].p
			p.Arrival = t0.Add(arrs[ai].at)
			m.Push(1, p)
		}
		m.Tick(t0.Add(now), buf)
		out = append(out, buf...)
	}
	return out
}

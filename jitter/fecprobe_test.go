package jitter_test

import (
	"testing"
	"time"

	"github.com/hark-intercom/hark/jitter"
)

// lossRun sends 10 packets of 20 ms, each arriving at the tick after its
// last sample, except packet 5, which is lost. Packet 6's payload says whether it carries FEC
// data for packet 5 (payload[0] == 1). The consumer ticks every 20 ms. It
// returns the decisions and the final stats.
func lossRun(t *testing.T, nextHasFEC bool, opts ...jitter.Option) ([]jitter.Decision, jitter.Stats) {
	t.Helper()
	b := jitter.New(append([]jitter.Option{jitter.WithMinDelay(40 * time.Millisecond)}, opts...)...)
	const n = 10
	var ds []jitter.Decision
	for tick := 0; tick < 40; tick++ {
		now := time.Duration(tick) * 20 * time.Millisecond
		for i := 0; i < n; i++ {
			if i == 5 || i+1 != tick {
				continue
			}
			fec := byte(0)
			if i == 6 && nextHasFEC {
				fec = 1
			}
			b.Push(jitter.Packet{Seq: uint16(i), Timestamp: uint32(i * 960), Duration: 960, Start: i == 0, End: i == n-1,
				Payload: []byte{fec, byte(i)}, Arrival: t0.Add(now)})
		}
		d, err := b.Next(t0.Add(now), 960)
		if err == nil {
			ds = append(ds, d)
		}
	}
	return ds, b.Stats()
}

func probe(calls *int) func([]byte) bool {
	return func(p []byte) bool {
		*calls++
		return p[0] == 1
	}
}

// TestFECOnlyWhenTheNextPacketHasIt: a loss is recovered with an FEC
// decision when the next packet carries FEC data, and concealed when it
// does not; the counters say which happened.
func TestFECOnlyWhenTheNextPacketHasIt(t *testing.T) {
	count := func(ds []jitter.Decision, a jitter.Action) (n, samples int) {
		for _, d := range ds {
			if d.Action == a {
				n++
				samples += d.Samples
			}
		}
		return n, samples
	}

	calls := 0
	ds, st := lossRun(t, true, jitter.WithFECProbe(probe(&calls)))
	if n, s := count(ds, jitter.FEC); n != 1 || s != 960 || st.FECRecovered != 1 || st.FECUnavailable != 0 || st.Concealed != 0 {
		t.Errorf("next packet with FEC: %d FEC decisions for %d samples, stats %+v; want 1 for 960, FECRecovered 1, nothing concealed", n, s, st)
	}
	for _, d := range ds {
		if d.Action == jitter.FEC && d.Packet.Seq != 6 {
			t.Errorf("FEC decision from packet %d, want 6", d.Packet.Seq)
		}
	}
	if calls != 9 {
		t.Errorf("probe called %d times, want once per packet (9)", calls)
	}

	calls = 0
	ds, st = lossRun(t, false, jitter.WithFECProbe(probe(&calls)))
	nf, _ := count(ds, jitter.FEC)
	nc, sc := count(ds, jitter.Conceal)
	if nf != 0 || sc != 960 || st.FECRecovered != 0 || st.FECUnavailable != 1 || st.Concealed != uint64(nc) || st.ConcealedSamples != 960 {
		t.Errorf("next packet without FEC: %d FEC decisions, %d concealed samples, stats %+v; want no FEC, 960 concealed, FECUnavailable 1", nf, sc, st)
	}
	if st.Played != 9 {
		t.Errorf("played %d packets, want 9", st.Played)
	}

	// Without a probe every packet is assumed to carry FEC data.
	ds, st = lossRun(t, false)
	if n, _ := count(ds, jitter.FEC); n != 1 || st.FECRecovered != 1 || st.FECUnavailable != 0 {
		t.Errorf("no probe: %d FEC decisions, stats %+v; want 1", n, st)
	}

	// With FEC off the probe is not asked and nothing is recovered.
	calls = 0
	ds, st = lossRun(t, true, jitter.WithFEC(false), jitter.WithFECProbe(probe(&calls)))
	if n, _ := count(ds, jitter.FEC); n != 0 || calls != 0 || st.FECRecovered != 0 || st.FECUnavailable != 0 || st.ConcealedSamples != 960 {
		t.Errorf("FEC off: %d FEC decisions, probe called %d times, stats %+v; want none, 960 concealed", n, calls, st)
	}
}

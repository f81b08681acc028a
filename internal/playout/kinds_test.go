package playout

import (
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/netsim"
	"github.com/hark-intercom/hark/jitter"
)

// TestKindsThroughMixer: 30 s of espeak speech in 20 ms Opus packets over
// netsim's kinds of network (not mixed-frames: the encoder here
// makes only 20 ms packets), through the mixer with its pause hints on
// 10 ms ticks, with and without time-stretching. With it, no kind loses
// more packets as late or conceals more audio. A sender that hands its
// audio over in 280 ms bursts (bursty-sender) loses nothing: before the
// buffer had learned 50 packets it shrank to a target learned from the
// first burst alone, dropping 12 packets and losing 47 more as late in
// the first 1.2 s.
func TestKindsThroughMixer(t *testing.T) {
	one := audiotest.Speech(t, "The quick brown fox jumps over the lazy dog. Push to talk, then let go.")
	var speech []int16
	for len(speech) < 30*48000 {
		speech = append(speech, one...)
	}
	pkts := opusFrames(t, speech)
	for _, k := range netsim.Kinds {
		if k.Name == "mixed-frames" {
			continue
		}
		tal := k.Talker
		tal.Length = time.Duration(len(pkts)) * 20 * time.Millisecond
		tr := netsim.Generate(tal, netsim.NewLink(k.Link(1)))
		var late [2]uint64
		var concealed [2]uint64
		var dropped uint64 // with time-stretching
		for i, off := range []bool{true, false} {
			st := mixTrace(tr, pkts, off)
			j := st.Jitter
			t.Logf("%-12s time-stretching %-5v: %3d periods (%+6d samples), late %3d, dropped %2d, concealed %.2f%%, mean delay %v",
				k.Name, !off, st.TimeStretchOps, st.TimeStretchSamples, j.Late, j.Dropped, 100*float64(j.ConcealedSamples)/float64(len(pkts)*960), j.MeanDelay)
			late[i], concealed[i] = j.Late, j.ConcealedSamples
			if !off {
				dropped = j.Dropped
			}
		}
		if k.Name == "bursty-sender" && late[1]+dropped > 0 {
			t.Errorf("%s: with time-stretching %d packets late and %d dropped, want none", k.Name, late[1], dropped)
		}
		// Concealment within one 20 ms packet of it: with the mixer's
		// quiet drops (jitter.WithQuietDrops) the drift trace without
		// time-stretching conceals 960 samples in 30 s, with it 1080
		// (where a dropped packet's sound is now kept, the two differ).
		if late[1] > late[0] || concealed[1] > concealed[0]+960 {
			t.Errorf("%s: with time-stretching %d late and %d samples concealed, without %d and %d", k.Name, late[1], concealed[1], late[0], concealed[0])
		}
	}
}

// mixTrace plays tr through a mixer on 10 ms ticks (sent packet i carries
// pkts[i], round and round for a sender whose clock is fast) and returns
// its stats.
func mixTrace(tr *netsim.Trace, pkts [][]byte, noTimeStretch bool) Stats {
	m := New(Config{FrameSamples: 480, NoTimeStretch: noTimeStretch})
	out := make([]int16, 480)
	end := tr.Arrivals[len(tr.Arrivals)-1].Arrive + time.Second
	ai := 0
	for now := time.Duration(0); now < end; now += 10 * time.Millisecond {
		for ; ai < len(tr.Arrivals) && tr.Arrivals[ai].Arrive <= now; ai++ {
			a := tr.Arrivals[ai]
			s := tr.Sent[a.Index]
			m.Push(1, jitter.Packet{Seq: s.Seq, Timestamp: s.Timestamp, Start: s.Start, End: s.End,
				Payload: pkts[a.Index%len(pkts)], Arrival: t0.Add(a.Arrive)})
		}
		m.Tick(t0.Add(now), out)
	}
	return m.Stats()
}

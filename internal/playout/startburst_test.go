package playout

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/netsim"
	"github.com/hark-intercom/hark/jitter"
)

// clickPackets is a click track (a click at 300 ms and every 600 ms
// after, 7.2 s) in 20 ms Opus packets, and the clicks' times.
func clickPackets(t *testing.T) ([][]byte, []time.Duration) {
	t.Helper()
	var at []time.Duration
	for i := range 12 {
		at = append(at, 300*time.Millisecond+time.Duration(i)*600*time.Millisecond)
	}
	track := audiotest.ClickTrack(codec.SampleRate, 7200*time.Millisecond, at...)
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960, FEC: true})
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for i := 0; i+960 <= len(track); i += 960 {
		p, err := enc.Encode(track[i:i+960], nil)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	return pkts, at
}

// startBacklogClicks plays one transmission of pkts (clicks at the times
// at) whose sender held its first packets until hold after the first one's
// capture and then sent them at once (a browser's microphone and encoder
// starting, audio held while a floor request is out), then one per frame,
// over a link of spec that keeps the order packets were sent in, into a
// mixer ticking every 20 ms at phase, as talk record does. With warm, a 2 s
// transmission without backlog comes first (the buffer has learned the
// path). It returns each click's delay from its capture to where it is in
// the output.
func startBacklogClicks(t *testing.T, pkts [][]byte, at []time.Duration, hold time.Duration, spec string, seed uint64, phase time.Duration, warm bool) []time.Duration {
	t.Helper()
	model, err := netsim.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	link := netsim.NewLink(model(seed))
	const frame = 960
	period := 20 * time.Millisecond
	type arrival struct {
		at time.Duration
		p  jitter.Packet
	}
	var arrs []arrival
	// A queue, not a network that reorders: a burst arrives in order.
	var lastAt time.Duration
	send := func(at time.Duration, seq, i int, start, end bool) {
		ds := link.Deliver(at, nil)
		if len(ds) == 0 {
			return
		}
		lastAt = max(lastAt, at+ds[0])
		arrs = append(arrs, arrival{lastAt, jitter.Packet{Seq: uint16(seq), Timestamp: uint32(seq * frame),
			Duration: frame, Start: start, End: end, Payload: pkts[i]}})
	}
	var off time.Duration // the measured transmission's start
	seq0 := 0
	if warm {
		for i := range 100 {
			send(time.Duration(i+1)*period, i, i, i == 0, i == 99)
		}
		off, seq0 = 3*time.Second, 150
	}
	for i := range pkts {
		send(off+max(time.Duration(i+1)*period, hold), seq0+i, i, i == 0, i == len(pkts)-1)
	}
	slices.SortStableFunc(arrs, func(a, b arrival) int { return cmp.Compare(a.at, b.at) })
	m := New(Config{FrameSamples: frame})
	var out []int16
	buf := make([]int16, frame)
	ai := 0
	end := off + time.Duration(len(pkts))*period + time.Second
	for now := phase; now < end; now += period {
		for ; ai < len(arrs) && arrs[ai].at <= now; ai++ {
			p := arrs[ai].p
			p.Arrival = t0.Add(arrs[ai].at)
			m.Push(1, p)
		}
		m.Tick(t0.Add(now), buf)
		out = append(out, buf...)
	}
	var delays []time.Duration
	for _, c := range audiotest.FindClicks(out, codec.SampleRate, 0.25, 300*time.Millisecond) {
		heard := phase + c - off
		if heard < 0 {
			continue // the warm-up transmission
		}
		best := time.Duration(-1)
		for _, s := range at {
			if d := heard - s; d >= 0 && (best < 0 || d < best) {
				best = d
			}
		}
		delays = append(delays, best)
	}
	return delays
}

// TestStartBacklogShed: a talker's first transmission starts with 80-200
// ms of backlog sent at once (a browser page's microphone and encoder
// starting; client.Floor's audio held until the grant), then one packet
// per frame. The receiver plays the first packet as it comes and sheds
// the backlog in the quiet before the first word, so the first clicks (at
// 300 and 900 ms) are heard as soon as the later ones. Before, the buffer
// held a first transmission's first-packet wait for its first 50 packets
// (kept for a sender whose bursts recur, TestKindsThroughMixer's
// bursty-sender): the first click came 55-175 ms later than the last.
func TestStartBacklogShed(t *testing.T) {
	pkts, at := clickPackets(t)
	for _, spec := range []string{"uniform=2ms", "delay=20ms,jitter=8ms"} {
		base := startBacklogClicks(t, pkts, at, 0, spec, 1, 0, false)
		if len(base) != len(at) {
			t.Fatalf("%s without backlog: %d clicks heard, want %d", spec, len(base), len(at))
		}
		for _, hold := range []time.Duration{80 * time.Millisecond, 120 * time.Millisecond, 200 * time.Millisecond} {
			for ph := range 4 {
				phase := time.Duration(ph) * 5 * time.Millisecond
				d := startBacklogClicks(t, pkts, at, hold, spec, 1, phase, false)
				if len(d) != len(at) {
					t.Fatalf("%s, backlog %v, phase %v: %d clicks heard, want %d", spec, hold, phase, len(d), len(at))
				}
				// Within a frame of the path without backlog (the tick's
				// phase moves a click by up to one).
				for i := range 2 {
					if d[i] > base[len(base)-1]+20*time.Millisecond {
						t.Errorf("%s, backlog %v, phase %v: click %d heard after %v (without backlog: %v)", spec, hold, phase, i+1, d[i], base[len(base)-1])
					}
				}
			}
		}
	}
}

// TestStartBacklogSim prints the clicks' delays with a start backlog over
// several paths, for a first transmission and one after the buffer has
// learned the path. A tool for comparing code, not a check:
//
//	HARK_MOUTH_SIM=1 go test -run TestStartBacklogSim -v ./internal/playout
func TestStartBacklogSim(t *testing.T) {
	if os.Getenv("HARK_MOUTH_SIM") == "" {
		t.Skip("set HARK_MOUTH_SIM=1")
	}
	pkts, at := clickPackets(t)
	for _, warm := range []bool{false, true} {
		for _, spec := range []string{"uniform=2ms", "delay=1ms,jitter=3ms", "delay=20ms,jitter=8ms"} {
			for _, hold := range []time.Duration{0, 40 * time.Millisecond, 80 * time.Millisecond, 120 * time.Millisecond, 200 * time.Millisecond} {
				var first, second, last []float64
				for seed := uint64(1); seed <= 5; seed++ {
					for ph := range 4 {
						d := startBacklogClicks(t, pkts, at, hold, spec, seed, time.Duration(ph)*5*time.Millisecond, warm)
						if len(d) < 3 {
							continue
						}
						first = append(first, float64(d[0])/1e6)
						second = append(second, float64(d[1])/1e6)
						last = append(last, float64(d[len(d)-1])/1e6)
					}
				}
				med := func(v []float64) string { slices.Sort(v); return fmt.Sprintf("%5.1f", v[len(v)/2]) }
				t.Logf("learned %-5v %-22s backlog %5v: click delay, median of 20 runs: first %s, second %s, last %s ms",
					warm, spec, hold, med(first), med(second), med(last))
			}
		}
	}
}

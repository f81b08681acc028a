package playout

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/netsim"
	"github.com/hark-intercom/hark/jitter"
)

// TestMouthToEarSim is internal/e2e's TestMouthToEar (talk send → relay →
// talk record) without processes or a machine's timing: a click track in
// Opus packets of the recorder's frame length, two transmissions, a
// seeded network, and a mixer ticking once per frame as talk record does,
// at four phases of its tick against the sender's frames. Each click's
// delay is from its capture to where it is in the output; it counts the
// frame's capture, Opus's look-ahead, the network, the jitter buffer and
// the wait for the recorder's tick. It is a tool for comparing code, not a
// check:
//
//	HARK_MOUTH_SIM=1 go test -run TestMouthToEarSim -v ./internal/playout
func TestMouthToEarSim(t *testing.T) {
	if os.Getenv("HARK_MOUTH_SIM") == "" {
		t.Skip("set HARK_MOUTH_SIM=1")
	}
	var at []time.Duration
	for i := range 10 {
		at = append(at, 300*time.Millisecond+time.Duration(i)*300*time.Millisecond)
	}
	track := audiotest.ClickTrack(codec.SampleRate, 3500*time.Millisecond, at...)
	// Stalls of a loaded machine: 30 ms every 0.7 s.
	stalls := func(seed uint64) []time.Duration {
		var s []time.Duration
		for k := range 20 {
			s = append(s, time.Duration(seed*37%500)*time.Millisecond+time.Duration(k)*700*time.Millisecond)
		}
		return s
	}
	for _, frame := range []int{960, 480} {
		for _, net := range []struct {
			spec  string
			stall time.Duration
		}{{"uniform=3ms", 0}, {"delay=1ms,jitter=5ms", 0}, {"delay=1ms,jitter=3ms", 30 * time.Millisecond}} {
			model, err := netsim.ParseSpec(net.spec)
			if err != nil {
				t.Fatal(err)
			}
			pkts := encodeFrames(t, track, frame, codec.EncoderConfig{FEC: true})
			period := time.Duration(frame) * time.Second / codec.SampleRate
			gap := time.Duration(len(pkts))*period + time.Second // between the starts of the two transmissions
			var delays []float64
			var buffered time.Duration
			runs := 0
			for seed := uint64(1); seed <= 10; seed++ {
				cfg := model(seed)
				if net.stall > 0 {
					cfg.Delay = netsim.Spikes{Base: cfg.Delay, At: stalls(seed), Height: net.stall}
				}
				link := netsim.NewLink(cfg)
				var arrs []arrival
				for tx := range 2 {
					for i, p := range pkts {
						send := time.Duration(tx)*gap + time.Duration(i+1)*period
						seq := tx*len(pkts) + i
						for _, d := range link.Deliver(send, nil) {
							arrs = append(arrs, arrival{send + d, jitter.Packet{Seq: uint16(seq), Timestamp: uint32(seq * frame),
								Duration: uint32(frame), Start: i == 0, End: i == len(pkts)-1, Payload: p}})
						}
					}
				}
				for ph := range 4 {
					phase := time.Duration(ph) * period / 4
					m := New(Config{FrameSamples: frame})
					out := replayArrivals(m, arrs, frame, phase, 2*gap+time.Second, period)
					for _, c := range audiotest.FindClicks(out, codec.SampleRate, 0.25, 0) {
						heard := phase + c
						best := time.Duration(-1)
						for tx := range 2 {
							for _, s := range at {
								if d := heard - (time.Duration(tx)*gap + s); d >= 0 && (best < 0 || d < best) {
									best = d
								}
							}
						}
						delays = append(delays, float64(best)/1e6)
					}
					st, _ := m.TalkerStats(1)
					buffered += st.MeanDelay
					runs++
				}
			}
			slices.Sort(delays)
			var sum float64
			for _, v := range delays {
				sum += v
			}
			name := net.spec
			if net.stall > 0 {
				name += ", 30 ms stalls every 0.7 s"
			}
			t.Logf("%d ms frames, %s: %d clicks, median %.1f ms, mean %.1f ms (10th–90th percentile %.1f–%.1f); jitter buffer mean delay %.1f ms",
				frame/48, name, len(delays), delays[len(delays)/2], sum/float64(len(delays)), delays[len(delays)/10], delays[len(delays)*9/10],
				float64(buffered/time.Duration(runs))/1e6)
		}
	}
}

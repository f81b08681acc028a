package playout

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/jitter"
)

// startStallArrivals returns the arrival times of a 20 ms talker's packets
// (sent at (k+1)·20 ms, n of them) whose sender sent the first `before`
// packets on time, then stalled until stallEnd and sent all it owed at
// once, then one per frame again (voicefile.Send catching up after a late
// tick; the relay's echo test replays the pace it received). Each packet
// takes `path` plus a small seeded wobble (at most 2 ms) on the way, in
// order.
func startStallArrivals(n, before int, stallEnd, path time.Duration, seed uint64) []time.Duration {
	out := make([]time.Duration, n)
	var last time.Duration
	x := seed*2654435761 + 1
	for k := range n {
		send := time.Duration(k+1) * 20 * time.Millisecond
		if k >= before {
			send = max(send, stallEnd)
		}
		x = x*6364136223846793005 + 1442695040888963407
		wobble := time.Duration(x>>33) % (2 * time.Millisecond)
		last = max(last, send+path+wobble) // a queue: in order
		out[k] = last
	}
	return out
}

// playClicks encodes a click track (clicks at `at`, total long) in 20 ms
// Opus packets with FEC, pushes packet k into a mixer at arrive[k], and
// ticks the mixer every 20 ms from the first arrival on, as talk record and
// talk echo's recorder do (their first tick comes with the first packet).
// It returns the recording and the talker's jitter stats.
func playClicks(t *testing.T, total time.Duration, at []time.Duration, arrive []time.Duration) ([]int16, jitter.Stats) {
	t.Helper()
	const frame = 960
	const period = 20 * time.Millisecond
	track := audiotest.ClickTrack(codec.SampleRate, total, at...)
	pkts := encodeFrames(t, track, frame, codec.EncoderConfig{FEC: true})
	arrs := make([]arrival, len(pkts))
	for k, payload := range pkts {
		arrs[k] = arrival{arrive[k], jitter.Packet{Seq: uint16(k), Timestamp: uint32(k * frame), Duration: frame,
			Start: k == 0, End: k == len(pkts)-1, Payload: payload}}
	}
	m := New(Config{FrameSamples: frame})
	first := slices.MinFunc(arrs, func(a, b arrival) int { return cmp.Compare(a.at, b.at) }).at
	last := slices.MaxFunc(arrs, func(a, b arrival) int { return cmp.Compare(a.at, b.at) }).at
	out := replayArrivals(m, arrs, frame, first, last+2*time.Second, period)
	st, _ := m.TalkerStats(1)
	return out, st
}

// TestStalledStartPlaysTheFirstWord reproduces TestEchoVerb's failure at
// load 16 (cmd/talk: "found 2 clicks in the echo, want 3", the clicks of
// 700 and 1300 ms heard about 470 ms late, the one of 200 ms missing):
// the sender's first packet goes out on time, then its process stalls and
// sends the packets it owes at once, then one per frame again (the relay's
// echo test replays that pace). The receiving jitter buffer had started
// the transmission with the first packet, concealed, then silenced the
// stall, and dropped the burst as late — the packets holding the start of
// the speech, the first click among them — while the stall it learned
// as network jitter raised its target (and the delay) by the stall for
// the rest. The start of a transmission must be played, late if need be:
// every click is heard, none more than the stall late, and the target
// delay stays where the network puts it. A sender that holds all of its
// first packets and then sends them at once must not lose a click either
// (the buffer sheds the backlog where it is quiet, and only there).
func TestStalledStartPlaysTheFirstWord(t *testing.T) {
	at := []time.Duration{200 * time.Millisecond, 700 * time.Millisecond, 1300 * time.Millisecond}
	const total = 1500 * time.Millisecond
	const n = int(total / (20 * time.Millisecond))
	for _, c := range []struct {
		name     string
		before   int           // packets sent before the stall
		stallEnd time.Duration // when the sender sends what it owes
	}{
		{"first packet, then a 470 ms stall", 1, 490 * time.Millisecond},
		{"three packets, then a 450 ms stall", 3, 510 * time.Millisecond},
		{"first packet, then a 250 ms stall", 1, 270 * time.Millisecond},
		{"all held 470 ms, then sent at once", 0, 490 * time.Millisecond},
	} {
		for seed := uint64(1); seed <= 4; seed++ {
			arrive := startStallArrivals(n, c.before, c.stallEnd, 3*time.Millisecond, seed)
			out, st := playClicks(t, total, at, arrive)
			got := audiotest.FindClicks(out, codec.SampleRate, 0.25, 200*time.Millisecond)
			t.Logf("%s, seed %d: clicks at %v; late %d, dropped %d, resumed %d, concealed %d, target %v",
				c.name, seed, got, st.Late, st.Dropped, st.Resumed, st.Concealed, st.TargetDelay)
			if len(got) != len(at) {
				t.Errorf("%s, seed %d: %d clicks heard (at %v), want %d", c.name, seed, len(got), got, len(at))
				continue
			}
			// The recording starts with the first packet's arrival: a
			// click is played no sooner than it was captured, and at
			// most the stall (and a few frames) after.
			for i, g := range got {
				if d := arrive[0] + g - at[i]; d < 0 || d > c.stallEnd+100*time.Millisecond {
					t.Errorf("%s, seed %d: click %d (captured at %v) played %v after its capture", c.name, seed, i+1, at[i], d)
				}
			}
			// The stall is not the network's jitter (3-5 ms here): the
			// target must not have learned it.
			if st.TargetDelay > 100*time.Millisecond {
				t.Errorf("%s, seed %d: target delay %v after the stall: it was learned as network jitter", c.name, seed, st.TargetDelay)
			}
		}
	}
}

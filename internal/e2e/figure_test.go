package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/wav"
)

// TestMouthToEar prints the mouth-to-ear delay on loopback, file to file,
// at 20 ms and 10 ms frames: a click track goes through `talk send`, the
// relay and `talk record` (adaptive jitter buffer, as a person would hear
// it). Both talk processes log the wall time of their sample 0 (see
// package voicefile), so each click's delay is
//
//	(onset in recording + recorder's sample 0) − (onset in file + sender's sample 0)
//
// which counts frame fill, encoding, network and relay, jitter buffer and
// the playout tick. It does not run in parallel with other tests (the
// adaptive buffer reacts to machine load). It is a figure, not an
// assertion: run
//
//	go test -run TestMouthToEar -v ./internal/e2e
func TestMouthToEar(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	ctx := testCtx(t, 60*time.Second)
	r := startRelay(t, ctx, true, "", nil)
	var at []time.Duration
	for i := range 10 {
		at = append(at, 300*time.Millisecond+time.Duration(i)*300*time.Millisecond)
	}
	track := audiotest.ClickTrack(48000, 3500*time.Millisecond, at...)
	file := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16}, track, 48000)
	sent := audiotest.FindClicks(track, 48000, 0.25, 0)
	if len(sent) != len(at) {
		t.Fatalf("found %d clicks in the track, want %d", len(sent), len(at))
	}
	var summary []string
	for _, frame := range []string{"20ms", "10ms"} {
		t.Run(frame, func(t *testing.T) {
			rec := r.startRecorder(t, ctx, "ear", "", "lobby", "--frame", frame)
			// Two transmissions: the first one starts the jitter buffer
			// from its initial guess, the second from what it learned.
			var starts []time.Time
			for range 2 {
				from := len(rec.output())
				send := r.talk(t, "send", "mouth", "", "lobby", "--frame", frame, file)
				if code := send.wait(ctx); code != 0 {
					t.Fatalf("send exited %d:\n%s", code, send.text())
				}
				starts = append(starts, send.sample0(ctx))
				k, _ := rec.waitLine(ctx, from, reHearing)
				rec.waitLine(ctx, k+1, reSilence)
			}
			rec.interrupt(ctx)
			recStart := rec.sample0(ctx)
			got := readMono(t, rec.out)
			clicks := audiotest.FindClicks(got, 48000, 0.25, 0)
			// Attribute recorded clicks to transmissions in order.
			if len(clicks) < len(sent) {
				t.Fatalf("found %d clicks in the recording, want at least %d", len(clicks), len(sent))
			}
			var delays []time.Duration
			for _, c := range clicks {
				heard := recStart.Add(c)
				// The transmission this click belongs to is the last
				// one that started before it was heard.
				var start time.Time
				for _, s := range starts {
					if s.Before(heard) {
						start = s
					}
				}
				// Match to the nearest click of the track.
				best := time.Duration(-1)
				for _, s := range sent {
					d := heard.Sub(start.Add(s))
					if d >= 0 && (best < 0 || d < best) {
						best = d
					}
				}
				if best >= 0 {
					delays = append(delays, best)
				}
			}
			slices.Sort(delays)
			med := delays[len(delays)/2]
			t.Logf("mouth-to-ear at %s frames: median %v, min %v, max %v over %d clicks; recorder %s",
				frame, med.Round(100*time.Microsecond), delays[0].Round(100*time.Microsecond),
				delays[len(delays)-1].Round(100*time.Microsecond), len(delays), rec.playoutStats())
			// The targets: 60 ms at 20 ms frames, 40 ms at 10 ms frames.
			audiotest.Figure(t, audiotest.Score{Value: ms(med), Unit: "ms", Lower: true,
				Target: map[string]float64{"20ms": 60, "10ms": 40}[frame]})
			summary = append(summary, fmt.Sprintf("%s frames: median %.1f ms (min %.1f, max %.1f, %d clicks)", frame,
				ms(med), ms(delays[0]), ms(delays[len(delays)-1]), len(delays)))
		})
	}
	t.Logf("MOUTH-TO-EAR on loopback, file to file:\n  %s", strings.Join(summary, "\n  "))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

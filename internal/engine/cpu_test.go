package engine

import (
	"context"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audio"
	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/proto"
)

// loopFloor grants the floor at once and hands every frame sent back to the
// engine as voice of another talker: one full-duplex stream without the
// network (capture, encode, jitter buffer, decode, mix, playback).
type loopFloor struct{ e *Engine }

func (f loopFloor) Talk(context.Context) (Transmitter, error) { return &loopTx{e: f.e}, nil }
func (f loopFloor) Session() uint32                           { return 1 }

type loopTx struct {
	e   *Engine
	mu  sync.Mutex
	seq uint16
	ts  uint32
}

func (t *loopTx) Send(opus []byte, samples int) error {
	t.mu.Lock()
	h := proto.VoiceHeader{Sender: 2, Seq: t.seq, Timestamp: t.ts, Duration: uint16(samples)}
	if t.seq == 0 {
		h.Flags = proto.FlagStart
	}
	t.seq++
	t.ts += uint32(samples)
	t.mu.Unlock()
	t.e.Voice(h, opus, time.Now())
	return nil
}

func (t *loopTx) End(context.Context) error { return nil }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFullDuplexCPU reports the CPU the engine uses for one
// full-duplex stream in real time: speech from a fake real-time microphone
// is encoded and looped back as another talker's voice, jitter-buffered,
// decoded, mixed and played on the null backend. cpu-% is process CPU time
// over wall time (100 = one core), measured over 10 s per case: 10 and 20 ms
// frames at the default complexity, and 20 ms at complexities 1 and 10.
// Run with -benchtime=1x.
func BenchmarkFullDuplexCPU(b *testing.B) {
	speech := audiotest.Speech(b, "Hello, this is the front door. Could somebody please come down and open it? Thank you.")
	for _, c := range []struct{ frame, complexity int }{{480, 0}, {960, 0}, {960, 1}, {960, 10}} {
		frame := c.frame
		name := time.Duration(frame * int(time.Second) / 48000).String()
		if c.complexity != 0 {
			name += "/complexity" + strconv.Itoa(c.complexity)
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				capt := newRealtimeCapture(func(n int, p []int16) {
					off := n * len(p) % (len(speech) - len(p))
					copy(p, speech[off:])
				})
				e, err := New(Config{FrameSamples: frame, Complexity: c.complexity, Capture: capt, Mute: AllCues,
					Playback: func(fill audio.FillFunc) (audio.Device, error) {
						return audio.NewPlayback(audio.PlaybackConfig{Options: nullOpts(), Fill: fill})
					}})
				if err != nil {
					b.Fatal(err)
				}
				states := make(chan State, 100)
				e.cfg.OnState = func(s State) {
					select {
					case states <- s:
					default:
					}
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- e.Run(ctx, loopFloor{e}) }()
				e.Press(true)
				for s := range states {
					if s.Talking {
						break
					}
				}
				// Settle, then measure.
				<-time.After(time.Second)
				c0, w0 := cpuTime(), time.Now()
				<-time.After(10 * time.Second)
				c1, w1 := cpuTime(), time.Now()
				cancel()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				st := e.Stats()
				if st.FramesSent == 0 || st.Playout.Jitter.Played == 0 {
					b.Fatalf("nothing looped: %+v", st)
				}
				b.ReportMetric(100*float64(c1-c0)/float64(w1.Sub(w0)), "cpu-%")
				b.ReportMetric(float64(st.Playout.Jitter.Played), "frames-played")
			}
		})
	}
}

package engine

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
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
// full-duplex stream in real time: speech on the microphone is encoded and
// looped back as another talker's voice, jitter-buffered, decoded, mixed and
// played. cpu-% is process CPU time over wall time (100 = one core),
// measured over 10 s per case after a settling second; device-thread-% is
// the part used by the device's own audio thread (miniaudio's null backend:
// its timing loop and the copies into our rings), rest-% everything else
// (Go, Opus, jitter buffers, mixing, wake-ups). Cases:
//
//   - null/10ms, null/20ms: capture and playback on miniaudio's null
//     backend opened as talk does (OpenDevices: one duplex device; the real
//     device path: audio thread, rings, pump goroutine), speech written into
//     each captured frame; complexity1, 5 and 10 vary the Opus encoder
//     (the default is DefaultComplexity);
//   - separate/10ms, separate/20ms: the same on two null devices;
//   - null-lowlatency/20ms: the duplex device with Config.LowLatency;
//   - fakemic/20ms: a Go-timer microphone (the earlier benchmark's setup),
//     null playback;
//   - idle/10ms, idle/20ms: the duplex null device, connected, nobody
//     talking or heard (after the playback has paused).
//
// Run with -benchtime=1x.
func BenchmarkFullDuplexCPU(b *testing.B) {
	speech := audiotest.Speech(b, "Hello, this is the front door. Could somebody please come down and open it? Thank you.")
	type bcase struct {
		mic        string // "null", "fake" or "idle"
		frame      int
		complexity int
	}
	cases := []bcase{{"null", 480, 0}, {"null", 960, 0}, {"null", 960, 1}, {"null", 960, 5}, {"null", 960, 10},
		{"separate", 480, 0}, {"separate", 960, 0}, {"lowlatency", 960, 0}, {"fake", 960, 0}, {"idle", 480, 0}, {"idle", 960, 0}}
	for _, c := range cases {
		frame := c.frame
		name := map[string]string{"null": "null/", "separate": "separate/", "lowlatency": "null-lowlatency/",
			"fake": "fakemic/", "idle": "idle/"}[c.mic] +
			time.Duration(frame*int(time.Second)/48000).String()
		if c.complexity != 0 {
			name += "-complexity" + strconv.Itoa(c.complexity)
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				var spoken atomic.Int64 // samples of speech written so far (capture goroutine)
				say := func(p []int16) {
					n := int(spoken.Add(int64(len(p)))) - len(p)
					off := n % (len(speech) - len(p))
					copy(p, speech[off:])
				}
				// The devices as talk opens them (OpenDevices: one duplex
				// null device), or two separate ones.
				capt, play, err := OpenDevices(DeviceOptions{Backend: "null", Separate: c.mic == "separate"})
				if err != nil {
					b.Fatal(err)
				}
				// The devices whose audio threads are timed apart.
				type threadTimer interface{ AudioThreadCPU() time.Duration }
				var devs []threadTimer
				if d, ok := capt.(threadTimer); ok && c.mic == "separate" {
					devs = append(devs, d)
				}
				openPlay := play
				play = func(fill audio.FillFunc) (audio.Device, error) {
					d, err := openPlay(fill)
					if t, ok := d.(threadTimer); ok {
						devs = append(devs, t)
					}
					return d, err
				}
				deviceCPU := func() (sum time.Duration) {
					for _, d := range devs {
						sum += d.AudioThreadCPU()
					}
					return sum
				}
				cfg := Config{FrameSamples: frame, Complexity: c.complexity, Mute: AllCues,
					Capture: capt, Playback: play, LowLatency: c.mic == "lowlatency"}
				if c.mic == "fake" {
					capt.Close()
					cfg.Capture = newRealtimeCapture(func(n int, p []int16) { say(p) })
				}
				e, err := New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if c.mic == "null" || c.mic == "separate" || c.mic == "lowlatency" {
					// The null microphone records silence: put speech in
					// each frame before it is encoded (process calls
					// OnCapture just before encoding). A test-only trick;
					// set after New so the capture can still pause.
					e.cfg.OnCapture = say
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
				settle := time.Second
				if c.mic == "idle" {
					settle = quietAfter + time.Second // until playback pauses
				} else {
					e.Press(true)
					for s := range states {
						if s.Talking {
							break
						}
					}
				}
				<-time.After(settle)
				c0, d0, w0 := cpuTime(), deviceCPU(), time.Now()
				<-time.After(10 * time.Second)
				c1, d1, w1 := cpuTime(), deviceCPU(), time.Now()
				cancel()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				st := e.Stats()
				if c.mic != "idle" && (st.FramesSent == 0 || st.Playout.Jitter.Played == 0) {
					b.Fatalf("nothing looped: %+v", st)
				}
				if testing.Verbose() {
					b.Logf("%+v", st)
				}
				b.ReportMetric(100*float64(c1-c0)/float64(w1.Sub(w0)), "cpu-%")
				if c.mic != "fake" {
					dev := 100 * float64(d1-d0) / float64(w1.Sub(w0))
					b.ReportMetric(dev, "device-thread-%")
					b.ReportMetric(100*float64(c1-c0)/float64(w1.Sub(w0))-dev, "rest-%")
				}
				b.ReportMetric(float64(st.Playout.Jitter.Played), "frames-played")
			}
		})
	}
}

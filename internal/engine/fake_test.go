package engine

import (
	"context"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audio"
)

// testCtx bounds a test so that a broken engine fails instead of hanging; it
// is a safety net, not a timing assertion.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeCapture is an audio.Input fed by the test with push.
type fakeCapture struct {
	frames  chan []int16
	mu      sync.Mutex
	closed  bool // guarded by mu
	started chan struct{}
	// recycled gets a token for every period the engine hands back
	// (Recycle), that is once it has done everything it does with it;
	// tokens beyond its capacity are dropped (tests that do not wait).
	recycled chan struct{}
}

func newFakeCapture() *fakeCapture {
	return &fakeCapture{frames: make(chan []int16, 64), started: make(chan struct{}),
		recycled: make(chan struct{}, 1024)}
}

func (f *fakeCapture) Start(context.Context) error { close(f.started); return nil }
func (f *fakeCapture) Frames() <-chan []int16      { return f.frames }
func (f *fakeCapture) Recycle([]int16) {
	select {
	case f.recycled <- struct{}{}:
	default:
	}
}

// processed waits until the engine is done with n more pushed periods:
// OnCapture sees a period before the engine decides whether it belongs to
// a transmission, so it cannot tell the test that a period is behind it.
func (f *fakeCapture) processed(t testing.TB, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-f.recycled:
		case <-time.After(10 * time.Second):
			t.Fatalf("the engine did not finish with a captured period (%d of %d)", i, n)
		}
	}
}
func (f *fakeCapture) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.frames)
	}
	return nil
}

// push delivers one period (blocking while the queue is full).
func (f *fakeCapture) push(p []int16) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.frames <- p
	}
}

// fakePlayback is a device whose periods the test pulls with pull.
type fakePlayback struct {
	mu   sync.Mutex
	fill audio.FillFunc // guarded by mu
	open chan struct{}
}

func newFakePlayback() *fakePlayback { return &fakePlayback{open: make(chan struct{})} }

func (p *fakePlayback) new(fill audio.FillFunc) (audio.Device, error) {
	p.mu.Lock()
	p.fill = fill
	p.mu.Unlock()
	return p, nil
}
func (p *fakePlayback) Start(context.Context) error { close(p.open); return nil }
func (p *fakePlayback) Close() error                { return nil }

// pull asks for one 10 ms period, as the audio thread would.
func (p *fakePlayback) pull(t testing.TB) []int16 {
	t.Helper()
	select {
	case <-p.open:
	case <-time.After(10 * time.Second):
		t.Fatal("the engine never started the playback device")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int16, audio.PeriodFrames)
	p.fill(out)
	return out
}

// realtimeCapture is an audio.Input that delivers periods in real time, as a
// sound card does: period n holds the sound "spoken" from sample0 + n·10 ms
// to sample0 + (n+1)·10 ms and is delivered once that time has passed (a
// ticker wakes the delivery; late wake-ups deliver every period that is due,
// so the stream stays locked to the wall clock). src(n) says what is in
// period n. spokenAt(n) is its first sample's wall time.
type realtimeCapture struct {
	src    func(n int, p []int16)
	frames chan []int16
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	sample0 time.Time // guarded by mu; set by Start
}

func newRealtimeCapture(src func(n int, p []int16)) *realtimeCapture {
	return &realtimeCapture{src: src, frames: make(chan []int16, 16),
		stop: make(chan struct{}), done: make(chan struct{})}
}

const period = 10 * time.Millisecond

func (c *realtimeCapture) Start(ctx context.Context) error {
	t0 := time.Now()
	c.mu.Lock()
	c.sample0 = t0
	c.mu.Unlock()
	go func() {
		defer close(c.done)
		defer close(c.frames)
		tk := time.NewTicker(period)
		defer tk.Stop()
		n := 0
		for {
			select {
			case <-c.stop:
				return
			case <-ctx.Done():
				return
			case now := <-tk.C:
				for ; t0.Add(time.Duration(n+1)*period).Compare(now) <= 0; n++ {
					p := make([]int16, audio.PeriodFrames)
					if c.src != nil {
						c.src(n, p)
					}
					select {
					case c.frames <- p:
					default: // consumer behind: dropped, as audio.Capture does
					}
				}
			}
		}
	}()
	return nil
}

// spokenAt returns the wall time of period n's first sample.
func (c *realtimeCapture) spokenAt(n int) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sample0.Add(time.Duration(n) * period)
}

func (c *realtimeCapture) Frames() <-chan []int16 { return c.frames }
func (c *realtimeCapture) Recycle([]int16)        {}
func (c *realtimeCapture) Close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return nil
}

// sine fills p with a tone continuing from period n.
func sine(n int, p []int16) {
	for i := range p {
		s := n*len(p) + i
		p[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(s)/48000))
	}
}

// checkNoLeaks fails t if goroutines of the engine are still running after
// up to 5 s (polling: waiting for the goroutines to finish, not timing them).
func checkNoLeaks(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "engine.(*Engine)") || strings.Contains(g, "engine.(*realtimeCapture)") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d engine goroutines leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		<-tk.C
	}
}

// wallPlayback is a playback device with a perfect clock: it pulls period n
// when the wall clock reaches sample0 + n·10 ms (a ticker wakes it; late
// wake-ups pull every period due). onPlay gets each period with the wall
// time it starts playing, one period after the pull (the period queued
// ahead in a two-period device buffer).
type wallPlayback struct {
	fill    audio.FillFunc
	onPlay  func(at time.Time, p []int16)
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	started atomic.Bool
}

func newWallPlayback(fill audio.FillFunc, onPlay func(at time.Time, p []int16)) *wallPlayback {
	return &wallPlayback{fill: fill, onPlay: onPlay, stop: make(chan struct{}), done: make(chan struct{})}
}

func (w *wallPlayback) Start(ctx context.Context) error {
	w.started.Store(true)
	t0 := time.Now()
	go func() {
		defer close(w.done)
		tk := time.NewTicker(period)
		defer tk.Stop()
		out := make([]int16, audio.PeriodFrames)
		n := 0
		for {
			select {
			case <-w.stop:
				return
			case <-ctx.Done():
				return
			case now := <-tk.C:
				for ; t0.Add(time.Duration(n)*period).Compare(now) <= 0; n++ {
					clear(out)
					w.fill(out)
					if w.onPlay != nil {
						w.onPlay(t0.Add(time.Duration(n+1)*period), out)
					}
				}
			}
		}
	}()
	return nil
}

func (w *wallPlayback) Close() error {
	w.once.Do(func() { close(w.stop) })
	if w.started.Load() {
		<-w.done
	}
	return nil
}

package audio

import (
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestCaptureHandlePauseResume drives a handler capture on the fake backend:
// frames of the asked size reach the handler, nothing while paused, and a
// partial frame from before the pause is dropped.
func TestCaptureHandlePauseResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fb := newFakeBackend(usbMic)
		c, err := NewCapture(CaptureConfig{Options: Options{backend: fb}})
		if err != nil {
			t.Fatal(err)
		}
		var got [][]int16 // handler runs on the test goroutine (fake audio thread)
		if err := c.Handle(960, func(f []int16) { got = append(got, append([]int16(nil), f...)) }); err != nil {
			t.Fatal(err)
		}
		if err := c.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Handle(480, nil); err == nil {
			t.Error("Handle after Start did not fail")
		}
		s := <-fb.opened
		if s.params.chunk != 960 {
			t.Fatalf("stream opened with chunk %d, want 960", s.params.chunk)
		}
		s.captureBytes(ramp(0, 480))
		s.captureBytes(ramp(480, 480))
		if len(got) != 1 || len(got[0]) != 960 || got[0][959] != 959 {
			t.Fatalf("handler got %d frames, want one of 960 samples", len(got))
		}
		s.captureBytes(ramp(960, 480)) // half a frame, then a pause
		c.Pause()
		if !c.Paused() {
			t.Fatal("not paused")
		}
		loud := make([]int16, 480)
		for i := range loud {
			loud[i] = 16384
		}
		s.captureBytes(loud)
		if len(got) != 1 {
			t.Fatalf("handler called while paused (%d frames)", len(got))
		}
		if lvl := c.Level(); math.Abs(lvl+6.02) > 0.1 {
			t.Errorf("level while paused %.2f dBFS, want -6.02", lvl)
		}
		c.Resume()
		c.Resume() // a second resume is harmless
		s.captureBytes(ramp(5000, 960))
		if len(got) != 2 || got[1][0] != 5000 {
			t.Fatalf("after resume: %d frames, second starts with %v; want a fresh frame from 5000", len(got), got[1:])
		}
		if st := c.Stats(); st.Periods != 2 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// TestPlaybackPauseResume: a paused playback plays silence without calling
// Fill; Resume calls it again.
func TestPlaybackPauseResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fb := newFakeBackend(usbMic)
		var p *Playback
		fills := 0
		p, err := NewPlayback(PlaybackConfig{Options: Options{backend: fb}, Fill: func(out []int16) int {
			fills++
			for i := range out {
				out[i] = 1000
			}
			if fills == 2 {
				p.Pause()
			}
			return len(out)
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.SetChunk(960); err != nil {
			t.Fatal(err)
		}
		if err := p.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		s := <-fb.opened
		if s.params.chunk != 960 {
			t.Fatalf("stream opened with chunk %d, want 960", s.params.chunk)
		}
		for i := 0; i < 4; i++ {
			out := s.play(PeriodFrames)
			want := int16(1000)
			if i >= 2 {
				want = 0
			}
			if out[0] != want {
				t.Fatalf("period %d starts with %d, want %d", i, out[0], want)
			}
		}
		if fills != 2 || !p.Paused() {
			t.Fatalf("%d fills, paused %v; want 2 and paused", fills, p.Paused())
		}
		p.Resume()
		if out := s.play(PeriodFrames); out[0] != 1000 || fills != 3 {
			t.Fatalf("after resume: sample %d, %d fills", out[0], fills)
		}
	})
}

// waitFor polls cond (a bounded wait for an event on a real audio thread,
// not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx := guard(t)
	tk := time.NewTicker(5 * time.Millisecond)
	defer tk.Stop()
	for !cond() {
		select {
		case <-tk.C:
		case <-ctx.Done():
			t.Fatalf("never happened: %s", what)
		}
	}
}

// TestNullBackendChunksAndPause runs ring streams on the null backend with
// 20 ms chunks: whole chunks reach the handler and the playback; paused, the
// devices keep running while Go is neither called nor counts xruns; resumed,
// both carry on.
func TestNullBackendChunksAndPause(t *testing.T) {
	opts := Options{Backend: "null", Logger: testLogger(t)}
	frames := make(chan int, 100)
	c, err := NewCapture(CaptureConfig{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Handle(960, func(f []int16) {
		select {
		case frames <- len(f):
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	fills := make(chan int, 100)
	var p *Playback
	p, err = NewPlayback(PlaybackConfig{Options: opts, Fill: func(out []int16) int {
		select {
		case fills <- len(out):
		default:
		}
		return 0
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetChunk(960); err != nil {
		t.Fatal(err)
	}
	ctx := guard(t)
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 5; i++ {
		select {
		case n := <-frames:
			if n != 960 {
				t.Fatalf("capture frame of %d samples", n)
			}
		case <-ctx.Done():
			t.Fatal("no capture frame")
		}
		select {
		case n := <-fills:
			if n != PeriodFrames {
				t.Fatalf("fill of %d samples", n)
			}
		case <-ctx.Done():
			t.Fatal("no fill")
		}
	}
	if lvl := c.Level(); !math.IsInf(lvl, -1) {
		t.Errorf("null microphone level %v, want -Inf", lvl)
	}
	c.Pause()
	p.Pause()
	devCalls := func(core *core) uint64 {
		if l := core.cur.Load(); l != nil {
			if d, ok := l.s.(deviceCounter); ok {
				return d.deviceCallbacks()
			}
		}
		return 0
	}
	if !ringAvailable {
		t.Skip("skipping the rest: no ring streams here")
	}
	// Let a pump that was already running finish, then drain.
	c0, p0 := devCalls(&c.core), devCalls(&p.core)
	waitFor(t, "device callbacks while paused", func() bool {
		return devCalls(&c.core) >= c0+3 && devCalls(&p.core) >= p0+3
	})
	for len(frames) > 0 {
		<-frames
	}
	for len(fills) > 0 {
		<-fills
	}
	cs, ps := c.Stats(), p.Stats()
	c1, p1 := devCalls(&c.core), devCalls(&p.core)
	waitFor(t, "device callbacks while paused", func() bool {
		return devCalls(&c.core) >= c1+10 && devCalls(&p.core) >= p1+10
	})
	if len(frames) != 0 || len(fills) != 0 {
		t.Fatalf("paused, still %d capture frames and %d fills", len(frames), len(fills))
	}
	if cs2, ps2 := c.Stats(), p.Stats(); cs2.Periods != cs.Periods || cs2.Overrun != cs.Overrun || ps2.Underrun != ps.Underrun {
		t.Fatalf("paused, counters moved: capture %+v → %+v, playback %+v → %+v", cs, cs2, ps, ps2)
	}
	c.Resume()
	p.Resume()
	select {
	case <-frames:
	case <-ctx.Done():
		t.Fatal("no capture frame after resume")
	}
	select {
	case <-fills:
	case <-ctx.Done():
		t.Fatal("no fill after resume")
	}
	if st := c.Stats(); st.Losses != 0 {
		t.Errorf("capture lost its device while paused (stall detection?): %+v", st)
	}
}

// TestNullBackendLinked opens a linked capture and playback as one duplex
// device on the null backend: frames and fills arrive, pausing works per
// half, a lost device is reopened for both, and closing leaves nothing.
func TestNullBackendLinked(t *testing.T) {
	if !ringAvailable {
		t.Skip("skipping: ring streams not available on this platform")
	}
	opts := Options{Backend: "null", RetryMin: time.Millisecond, Logger: testLogger(t)}
	c, err := NewCapture(CaptureConfig{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	frames := make(chan int, 100)
	if err := c.Handle(960, func(f []int16) {
		select {
		case frames <- len(f):
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	fills := make(chan int, 100)
	p, err := NewPlayback(PlaybackConfig{Options: opts, Fill: func(out []int16) int {
		select {
		case fills <- len(out):
		default:
		}
		return 0
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetChunk(960); err != nil {
		t.Fatal(err)
	}
	if !Link(c, p) {
		t.Fatal("Link refused")
	}
	if Link(c, p) {
		t.Fatal("linked twice")
	}
	ctx := guard(t)
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Handle(480, nil); err == nil {
		t.Error("Handle after start did not fail")
	}
	recv := func(ch chan int, want int, what string) {
		t.Helper()
		select {
		case n := <-ch:
			if n != want {
				t.Fatalf("%s of %d samples, want %d", what, n, want)
			}
		case <-ctx.Done():
			t.Fatalf("no %s: capture %+v playback %+v", what, c.Stats(), p.Stats())
		}
	}
	for i := 0; i < 5; i++ {
		recv(frames, 960, "capture frame")
		recv(fills, PeriodFrames, "fill")
	}
	if _, desc := c.Open(); !strings.Contains(desc, "one device") {
		t.Errorf("capture is %q, want one device with the playback", desc)
	}
	if _, ok := p.cur.Load().s.(*ringStream); !ok || !p.cur.Load().s.(*ringStream).hasCap {
		t.Fatal("the playback's stream has no capture half")
	}
	// Pausing the capture half leaves the playback running.
	c.Pause()
	for len(frames) > 0 {
		<-frames
	}
	for len(fills) > 0 {
		<-fills
	}
	before := c.Stats().Periods
	for i := 0; i < 5; i++ {
		recv(fills, PeriodFrames, "fill while the capture is paused")
	}
	if n := c.Stats().Periods; n > before+1 { // one may have been on its way
		t.Fatalf("%d capture frames delivered while paused", n-before)
	}
	c.Resume()
	recv(frames, 960, "capture frame after resume")

	// Loss: both halves come back on a reopened duplex device.
	p.cur.Load().s.(*ringStream).simulateLoss()
	waitFor(t, "reopen", func() bool { return p.Stats().Reopens > 0 })
	for len(frames) > 0 {
		<-frames
	}
	recv(frames, 960, "capture frame after reopen")
	recv(fills, PeriodFrames, "fill after reopen")
	c.Close()
	p.Close()
	if open, _ := c.Open(); open {
		t.Error("capture still open after Close")
	}
}

// TestLinkedCaptureClosedFirst: a linked capture closed before the
// playback starts (as box does when a test supplies its own microphone)
// leaves the playback to open a device of its own.
func TestLinkedCaptureClosedFirst(t *testing.T) {
	if !ringAvailable {
		t.Skip("skipping: ring streams not available on this platform")
	}
	opts := Options{Backend: "null", Logger: testLogger(t)}
	c, err := NewCapture(CaptureConfig{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	fills := make(chan struct{}, 10)
	p, err := NewPlayback(PlaybackConfig{Options: opts, Fill: func(out []int16) int {
		select {
		case fills <- struct{}{}:
		default:
		}
		return 0
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !Link(c, p) {
		t.Fatal("Link refused")
	}
	c.Close()
	if _, ok := <-c.Frames(); ok {
		t.Fatal("Frames not closed")
	}
	ctx := guard(t)
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < 3; i++ {
		select {
		case <-fills:
		case <-ctx.Done():
			t.Fatal("no fill")
		}
	}
	if s := p.cur.Load().s.(*ringStream); s.hasCap {
		t.Fatal("the playback opened a duplex device with a closed capture")
	}
}

// TestLinkedCaptureFramesCloseWithPlayback: closing a linked capture stops
// its deliveries; Frames closes once the playback closes the device.
func TestLinkedCaptureFramesCloseWithPlayback(t *testing.T) {
	if !ringAvailable {
		t.Skip("skipping: ring streams not available on this platform")
	}
	opts := Options{Backend: "null", Logger: testLogger(t)}
	c, err := NewCapture(CaptureConfig{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlayback(PlaybackConfig{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	Link(c, p)
	ctx := guard(t)
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Frames():
	case <-ctx.Done():
		t.Fatal("no capture period")
	}
	c.Close()
	if !c.Paused() {
		t.Fatal("closed linked capture still delivering")
	}
	p.Close()
	for range c.Frames() { // periods queued before Close, then closed
	}
}

// TestLinkRefusesClosed: a capture closed before Link is not linked.
func TestLinkRefusesClosed(t *testing.T) {
	if !ringAvailable {
		t.Skip("skipping: ring streams not available on this platform")
	}
	c, err := NewCapture(CaptureConfig{Options: Options{Backend: "null"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlayback(PlaybackConfig{Options: Options{Backend: "null"}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if Link(c, p) {
		t.Fatal("linked a closed capture")
	}
}

package engine

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audio"
	"github.com/hark-intercom/hark/proto"
)

// ctlCapture is a capture device with the capabilities of audio.Capture
// that the engine uses: a frame handler, pausing and a level.
type ctlCapture struct {
	fakeCapture
	mu      sync.Mutex
	frames  int           // guarded by mu
	handler func([]int16) // guarded by mu
	paused  atomic.Bool
	changes chan bool // every Pause (true) and Resume (false) that changed the state
}

func newCtlCapture() *ctlCapture {
	return &ctlCapture{fakeCapture: *newFakeCapture(), changes: make(chan bool, 100)}
}

func (c *ctlCapture) Handle(frames int, h func([]int16)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames, c.handler = frames, h
	return nil
}
func (c *ctlCapture) Pause() {
	if !c.paused.Swap(true) {
		c.changes <- true
	}
}
func (c *ctlCapture) Resume() {
	if c.paused.Swap(false) {
		c.changes <- false
	}
}
func (c *ctlCapture) Paused() bool   { return c.paused.Load() }
func (c *ctlCapture) Level() float64 { return -42 }

// deliver plays the device's goroutine: one frame to the handler, unless paused.
func (c *ctlCapture) deliver(f []int16) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paused.Load() {
		return false
	}
	c.handler(f)
	return true
}

// ctlPlayback is a fakePlayback that can pause.
type ctlPlayback struct {
	fakePlayback
	chunk   atomic.Int64
	paused  atomic.Bool
	resumed chan struct{}
}

func newCtlPlayback() *ctlPlayback {
	return &ctlPlayback{fakePlayback: *newFakePlayback(), resumed: make(chan struct{}, 100)}
}

func (p *ctlPlayback) new(fill audio.FillFunc) (audio.Device, error) {
	p.fakePlayback.new(fill)
	return p, nil
}
func (p *ctlPlayback) SetChunk(n int) error { p.chunk.Store(int64(n)); return nil }
func (p *ctlPlayback) Pause()               { p.paused.Store(true) }
func (p *ctlPlayback) Paused() bool         { return p.paused.Load() }
func (p *ctlPlayback) Resume() {
	if p.paused.Swap(false) {
		p.resumed <- struct{}{}
	}
}

func waitChange(t *testing.T, ch <-chan bool, want bool) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("capture paused=%v, want %v", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("capture never became paused=%v", want)
	}
}

// TestIdleEnginePausesDevices: an engine that neither talks nor hears
// pauses its capture from the start and its playback after quietAfter of
// silent ticks; a grant resumes the capture (frames are encoded), releasing
// pauses it again at the next frame, and voice resumes the playback.
func TestIdleEnginePausesDevices(t *testing.T) {
	capt, play := newCtlCapture(), newCtlPlayback()
	floor := &fakeFloor{answers: make(chan func() (Transmitter, error), 4), session: 7}
	states := make(chan State, 100)
	e, err := New(Config{FrameSamples: 960, Capture: capt, Playback: play.new, Mute: AllCues &^ CueSet(0).With(CueRing),
		OnState: func(s State) { states <- s }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, floor) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		checkNoLeaks(t)
	}()
	<-capt.started
	waitChange(t, capt.changes, true)
	if capt.frames != 960 || play.chunk.Load() != 960 {
		t.Fatalf("capture frames %d, playback chunk %d; want 960", capt.frames, play.chunk.Load())
	}
	if lvl := e.Level(); lvl != -42 {
		t.Errorf("Level %v, want the device's -42", lvl)
	}

	tx := newFakeTx()
	floor.answers <- func() (Transmitter, error) { return tx, nil }
	e.Press(true)
	waitChange(t, capt.changes, false)
	p := make([]int16, 960)
	sine(0, p)
	if !capt.deliver(p) {
		t.Fatal("capture paused while talking")
	}
	select {
	case <-tx.frames:
	case <-time.After(10 * time.Second):
		t.Fatal("no frame sent")
	}
	e.Press(false)
	<-tx.ended
	for s := range states {
		if !s.Talking && !s.Pressed {
			break
		}
	}
	capt.deliver(p)
	waitChange(t, capt.changes, true)

	// Silent ticks: playback pauses after quietAfter of them.
	ticks := int(quietAfter / period)
	for i := 0; i < ticks+1 && !play.Paused(); i++ {
		play.pull(t)
	}
	if !play.Paused() {
		t.Fatalf("playback not paused after %d silent ticks", ticks+1)
	}
	e.Voice(proto.VoiceHeader{Sender: 9, Seq: 1, Duration: 960, Flags: proto.FlagStart}, []byte{0xf8, 0xff, 0xfe}, time.Now())
	select {
	case <-play.resumed:
	case <-time.After(10 * time.Second):
		t.Fatal("voice did not resume the playback")
	}
	if play.Paused() {
		t.Fatal("still paused")
	}
	// A cue resumes it too.
	play.Pause()
	e.Play(CueRing)
	select {
	case <-play.resumed:
	case <-time.After(10 * time.Second):
		t.Fatal("a cue did not resume the playback")
	}
}

// TestDuplexNullDevice runs the engine on the devices talk opens
// (OpenDevices: one duplex null device): talking, its frames looped back as
// another talker's voice are played; released, both halves pause.
func TestDuplexNullDevice(t *testing.T) {
	capt, play, err := OpenDevices(DeviceOptions{Backend: "null"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{FrameSamples: 960, Capture: capt, Playback: play, Mute: AllCues})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, loopFloor{e}) }()
	e.Press(true)
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	for st := e.Stats(); st.FramesSent < 20 || st.Playout.Jitter.Played < 10; st = e.Stats() {
		select {
		case <-tk.C:
		case <-ctx.Done():
			t.Fatalf("the loop did not run: %+v", st)
		}
	}
	if c, ok := capt.(*audio.Capture); !ok {
		t.Fatal("OpenDevices did not return an *audio.Capture")
	} else if _, desc := c.Open(); !strings.Contains(desc, "one device") {
		t.Errorf("capture is %q; want one duplex device", desc)
	}
	e.Press(false)
	for !capt.(*audio.Capture).Paused() {
		select {
		case <-tk.C:
		case <-ctx.Done():
			t.Fatal("capture not paused after release")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkNoLeaks(t)
}

// TestOnCaptureSeesPeriods: with a device delivering 20 ms frames, OnCapture
// still sees 10 ms periods, and the capture is never paused.
func TestOnCaptureSeesPeriods(t *testing.T) {
	capt, play := newCtlCapture(), newCtlPlayback()
	sizes := make(chan int, 10)
	e, err := New(Config{FrameSamples: 960, Capture: capt, Playback: play.new, Mute: AllCues,
		OnCapture: func(p []int16) { sizes <- len(p) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, &fakeFloor{answers: make(chan func() (Transmitter, error))}) }()
	<-capt.started
	if !capt.deliver(make([]int16, 960)) {
		t.Fatal("capture paused although OnCapture is set")
	}
	for range 2 {
		if n := <-sizes; n != audio.PeriodFrames {
			t.Fatalf("OnCapture got %d samples, want %d", n, audio.PeriodFrames)
		}
	}
	if capt.Paused() {
		t.Fatal("capture paused although OnCapture is set")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

package audio

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// guard bounds a wait on a real audio thread so that a broken backend fails
// the test instead of hanging it; it is not a speed assertion.
func guard(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestNullBackendList(t *testing.T) {
	devs, err := List(t.Context(), "null")
	if err != nil {
		t.Fatal(err)
	}
	var capt, play int
	for _, d := range devs {
		t.Log(d)
		switch d.Kind {
		case KindCapture:
			capt++
		case KindPlayback:
			play++
		}
	}
	if capt == 0 || play == 0 {
		t.Fatalf("null backend lists %d capture and %d playback devices", capt, play)
	}
}

// runDuplex opens capture and playback on a real miniaudio backend and waits
// until n capture periods arrived and n playback periods were pulled.
func runDuplex(t *testing.T, opts Options, n int) {
	t.Helper()
	ctx := guard(t)
	before := runtime.NumGoroutine()
	pulled := make(chan struct{}, 1)
	var fills int // touched only by the playback audio thread
	p, err := NewPlayback(PlaybackConfig{Options: opts, Fill: func(out []int16) int {
		fills++
		if len(out) != PeriodFrames {
			panic("wrong period")
		}
		for i := range out {
			out[i] = int16(i)
		}
		if fills == n {
			pulled <- struct{}{}
		}
		return len(out)
	}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCapture(CaptureConfig{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal("playback: ", err)
	}
	defer p.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal("capture: ", err)
	}
	defer c.Close()
	for i := 0; i < n; i++ {
		select {
		case f := <-c.Frames():
			if len(f) != PeriodFrames {
				t.Fatalf("period of %d samples", len(f))
			}
			c.Recycle(f)
		case <-ctx.Done():
			t.Fatalf("only %d of %d capture periods arrived: %+v", i, n, c.Stats())
		}
	}
	select {
	case <-pulled:
	case <-ctx.Done():
		t.Fatalf("playback pulled too few periods: %+v", p.Stats())
	}
	if open, desc := c.Open(); !open {
		t.Fatal("capture not open")
	} else {
		t.Log("capture:", desc)
	}
	c.Close()
	p.Close()
	// Goroutines that signalled done may still be returning: let them run
	// (bounded; on a loaded machine they may wait for a CPU).
	for start := time.Now(); time.Since(start) < 5*time.Second && runtime.NumGoroutine() > before; {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left after Close, %d before Start:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
	t.Logf("capture %+v", c.Stats())
	t.Logf("playback %+v", p.Stats())
	if st := c.Stats(); st.Losses != 0 {
		t.Errorf("capture lost its device: %+v", st)
	}
}

func TestNullBackendDuplex(t *testing.T) {
	runDuplex(t, Options{Backend: "null", Logger: testLogger(t)}, 50)
}

func TestNullBackendByName(t *testing.T) {
	runDuplex(t, Options{Backend: "null", Device: "null"}, 5)
}

// TestALSA uses the real ALSA path (libasound through miniaudio) on the
// first capture and playback devices ALSA lists. On machines without a sound
// card alsa-lib still lists its "null" PCM plugin, which exercises the same
// code but no hardware.
func TestALSA(t *testing.T) {
	devs, err := List(t.Context(), "alsa")
	if err != nil {
		t.Skipf("skipping: no ALSA (libasound.so.2 not loadable?): %v", err)
	}
	var capt, play *DeviceInfo
	for i := range devs {
		d := &devs[i]
		t.Log(d)
		if d.Kind == KindCapture && (capt == nil || d.Default) {
			capt = d
		}
		if d.Kind == KindPlayback && (play == nil || d.Default) {
			play = d
		}
	}
	if capt == nil || play == nil {
		t.Skipf("skipping: ALSA lists no capture or no playback device (%d devices)", len(devs))
	}
	if capt.ID != play.ID {
		t.Logf("capture %s, playback %s", capt.ID, play.ID)
	}
	opts := Options{Backend: "alsa", Device: capt.ID, Logger: testLogger(t)}
	ctx := guard(t)
	c, err := NewCapture(CaptureConfig{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opts.Device = play.ID
	pulled := make(chan struct{})
	var fills int
	p, err := NewPlayback(PlaybackConfig{Options: opts, Fill: func(out []int16) int {
		fills++
		if fills == 10 {
			close(pulled)
		}
		return 0
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < 10; i++ {
		select {
		case <-c.Frames():
		case <-ctx.Done():
			t.Fatalf("ALSA capture delivered %d periods: %+v", i, c.Stats())
		}
	}
	select {
	case <-pulled:
	case <-ctx.Done():
		t.Fatalf("ALSA playback pulled too little: %+v", p.Stats())
	}
	c.Close()
	p.Close()
	t.Logf("capture %+v playback %+v", c.Stats(), p.Stats())
}

// TestNullBackendReopen stops the null device behind the library's back, as
// unplugging does, and checks that capture resumes on a reopened device.
func TestNullBackendReopen(t *testing.T) {
	if !ringAvailable {
		t.Skip("skipping: ring streams not available on this platform")
	}
	ctx := guard(t)
	c, err := NewCapture(CaptureConfig{Options: Options{Backend: "null", RetryMin: time.Millisecond, Logger: testLogger(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	recv := func() {
		select {
		case <-c.Frames():
		case <-ctx.Done():
			t.Fatalf("no capture period: %+v", c.Stats())
		}
	}
	for i := 0; i < 3; i++ {
		recv()
	}
	l := c.cur.Load()
	if l == nil {
		t.Fatal("no open stream")
	}
	l.s.(*ringStream).simulateLoss()
	for c.Stats().Reopens == 0 {
		recv()
	}
	for i := 0; i < 3; i++ {
		recv()
	}
	if st := c.Stats(); st.Losses != 1 || st.Reopens != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNullBackendDuplexDirect(t *testing.T) {
	runDuplex(t, Options{Backend: "null", Direct: true}, 20)
}

// TestNullBackendOutputDelayAndThreadCPU: on a ring stream the delay a
// filled period will take to be heard covers at least the device's own
// period and at most the queue's limit plus it; the audio thread's CPU time
// is measured (Linux) once it has called back.
func TestNullBackendOutputDelayAndThreadCPU(t *testing.T) {
	ctx := guard(t)
	delays := make(chan time.Duration, 200)
	var p *Playback
	p, err := NewPlayback(PlaybackConfig{Options: Options{Backend: "null", Logger: testLogger(t)}, Fill: func(out []int16) int {
		select {
		case delays <- p.OutputDelay():
		default:
		}
		return len(out)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	per := time.Duration(PeriodFrames) * time.Second / 48000
	for i := 0; i < 50; i++ {
		select {
		case d := <-delays:
			if d < per || d > time.Duration(maxQueuedPeriods+1)*per {
				t.Fatalf("fill %d: output delay %v, want %v to %v", i, d, per, time.Duration(maxQueuedPeriods+1)*per)
			}
		case <-ctx.Done():
			t.Fatal("the null device stopped calling back")
		}
	}
	if runtime.GOOS == "linux" && ringAvailable && p.AudioThreadCPU() <= 0 {
		t.Errorf("AudioThreadCPU = %v after 50 periods", p.AudioThreadCPU())
	}
}

package audio

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"
)

var (
	usbMic  = DeviceInfo{Kind: KindCapture, Name: "USB Audio Device Mic", ID: "hw:1,0"}
	builtin = DeviceInfo{Kind: KindCapture, Name: "Built-in Audio Analog Stereo", ID: "hw:0,0", Default: true}
	usbOut  = DeviceInfo{Kind: KindPlayback, Name: "USB Audio Device Speaker", ID: "hw:1,0"}
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func ramp(start, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(start + i)
	}
	return s
}

func TestSelect(t *testing.T) {
	devs := []DeviceInfo{usbMic, builtin, {Kind: KindCapture, Name: "USB Audio Device Line", ID: "hw:1,1"}}
	cases := []struct {
		want    string
		id      string
		errIs   error
		nilPick bool
	}{
		{want: "", nilPick: true},
		{want: "hw:0,0", id: "hw:0,0"},
		{want: "built-in", id: "hw:0,0"},
		{want: "usb audio device mic", id: "hw:1,0"},
		{want: "LINE", id: "hw:1,1"},
		{want: "usb", errIs: ErrAmbiguous},
		{want: "bluetooth", errIs: ErrNoDevice},
	}
	for _, c := range cases {
		got, err := Select(devs, KindCapture, c.want)
		switch {
		case c.errIs != nil:
			if !errors.Is(err, c.errIs) {
				t.Errorf("Select(%q) error = %v, want %v", c.want, err, c.errIs)
			} else {
				t.Logf("Select(%q): %v", c.want, err)
			}
		case err != nil:
			t.Errorf("Select(%q): %v", c.want, err)
		case c.nilPick:
			if got != nil {
				t.Errorf("Select(%q) = %v, want default (nil)", c.want, got)
			}
		case got == nil || got.ID != c.id:
			t.Errorf("Select(%q) = %v, want id %s", c.want, got, c.id)
		}
	}
}

func TestCaptureRegroupsIntoPeriods(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fb := newFakeBackend(usbMic)
		c, err := NewCapture(CaptureConfig{Options: Options{Device: "usb", backend: fb, Logger: testLogger(t)}, Queue: 64})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		s := <-fb.opened
		if s.dev == nil || s.dev.ID != "hw:1,0" || s.params.periodFrames != PeriodFrames {
			t.Fatalf("opened %+v with %+v", s.dev, s.params)
		}
		// Odd chunk sizes, as a device without fixed-size callbacks delivers.
		total := 0
		for _, n := range []int{100, 380, 1, 479, 960, 7, 473, 480} {
			s.captureBytes(ramp(total, n))
			total += n
		}
		want := total / PeriodFrames
		for i := 0; i < want; i++ {
			f := <-c.Frames()
			if len(f) != PeriodFrames {
				t.Fatalf("period %d has %d samples", i, len(f))
			}
			for j, v := range f {
				if v != int16(i*PeriodFrames+j) {
					t.Fatalf("period %d sample %d = %d, want %d", i, j, v, i*PeriodFrames+j)
				}
			}
			c.Recycle(f)
		}
		if st := c.Stats(); st.Periods != uint64(want) || st.Dropped != 0 {
			t.Fatalf("stats %+v, want %d periods", st, want)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if _, ok := <-c.Frames(); ok {
			t.Fatal("Frames not closed after Close")
		}
		if !s.isClosed() {
			t.Fatal("stream not closed")
		}
	})
}

func TestCaptureDropsWhenConsumerSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fb := newFakeBackend(usbMic)
		c, err := NewCapture(CaptureConfig{Options: Options{backend: fb}, Queue: 4})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		s := <-fb.opened
		for i := 0; i < 10; i++ { // nobody reads: the callback must not block
			s.captureBytes(ramp(i*PeriodFrames, PeriodFrames))
		}
		if st := c.Stats(); st.Periods != 4 || st.Dropped != 6 {
			t.Fatalf("stats %+v, want 4 delivered and 6 dropped", st)
		}
		// The oldest periods are the ones kept.
		if f := <-c.Frames(); f[0] != 0 {
			t.Fatalf("first kept period starts with %d", f[0])
		}
		c.Close()
	})
}

func TestPlaybackPullsWholePeriods(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fb := newFakeBackend(usbOut)
		next := 0
		calls := 0
		p, err := NewPlayback(PlaybackConfig{Options: Options{backend: fb}, Fill: func(out []int16) int {
			calls++
			if len(out) != PeriodFrames {
				t.Errorf("Fill got %d samples", len(out))
			}
			if calls == 3 { // nothing to play this period
				return 0
			}
			n := len(out) / 2
			if calls != 2 {
				n = len(out)
			}
			for i := 0; i < n; i++ {
				out[i] = int16(next)
				next++
			}
			return n
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		s := <-fb.opened
		var got []int16
		for _, n := range []int{300, 300, 360, 480, 480} { // 1920 = 4 periods
			got = append(got, s.play(n)...)
		}
		for i := 0; i < 480; i++ {
			if got[i] != int16(i) {
				t.Fatalf("sample %d = %d", i, got[i])
			}
		}
		for i := 480; i < 720; i++ { // half period written, half silence
			if got[i] != int16(i) || got[i+240] != 0 {
				t.Fatalf("second period wrong at %d: %d %d", i, got[i], got[i+240])
			}
		}
		for i := 960; i < 1440; i++ {
			if got[i] != 0 {
				t.Fatalf("third period should be silent, sample %d = %d", i, got[i])
			}
		}
		if got[1440] != 720 {
			t.Fatalf("fourth period starts with %d, want 720", got[1440])
		}
		if st := p.Stats(); st.Periods != 4 || st.Partial != 2 {
			t.Fatalf("stats %+v", st)
		}
		p.Close()
	})
}

func TestReopenAfterUnplug(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fb := newFakeBackend(usbMic, builtin)
		c, err := NewCapture(CaptureConfig{Options: Options{Device: "USB", backend: fb, Logger: testLogger(t), StallTimeout: -1}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		s1 := <-fb.opened
		s1.captureBytes(ramp(0, PeriodFrames))
		<-c.Frames()

		// Unplug: the device disappears and miniaudio reports the stop.
		fb.unplugAll()
		fb.plug(builtin)
		start := time.Now()
		s1.cb.stopped()
		synctest.Wait()
		if !s1.isClosed() {
			t.Fatal("lost stream was not closed")
		}
		// Backoff retries: 200, 400, 800, 1600 ms ... while it is away.
		time.Sleep(3100 * time.Millisecond)
		synctest.Wait()
		if n := fb.openAttempts(); n != 1 { // device selection fails before open
			t.Fatalf("open attempts with the device away = %d, want 1 (the first)", n)
		}
		if open, _ := c.Open(); open {
			t.Fatal("reports open while unplugged")
		}
		fb.plug(usbMic)
		s2 := <-fb.opened
		elapsed := time.Since(start)
		t.Logf("reopened after %v (fake time)", elapsed)
		if elapsed != 200*time.Millisecond+400*time.Millisecond+800*time.Millisecond+1600*time.Millisecond+3200*time.Millisecond {
			t.Errorf("reopened after %v; backoff schedule not followed", elapsed)
		}
		s2.captureBytes(ramp(7, PeriodFrames))
		if f := <-c.Frames(); f[0] != 7 {
			t.Fatalf("after reopen got %d", f[0])
		}
		synctest.Wait() // the supervisor counts the reopening after the stream is handed over
		if st := c.Stats(); st.Losses != 1 || st.Reopens != 1 {
			t.Fatalf("stats %+v", st)
		}
		// A stale stop notification of the old stream changes nothing.
		s1.cb.stopped()
		synctest.Wait()
		if s2.isClosed() {
			t.Fatal("stale stop closed the new stream")
		}
		c.Close()
		if !s2.isClosed() {
			t.Fatal("Close left the stream open")
		}
	})
}

func TestReopenAfterStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fb := newFakeBackend(usbOut)
		p, err := NewPlayback(PlaybackConfig{Options: Options{backend: fb, StallTimeout: time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		s1 := <-fb.opened
		// Callbacks keep it alive for several stall periods.
		for i := 0; i < 5; i++ {
			s1.play(PeriodFrames)
			time.Sleep(900 * time.Millisecond)
		}
		synctest.Wait()
		if s1.isClosed() {
			t.Fatal("live stream taken for stalled")
		}
		// Then it goes quiet without a stop notification.
		s2 := <-fb.opened
		if !s1.isClosed() {
			t.Fatal("stalled stream not closed before reopening")
		}
		synctest.Wait() // the supervisor counts the reopening after the stream is handed over
		if st := p.Stats(); st.Losses != 1 || st.Reopens != 1 {
			t.Fatalf("stats %+v", st)
		}
		s2.play(PeriodFrames)
		p.Close()
	})
}

func TestWaitForDevice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fb := newFakeBackend()
		c, err := NewCapture(CaptureConfig{Options: Options{Device: "usb", backend: fb}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(t.Context()); !errors.Is(err, ErrNoDevice) {
			t.Fatalf("Start without the device: %v, want ErrNoDevice", err)
		}
		c.Close()

		c, err = NewCapture(CaptureConfig{Options: Options{Device: "usb", backend: fb, WaitForDevice: true}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(t.Context()); err != nil {
			t.Fatalf("Start with WaitForDevice: %v", err)
		}
		time.Sleep(10 * time.Second)
		fb.plug(usbMic)
		s := <-fb.opened
		s.captureBytes(ramp(1, PeriodFrames))
		if f := <-c.Frames(); f[0] != 1 {
			t.Fatal("no audio after the device appeared")
		}
		c.Close()
	})
}

func TestStartContextEndsDevice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fb := newFakeBackend(usbMic)
		c, err := NewCapture(CaptureConfig{Options: Options{backend: fb}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		s := <-fb.opened
		cancel()
		if _, ok := <-c.Frames(); ok {
			t.Fatal("unexpected frame")
		}
		if !s.isClosed() {
			t.Fatal("stream still open after the context ended")
		}
		c.Close()
		c.Close()
	})
}

func TestUnknownBackend(t *testing.T) {
	_, err := NewCapture(CaptureConfig{Options: Options{Backend: "directx"}})
	if err == nil {
		t.Fatal("no error for an unknown backend")
	}
	t.Log(err)
}

func TestLevelDBFS(t *testing.T) {
	full := make([]int16, 480)
	for i := range full {
		full[i] = 32767
		if i%2 == 1 {
			full[i] = -32768
		}
	}
	if l := LevelDBFS(full); l < -0.01 || l > 0.01 {
		t.Fatalf("full scale = %v dBFS", l)
	}
	half := make([]int16, 480)
	for i := range half {
		half[i] = 16384
	}
	if l := LevelDBFS(half); l < -6.1 || l > -5.9 {
		t.Fatalf("half scale = %v dBFS", l)
	}
}

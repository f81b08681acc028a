package audio

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime returns this process's user+system CPU time (getrusage).
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Skipf("skipping: getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkNullDuplexCPU runs capture and playback on miniaudio's null
// backend with 10 ms periods (20 ms for ring-20ms); one op is one capture
// period (one 20 ms frame for linked-chunk20ms: one duplex device, 10 ms
// periods, Go woken once per 20 ms for both, as talk runs). It reports the process CPU time as a share of one core. Run it long
// enough for the 10 ms CPU clock to resolve, e.g.
//
//	go test -run '^$' -bench NullDuplexCPU -benchtime 1000x ./internal/audio/
func BenchmarkNullDuplexCPU(b *testing.B) {
	b.Run("ring", func(b *testing.B) { benchNullDuplex(b, Options{Backend: "null"}) })
	b.Run("direct", func(b *testing.B) { benchNullDuplex(b, Options{Backend: "null", Direct: true}) })
	b.Run("ring-20ms", func(b *testing.B) { benchNullDuplex(b, Options{Backend: "null", PeriodFrames: 960}) })
	b.Run("linked-chunk20ms", benchNullLinked)
	b.Run("device-only", benchNullDeviceOnly)
	b.Run("device-only-duplex", benchNullDeviceOnlyDuplex)
}

// benchNullDeviceOnly measures miniaudio's null devices alone: ring streams
// whose pump goroutines are stopped, so that no Go code runs per period.
// It is the floor under the other two figures.
func benchNullDeviceOnly(b *testing.B) {
	if !ringAvailable {
		b.Skip("no ring streams here")
	}
	mb, err := newMalgoBackend("null", nil)
	if err != nil {
		b.Fatal(err)
	}
	var ss []*ringStream
	for _, k := range []Kind{KindCapture, KindPlayback} {
		s, err := (&ringBackend{mb}).open(k, nil, streamParams{periodFrames: PeriodFrames, periods: 2}, streamCallbacks{data: func(out, in []byte, frames uint32) {}})
		if err != nil {
			b.Fatal(err)
		}
		rs := s.(*ringStream)
		if err := rs.start(); err != nil {
			b.Fatal(err)
		}
		rs.quit.Store(true)
		rs.pw.Write([]byte{0})
		<-rs.done
		rs.running = false
		ss = append(ss, rs)
	}
	defer func() {
		for _, s := range ss {
			s.close()
		}
	}()
	cpu0, t0 := cpuTime(b), time.Now()
	b.ResetTimer()
	// One wait for the whole run: a ticker would wake Go 100 times a second
	// and measure itself.
	<-time.After(time.Duration(b.N) * 10 * time.Millisecond)
	b.StopTimer()
	cpu, wall := cpuTime(b)-cpu0, time.Since(t0)
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%cpu")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/period")
}

func benchNullDuplex(b *testing.B, opts Options) {
	p, err := NewPlayback(PlaybackConfig{Options: opts, Fill: func(out []int16) int {
		for i := range out {
			out[i] = int16(i)
		}
		return len(out)
	}})
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewCapture(CaptureConfig{Options: opts})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	if err := c.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	<-c.Frames() // started
	cpu0, t0 := cpuTime(b), time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := <-c.Frames()
		c.Recycle(f)
	}
	b.StopTimer()
	cpu, wall := cpuTime(b)-cpu0, time.Since(t0)
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%cpu")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/period")
}

func benchNullLinked(b *testing.B) {
	opts := Options{Backend: "null"}
	frames := make(chan struct{}, 64)
	c, err := NewCapture(CaptureConfig{Options: opts})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Handle(960, func([]int16) {
		select {
		case frames <- struct{}{}:
		default:
		}
	}); err != nil {
		b.Fatal(err)
	}
	p, err := NewPlayback(PlaybackConfig{Options: opts, Fill: func(out []int16) int {
		for i := range out {
			out[i] = int16(i)
		}
		return len(out)
	}})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.SetChunk(960); err != nil {
		b.Fatal(err)
	}
	Link(c, p)
	if err := p.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	if err := c.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	<-frames // started
	cpu0, t0 := cpuTime(b), time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-frames
	}
	b.StopTimer()
	cpu, wall := cpuTime(b)-cpu0, time.Since(t0)
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%cpu")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/period")
}

// benchNullDeviceOnlyDuplex is benchNullDeviceOnly for one duplex null
// device (capture and playback on one audio thread).
func benchNullDeviceOnlyDuplex(b *testing.B) {
	if !ringAvailable {
		b.Skip("no ring streams here")
	}
	mb, err := newMalgoBackend("null", nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := (&ringBackend{mb}).openDuplex(nil, nil, streamParams{periodFrames: PeriodFrames, periods: 2}, PeriodFrames,
		streamCallbacks{data: func(out, in []byte, frames uint32) {}})
	if err != nil {
		b.Fatal(err)
	}
	rs := s.(*ringStream)
	if err := rs.start(); err != nil {
		b.Fatal(err)
	}
	rs.quit.Store(true)
	rs.pw.Write([]byte{0})
	<-rs.done
	rs.running = false
	defer rs.close()
	cpu0, t0 := cpuTime(b), time.Now()
	b.ResetTimer()
	// One wait for the whole run: a ticker would wake Go 100 times a second
	// and measure itself.
	<-time.After(time.Duration(b.N) * 10 * time.Millisecond)
	b.StopTimer()
	cpu, wall := cpuTime(b)-cpu0, time.Since(t0)
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%cpu")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/period")
}

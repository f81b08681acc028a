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
// period. It reports the process CPU time as a share of one core. Run it long
// enough for the 10 ms CPU clock to resolve, e.g.
//
//	go test -run '^$' -bench NullDuplexCPU -benchtime 1000x ./internal/audio/
func BenchmarkNullDuplexCPU(b *testing.B) {
	b.Run("ring", func(b *testing.B) { benchNullDuplex(b, Options{Backend: "null"}) })
	b.Run("direct", func(b *testing.B) { benchNullDuplex(b, Options{Backend: "null", Direct: true}) })
	b.Run("ring-20ms", func(b *testing.B) { benchNullDuplex(b, Options{Backend: "null", PeriodFrames: 960}) })
	b.Run("device-only", benchNullDeviceOnly)
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
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < b.N; i++ {
		<-tick.C
	}
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

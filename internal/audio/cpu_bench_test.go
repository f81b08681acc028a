package audio

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cpuTime returns this process's user+system CPU time from /proc/self/stat.
func cpuTime(tb testing.TB) time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		tb.Skipf("skipping: no /proc/self/stat: %v", err)
	}
	// Fields after the command name (which may hold spaces) start after ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseUint(f[11], 10, 64) // field 14 utime
	st, _ := strconv.ParseUint(f[12], 10, 64) // field 15 stime
	const clkTck = 100                        // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck
}

// BenchmarkNullDuplexCPU runs capture and playback on miniaudio's null
// backend with 10 ms periods; one op is one capture period (10 ms of real
// time). It reports the process CPU time as a share of one core. Run it long
// enough for the 10 ms CPU clock to resolve, e.g.
//
//	go test -run '^$' -bench NullDuplexCPU -benchtime 1000x ./internal/audio/
func BenchmarkNullDuplexCPU(b *testing.B) {
	opts := Options{Backend: "null"}
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

package cluster

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hark-intercom/hark/proto"
)

// TestCrossingCPU measures the CPU a voice frame costs the relays when it
// crosses to another relay, against the same frame staying at its relay
// (issue 15's "CPU per frame crossing a relay boundary vs staying local").
// It runs only with HARK_CROSSING_CPU=1 (internal/scripts/crossing-cpu.sh).
//
// What differs between the two: at the talker's relay every frame is
// handed to the cluster either way (PublishVoice: the publish queue, the
// NATS client, the embedded server, which drops it when no other relay
// listens); a crossing frame then goes over the route to the other relay's
// embedded server, its NATS client, and its relay's handler. The delivery
// to the listeners' QUIC connections is the same work at either relay and
// is not part of this measurement: it is what made the whole-relay figure
// (cluster-bench.sh) too noisy to show a crossing.
//
// Three relays' cluster memberships (embedded NATS servers with TLS
// routes, JetStream, heartbeats) run in this process. Windows of
// HARK_CROSSING_WINDOW (default 10 s) alternate: idle (no frames), local
// (frames on a channel no other relay listens to), crossing (frames on a
// channel relay B listens to), HARK_CROSSING_ROUNDS times (default 5), at
// HARK_CROSSING_RATE frames a second (default 600: 12 talkers at 20 ms,
// as cluster-bench.sh's N=600 M=12). The process's CPU time (getrusage:
// user + system, every goroutine) in each window, less the mean idle
// window's, divided by the frames sent, is the CPU per frame.
func TestCrossingCPU(t *testing.T) {
	if os.Getenv("HARK_CROSSING_CPU") == "" {
		t.Skip("a measurement, not a test: HARK_CROSSING_CPU=1 (internal/scripts/crossing-cpu.sh)")
	}
	window := envDuration(t, "HARK_CROSSING_WINDOW", 10*time.Second)
	rounds := envInt(t, "HARK_CROSSING_ROUNDS", 5)
	rate := envInt(t, "HARK_CROSSING_RATE", 600)
	payload := envInt(t, "HARK_CROSSING_PAYLOAD", 80)

	cs, rs := startThree(t, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
	a := cs[0]
	cs[1].Listen("x", true)
	frame := proto.AppendVoice(nil, proto.VoiceHeader{Channel: 1, Sender: 7, Duration: 960}, make([]byte, payload))
	// Wait (bounded) until relay B's subscription reached relay A's
	// server: a frame published then arrives.
	deadline := time.Now().Add(30 * time.Second)
	for rs[1].nVoice.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("relay B never received a frame on the channel it listens to")
		}
		a.PublishVoice("x", frame)
		time.Sleep(20 * time.Millisecond) // a retry interval, not a wait for an event
	}

	// run sends frames on channel (none: "") at rate for window and
	// returns the process's CPU time meanwhile and the frames sent.
	run := func(channel string) (time.Duration, int) {
		before := rs[1].nVoice.Load()
		start := cpuTime(t)
		sent := 0
		if channel != "" {
			// Ticks of 10 ms, rate/100 frames each: the pace of many
			// talkers, without a timer per frame.
			per := max(1, rate/100)
			tick := time.NewTicker(10 * time.Millisecond)
			end := time.Now().Add(window)
			for time.Now().Before(end) {
				<-tick.C
				for i := 0; i < per; i++ {
					a.PublishVoice(channel, frame)
				}
				sent += per
			}
			tick.Stop()
			a.q.waitSent(a.q.mark(), nil)
			if channel == "x" {
				// Every frame arrived at B before the window closes.
				want := before + int64(sent)
				timeout := time.After(30 * time.Second)
			wait:
				for rs[1].nVoice.Load() < want {
					select { // each frame counted is also offered to rec.voice
					case <-rs[1].voice:
					case <-timeout:
						break wait
					}
				}
				if got := rs[1].nVoice.Load() - before; got != int64(sent) {
					t.Errorf("relay B received %d of %d frames", got, sent)
				}
			}
		} else {
			time.Sleep(window)
		}
		return cpuTime(t) - start, sent
	}

	var idle, local, cross []float64 // µs per frame (idle: µs per window)
	for r := 0; r < rounds; r++ {
		ci, _ := run("")
		cl, nl := run("y")
		cx, nx := run("x")
		idle = append(idle, float64(ci.Microseconds()))
		local = append(local, float64((cl-ci).Microseconds())/float64(nl))
		cross = append(cross, float64((cx-ci).Microseconds())/float64(nx))
		t.Logf("round %d (load %s): idle window %v CPU; local %v CPU for %d frames (%.2f µs/frame above idle); crossing %v for %d frames (%.2f µs/frame above idle)",
			r+1, loadAvg(), ci.Round(time.Millisecond), cl.Round(time.Millisecond), nl, local[r], cx.Round(time.Millisecond), nx, cross[r])
	}
	var diff []float64
	for i := range cross {
		diff = append(diff, cross[i]-local[i])
	}
	ml, sl := meanSD(local)
	mx, sx := meanSD(cross)
	md, sd := meanSD(diff)
	mi, si := meanSD(idle)
	fmt.Printf("RESULT crossing-cpu window=%v rounds=%d rate=%d/s payload=%d: idle %.0f±%.0f µs/window; local %.2f±%.2f µs/frame; crossing %.2f±%.2f µs/frame; crossing−local %.2f±%.2f µs/frame (mean±sd over rounds); load %s\n",
		window, rounds, rate, payload, mi, si, ml, sl, mx, sx, md, sd, loadAvg())
}

func meanSD(v []float64) (float64, float64) {
	var sum float64
	for _, x := range v {
		sum += x
	}
	m := sum / float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	if len(v) < 2 {
		return m, 0
	}
	return m, math.Sqrt(ss / float64(len(v)-1))
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := string(b)
	for i, c := range f {
		if c == ' ' {
			return f[:i]
		}
	}
	return f
}

func envDuration(t *testing.T, k string, d time.Duration) time.Duration {
	if s := os.Getenv(k); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", k, s, err)
		}
		return v
	}
	return d
}

func envInt(t *testing.T, k string, d int) int {
	if s := os.Getenv(k); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", k, s, err)
		}
		return v
	}
	return d
}

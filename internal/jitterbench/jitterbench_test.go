package jitterbench

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/jitter"
)

// TestReport prints the comparison table (go test -v -run TestReport).
func TestReport(t *testing.T) {
	var sb strings.Builder
	Report(&sb, append(StandardTraces(1), ExtraTraces(1)...))
	t.Log("\n" + sb.String())
	if os.Getenv("JITTERBENCH_OUT") != "" {
		os.WriteFile(os.Getenv("JITTERBENCH_OUT"), []byte(sb.String()), 0o644)
	}
}

// TestReportKinds prints the table of issue 12's kinds of network
// (go test -v -run TestReportKinds).
func TestReportKinds(t *testing.T) {
	var sb strings.Builder
	ReportKinds(&sb, KindTraces(1))
	t.Log("\n" + sb.String())
	if os.Getenv("JITTERBENCH_KINDS_OUT") != "" {
		os.WriteFile(os.Getenv("JITTERBENCH_KINDS_OUT"), []byte(sb.String()), 0o644)
	}
}

// goalSeeds is how many seeds TestGoals runs each standard trace with.
const goalSeeds = 8

// TestGoals checks issue 3's goals on every run of the standard traces
// (seeds 1..goalSeeds): late-loss ≤ 1% (frames that arrived but were not
// played: late or dropped to shrink), mean delay ≤ 1.25× the oracle on the
// consumer's tick grid, and back to steady within 2 s after the spike.
func TestGoals(t *testing.T) {
	for seed := uint64(1); seed <= goalSeeds; seed++ {
		for _, tr := range StandardTraces(seed) {
			r := RunHark("hark", tr, 480)
			o := OracleOnTicks(tr.T, 480)
			ratio := float64(r.Mean) / float64(o)
			t.Logf("seed %d %-6s late-loss %.2f%% mean %v = %.2f× oracle %v", seed, tr.Name, r.LatePct, r.Mean, ratio, o)
			if r.LatePct > 1 {
				t.Errorf("seed %d %s: late-loss %.2f%% > 1%%", seed, tr.Name, r.LatePct)
			}
			if ratio > 1.25 {
				t.Errorf("seed %d %s: mean delay %v is %.2f× the oracle %v", seed, tr.Name, r.Mean, ratio, o)
			}
			if tr.SpikeEnd > 0 && (r.Recovery < 0 || r.Recovery > 2*time.Second) {
				t.Errorf("seed %d %s: back to steady %v after the spike", seed, tr.Name, r.Recovery)
			}
		}
	}
}

// BenchmarkPushNext measures the buffer's CPU cost per 20 ms frame on the
// Wi-Fi trace (one Push and about two Next calls per frame at a 10 ms tick).
func BenchmarkPushNext(b *testing.B) {
	tr := StandardTraces(1)[1].T
	b.ReportAllocs()
	frames := 0
	for b.Loop() {
		buf := jitter.New()
		ai := 0
		fifo := 0
		end := tr.Arrivals[len(tr.Arrivals)-1].Arrive
		payload := []byte{1}
		for now := time.Duration(0); now < end; now += 10 * time.Millisecond {
			for ; ai < len(tr.Arrivals) && tr.Arrivals[ai].Arrive <= now; ai++ {
				a := tr.Arrivals[ai]
				s := tr.Sent[a.Index]
				buf.Push(jitter.Packet{Seq: s.Seq, Timestamp: s.Timestamp, Duration: s.Duration, Start: s.Start, End: s.End,
					Payload: payload, Arrival: epoch.Add(a.Arrive)})
			}
			for fifo < 480 {
				d, _ := buf.Next(epoch.Add(now), 480-fifo)
				fifo += d.Samples
			}
			fifo -= 480
		}
		frames += len(tr.Sent)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
}

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/impair"
	"github.com/hark-intercom/hark/internal/netsim"
	"github.com/hark-intercom/hark/internal/wav"
)

// impairedSpec is the sender's uplink in TestImpairedNetwork: 5% loss in
// bursts (mean 2 packets) and 30 ms of jitter (each datagram delayed by a
// uniform 0–30 ms, so they also arrive out of order). netsim's heavy-tailed
// "jitter=30ms" model is harsher than "30 ms jitter" (3% of packets delayed
// by hundreds of ms): that is the jitter buffer's own benchmark territory.
const impairedSpec = "loss=5%,burst=2,uniform=30ms"

// TestImpairedNetwork sends speech through an impairment proxy (sender →
// proxy → relay → recorder). With FEC the recording must correlate ≥ 0.8
// with the input; FEC on and off, and the adaptive buffer, are printed.
func TestImpairedNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	ctx := testCtx(t, 60*time.Second)
	r := startRelay(t, ctx, true, "", nil)
	speech := audiotest.Speech(t, speechText)
	file := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16}, speech, 48000)
	model, err := netsim.ParseSpec(impairedSpec)
	if err != nil {
		t.Fatal(err)
	}
	// The acceptance runs use a fixed 300 ms buffer: then FEC on and off
	// differ only in how lost packets are rebuilt, on the same loss pattern
	// (same seed). With the adaptive buffer, every resume after a
	// concealment shifts the rest of the recording in time, and the aligned
	// envelope correlation (one lag for the whole recording) swings with
	// where that happens (0.63–0.97 seen on a loaded 2-core machine): it is
	// printed as a figure, not asserted.
	var summary []string
	for _, fec := range []bool{true, false} {
		t.Run(fmt.Sprintf("fixed-buffer-fec=%v", fec), func(t *testing.T) {
			got, stats := impairedRun(t, ctx, r, model, file, fec, "300ms")
			corr, _ := audiotest.EnvelopeCorrelation(speech, got, 48000)
			summary = append(summary, fmt.Sprintf("fixed 300 ms buffer, FEC %-5v: envelope correlation %.3f; %s", fec, corr, stats))
			if fec {
				audiotest.RequireCorrelation(t, speech, got, 48000, 0.8)
			}
		})
	}
	t.Run("adaptive-fec=true", func(t *testing.T) {
		got, stats := impairedRun(t, ctx, r, model, file, true, "")
		corr, _ := audiotest.EnvelopeCorrelation(speech, got, 48000)
		summary = append(summary, fmt.Sprintf("adaptive buffer,        FEC true : envelope correlation %.3f; %s", corr, stats))
	})
	t.Logf("IMPAIRED UPLINK %q:\n  %s", impairedSpec, strings.Join(summary, "\n  "))
}

// impairedRun sends file through a fresh impairment proxy (seed 42) and
// returns the recording and a line of statistics.
func impairedRun(t *testing.T, ctx context.Context, r *relayProc, model func(uint64) netsim.Config, file string, fec bool, buffer string) ([]int16, string) {
	t.Helper()
	p, err := impair.New(impair.Config{Listen: "127.0.0.1:0", Upstream: r.addr, Direction: impair.Up, Seed: 42,
		Model: func(seed uint64) netsim.Config { return model(seed) }})
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- p.Serve(pctx) }()
	defer func() {
		cancel()
		p.Close()
		<-served
	}()
	var args []string
	if buffer != "" {
		args = append(args, "--buffer", buffer)
	}
	rec := r.startRecorder(t, ctx, "ear", "", "lobby", args...)
	send := r.talkVia(t, p.Addr().String(), "send", "mouth", "", "lobby", "--fec="+fmt.Sprint(fec), file)
	if code := send.wait(ctx); code != 0 {
		t.Fatalf("send exited %d:\n%s", code, send.text())
	}
	rec.untilSilent(ctx, "mouth")
	rec.interrupt(ctx)
	st := p.Stats()
	stats := fmt.Sprintf("uplink %d datagrams, %d dropped; recorder %s", st.UpIn, st.UpDropped, rec.playoutStats())
	t.Log(stats)
	return readMono(t, rec.out), stats
}

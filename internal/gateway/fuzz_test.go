package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/limit"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// FuzzSessionInput feeds arbitrary browser messages to a session (its loop
// methods, without a websocket) and checks it neither panics nor queues
// unbounded output.
func FuzzSessionInput(f *testing.F) {
	f.Add([]byte(`{"t":"talk","on":true,"format":"webm"}`), []byte{binMedia, 0x1A, 0x45, 0xDF, 0xA3, 0x80})
	f.Add([]byte(`{"t":"talk","on":true,"format":"pcm","rate":44100}`), []byte{binPCM, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Add([]byte(`{"t":"text","text":"hi","to":"x"}`), []byte{binWAV, 'R', 'I', 'F', 'F'})
	f.Add([]byte(`{"t":"join","channel":"ops"}`), []byte{9})
	f.Add([]byte(`{"t":"talk","on":true,"format":"ogg"}`), []byte("\x02OggS\x00\x02"))
	f.Add([]byte(`{"t":"talk","on":true,"format":"opus","page":true}`), []byte{binOpus, 0, 0, 0, 0, 0, 0, 0, 0xFB, 0xFF, 0xFE})
	f.Fuzz(func(t *testing.T, js []byte, bin []byte) {
		r := newFakeRelay()
		srv, err := New(Config{Dialer: r, Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		rs, err := r.Dial(context.Background(), "fuzz", "", "")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // requests to the relay are dropped: only the input handling is fuzzed
		s := &session{srv: srv, relay: rs, out: newOutQueue(maxCtlQueue, maxAudioQ), playback: "pcm",
			log: srv.log, ctx: ctx, cancel: cancel, ops: make(chan func(context.Context)), results: make(chan func())}
		s.ctlLimit = limit.NewBucket(1e9, 1e9, time.Now())
		s.textLimit = s.ctlLimit
		s.audioLimit = s.ctlLimit
		s.channel = r.channels[0]
		s.initFloor()
		s.handleJSON(js)
		if len(bin) > 0 {
			s.handleBinary(bin)
		}
		// Let the fake relay answer the floor request (at once), then feed
		// the binary again.
		for s.floor.State() == client.FloorRequesting {
			select {
			case <-s.floorWake:
				s.floorChanges()
			case <-time.After(10 * time.Second):
				t.Fatal("the floor request was never answered")
			}
		}
		s.floorChanges()
		if len(bin) > 0 {
			s.handleBinary(bin)
		}
		s.talkOff()
		s.finishTx()
		<-s.floor.Close()
		s.floorChanges()
		for {
			m, ok, _ := s.out.pop()
			if !ok {
				break
			}
			if m.text && !json.Valid(m.data) {
				t.Fatalf("invalid JSON to the browser: %q", m.data)
			}
		}
	})
}

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

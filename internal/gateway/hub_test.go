package gateway

import (
	"math"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/proto"
)

func TestTalkerAccept(t *testing.T) {
	now := time.Unix(1000, 0)
	var tk talker
	check := func(seq uint16, start bool, wantOK bool) {
		t.Helper()
		if ok := tk.accept(seq, start, now); ok != wantOK {
			t.Fatalf("seq %d: ok=%v, want %v", seq, ok, wantOK)
		}
		if wantOK {
			tk.lastSeen = now
		}
	}
	check(65530, true, true)
	check(65530, false, false) // duplicate from another member
	check(65531, false, true)
	check(1, false, true)      // wrapped; 65532..0 missing so far
	check(65533, false, true)  // one of them, late: the jitter buffer places it
	check(65533, false, false) // and its copy
	check(2, false, true)
	check(2, false, false)
	check(60000, false, false) // a very late copy must not reset the stream
	check(3, false, true)
	check(40000, true, true) // a new transmission from a reconnected talker
	now = now.Add(2 * time.Second)
	check(7, false, true) // after a pause anything goes
}

// BenchmarkHubFanout: one 20 ms frame taken in, decoded once through the
// jitter buffer and queued for 100 browsers by one 20 ms tick (the per-frame
// cost of a channel with 100 browser listeners, without the websocket
// writes).
func BenchmarkHubFanout100(b *testing.B) {
	srv, err := New(Config{Dialer: newFakeRelay()})
	if err != nil {
		b.Fatal(err)
	}
	h := newHub(srv, 1)
	h.running = true // ticked here, not by a loop
	for i := 0; i < 100; i++ {
		h.add(&session{srv: srv, out: newOutQueue(maxCtlQueue, 4), playback: "pcm", sessionID: uint32(1000 + i)})
	}
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960, FEC: true})
	if err != nil {
		b.Fatal(err)
	}
	pcm := make([]int16, 960)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(float64(i)/7))
	}
	pkt, _ := enc.Encode(pcm, nil)
	b.ReportAllocs()
	t0 := time.Now()
	for i := 0; b.Loop(); i++ {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		h.push(VoiceFrame{Header: proto.VoiceHeader{Channel: 1, Sender: 7, Seq: uint16(i), Timestamp: uint32(i * 960), Duration: 960},
			Opus: pkt, Arrival: at})
		h.tick(at)
	}
	b.ReportMetric(counterValue(b, srv.m.decoded)/float64(b.N), "decoded/op")
}

// TestHubForgetsIdleTalkers: every login talks with a new sender id, so a
// hub watched for months must not keep a decoder per sender it ever heard.
// Talkers silent for talkerForget go when the next new one appears; one
// still talking stays.
func TestHubForgetsIdleTalkers(t *testing.T) {
	srv, err := New(Config{Dialer: newFakeRelay()})
	if err != nil {
		t.Fatal(err)
	}
	h := newHub(srv, 1)
	h.running = true // no tick loop: not needed here
	h.add(&session{srv: srv, out: newOutQueue(maxCtlQueue, 4), playback: "pcm", sessionID: 999})
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960})
	if err != nil {
		t.Fatal(err)
	}
	pkt, _ := enc.Encode(make([]int16, 960), nil)
	frame := func(sender uint32, flags proto.VoiceFlags) VoiceFrame {
		return VoiceFrame{Header: proto.VoiceHeader{Channel: 1, Sender: sender, Flags: flags, Duration: 960}, Opus: pkt}
	}
	for id := uint32(1); id <= 50; id++ { // 50 short transmissions by 50 logins
		h.push(frame(id, proto.FlagStart|proto.FlagEnd))
	}
	h.push(frame(100, proto.FlagStart)) // still talking
	h.mu.Lock()
	for _, tk := range h.talkers { // as if all of that was long ago
		tk.lastSeen = tk.lastSeen.Add(-talkerForget)
	}
	h.mu.Unlock()
	h.push(frame(200, proto.FlagStart|proto.FlagEnd))
	h.mu.Lock()
	n := len(h.talkers)
	_, live := h.talkers[100]
	h.mu.Unlock()
	if n != 2 || !live {
		t.Fatalf("%d talkers kept (talker 100 kept: %v), want the one still talking and the new one", n, live)
	}
}

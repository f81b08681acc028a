package gateway

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"testing"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/history"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/proto"
)

// fakeHistory is the fake relay's history: items, recordings, read
// positions by user. "carol" is a known account that is offline.
type fakeHistory struct {
	mu      sync.Mutex
	items   []proto.HistoryItem
	recs    map[uint64][]proto.RecPacket
	read    map[string]uint64 // user → read position
	nextCID uint64
}

func newFakeHistory() *fakeHistory {
	return &fakeHistory{recs: map[uint64][]proto.RecPacket{}, read: map[string]uint64{}}
}

func (h *fakeHistory) add(it proto.HistoryItem, rec []proto.RecPacket) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	it.ID = uint64(len(h.items) + 1)
	h.items = append(h.items, it)
	if rec != nil {
		h.recs[it.ID] = rec
	}
	return it.ID
}

// catchUp sends a session what its user has not seen.
func (h *fakeHistory) catchUp(s *fakeSession) {
	h.mu.Lock()
	var missed []proto.HistoryItem
	for _, it := range h.items {
		if it.ID > h.read[s.name] && (it.To == "" || it.To == s.name) {
			missed = append(missed, it)
		}
	}
	h.mu.Unlock()
	if len(missed) > 0 {
		s.event(&proto.History{Flags: proto.HistoryMissed, Items: missed})
	}
}

func (s *fakeSession) HasHistory() bool { return s.r.hist != nil }

func (s *fakeSession) History(_ context.Context, q proto.HistoryQuery) ([]proto.HistoryItem, bool, error) {
	h := s.r.hist
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []proto.HistoryItem
	for i := len(h.items) - 1; i >= 0; i-- {
		it := h.items[i]
		if (q.Channel == "" || it.Channel == q.Channel) && (q.Before == 0 || it.ID < q.Before) && it.ID > q.After {
			out = append(out, it)
		}
	}
	return out, false, nil
}

func (s *fakeSession) Item(ctx context.Context, id uint64) (proto.HistoryItem, error) {
	items, _, _ := s.History(ctx, proto.HistoryQuery{})
	for _, it := range items {
		if it.ID == id {
			return it, nil
		}
	}
	return proto.HistoryItem{}, &client.RelayError{Code: proto.CodeNotFound, Text: "no such item"}
}

func (s *fakeSession) FetchFunc(ctx context.Context, id uint64, fn func([]proto.RecPacket) error) (proto.HistoryItem, error) {
	it, err := s.Item(ctx, id)
	if err != nil {
		return it, err
	}
	h := s.r.hist
	h.mu.Lock()
	rec := h.recs[id]
	h.mu.Unlock()
	for len(rec) > 0 {
		n := min(len(rec), 10)
		if err := fn(rec[:n]); err != nil {
			return it, err
		}
		rec = rec[n:]
	}
	return it, nil
}

func (s *fakeSession) SendText(ctx context.Context, to, text string) (proto.TextAck, error) {
	h := s.r.hist
	h.mu.Lock()
	h.nextCID++
	ack := proto.TextAck{ClientID: h.nextCID, Status: proto.TextSent}
	h.mu.Unlock()
	kind := proto.ItemText
	if to == "carol" {
		kind, ack.Status = proto.ItemPrivate, proto.TextWaiting
	} else if to != "" {
		kind, ack.Status = proto.ItemPrivate, proto.TextDelivered
	}
	ack.ID = h.add(proto.HistoryItem{Kind: kind, From: s.name, To: to, Channel: s.channel.Name, Text: text}, nil)
	if to != "carol" {
		s.Text(ctx, to, text)
	}
	return ack, nil
}

func (s *fakeSession) MarkRead(upTo uint64) {
	h := s.r.hist
	h.mu.Lock()
	h.read[s.name] = max(h.read[s.name], upTo)
	h.mu.Unlock()
}

// recordingOf encodes pcm into 20 ms packets at their offsets.
func recordingOf(t *testing.T, pcm []int16) []proto.RecPacket {
	t.Helper()
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960})
	if err != nil {
		t.Fatal(err)
	}
	var rec []proto.RecPacket
	for i := 0; i+960 <= len(pcm); i += 960 {
		b, err := enc.Encode(pcm[i:i+960], make([]byte, 0, codec.MaxPacketBytes))
		if err != nil {
			t.Fatal(err)
		}
		rec = append(rec, proto.RecPacket{Offset: uint32(i / 48), Opus: b})
	}
	return rec
}

func TestHistoryMissedTimelineAndTexts(t *testing.T) {
	r := newFakeRelay()
	r.hist = newFakeHistory()
	r.channels[0].History = proto.HistoryVoice
	r.hist.add(proto.HistoryItem{Kind: proto.ItemText, From: "bob", Channel: "lobby", Text: "seen before", Time: 1000}, nil)
	r.hist.read["ann"] = 1
	r.hist.add(proto.HistoryItem{Kind: proto.ItemPrivate, From: "bob", To: "ann", Text: "call me", Time: 2000}, nil)
	r.hist.add(proto.HistoryItem{Kind: proto.ItemRing, From: "bob", Time: 3000}, nil)
	voice := r.hist.add(proto.HistoryItem{Kind: proto.ItemVoice, Flags: proto.ItemAudio, From: "bob", Channel: "lobby", Duration: 1000, Time: 4000}, nil)
	_, url := startGateway(t, r, nil)

	ann := dialWS(t, url, login("ann"))
	if w := ann.expect("welcome", nil); w["history"] != true {
		t.Errorf("welcome %v: no history", w)
	}
	ann.expect("joined", func(m map[string]any) bool { return m["history"] == "voice" })
	m := ann.expect("missed", nil)
	items := m["items"].([]any)
	var ids []float64
	for _, it := range items {
		ids = append(ids, it.(map[string]any)["id"].(float64))
	}
	if !slices.Equal(ids, []float64{2, 3, float64(voice)}) {
		t.Fatalf("missed ids %v, want 2, 3, 4", ids)
	}
	last := items[2].(map[string]any)
	if last["kind"] != "voice" || last["audio"] != true || last["duration_ms"].(float64) != 1000 {
		t.Errorf("voice item %v", last)
	}
	if p := items[0].(map[string]any); p["kind"] != "private" || p["to"] != "ann" || p["text"] != "call me" {
		t.Errorf("private item %v", p)
	}
	// The browser has them: they count as read, so the next login does
	// not show them again.
	ann.send(map[string]any{"t": "ping", "n": 1})
	ann.expect("pong", nil)
	r.hist.mu.Lock()
	read := r.hist.read["ann"]
	r.hist.mu.Unlock()
	if read != voice {
		t.Errorf("read position %d after the missed items were sent, want %d", read, voice)
	}

	// The channel's timeline.
	ann.send(map[string]any{"t": "history", "req": 7, "channel": "lobby", "limit": 30})
	h := ann.expect("history", func(m map[string]any) bool { return m["req"].(float64) == 7 })
	if n := len(h["items"].([]any)); n != 2 {
		t.Errorf("lobby timeline has %d items, want 2 (the text and the transmission): %v", n, h)
	}

	// A text to carol, who is offline, waits.
	ann.send(map[string]any{"t": "text", "text": "see you", "to": "carol"})
	a := ann.expect("text_ack", nil)
	if a["status"] != "waiting" || a["to"] != "carol" {
		t.Errorf("text_ack %v, want waiting for carol", a)
	}

	// A second login of ann misses nothing.
	ann2 := dialWS(t, url, login("ann"))
	ann2.expect("joined", nil)
	ann2.send(map[string]any{"t": "ping", "n": 2})
	for m := range ann2.json {
		if m["t"] == "missed" {
			t.Fatalf("missed again after being shown: %v", m)
		}
		if m["t"] == "pong" {
			break
		}
	}
}

func TestReplayStreamsAndLiveInterrupts(t *testing.T) {
	r := newFakeRelay()
	r.hist = newFakeHistory()
	speech := sourcePCM(t)
	speech = speech[:len(speech)/960*960]
	id := r.hist.add(proto.HistoryItem{Kind: proto.ItemVoice, Flags: proto.ItemAudio, From: "bob", Channel: "lobby",
		Duration: uint32(len(speech) / 48)}, recordingOf(t, speech))
	_, url := startGateway(t, r, nil)
	ann := dialWS(t, url, login("ann"))
	ann.expect("missed", nil)

	ann.send(map[string]any{"t": "play", "id": id})
	p := ann.expect("replay", nil)
	if p["state"] != "playing" || p["item"].(map[string]any)["from"] != "bob" {
		t.Fatalf("replay %v", p)
	}
	got, talker := ann.collectTransmission()
	if talker != history.ReplayTalker {
		t.Errorf("replay came as talker %d, want %d", talker, history.ReplayTalker)
	}
	audiotest.RequireCorrelation(t, speech, got, 48000, 0.9)
	ann.expect("replay", func(m map[string]any) bool { return m["state"] == "done" })

	// A live transmission stops a replay.
	ann.send(map[string]any{"t": "play", "id": id})
	ann.expect("replay", func(m map[string]any) bool { return m["state"] == "playing" })
	<-ann.audio // it has begun
	bob, err := r.Dial(context.Background(), "bob", "", "lobby")
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	tx, err := bob.Talk(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.End(context.Background())
	st := ann.expect("replay", func(m map[string]any) bool { return m["state"] != "playing" })
	if st["state"] != "stopped" || st["text"] != "bob is talking." {
		t.Errorf("replay %v, want stopped because bob is talking", st)
	}
	// While bob talks, no replay starts.
	ann.send(map[string]any{"t": "play", "id": id})
	e := ann.expect("replay", nil)
	if e["state"] != "error" {
		t.Errorf("replay during a transmission: %v", e)
	}
	// An item that is not there.
	tx.End(context.Background())
	ann.expect("talking", func(m map[string]any) bool { return m["on"] == false })
	ann.send(map[string]any{"t": "play", "id": 99})
	if e := ann.expect("replay", nil); e["state"] != "error" {
		t.Errorf("replay of an unknown id: %v", e)
	}
}

// A page that plays WAV (playback "wav") gets a replay as one WAV blob of
// the replay talker.
func TestReplayAsWAV(t *testing.T) {
	r := newFakeRelay()
	r.hist = newFakeHistory()
	speech := sourcePCM(t)
	speech = speech[:len(speech)/960*960]
	id := r.hist.add(proto.HistoryItem{Kind: proto.ItemVoice, Flags: proto.ItemAudio, From: "bob", Channel: "lobby",
		Duration: uint32(len(speech) / 48)}, recordingOf(t, speech))
	_, url := startGateway(t, r, nil)
	ann := dialWS(t, url, map[string]any{"t": "login", "name": "ann", "playback": "wav"})
	ann.expect("joined", nil)
	ann.send(map[string]any{"t": "play", "id": id})
	ann.expect("replay", func(m map[string]any) bool { return m["state"] == "done" })
	var blob []byte
	for blob == nil {
		b := <-ann.audio
		if b[0] == binWAV {
			blob = b
		}
	}
	if talker := binary.LittleEndian.Uint32(blob[4:]); talker != history.ReplayTalker {
		t.Errorf("WAV of talker %d, want the replay talker", talker)
	}
	a, err := wav.Decode(bytes.NewReader(blob[binHeaderLen:]))
	if err != nil {
		t.Fatal(err)
	}
	pcm, _ := wav.ToMono48k(a)
	audiotest.RequireCorrelation(t, speech, pcm, 48000, 0.9)
}

// Transmissions said while the gateway's session was reconnecting
// (proto.HistoryAway) are listed to the page as missed while reconnecting
// and played to it as replays, one after the other, in order.
func TestAwayTransmissionsPlayedToThePage(t *testing.T) {
	r := newFakeRelay()
	r.hist = newFakeHistory()
	speech := sourcePCM(t)
	speech = speech[:len(speech)/960*960]
	var items []proto.HistoryItem
	for _, from := range []string{"bob", "dan"} {
		it := proto.HistoryItem{Kind: proto.ItemVoice, Flags: proto.ItemAudio, From: from, Channel: "lobby", Duration: uint32(len(speech) / 48)}
		it.ID = r.hist.add(it, recordingOf(t, speech))
		items = append(items, it)
	}
	_, url := startGateway(t, r, nil)
	ann := dialWS(t, url, login("ann"))
	ann.expect("missed", nil)

	r.mu.Lock()
	var s *fakeSession
	for _, x := range r.sessions {
		if x.name == "ann" {
			s = x
		}
	}
	r.mu.Unlock()
	s.event(&proto.History{Flags: proto.HistoryAway, Items: items})
	m := ann.expect("missed", nil)
	if m["away"] != true || len(m["items"].([]any)) != 2 {
		t.Fatalf("missed while reconnecting: %v", m)
	}
	for _, want := range []string{"bob", "dan"} {
		p := ann.expect("replay", func(m map[string]any) bool { return m["state"] == "playing" })
		if from := p["item"].(map[string]any)["from"]; from != want {
			t.Fatalf("replay of %v, want %s's first", from, want)
		}
		got, talker := ann.collectTransmission()
		if talker != history.ReplayTalker {
			t.Errorf("replay came as talker %d, want %d", talker, history.ReplayTalker)
		}
		audiotest.RequireCorrelation(t, speech, got, 48000, 0.9)
		ann.expect("replay", func(m map[string]any) bool { return m["state"] == "done" })
	}
}

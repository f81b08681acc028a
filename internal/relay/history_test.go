package relay_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/proto"
)

func historyRelay(t *testing.T, settings map[string]string) (*relaytest.Relay, *store.Store) {
	t.Helper()
	st := relaytest.HistoryStore(t)
	for ch, set := range settings {
		if _, err := st.SetChannel(ch, set); err != nil {
			t.Fatal(err)
		}
	}
	r := relaytest.Start(t, relaytest.WithHistory(st))
	return r, st
}

// read waits until the relay has handled what c sent (the Pong to a Ping
// is queued after the answers to earlier messages).
func read(t *testing.T, c *relaytest.Client) {
	t.Helper()
	c.MustSend(t, &proto.Ping{Nonce: 99})
	relaytest.Wait(t, c, func(p *proto.Pong) bool { return p.Nonce == 99 })
}

func missed(t *testing.T, c *relaytest.Client) *proto.History {
	t.Helper()
	return relaytest.Wait(t, c, func(h *proto.History) bool { return h.Flags&proto.HistoryMissed != 0 })
}

// A private text to an offline account is stored ("waiting"), delivered
// in the recipient's catch-up at their next login ("delivered" to the
// sender), and never again once read, on a reconnect or another device.
func TestOfflinePrivateTextDeliveredOnce(t *testing.T) {
	r, _ := historyRelay(t, nil)
	r.AddUser("alice", "pw", 0)
	r.AddUser("carol", "pw", 0)
	a := r.Dial(t, "alice", "pw")
	missed(t, a)
	a.MustSend(t, &proto.Text{To: "carol", Text: "call me", ClientID: 41})
	ack := relaytest.Wait[*proto.TextAck](t, a, nil)
	if ack.ClientID != 41 || ack.Status != proto.TextWaiting || ack.ID == 0 {
		t.Fatalf("ack for a text to offline carol: %+v", ack)
	}
	// A text to a name that is no account is still refused.
	a.MustSend(t, &proto.Text{To: "nobody", Text: "hello?"})
	if e := relaytest.Wait[*proto.Error](t, a, nil); e.Code != proto.CodeNoUser {
		t.Fatalf("text to an unknown name: %+v", e)
	}

	c := r.Dial(t, "carol", "pw")
	h := missed(t, c)
	if len(h.Items) != 1 || h.Items[0].ID != ack.ID || h.Items[0].Kind != proto.ItemPrivate ||
		h.Items[0].From != "alice" || h.Items[0].Text != "call me" || h.Items[0].To != "carol" {
		t.Fatalf("carol's catch-up: %+v", h)
	}
	del := relaytest.Wait(t, a, func(m *proto.TextAck) bool { return m.Status == proto.TextDelivered })
	if del.ClientID != 41 || del.ID != ack.ID {
		t.Fatalf("delivered ack %+v", del)
	}
	c.MustSend(t, &proto.HistoryRead{UpTo: ack.ID})
	read(t, c)
	c.Close()

	for i := range 2 { // a reconnect, then a second device
		c2 := r.Dial(t, "carol", "pw")
		if h := missed(t, c2); len(h.Items) != 0 {
			t.Fatalf("login %d after reading: catch-up again %+v", i+2, h.Items)
		}
		if i == 0 {
			c2.Close()
		}
	}
}

// A text resent with the same client id (after a reconnect) is answered
// again and neither sent nor stored twice.
func TestTextResendIsDeduplicated(t *testing.T) {
	r, st := historyRelay(t, nil)
	r.AddUser("alice", "pw", 0)
	r.AddUser("bob", "pw", 0)
	a := r.Dial(t, "alice", "pw")
	b := r.Dial(t, "bob", "pw")
	a.Join(t, "lobby")
	b.Join(t, "lobby")
	for range 2 {
		a.MustSend(t, &proto.Text{Text: "once", ClientID: 7})
	}
	a.MustSend(t, &proto.Text{Text: "after", ClientID: 8})
	var acks []*proto.TextAck
	for len(acks) < 3 {
		acks = append(acks, relaytest.Wait[*proto.TextAck](t, a, nil))
	}
	if acks[0].ID == 0 || acks[0].ClientID != 7 || acks[1].ID != acks[0].ID || acks[1].Status != proto.TextSent || acks[2].ClientID != 8 {
		t.Fatalf("acks %+v %+v %+v", acks[0], acks[1], acks[2])
	}
	first := relaytest.Wait[*proto.Text](t, b, nil)
	second := relaytest.Wait[*proto.Text](t, b, nil)
	if first.Text != "once" || first.ID != acks[0].ID || second.Text != "after" {
		t.Fatalf("bob got %+v then %+v", first, second)
	}
	items, _, err := st.Query(t.Context(), "bob", store.Query{Channel: "lobby"})
	if err != nil || len(items) != 2 {
		t.Fatalf("stored %+v %v", items, err)
	}
}

// waitWritten waits until the store committed n items (the recorder hands
// a transmission over on its own goroutine).
func waitWritten(t *testing.T, r *relaytest.Relay, n uint64) {
	t.Helper()
	r.WaitStats(t, fmt.Sprintf("%d history items written", n), func(relay.Stats) bool { return r.HistoryStats().Written >= n })
}

func sendTransmission(t *testing.T, c *relaytest.Client, ch uint16, frames int) [][]byte {
	t.Helper()
	var sent [][]byte
	for i := range frames {
		var fl proto.VoiceFlags
		if i == 0 {
			fl |= proto.FlagStart
		}
		if i == frames-1 {
			fl |= proto.FlagEnd
		}
		p := bytes.Repeat([]byte{byte(i + 1)}, 40+i)
		sent = append(sent, p)
		if err := c.SendVoice(proto.VoiceHeader{Flags: fl, Channel: ch, Seq: uint16(i), Timestamp: uint32(1000 + 960*i), Duration: 960}, p); err != nil {
			t.Fatal(err)
		}
	}
	return sent
}

// With history=voice a transmission nobody hears is stored, and Fetch
// returns its packets with their offsets.
func TestFetchReturnsThePacketsSent(t *testing.T) {
	r, _ := historyRelay(t, map[string]string{"lobby": "history=voice"})
	r.AddUser("alice", "pw", 0)
	a := r.Dial(t, "alice", "pw")
	j := a.Join(t, "lobby")
	if j.History != proto.HistoryVoice {
		t.Fatalf("joined lobby: history %v, want voice", j.History)
	}
	sent := sendTransmission(t, a, j.ID, 30)
	waitWritten(t, r, 1)

	a.MustSend(t, &proto.HistoryQuery{Req: 5, Channel: "lobby", Kinds: 1 << proto.ItemVoice})
	h := relaytest.Wait(t, a, func(h *proto.History) bool { return h.Req == 5 })
	if len(h.Items) != 1 {
		t.Fatalf("history of lobby: %+v", h)
	}
	it := h.Items[0]
	size := 0
	for _, p := range sent {
		size += len(p)
	}
	if it.From != "alice" || it.Flags&proto.ItemAudio == 0 || it.Flags&proto.ItemCut != 0 || it.Size != uint32(size) || it.Duration != 600 {
		t.Fatalf("stored transmission %+v (want %d bytes, 600 ms)", it, size)
	}
	a.MustSend(t, &proto.Fetch{Req: 6, ID: it.ID})
	var got []proto.RecPacket
	for {
		rec := relaytest.Wait(t, a, func(m *proto.Recording) bool { return m.Req == 6 })
		got = append(got, rec.Packets...)
		if !rec.More {
			break
		}
	}
	if len(got) != len(sent) {
		t.Fatalf("fetched %d packets, sent %d", len(got), len(sent))
	}
	for i, p := range got {
		if !bytes.Equal(p.Opus, sent[i]) || p.Offset != uint32(20*i) {
			t.Fatalf("packet %d: offset %d, %d bytes; want offset %d and the packet sent", i, p.Offset, len(p.Opus), 20*i)
		}
	}
	a.MustSend(t, &proto.Fetch{Req: 7, ID: it.ID + 1000})
	if e := relaytest.Wait(t, a, func(e *proto.Error) bool { return e.About == proto.TypeFetch }); e.Code != proto.CodeNotFound {
		t.Fatalf("fetch of no item: %+v", e)
	}
}

// A transmission longer than max-length is stored cut, flagged ItemCut.
func TestLongTransmissionStoredCut(t *testing.T) {
	r, _ := historyRelay(t, map[string]string{"lobby": "history=voice max-length=200ms"})
	r.AddUser("alice", "pw", 0)
	a := r.Dial(t, "alice", "pw")
	j := a.Join(t, "lobby")
	sendTransmission(t, a, j.ID, 25)
	waitWritten(t, r, 1)
	a.MustSend(t, &proto.HistoryQuery{Req: 1, Channel: "lobby"})
	h := relaytest.Wait(t, a, func(h *proto.History) bool { return h.Req == 1 })
	if len(h.Items) != 1 || h.Items[0].Flags&proto.ItemCut == 0 || h.Items[0].Duration != 200 {
		t.Fatalf("cut transmission: %+v", h.Items)
	}
	a.MustSend(t, &proto.Fetch{Req: 2, ID: h.Items[0].ID})
	rec := relaytest.Wait(t, a, func(m *proto.Recording) bool { return m.Req == 2 })
	if len(rec.Packets) != 10 || rec.More {
		t.Fatalf("cut recording has %d packets (more %v), want the first 10", len(rec.Packets), rec.More)
	}
}

// With history=text texts are kept and nothing of the voice.
func TestHistoryTextStoresNoVoice(t *testing.T) {
	r, st := historyRelay(t, nil) // the default is history=text
	r.AddUser("alice", "pw", 0)
	r.AddUser("bob", "pw", 0)
	a := r.Dial(t, "alice", "pw")
	b := r.Dial(t, "bob", "pw")
	j := a.Join(t, "lobby")
	b.Join(t, "lobby")
	if j.History != proto.HistoryText {
		t.Fatalf("lobby history %v", j.History)
	}
	sendTransmission(t, a, j.ID, 10)
	for range 10 {
		b.RecvVoice(t) // the relay has handled every frame
	}
	a.MustSend(t, &proto.Text{Text: "kept", ClientID: 1})
	relaytest.Wait[*proto.TextAck](t, a, nil)
	items, _, err := st.Query(t.Context(), "alice", store.Query{})
	if err != nil || len(items) != 1 || items[0].Kind != store.KindText {
		t.Fatalf("stored with history=text: %+v %v", items, err)
	}
	if s := r.HistoryStats(); s.Bytes != 0 {
		t.Fatalf("voice bytes stored: %d", s.Bytes)
	}
}

// Everyone who was away gets the channel's texts, rings and pages once per
// user; an admin's ChannelSet applies at once and others may not.
func TestCatchUpOncePerUserAndChannelSet(t *testing.T) {
	r, _ := historyRelay(t, nil)
	r.AddUser("alice", "pw", proto.RoleAdmin|proto.RolePage)
	r.AddUser("carol", "pw", 0)
	a := r.Dial(t, "alice", "pw")
	missed(t, a)
	c := r.Dial(t, "carol", "pw")
	missed(t, c)
	c.Close()
	a.Join(t, "lobby")
	a.MustSend(t, &proto.Text{Text: "one", ClientID: 1})
	a.MustSend(t, &proto.Ring{Text: "door"})
	a.MustSend(t, &proto.Text{Text: "two", ClientID: 2})
	relaytest.Wait(t, a, func(m *proto.TextAck) bool { return m.ClientID == 2 })
	waitWritten(t, r, 3)

	c = r.Dial(t, "carol", "pw")
	h := missed(t, c)
	if len(h.Items) != 3 || h.Items[0].Text != "one" || h.Items[1].Kind != proto.ItemRing || h.Items[2].Text != "two" {
		t.Fatalf("carol's catch-up %+v", h.Items)
	}
	c.MustSend(t, &proto.HistoryRead{UpTo: h.Items[2].ID})
	read(t, c)
	// Joining lobby now brings nothing more: carol got it all at login.
	c.Join(t, "lobby")
	c.Close()
	c = r.Dial(t, "carol", "pw")
	if h := missed(t, c); len(h.Items) != 0 {
		t.Fatalf("second catch-up %+v", h.Items)
	}

	c.Join(t, "lobby")
	c.MustSend(t, &proto.ChannelSet{Channel: "lobby", Settings: "history=voice"})
	if e := relaytest.Wait(t, c, func(e *proto.Error) bool { return e.About == proto.TypeChannelSet }); e.Code != proto.CodeForbidden {
		t.Fatalf("ChannelSet by a non-admin: %+v", e)
	}
	a.MustSend(t, &proto.ChannelSet{Channel: "lobby", Settings: "history=voice max-age=24h"})
	cs := relaytest.Wait[*proto.ChannelSettings](t, a, nil)
	if cs.Channel != "lobby" || cs.Settings != "mode=ptt history=voice max-length=1m max-tx-bytes=1MB max-count=1000 max-age=1d max-bytes=100MB max-talk=default talk=everyone listen=everyone" {
		t.Fatalf("settings %+v", cs)
	}
	// Carol, in lobby, is told at once that it now records voice.
	if j := relaytest.Wait[*proto.Joined](t, c, nil); j.Name != "lobby" || j.History != proto.HistoryVoice {
		t.Fatalf("after ChannelSet carol got %+v", j)
	}
	a.MustSend(t, &proto.ChannelSet{Channel: "lobby", Settings: "history=loud"})
	if e := relaytest.Wait(t, a, func(e *proto.Error) bool { return e.About == proto.TypeChannelSet }); e.Code != proto.CodeBadMessage {
		t.Fatalf("bad settings: %+v", e)
	}
}

// A channel setting changed in the store by another process (`relay
// channel set`) reaches the running relay.
func TestChannelSettingsFollowTheStore(t *testing.T) {
	r, _ := historyRelay(t, nil)
	r.AddUser("alice", "pw", 0)
	other, err := store.Open(r.Config.History.Path(), store.Options{NoWriter: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a := r.Dial(t, "alice", "pw")
	a.Join(t, "ops")
	if _, err := other.SetChannel("ops", "history=voice mode=ptt"); err != nil {
		t.Fatal(err)
	}
	// The relay polls the store and tells the channel's members with a
	// fresh Joined.
	relaytest.Wait(t, a, func(j *proto.Joined) bool {
		return j.Name == "ops" && j.History == proto.HistoryVoice && j.Mode == proto.ModePTT
	})
}

// When the disk stalls, voice and live texts go on; the texts that find the
// store's queue full go out without an id, are acknowledged with id 0 and
// counted, and storing resumes when the disk does.
func TestStalledDiskDropsHistoryNotVoice(t *testing.T) {
	st := relaytest.HistoryStore(t)
	if _, err := st.SetChannel("lobby", "history=voice"); err != nil {
		t.Fatal(err)
	}
	// A store whose queue holds 4 writes.
	small, err := store.Open(st.Path()+"-small", store.Options{Queue: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if _, err := small.Import("", st.Path()+"-none.json", false); err != nil {
		t.Fatal(err)
	}
	small.SetChannel("lobby", "history=voice")
	r := relaytest.Start(t, relaytest.WithHistory(small))
	r.AddUser("alice", "pw", 0)
	r.AddUser("bob", "pw", 0)
	a := r.Dial(t, "alice", "pw")
	b := r.Dial(t, "bob", "pw")
	j := a.Join(t, "lobby")
	b.Join(t, "lobby")
	read(t, a)
	read(t, b) // their catch-ups were read before the stall
	release, err := small.Hold()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	for i := range 8 {
		a.MustSend(t, &proto.Text{Text: fmt.Sprint("stalled ", i), ClientID: uint64(100 + i)})
	}
	for i := range 8 {
		m := relaytest.Wait[*proto.Text](t, b, nil)
		if m.Text != fmt.Sprint("stalled ", i) {
			t.Fatalf("bob got %q", m.Text)
		}
	}
	sendTransmission(t, a, j.ID, 10)
	for range 10 {
		b.RecvVoice(t)
	}
	// The texts beyond the queue were refused at once and acknowledged
	// without an id.
	zero := relaytest.Wait(t, a, func(m *proto.TextAck) bool { return m.ID == 0 })
	if zero.Status != proto.TextSent {
		t.Fatalf("ack of an unstored text: %+v", zero)
	}
	if d := r.HistoryStats().Dropped; d == 0 {
		t.Fatal("no history drop counted")
	}
	release()
	if !small.WaitCommitted(t.Context(), small.LastID()) { // the queue drained
		t.Fatal("the store did not commit after the stall")
	}
	a.MustSend(t, &proto.Text{Text: "after", ClientID: 200})
	ack := relaytest.Wait(t, a, func(m *proto.TextAck) bool { return m.ClientID == 200 })
	if ack.ID == 0 {
		t.Fatalf("after the stall: %+v", ack)
	}
}

// A page is history (with its audio when a channel keeps voice); a client
// without FeatureHistory gets the private texts waiting for it as texts,
// once.
func TestPageStoredAndWaitingTextsForOldClients(t *testing.T) {
	r, st := historyRelay(t, map[string]string{"ops": "history=voice"})
	r.AddUser("boss", "pw", proto.RolePage)
	r.AddUser("carol", "pw", 0)
	boss := r.Dial(t, "boss", "pw")
	boss.MustSend(t, &proto.PageStart{})
	relaytest.Wait(t, boss, func(g *proto.FloorGrant) bool { return g.Channel == proto.PageChannel })
	for i := range 5 {
		fl := proto.VoiceFlags(0)
		if i == 4 {
			fl = proto.FlagEnd
		}
		boss.SendVoice(proto.VoiceHeader{Flags: fl, Channel: proto.PageChannel, Seq: uint16(i), Timestamp: uint32(960 * i), Duration: 960}, []byte{1, 2, 3})
	}
	boss.MustSend(t, &proto.Text{To: "carol", Text: "see me", ClientID: 3})
	relaytest.Wait(t, boss, func(m *proto.TextAck) bool { return m.ClientID == 3 })
	waitWritten(t, r, 2)
	items, _, err := st.Query(t.Context(), "boss", store.Query{Kinds: 1 << store.KindPage})
	if err != nil || len(items) != 1 || items[0].From != "boss" || items[0].Flags&store.FlagAudio == 0 || items[0].Duration != 100 {
		t.Fatalf("stored page %+v %v", items, err)
	}

	old := r.DialWith(t, "carol", "pw", relaytest.DialOptions{Version: proto.Version1})
	m := relaytest.Wait[*proto.Text](t, old, nil)
	if m.Text != "see me" || m.FromName != "boss" {
		t.Fatalf("v1 client got %+v", m)
	}
	relaytest.Wait(t, boss, func(m *proto.TextAck) bool { return m.Status == proto.TextDelivered })
	old.Close()
	again := r.DialWith(t, "carol", "pw", relaytest.DialOptions{Version: proto.Version1})
	read(t, again)
	for _, m := range again.Pending() {
		if tx, ok := m.(*proto.Text); ok {
			t.Fatalf("delivered again: %+v", tx)
		}
	}
}

// A session's catch-up comes before the answer to any history request it
// sends after login (front ends mark what is new by it).
func TestCatchUpBeforeAnswers(t *testing.T) {
	r, _ := historyRelay(t, nil)
	r.AddUser("alice", "pw", 0)
	r.AddUser("carol", "pw", 0)
	c := r.Dial(t, "carol", "pw")
	missed(t, c)
	c.Close()
	a := r.Dial(t, "alice", "pw")
	a.Join(t, "lobby")
	for i := range 5 {
		a.MustSend(t, &proto.Text{Text: fmt.Sprint("t", i), ClientID: uint64(i + 1)})
	}
	relaytest.Wait(t, a, func(m *proto.TextAck) bool { return m.ClientID == 5 })
	for i := range 10 {
		c := r.Dial(t, "carol", "pw")
		c.MustSend(t, &proto.HistoryQuery{Req: 1, Channel: "lobby"})
		first := relaytest.Wait[*proto.History](t, c, nil)
		if first.Flags&proto.HistoryMissed == 0 {
			t.Fatalf("login %d: the answer %+v came before the catch-up", i, first)
		}
		relaytest.Wait(t, c, func(h *proto.History) bool { return h.Req == 1 })
		c.Close()
	}
}

// BenchmarkReplayStart measures, on loopback, the time from a Fetch to the
// first Recording message at the client (the first second of audio, sent at
// once; the rest is paced).
func BenchmarkReplayStart(b *testing.B) {
	st := relaytest.HistoryStore(b)
	if _, err := st.SetChannel("lobby", "history=voice"); err != nil {
		b.Fatal(err)
	}
	r := relaytest.Start(b, relaytest.WithHistory(st), relaytest.Configure(func(c *relay.Config) { c.ControlRate, c.ControlBurst = 1e6, 1e6 }))
	r.AddUser("alice", "pw", 0)
	a := r.Dial(b, "alice", "pw")
	j := a.Join(b, "lobby")
	for i := range 50 {
		var fl proto.VoiceFlags
		switch i {
		case 0:
			fl = proto.FlagStart
		case 49:
			fl = proto.FlagEnd
		}
		a.SendVoice(proto.VoiceHeader{Flags: fl, Channel: j.ID, Seq: uint16(i), Timestamp: uint32(960 * i), Duration: 960}, make([]byte, 80))
	}
	r.WaitStats(b, "the transmission stored", func(relay.Stats) bool { return r.HistoryStats().Written >= 1 })
	a.MustSend(b, &proto.HistoryQuery{Req: 1, Channel: "lobby"})
	id := relaytest.Wait(b, a, func(h *proto.History) bool { return h.Req == 1 && len(h.Items) == 1 }).Items[0].ID
	b.ResetTimer()
	for i := range b.N {
		req := uint32(i + 10)
		a.MustSend(b, &proto.Fetch{Req: req, ID: id})
		rec := relaytest.Wait(b, a, func(m *proto.Recording) bool { return m.Req == req })
		if rec.More {
			b.Fatal("a one-second recording came in several parts")
		}
	}
}

// In a channel that keeps nothing a resent text is not sent twice either.
func TestResendInChannelWithoutHistory(t *testing.T) {
	r, st := historyRelay(t, map[string]string{"lobby": "history=off"})
	r.AddUser("alice", "pw", 0)
	r.AddUser("bob", "pw", 0)
	a := r.Dial(t, "alice", "pw")
	b := r.Dial(t, "bob", "pw")
	if j := a.Join(t, "lobby"); j.History != proto.HistoryOff {
		t.Fatalf("lobby %+v", j)
	}
	b.Join(t, "lobby")
	a.MustSend(t, &proto.Text{Text: "once", ClientID: 9})
	a.MustSend(t, &proto.Text{Text: "once", ClientID: 9})
	a.MustSend(t, &proto.Text{Text: "next", ClientID: 10})
	for _, want := range []string{"once", "next"} {
		if m := relaytest.Wait[*proto.Text](t, b, nil); m.Text != want || m.ID != 0 {
			t.Fatalf("bob got %+v, want %q without an id", m, want)
		}
	}
	acks := 0
	for acks < 3 {
		if ack := relaytest.Wait[*proto.TextAck](t, a, nil); ack.ID != 0 || ack.Status != proto.TextSent {
			t.Fatalf("ack %+v", ack)
		}
		acks++
	}
	if items, _, _ := st.Query(t.Context(), "alice", store.Query{}); len(items) != 0 {
		t.Fatalf("history=off stored %+v", items)
	}
}

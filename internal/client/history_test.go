package client

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hark-intercom/hark/proto"
)

func historyFake(t *testing.T) *fakeRelay {
	t.Helper()
	return newFakeRelayWith(t, func(f *fakeRelay) { f.history = true })
}

func TestHistoryQueryAndFetch(t *testing.T) {
	f := historyFake(t)
	pkts := []proto.RecPacket{{Offset: 0, Opus: []byte{1}}, {Offset: 20, Opus: []byte{2}}, {Offset: 100, Opus: []byte{3}}}
	f.addItem(proto.HistoryItem{Kind: proto.ItemText, From: "bob", Channel: "lobby", Text: "hi"}, nil)
	voice := f.addItem(proto.HistoryItem{Kind: proto.ItemVoice, Flags: proto.ItemAudio, From: "bob", Channel: "lobby", Duration: 120}, pkts)
	f.addItem(proto.HistoryItem{Kind: proto.ItemText, From: "zed", Channel: "ops", Text: "elsewhere"}, nil)
	f.mu.Lock()   // the fake's goroutines read it; the network between is no happens-before for the race detector
	f.readPos = 3 // nothing missed: no catch-up, so Fetch must ask for the item
	f.mu.Unlock()
	c, err := dialFake(t, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasHistory() {
		t.Fatal("the history feature was not agreed")
	}
	ctx := testCtx(t)
	rec, err := c.Fetch(ctx, voice)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Item.ID != voice || rec.Item.Duration != 120 || len(rec.Packets) != 3 {
		t.Fatalf("fetched %+v", rec)
	}
	for i, p := range rec.Packets {
		if p.Offset != pkts[i].Offset || !bytes.Equal(p.Opus, pkts[i].Opus) {
			t.Errorf("packet %d = %+v, want %+v", i, p, pkts[i])
		}
	}

	items, more, err := c.History(ctx, proto.HistoryQuery{Channel: "lobby"})
	if err != nil {
		t.Fatal(err)
	}
	if more || len(items) != 2 || items[0].ID != voice || items[1].Text != "hi" {
		t.Fatalf("lobby history: %+v more=%v", items, more)
	}
	items, more, err = c.History(ctx, proto.HistoryQuery{Limit: 1})
	if err != nil || !more || len(items) != 1 || items[0].Text != "elsewhere" {
		t.Fatalf("newest item: %+v more=%v err=%v", items, more, err)
	}

	// An item without sound, and one that is not there.
	if _, err := c.Fetch(ctx, 1); err == nil || !strings.Contains(err.Error(), "no sound") {
		t.Errorf("fetching a text: err = %v", err)
	}
	var re *RelayError
	if _, err := c.Fetch(ctx, 99); !errors.As(err, &re) || re.Code != proto.CodeNotFound {
		t.Errorf("fetching an unknown id: err = %v", err)
	}
	// The relay lost the recording after listing it.
	f.mu.Lock()
	delete(f.recordings, voice)
	f.mu.Unlock()
	if _, err := c.Fetch(ctx, voice); !errors.As(err, &re) || re.Code != proto.CodeNotFound || !strings.Contains(err.Error(), "no longer stored") {
		t.Errorf("fetching a removed recording: err = %v", err)
	}

	settings, err := c.ChannelSet(ctx, "lobby", "history=voice")
	if err != nil || settings != "history=voice max-age=24h" {
		t.Errorf("ChannelSet = %q, %v", settings, err)
	}
}

func TestHistoryNeedsTheFeature(t *testing.T) {
	f := newFakeRelay(t) // a relay without history
	c, err := dialFake(t, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if _, _, err := c.History(ctx, proto.HistoryQuery{}); !errors.Is(err, ErrNoHistory) {
		t.Errorf("History on a relay without history: %v", err)
	}
	if _, err := c.Fetch(ctx, 1); !errors.Is(err, ErrNoHistory) {
		t.Errorf("Fetch on a relay without history: %v", err)
	}
	ack, err := c.SendText(ctx, "zed", "hello")
	if err != nil || ack.Status != proto.TextDelivered {
		t.Errorf("private text without history: %+v, %v", ack, err)
	}
	_, msgs := f.snapshot()
	for _, m := range msgs {
		if tx, ok := m.(*proto.Text); ok && tx.ClientID != 0 {
			t.Errorf("a ClientID went to a relay without history: %+v", tx)
		}
	}
}

func TestSendTextAcks(t *testing.T) {
	f := historyFake(t)
	c, err := dialFake(t, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	for _, tc := range []struct {
		to   string
		want proto.TextStatus
	}{{"", proto.TextSent}, {"carol", proto.TextWaiting}, {"zed", proto.TextDelivered}} {
		ack, err := c.SendText(ctx, tc.to, "hello "+tc.to)
		if err != nil || ack.Status != tc.want || ack.ID == 0 || ack.ClientID == 0 {
			t.Errorf("text to %q: %+v, %v; want status %v", tc.to, ack, err, tc.want)
		}
	}
	var re *RelayError
	if _, err := c.SendText(ctx, "nobody", "hello"); !errors.As(err, &re) || re.Code != proto.CodeNoUser || !strings.Contains(err.Error(), "nobody is not online, and the relay keeps texts") {
		t.Errorf("text to an unknown user: %v", err)
	}
	// The refusal belonged to that text only: the next one goes through.
	if err := c.Text(ctx, "", "again"); err != nil {
		t.Errorf("text after a refusal: %v", err)
	}
	if n := len(f.storedTexts()); n != 4 {
		t.Errorf("%d texts stored, want 4", n)
	}
}

// A text whose answer was lost with the connection is sent again after the
// reconnection with the same ClientID, and stored once.
func TestSendTextResentAfterReconnect(t *testing.T) {
	f := historyFake(t)
	f.mu.Lock()
	f.dropTexts = 1
	f.mu.Unlock()
	c, err := dialFake(t, f, func(c *Config) { c.Reconnect = true; c.MinBackoff = 10e6; c.MaxBackoff = 50e6 })
	if err != nil {
		t.Fatal(err)
	}
	ack, err := c.SendText(testCtx(t), "carol", "are you there?")
	if err != nil || ack.Status != proto.TextWaiting {
		t.Fatalf("SendText = %+v, %v", ack, err)
	}
	if c.Stats().Reconnects != 1 {
		t.Errorf("%d reconnections, want 1", c.Stats().Reconnects)
	}
	_, msgs := f.snapshot()
	var ids []uint64
	for _, m := range msgs {
		if tx, ok := m.(*proto.Text); ok {
			ids = append(ids, tx.ClientID)
		}
	}
	if len(ids) != 2 || ids[0] != ids[1] || ids[0] != ack.ClientID {
		t.Errorf("texts received with client ids %v, want twice %d", ids, ack.ClientID)
	}
	if got := f.storedTexts(); len(got) != 1 {
		t.Errorf("stored %d texts, want 1: %+v", len(got), got)
	}
}

// A text sent while the client is reconnecting waits and goes out once
// the connection is back.
func TestSendTextWhileReconnecting(t *testing.T) {
	f := historyFake(t)
	onEvent, events := eventSink()
	c, err := dialFake(t, f, func(c *Config) {
		c.Reconnect = true
		c.MinBackoff = 10e6
		c.MaxBackoff = 50e6
		c.OnEvent = onEvent
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	f.mu.Lock()
	f.resetAuth = true // logins fail until the text is queued
	f.mu.Unlock()
	f.dropAll()
	waitState(t, ctx, events, StateReconnecting)
	type result struct {
		ack proto.TextAck
		err error
	}
	done := make(chan result, 1)
	go func() {
		ack, err := c.SendText(ctx, "", "sent while away")
		done <- result{ack, err}
	}()
	// The text is in the outbox before logins may succeed again.
	for {
		c.mu.Lock()
		n := len(c.hist.outbox)
		c.mu.Unlock()
		if n == 1 {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("SendText returned while reconnecting: %+v, %v", r.ack, r.err)
		case <-events:
		case <-ctx.Done():
			t.Fatal("the text was not queued")
		}
	}
	f.mu.Lock()
	f.resetAuth = false
	f.mu.Unlock()
	r := <-done
	if r.err != nil || r.ack.Status != proto.TextSent {
		t.Fatalf("SendText = %+v, %v", r.ack, r.err)
	}
	if got := f.storedTexts(); len(got) != 1 || got[0].Text != "sent while away" || got[0].Channel != "lobby" {
		t.Errorf("stored %+v", got)
	}
}

// The read position moves only after the handler was shown the items.
func TestHistoryReadAfterHandler(t *testing.T) {
	f := historyFake(t)
	f.addItem(proto.HistoryItem{Kind: proto.ItemText, From: "bob", Channel: "lobby", Text: "one"}, nil)
	f.addItem(proto.HistoryItem{Kind: proto.ItemRing, From: "bob"}, nil)
	shown := make(chan *proto.History, 1)
	release := make(chan struct{})
	texts := make(chan *proto.Text, 4)
	c, err := dialFake(t, f, func(c *Config) {
		c.OnEvent = func(e Event) {
			switch m := e.Msg.(type) {
			case *proto.History:
				shown <- m
				<-release
			case *proto.Text:
				texts <- m
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	var h *proto.History
	select {
	case h = <-shown:
	case <-ctx.Done():
		t.Fatal("no catch-up event")
	}
	if len(h.Items) != 2 || h.Flags&proto.HistoryMissed == 0 {
		t.Fatalf("catch-up %+v", h)
	}
	hasRead := func(upTo uint64) func([][]byte, []proto.Message) bool {
		return func(_ [][]byte, msgs []proto.Message) bool {
			for _, m := range msgs {
				if r, ok := m.(*proto.HistoryRead); ok && r.UpTo == upTo {
					return true
				}
			}
			return false
		}
	}
	// The handler has not returned: nothing is read yet.
	if _, msgs := f.snapshot(); hasRead(2)(nil, msgs) {
		t.Fatal("HistoryRead sent before the handler returned")
	}
	close(release)
	if err := f.waitFor(ctx, hasRead(2)); err != nil {
		t.Fatal("no HistoryRead up to 2 after the handler returned")
	}
	// A live text moves it on.
	if _, err := c.SendText(ctx, "", "live"); err != nil {
		t.Fatal(err)
	}
	<-texts
	if err := f.waitFor(ctx, hasRead(3)); err != nil {
		t.Fatal("no HistoryRead up to 3 after the live text")
	}
	// The fake records a message before it serves it: wait for the
	// read position itself.
	readPos := func() uint64 { f.mu.Lock(); defer f.mu.Unlock(); return f.readPos }
	if err := f.waitFor(ctx, func([][]byte, []proto.Message) bool { return readPos() == 3 }); err != nil {
		t.Errorf("read position %d, want 3", readPos())
	}
	_ = context.Background
}

// A text kept while reconnecting to a relay that came back without history
// (an older version) is still sent, and answered.
func TestSendTextQueuedForRelayWithoutHistory(t *testing.T) {
	f := historyFake(t)
	onEvent, events := eventSink()
	c, err := dialFake(t, f, func(c *Config) {
		c.Reconnect = true
		c.MinBackoff = 10e6
		c.MaxBackoff = 50e6
		c.OnEvent = onEvent
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	f.mu.Lock()
	f.resetAuth = true
	f.history = false // it comes back older
	f.mu.Unlock()
	f.dropAll()
	waitState(t, ctx, events, StateReconnecting)
	done := make(chan error, 2)
	go func() {
		ack, err := c.SendText(ctx, "zed", "are you there")
		if err == nil && ack.Status != proto.TextDelivered {
			t.Errorf("ack %+v", ack)
		}
		done <- err
	}()
	for {
		c.mu.Lock()
		n := len(c.hist.outbox)
		c.mu.Unlock()
		if n == 1 {
			break
		}
		select {
		case <-events:
		case <-ctx.Done():
			t.Fatal("the text was not queued")
		}
	}
	f.mu.Lock()
	f.resetAuth = false
	f.mu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.HasHistory() {
		t.Error("the relay without history is taken for one with history")
	}
	// And a refusal from it reaches the sender.
	if _, err := c.SendText(ctx, "nobody", "hi"); err == nil || !strings.Contains(err.Error(), "nobody is not online") {
		t.Errorf("text to nobody: %v", err)
	}
}

// WaitMissed returns the login catch-up, also an empty one, and at once
// with a relay without history.
func TestWaitMissed(t *testing.T) {
	f := historyFake(t)
	f.addItem(proto.HistoryItem{Kind: proto.ItemText, From: "bob", Channel: "lobby", Text: "hi"}, nil)
	c, err := dialFake(t, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	items, _, err := c.WaitMissed(testCtx(t))
	if err != nil || len(items) != 1 || items[0].Text != "hi" {
		t.Errorf("WaitMissed = %+v, %v", items, err)
	}
	f.mu.Lock()
	f.readPos = 1
	f.mu.Unlock()
	c2, err := dialFake(t, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if items, _, err := c2.WaitMissed(testCtx(t)); err != nil || len(items) != 0 {
		t.Errorf("nothing missed: WaitMissed = %+v, %v", items, err)
	}
	old, err := dialFake(t, newFakeRelay(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := old.WaitMissed(testCtx(t)); err != nil {
		t.Errorf("relay without history: %v", err)
	}
}

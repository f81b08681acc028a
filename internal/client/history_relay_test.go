package client

import (
	"testing"

	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// Against the real relay with a history store: a private text to carol
// while she is offline waits; her first login delivers it once, with its
// original time; after her client showed it, a reconnection and a second
// login do not deliver it again.
func TestRelayOfflineTextOnceAcrossReconnects(t *testing.T) {
	st := relaytest.HistoryStore(t)
	r := relaytest.Start(t, relaytest.WithHistory(st))
	r.AddUser("alice", "pw", 0)
	r.AddUser("carol", "pw", 0)
	ctx := testCtx(t)
	alice, err := dialRelay(t, r.Addr, r.Fingerprint, "alice", "pw", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := alice.SendText(ctx, "carol", "call me")
	if err != nil || ack.Status != proto.TextWaiting || ack.ID == 0 {
		t.Fatalf("text to offline carol: %+v, %v", ack, err)
	}
	items, _, err := alice.History(ctx, proto.HistoryQuery{Limit: 10})
	if err != nil || len(items) != 1 || items[0].ID != ack.ID || items[0].Flags&proto.ItemWaiting == 0 {
		t.Fatalf("alice's history: %+v, %v", items, err)
	}
	sent := items[0].Time

	carol, err := dialRelay(t, r.Addr, r.Fingerprint, "carol", "pw", "", func(c *Config) { c.Reconnect = true })
	if err != nil {
		t.Fatal(err)
	}
	var got []proto.HistoryItem
	for got == nil {
		select {
		case e := <-carol.events:
			if h, ok := e.Msg.(*proto.History); ok && h.Flags&proto.HistoryMissed != 0 {
				got = h.Items
			}
			if tx, ok := e.Msg.(*proto.Text); ok {
				t.Fatalf("the waiting text came live as well: %+v", tx)
			}
		case <-ctx.Done():
			t.Fatal("no catch-up for carol")
		}
	}
	if len(got) != 1 || got[0].Text != "call me" || got[0].From != "alice" || got[0].Time != sent {
		t.Fatalf("carol's catch-up %+v, want alice's text at %d", got, sent)
	}
	// alice hears that it was delivered.
	for {
		select {
		case e := <-alice.events:
			if a, ok := e.Msg.(*proto.TextAck); ok {
				if a.ClientID != ack.ClientID || a.Status != proto.TextDelivered {
					t.Fatalf("later ack %+v", a)
				}
				goto delivered
			}
		case <-ctx.Done():
			t.Fatal("alice was not told the text was delivered")
		}
	}
delivered:
	// carol's client has told the relay she saw it (after the handler);
	// a ping's answer comes after the relay handled that.
	if _, err := carol.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	r.Kill(t)
	r.Restart(t)
	waitState(t, ctx, carol.events, StateReconnecting)
	waitState(t, ctx, carol.events, StateConnected)
	if _, err := carol.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// A second device of carol's logs in.
	carol2, err := dialRelay(t, r.Addr, r.Fingerprint, "carol", "pw", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := carol2.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testClient{carol, carol2} {
		if m, _ := c.Missed(); len(m) != 0 {
			t.Errorf("the text came again after it was shown: %+v", m)
		}
	}
}

// Texts sent at once each get their own answer: the relay acknowledges an
// accepted text after storing it but refuses one at once, so a refusal
// must not be taken for an earlier text's answer.
func TestRelayConcurrentTextsKeepTheirAnswers(t *testing.T) {
	st := relaytest.HistoryStore(t)
	if _, err := st.SetChannel("lobby", "history=text"); err != nil {
		t.Fatal(err)
	}
	r := relaytest.Start(t, relaytest.WithHistory(st))
	r.AddUser("alice", "pw", 0)
	ctx := testCtx(t)
	alice, err := dialRelay(t, r.Addr, r.Fingerprint, "alice", "pw", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		to  string
		ack proto.TextAck
		err error
	}
	out := make(chan result, 20)
	for i := range 10 {
		to := ""
		if i%2 == 1 {
			to = "nobody"
		}
		go func() {
			ack, err := alice.SendText(ctx, to, "hello")
			out <- result{to, ack, err}
		}()
	}
	for range 10 {
		r := <-out
		switch {
		case r.to == "" && (r.err != nil || r.ack.Status != proto.TextSent || r.ack.ID == 0):
			t.Errorf("channel text: %+v, %v", r.ack, r.err)
		case r.to == "nobody" && r.err == nil:
			t.Errorf("text to nobody accepted: %+v", r.ack)
		}
	}
}

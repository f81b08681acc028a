package relay_test

import (
	"slices"
	"testing"

	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

func away(t *testing.T, c *relaytest.Client) *proto.History {
	t.Helper()
	return relaytest.Wait(t, c, func(h *proto.History) bool { return h.Flags&proto.HistoryAway != 0 })
}

// A session that logs in again saying it was away gets the transmissions
// said meanwhile in channels it may hear, oldest first, at most the newest
// 20 (More set, the rest counted); not its own, and nothing for a login
// that says nothing (a first login). A transmission under way at its login
// follows once it ended.
func TestAwayTransmissionsSentOnReturn(t *testing.T) {
	r, _ := historyRelay(t, map[string]string{"lobby": "history=voice"})
	r.AddUser("alice", "pa", 0)
	r.AddUser("bob", "pb", 0)
	a := r.Dial(t, "alice", "pa")
	j := a.Join(t, "lobby")
	const n = 23
	for range n {
		sendTransmission(t, a, j.ID, 3)
	}
	waitWritten(t, r, n)

	// Bob was away for the last minute: the newest 20 of alice's.
	b := r.DialWith(t, "bob", "pb", relaytest.DialOptions{Away: 60000})
	h := away(t, b)
	if len(h.Items) != 20 || !h.More {
		t.Fatalf("bob got %d transmissions (more %v), want 20 and more", len(h.Items), h.More)
	}
	for i, it := range h.Items {
		if it.From != "alice" || it.Kind != proto.ItemVoice || it.Flags&proto.ItemAudio == 0 || it.Channel != "lobby" {
			t.Fatalf("item %d: %+v", i, it)
		}
		if i > 0 && it.ID <= h.Items[i-1].ID {
			t.Fatalf("not oldest first: %d after %d", it.ID, h.Items[i-1].ID)
		}
	}
	if hs := r.HistoryStats(); hs.AwaySent != 20 || hs.AwaySkipped != n-20 {
		t.Errorf("relay: %d sent, %d skipped; want 20, %d", hs.AwaySent, hs.AwaySkipped, n-20)
	}

	// A transmission under way when carol comes back reaches her once it
	// ended (she hears only its end live).
	r.AddUser("carol", "pc", 0)
	b.Join(t, "lobby")
	for i := range 2 {
		var fl proto.VoiceFlags
		if i == 0 {
			fl = proto.FlagStart
		}
		if err := a.SendVoice(proto.VoiceHeader{Flags: fl, Channel: j.ID, Seq: uint16(100 + i), Timestamp: uint32(960 * i), Duration: 960}, []byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	// Once bob heard both frames, the relay has taken them: the
	// transmission began before carol's login.
	for range 2 {
		b.RecvVoice(t)
	}
	c := r.DialWith(t, "carol", "pc", relaytest.DialOptions{Away: 1000})
	missed(t, c)
	if err := a.SendVoice(proto.VoiceHeader{Flags: proto.FlagEnd, Channel: j.ID, Seq: 102, Timestamp: 960 * 2, Duration: 960}, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	// Carol may get alice's earlier ones too (said within the second she
	// says she was away); the one under way comes once it ended, once.
	newest := h.Items[len(h.Items)-1].ID
	for {
		h = away(t, c)
		if i := slices.IndexFunc(h.Items, func(it proto.HistoryItem) bool { return it.ID > newest }); i >= 0 {
			if it := h.Items[i]; it.From != "alice" || it.Duration != 60 || i != len(h.Items)-1 {
				t.Fatalf("carol got %+v, want alice's 60 ms transmission that was under way, last", h.Items)
			}
			break
		}
	}

	// A first login (no Away) gets none.
	r.AddUser("dave", "pd", 0)
	d := r.Dial(t, "dave", "pd")
	missed(t, d)
	d.MustSend(t, &proto.Ping{Nonce: 7})
	if h := relaytest.Wait(t, d, func(m proto.Message) bool {
		if p, ok := m.(*proto.Pong); ok {
			return p.Nonce == 7
		}
		h, ok := m.(*proto.History)
		return ok && h.Flags&proto.HistoryAway != 0
	}); h.Type() != proto.TypePong {
		t.Errorf("a first login was sent %+v", h)
	}
}

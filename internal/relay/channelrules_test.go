package relay_test

import (
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestChannelMaxTalkLive: a channel's own max-talk, set in the store while
// the relay runs (as `relay channel set lobby max-talk=1s` does), is the
// longest transmission there: the grant says so and the talker is cut at
// it; another channel keeps the relay's limit.
func TestChannelMaxTalkLive(t *testing.T) {
	r, st := historyRelay(t, nil)
	r.AddUser("alice", "pw", 0)
	r.AddUser("bob", "pw", 0)
	a, b := r.Dial(t, "alice", "pw"), r.Dial(t, "bob", "pw")
	a.Join(t, "lobby")
	b.Join(t, "lobby")
	// history=voice changes what Joined says: the relay's fresh Joined
	// shows it took the settings.
	if _, err := st.SetChannel("lobby", "history=voice max-talk=1s"); err != nil {
		t.Fatal(err)
	}
	relaytest.Wait(t, a, func(j *proto.Joined) bool { return j.Name == "lobby" && j.History == proto.HistoryVoice })
	a.MustSend(t, &proto.FloorRequest{Channel: 1})
	if g := relaytest.Wait[*proto.FloorGrant](t, a, nil); g.MaxMillis != 1000 {
		t.Fatalf("grant in lobby %+v, want 1000 ms", g)
	}
	e := relaytest.Wait[*proto.Error](t, a, nil)
	if e.Code != proto.CodeTooLong || !strings.Contains(e.Text, "maximum length of 1s") {
		t.Fatalf("cut: %+v", e)
	}
	relaytest.Wait(t, b, func(m *proto.Talking) bool { return m.Session == a.Session() && !m.Talking })

	b.Join(t, "ops")
	b.MustSend(t, &proto.FloorRequest{Channel: 2})
	if g := relaytest.Wait[*proto.FloorGrant](t, b, nil); g.MaxMillis != 60000 {
		t.Fatalf("grant in ops %+v, want the relay's 60000 ms", g)
	}
	if _, err := st.SetChannel("lobby", "max-talk=0.5s"); err == nil || !strings.Contains(err.Error(), "at least 1s") {
		t.Fatalf("a max-talk under a second: %v", err)
	}
}

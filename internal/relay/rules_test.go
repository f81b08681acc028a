package relay_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// A channel's talk= and listen= rules decide who may talk (and write) and
// who may join; the relay says so in words, counts it, and shows each
// member what it may not do in its own ChannelInfo.
func TestChannelRulesTalkAndListen(t *testing.T) {
	r, _ := historyRelay(t, map[string]string{"lobby": "talk=role:admin,bob listen=role:admin,bob,carol max-talk=45s"})
	r.AddUser("alice", "pw", proto.RoleAdmin)
	r.AddUser("bob", "pw", 0)
	r.AddUser("carol", "pw", 0)
	r.AddUser("dave", "pw", proto.RolePage)
	b, c, d := r.Dial(t, "bob", "pw"), r.Dial(t, "carol", "pw"), r.Dial(t, "dave", "pw")

	// Each Welcome says what that user may not do.
	lobby := func(w *proto.Welcome) proto.ChannelInfo {
		for _, ci := range w.Channels {
			if ci.Name == "lobby" {
				return ci
			}
		}
		t.Fatalf("no lobby in %+v", w.Channels)
		return proto.ChannelInfo{}
	}
	if ci := lobby(b.Welcome); ci.Access != 0 || ci.MaxMillis != 45000 {
		t.Errorf("bob's lobby %+v", ci)
	}
	if ci := lobby(c.Welcome); ci.Access != proto.AccessNoTalk {
		t.Errorf("carol's lobby %+v", ci)
	}
	if ci := lobby(d.Welcome); ci.Access != proto.AccessNoTalk|proto.AccessNoListen {
		t.Errorf("dave's lobby %+v", ci)
	}

	// dave may not join; he is told who may.
	d.MustSend(t, &proto.Join{Channel: "lobby"})
	e := relaytest.Wait(t, d, func(e *proto.Error) bool { return e.About == proto.TypeJoin })
	if e.Code != proto.CodeForbidden || !strings.Contains(e.Text, "only admins, bob and carol may listen to lobby") {
		t.Fatalf("dave's join: %+v", e)
	}

	b.Join(t, "lobby")
	if j := c.Join(t, "lobby"); j.Access != proto.AccessNoTalk || j.MaxMillis != 45000 {
		t.Fatalf("carol joined %+v", j)
	}
	// carol listens but may not talk: a FloorRequest, a start frame and a
	// text are refused in words, and nothing reaches bob.
	c.MustSend(t, &proto.FloorRequest{Channel: 1})
	e = relaytest.Wait(t, c, func(e *proto.Error) bool { return e.About == proto.TypeFloorRequest })
	if e.Code != proto.CodeForbidden || !strings.Contains(e.Text, "only admins and bob may talk in lobby (you may listen)") {
		t.Fatalf("carol's floor request: %+v", e)
	}
	c.SendVoice(voice(1, 1, proto.FlagStart))
	relaytest.Wait(t, c, func(e *proto.Error) bool { return e.About == proto.TypeFloorRequest })
	r.WaitStats(t, "a forbidden drop", func(s relay.Stats) bool { return s.Dropped["forbidden"] == 1 })
	c.MustSend(t, &proto.Text{Text: "may I?"})
	e = relaytest.Wait(t, c, func(e *proto.Error) bool { return e.About == proto.TypeText })
	if e.Code != proto.CodeForbidden || !strings.Contains(e.Text, "may write in lobby") {
		t.Fatalf("carol's text: %+v", e)
	}
	// bob may: carol hears him, with the channel's limit in the grant.
	b.MustSend(t, &proto.FloorRequest{Channel: 1})
	if g := relaytest.Wait[*proto.FloorGrant](t, b, nil); g.MaxMillis != 45000 {
		t.Fatalf("bob's grant %+v", g)
	}
	b.SendVoice(voice(1, 1, proto.FlagStart))
	if h, _ := c.RecvVoice(t); h.Sender != b.Session() {
		t.Fatalf("carol got %+v", h)
	}
	if s := r.Stats(); s.RuleRefusals != 4 {
		t.Errorf("rule refusals %d, want 4 (dave's join, carol's request, start frame and text)", s.RuleRefusals)
	}
	if c.VoicePending() != 0 {
		t.Errorf("carol has %d frames waiting: her own refused frame went somewhere?", c.VoicePending())
	}
}

// An admin's change of the rules applies at once: a member who may no
// longer listen is taken out of the channel, a talker who may no longer
// talk is cut, and the others see their new ChannelInfo.
func TestChannelRulesChangeLive(t *testing.T) {
	r, _ := historyRelay(t, nil)
	r.AddUser("alice", "pw", proto.RoleAdmin)
	r.AddUser("bob", "pw", 0)
	r.AddUser("carol", "pw", 0)
	a, b, c := r.Dial(t, "alice", "pw"), r.Dial(t, "bob", "pw"), r.Dial(t, "carol", "pw")
	a.Join(t, "lobby")
	b.Join(t, "lobby")
	c.Join(t, "lobby")
	b.MustSend(t, &proto.FloorRequest{Channel: 1})
	relaytest.Wait[*proto.FloorGrant](t, b, nil)
	b.SendVoice(voice(1, 1, proto.FlagStart))
	a.RecvVoice(t)

	a.MustSend(t, &proto.ChannelSet{Channel: "lobby", Settings: "talk=role:admin listen=role:admin,bob max-talk=2m"})
	// alice sees bob stop, her new ChannelInfo, the settings, then (batched)
	// carol leaving the channel.
	relaytest.Wait(t, a, func(m *proto.Talking) bool { return m.Session == b.Session() && !m.Talking })
	if j := relaytest.Wait[*proto.Joined](t, a, nil); j.Access != 0 || j.MaxMillis != 120000 {
		t.Fatalf("alice's new info %+v", j)
	}
	relaytest.Wait[*proto.ChannelSettings](t, a, nil)
	relaytest.Wait(t, a, func(m *proto.PresenceChange) bool { return m.User.Name == "carol" && m.User.Channel == "" })
	// carol is out, and told why.
	e := relaytest.Wait(t, c, func(e *proto.Error) bool { return e.About == proto.TypeJoin })
	if e.Code != proto.CodeForbidden || !strings.Contains(e.Text, "you are in no channel now") {
		t.Fatalf("carol: %+v", e)
	}
	// bob is cut and listen-only now.
	e = relaytest.Wait(t, b, func(e *proto.Error) bool { return e.About == proto.TypeFloorRequest })
	if e.Code != proto.CodeForbidden || !strings.Contains(e.Text, "only admins may talk in lobby") {
		t.Fatalf("bob: %+v", e)
	}
	if j := relaytest.Wait[*proto.Joined](t, b, nil); j.Access != proto.AccessNoTalk || j.MaxMillis != 120000 {
		t.Fatalf("bob's new info %+v", j)
	}
	b.SendVoice(voice(1, 2, 0))
	b.SendVoice(voice(1, 3, proto.FlagStart))
	relaytest.Wait(t, b, func(e *proto.Error) bool { return e.About == proto.TypeFloorRequest })
	// carol's history of lobby is closed to her too.
	c.MustSend(t, &proto.HistoryQuery{Req: 5, Channel: "lobby"})
	if e := relaytest.Wait(t, c, func(e *proto.Error) bool { return e.About == proto.TypeHistoryQuery }); e.Code != proto.CodeForbidden {
		t.Fatalf("carol's history query: %+v", e)
	}
	// Back to everyone: bob talks again.
	a.MustSend(t, &proto.ChannelSet{Channel: "lobby", Settings: "talk=everyone listen=everyone"})
	relaytest.Wait(t, b, func(j *proto.Joined) bool { return j.Access == 0 })
	b.MustSend(t, &proto.FloorRequest{Channel: 1})
	relaytest.Wait[*proto.FloorGrant](t, b, nil)
}

// A channel's max-talk cuts a transmission there at its own length, not at
// the relay's --max-talk.
func TestChannelMaxTalk(t *testing.T) {
	st := relaytest.HistoryStore(t)
	if _, err := st.SetChannel("ops", "max-talk=100ms"); err != nil {
		t.Fatal(err)
	}
	r := relaytest.Start(t, relaytest.WithHistory(st), relaytest.Configure(func(c *relay.Config) {
		c.MaxTalk = time.Hour
		c.GrantTimeout = time.Minute
		c.FloorTimeout = time.Minute
	}))
	r.AddUser("alice", "pw", 0)
	a := r.Dial(t, "alice", "pw")
	a.Join(t, "ops")
	a.MustSend(t, &proto.FloorRequest{Channel: 2})
	if g := relaytest.Wait[*proto.FloorGrant](t, a, nil); g.MaxMillis != 100 {
		t.Fatalf("grant %+v", g)
	}
	e := relaytest.Wait(t, a, func(e *proto.Error) bool { return e.Code == proto.CodeTooLong })
	if !strings.Contains(e.Text, "maximum length of 100ms") {
		t.Fatalf("cut %+v", e)
	}
	// lobby keeps the relay's limit.
	a.Join(t, "lobby")
	a.MustSend(t, &proto.FloorRequest{Channel: 1})
	if g := relaytest.Wait[*proto.FloorGrant](t, a, nil); g.MaxMillis != uint32(time.Hour/time.Millisecond) {
		t.Fatalf("lobby grant %+v", g)
	}
}

// Monitoring obeys listen= too: a user who may not listen to a channel may
// not monitor it, and a monitor loses it when an admin closes the channel.
func TestChannelRulesMonitor(t *testing.T) {
	r, _ := historyRelay(t, map[string]string{"ops": "listen=role:admin,bob"})
	r.AddUser("alice", "pw", proto.RoleAdmin)
	r.AddUser("bob", "pw", 0)
	r.AddUser("carol", "pw", 0)
	a, b, c := r.Dial(t, "alice", "pw"), r.Dial(t, "bob", "pw"), r.Dial(t, "carol", "pw")
	a.Join(t, "ops")
	b.Join(t, "lobby")
	c.Join(t, "lobby")
	c.MustSend(t, &proto.Monitor{Channels: []string{"ops"}})
	e := relaytest.Wait(t, c, func(e *proto.Error) bool { return e.About == proto.TypeMonitor })
	if e.Code != proto.CodeForbidden || !strings.Contains(e.Text, "only admins and bob may listen to ops") {
		t.Fatalf("carol's monitor: %+v", e)
	}
	b.MustSend(t, &proto.Monitor{Channels: []string{"ops"}})
	if m := relaytest.Wait[*proto.Monitoring](t, b, nil); len(m.Channels) != 1 || m.Channels[0].Name != "ops" {
		t.Fatalf("bob monitors %+v", m.Channels)
	}
	a.SendVoice(voice(2, 1, proto.FlagStart))
	if h, _ := b.RecvVoice(t); h.Sender != a.Session() || h.Channel != 2 {
		t.Fatalf("bob heard %+v", h)
	}
	// Closed to bob: he stops hearing ops and is told.
	a.MustSend(t, &proto.ChannelSet{Channel: "ops", Settings: "listen=role:admin"})
	e = relaytest.Wait(t, b, func(e *proto.Error) bool { return e.About == proto.TypeMonitor })
	if e.Code != proto.CodeForbidden || !strings.Contains(e.Text, "you no longer hear it") {
		t.Fatalf("bob: %+v", e)
	}
	if m := relaytest.Wait[*proto.Monitoring](t, b, nil); len(m.Channels) != 0 {
		t.Fatalf("bob still monitors %+v", m.Channels)
	}
	relaytest.Wait[*proto.ChannelSettings](t, a, nil)
	n := b.VoicePending()
	a.SendVoice(voice(2, 2, 0))
	a.SendVoice(voice(2, 3, proto.FlagEnd))
	read(t, a)
	r.WaitStats(t, "alice's frames forwarded", func(s relay.Stats) bool { return s.FramesIn >= 3 })
	read(t, b)
	if b.VoicePending() != n {
		t.Fatalf("bob got %d frames of ops after it was closed to him", b.VoicePending()-n)
	}
}

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

// TestChannelTalkListenRoles: talk=page lets only users with the page role
// (or an admin) talk in a channel, others hear it; listen=admin keeps
// others from joining or monitoring it; both are refused in words and
// change live.
func TestChannelTalkListenRoles(t *testing.T) {
	r, st := historyRelay(t, nil)
	r.AddUser("boss", "pw", proto.RolePage)
	r.AddUser("worker", "pw", 0)
	r.AddUser("root", "pw", proto.RoleAdmin)
	boss, worker, root := r.Dial(t, "boss", "pw"), r.Dial(t, "worker", "pw"), r.Dial(t, "root", "pw")
	for _, c := range []*relaytest.Client{boss, worker, root} {
		c.Join(t, "lobby")
	}
	if _, err := st.SetChannel("lobby", "history=voice talk=page"); err != nil {
		t.Fatal(err)
	}
	relaytest.Wait(t, worker, func(j *proto.Joined) bool { return j.History == proto.HistoryVoice })
	worker.MustSend(t, &proto.FloorRequest{Channel: 1})
	if e := relaytest.Wait[*proto.Error](t, worker, nil); e.Code != proto.CodeForbidden || !strings.Contains(e.Text, "only users with the page role may talk") {
		t.Fatalf("worker's floor request: %+v", e)
	}
	// A start frame (and any frame) of worker's is dropped, said once.
	worker.SendVoice(voice(1, 1, proto.FlagStart))
	if e := relaytest.Wait[*proto.Error](t, worker, nil); e.Code != proto.CodeForbidden {
		t.Fatalf("worker's start frame: %+v", e)
	}
	for _, c := range []*relaytest.Client{boss, root} {
		c.MustSend(t, &proto.FloorRequest{Channel: 1})
		relaytest.Wait[*proto.FloorGrant](t, c, nil)
		c.MustSend(t, &proto.FloorRelease{Channel: 1})
		relaytest.Wait(t, worker, func(m *proto.Talking) bool { return m.Session == c.Session() && !m.Talking })
	}
	if n := worker.VoicePending(); n != 0 {
		t.Fatalf("worker's frame went out: %d", n)
	}

	root.Join(t, "ops")
	if _, err := st.SetChannel("ops", "history=voice listen=admin"); err != nil {
		t.Fatal(err)
	}
	relaytest.Wait(t, root, func(j *proto.Joined) bool { return j.Name == "ops" && j.History == proto.HistoryVoice })
	worker.MustSend(t, &proto.Join{Channel: "ops"})
	if e := relaytest.Wait(t, worker, func(e *proto.Error) bool { return e.About == proto.TypeJoin }); e.Code != proto.CodeForbidden || !strings.Contains(e.Text, "channel ops") {
		t.Fatalf("worker joins ops: %+v", e)
	}
	worker.MustSend(t, &proto.Monitor{Channels: []string{"ops"}})
	if e := relaytest.Wait(t, worker, func(e *proto.Error) bool { return e.About == proto.TypeMonitor }); e.Code != proto.CodeForbidden {
		t.Fatalf("worker monitors ops: %+v", e)
	}
	// Opened again: worker may join.
	if _, err := st.SetChannel("ops", "history=text listen=everyone"); err != nil {
		t.Fatal(err)
	}
	relaytest.Wait(t, root, func(j *proto.Joined) bool { return j.Name == "ops" && j.History == proto.HistoryText })
	if j := worker.Join(t, "ops"); j.Name != "ops" {
		t.Fatalf("worker joins the opened ops: %+v", j)
	}
}

// TestListenRuleTightensLive: when a channel becomes admin-only, a member
// without the role is taken out of it and a monitor stops hearing it, both
// told why; the admin stays.
func TestListenRuleTightensLive(t *testing.T) {
	r, st := historyRelay(t, nil)
	r.AddUser("worker", "pw", 0)
	r.AddUser("sup", "pw", 0)
	r.AddUser("root", "pw", proto.RoleAdmin)
	r.AddUser("admin", "pw", proto.RoleAdmin)
	worker, sup, root := r.Dial(t, "worker", "pw"), r.Dial(t, "sup", "pw"), r.Dial(t, "root", "pw")
	worker.Join(t, "ops")
	root.Join(t, "ops")
	sup.Join(t, "lobby")
	sup.MustSend(t, &proto.Monitor{Channels: []string{"ops"}})
	relaytest.Wait[*proto.Monitoring](t, sup, nil)
	if _, err := st.SetChannel("ops", "history=voice listen=admin"); err != nil {
		t.Fatal(err)
	}
	if e := relaytest.Wait[*proto.Error](t, worker, nil); e.Code != proto.CodeForbidden || !strings.Contains(e.Text, "taken out") {
		t.Fatalf("worker: %+v", e)
	}
	if e := relaytest.Wait[*proto.Error](t, sup, nil); e.About != proto.TypeMonitor {
		t.Fatalf("sup: %+v", e)
	}
	if m := relaytest.Wait[*proto.Monitoring](t, sup, nil); len(m.Channels) != 0 {
		t.Fatalf("sup still monitors %+v", m.Channels)
	}
	relaytest.Wait(t, root, func(m *proto.PresenceChange) bool { return m.User.Name == "worker" && m.User.Channel == "" })
	// root still talks in ops; admin hears it, sup and worker nothing.
	admin := r.Dial(t, "admin", "pw")
	admin.Join(t, "ops")
	talkBurst(t, root, 2, 0, 3)
	for range 3 {
		admin.RecvVoice(t)
	}
	if n := worker.VoicePending() + sup.VoicePending(); n != 0 {
		t.Fatalf("%d frames of the admin-only channel went out", n)
	}
}

package client

import (
	"reflect"
	"testing"

	"github.com/hark-intercom/hark/proto"
)

func TestRoster(t *testing.T) {
	var r Roster
	r.Apply(&proto.Welcome{Session: 1, Name: "alice"})
	r.Apply(&proto.Joined{ChannelInfo: proto.ChannelInfo{Name: "lobby", ID: 1}})
	if got := r.Apply(&proto.Presence{Users: []proto.UserInfo{
		{Session: 1, Name: "alice", Channel: "lobby"},
		{Session: 2, Name: "bob", Channel: "lobby", Talking: true},
		{Session: 3, Name: "carol", Channel: "ops"},
	}}); got != nil {
		t.Errorf("a snapshot reports %v", got)
	}
	if r.Len() != 3 || r.Name(3) != "carol" || r.Self() != 1 || r.Channel() != "lobby" {
		t.Fatalf("after the snapshot: %+v", r)
	}
	if u, ok := r.Talker("lobby"); !ok || u.Name != "bob" {
		t.Errorf("talker in lobby: %v %v", u, ok)
	}
	if names := names(r.Users()); !reflect.DeepEqual(names, []string{"alice", "bob", "carol"}) {
		t.Errorf("users: %v", names)
	}

	one := func(m proto.Message) Change {
		t.Helper()
		cs := r.Apply(m)
		if len(cs) != 1 {
			t.Fatalf("%v: %d changes", m.Type(), len(cs))
		}
		return cs[0]
	}
	// carol comes into lobby, then goes back to ops.
	c := one(&proto.PresenceChange{Kind: proto.PresenceMoved, User: proto.UserInfo{Session: 3, Name: "carol", Channel: "lobby"}})
	if c.Kind != ChangeMoved || !c.Came || c.Went || !c.Known || c.Prev.Channel != "ops" {
		t.Errorf("carol into lobby: %+v", c)
	}
	c = one(&proto.PresenceChange{Kind: proto.PresenceMoved, User: proto.UserInfo{Session: 3, Name: "carol", Channel: "ops"}})
	if c.Came || !c.Went {
		t.Errorf("carol out of lobby: %+v", c)
	}
	// dave logs in straight into lobby; bob goes offline from lobby.
	c = one(&proto.PresenceChange{Kind: proto.PresenceOnline, User: proto.UserInfo{Session: 4, Name: "dave", Channel: "lobby"}})
	if c.Kind != ChangeOnline || !c.Came || c.Known {
		t.Errorf("dave online: %+v", c)
	}
	c = one(&proto.PresenceChange{Kind: proto.PresenceOffline, User: proto.UserInfo{Session: 2, Name: "bob", Channel: "lobby"}})
	if c.Kind != ChangeOffline || !c.Went || c.User.Channel != "" {
		t.Errorf("bob offline: %+v", c)
	}
	if _, ok := r.User(2); ok {
		t.Error("bob still in the roster")
	}
	if _, ok := r.Talker("lobby"); ok {
		t.Error("an offline user still talks")
	}
	// Our own move: no came/went, and our channel follows.
	c = one(&proto.PresenceChange{Kind: proto.PresenceMoved, User: proto.UserInfo{Session: 1, Name: "alice", Channel: "ops"}})
	if !c.Self || c.Came || c.Went || r.Channel() != "ops" {
		t.Errorf("own move: %+v, channel %q", c, r.Channel())
	}
	// Talking: a known user and one whose presence has not come yet.
	c = one(&proto.Talking{Channel: 2, Session: 3, Name: "carol", Talking: true})
	if c.Kind != ChangeTalking || !c.User.Talking || c.Prev.Talking {
		t.Errorf("carol talking: %+v", c)
	}
	c = one(&proto.Talking{Channel: 2, Session: 9, Name: "erin", Talking: true})
	if c.Known || c.User.Channel != "ops" || r.Name(9) != "erin" {
		t.Errorf("unknown talker: %+v", c)
	}
	if cs := r.Apply(&proto.Talking{Session: 10, Name: "zed"}); cs != nil {
		t.Errorf("an unknown user stopping: %v", cs)
	}
	if cs := r.Apply(&proto.Ring{}); cs != nil {
		t.Errorf("a ring: %v", cs)
	}
}

// TestRosterNoChannel: while the session is in no channel nobody comes or
// goes.
func TestRosterNoChannel(t *testing.T) {
	var r Roster
	r.SetSelf(1)
	c := r.Apply(&proto.PresenceChange{Kind: proto.PresenceOnline, User: proto.UserInfo{Session: 2, Name: "bob", Channel: ""}})
	if len(c) != 1 || c[0].Came || c[0].Went {
		t.Errorf("%+v", c)
	}
	c = r.Apply(&proto.PresenceChange{Kind: proto.PresenceMoved, User: proto.UserInfo{Session: 2, Name: "bob", Channel: ""}})
	if len(c) != 1 || c[0].Came || c[0].Went {
		t.Errorf("moved within no channel: %+v", c)
	}
}

func names(us []proto.UserInfo) []string {
	var s []string
	for _, u := range us {
		s = append(s, u.Name)
	}
	return s
}

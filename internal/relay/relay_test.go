package relay_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

func voice(ch uint16, seq uint16, flags proto.VoiceFlags, payload ...byte) (proto.VoiceHeader, []byte) {
	if len(payload) == 0 {
		payload = []byte{0xf8, byte(seq), byte(seq >> 8)}
	}
	return proto.VoiceHeader{Flags: flags, Channel: ch, Sender: 0xdeadbeef, Seq: seq, Timestamp: uint32(seq) * 960, Duration: 960}, payload
}

func TestLoginJoinForward(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "pa", proto.RolePage)
	r.AddUser("bob", "pb", 0)
	a := r.Dial(t, "alice", "pa")
	if a.Welcome.Name != "alice" || a.Welcome.Roles != proto.RolePage || a.Welcome.DefaultChannel != "lobby" || len(a.Welcome.Channels) != 2 {
		t.Fatalf("welcome %+v", a.Welcome)
	}
	j := a.Join(t, "lobby")
	if j.ID != 1 || j.Mode != proto.ModePTT {
		t.Fatalf("joined %+v", j)
	}
	b := r.Dial(t, "bob", "pb")
	b.Join(t, "")
	p := relaytest.Wait[*proto.Presence](t, b, nil)
	if len(p.Users) != 2 {
		t.Fatalf("presence %+v", p)
	}
	relaytest.Wait(t, a, func(m *proto.PresenceChange) bool {
		return m.Kind == proto.PresenceMoved && m.User.Name == "bob" && m.User.Channel == "lobby"
	})

	// alice talks, lying about her sender id; bob hears her real id.
	for i := range 5 {
		f := proto.VoiceFlags(0)
		if i == 0 {
			f = proto.FlagStart | proto.FlagPriority // priority from a client is ignored
		}
		if i == 4 {
			f = proto.FlagEnd
		}
		if err := a.SendVoice(voice(1, uint16(i), f)); err != nil {
			t.Fatal(err)
		}
		h, pl := b.RecvVoice(t)
		_, want := voice(1, uint16(i), f)
		if h.Sender != a.Session() || h.Seq != uint16(i) || h.Flags != f&^proto.FlagPriority || !bytes.Equal(pl, want) {
			t.Fatalf("frame %d: %+v %x", i, h, pl)
		}
	}
	relaytest.Wait(t, b, func(m *proto.Talking) bool { return m.Session == a.Session() && m.Talking })
	relaytest.Wait(t, b, func(m *proto.Talking) bool { return m.Session == a.Session() && !m.Talking })
	if s := r.WaitStats(t, "5 frames in", func(s relay.Stats) bool { return s.FramesIn == 5 }); s.Logins != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestWrongPassword(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "pa", 0)
	_, err := r.TryDial(context.Background(), "alice", "nope", relaytest.DialOptions{})
	var pe *proto.Error
	if !errors.As(err, &pe) || pe.Code != proto.CodeAuth || pe.Text != "wrong user name or password" {
		t.Fatalf("err = %v", err)
	}
	_, err = r.TryDial(context.Background(), "mallory", "x", relaytest.DialOptions{})
	if !errors.As(err, &pe) || pe.Code != proto.CodeAuth {
		t.Fatalf("unknown user: err = %v", err)
	}
	if s := r.Stats(); s.AuthFailures != 2 {
		t.Fatalf("auth failures %d", s.AuthFailures)
	}
}

func TestFloorDeny(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	a, b, c := r.Dial(t, "alice", ""), r.Dial(t, "bob", ""), r.Dial(t, "carol", "")
	for _, x := range []*relaytest.Client{a, b, c} {
		x.Join(t, "lobby")
	}
	a.MustSend(t, &proto.FloorRequest{Channel: 1})
	g := relaytest.Wait[*proto.FloorGrant](t, a, nil)
	if g.Channel != 1 || g.MaxMillis != 60000 {
		t.Fatalf("grant %+v", g)
	}
	b.MustSend(t, &proto.FloorRequest{Channel: 1})
	d := relaytest.Wait[*proto.FloorDeny](t, b, nil)
	if d.Holder != a.Session() || d.HolderName != "alice" || d.Reason != "busy: alice is talking" {
		t.Fatalf("deny %+v", d)
	}
	const n = 50
	for i := range n {
		a.SendVoice(voice(1, uint16(i), 0))
		f := proto.VoiceFlags(0)
		if i == 0 {
			f = proto.FlagStart // refused: alice holds the floor; later frames need a new start
		}
		b.SendVoice(voice(1, uint16(1000+i), f))
		h, _ := c.RecvVoice(t)
		if h.Sender != a.Session() || h.Seq != uint16(i) {
			t.Fatalf("carol got %+v", h)
		}
	}
	a.SendVoice(voice(1, n, proto.FlagEnd))
	if h, _ := c.RecvVoice(t); h.Seq != n {
		t.Fatalf("last %+v", h)
	}
	relaytest.Wait(t, c, func(m *proto.Talking) bool { return m.Session == a.Session() && !m.Talking })
	s := r.WaitStats(t, "all frames in and out", func(s relay.Stats) bool { return s.FramesIn == 2*n+1 && s.FramesOut == 2*(n+1) })
	if s.Dropped["no_floor"] != n || s.FloorDenials != 2 || s.FramesOut != 2*(n+1) {
		t.Fatalf("stats %+v", s)
	}
}

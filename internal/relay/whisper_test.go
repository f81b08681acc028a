package relay_test

import (
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestWhisperToOneUser: alice calls bob while carol holds the lobby floor;
// bob hears alice's frames (channel WhisperChannel), carol and dave do not;
// both ends are told when the call starts and ends; bob may call alice
// back while carol still talks; a second caller is denied; a call to
// someone offline, to an old client or without a call is refused.
func TestWhisperToOneUser(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	a, b, c, d := r.Dial(t, "alice", ""), r.Dial(t, "bob", ""), r.Dial(t, "carol", ""), r.Dial(t, "dave", "")
	for _, x := range []*relaytest.Client{a, b, c, d} {
		x.Join(t, "lobby")
	}
	// carol takes the lobby floor.
	c.MustSend(t, &proto.FloorRequest{Channel: 1})
	relaytest.Wait[*proto.FloorGrant](t, c, nil)
	c.SendVoice(voice(1, 0, proto.FlagStart))
	for _, x := range []*relaytest.Client{a, b, d} {
		if h, _ := x.RecvVoice(t); h.Sender != c.Session() {
			t.Fatalf("carol's frame: %+v", h)
		}
	}

	a.MustSend(t, &proto.WhisperStart{To: "bob"})
	if g := relaytest.Wait[*proto.FloorGrant](t, a, nil); g.Channel != proto.WhisperChannel {
		t.Fatalf("grant %+v", g)
	}
	for _, x := range []*relaytest.Client{a, b} {
		w := relaytest.Wait[*proto.Whisper](t, x, nil)
		if w.From != a.Session() || w.FromName != "alice" || w.To != b.Session() || w.ToName != "bob" || !w.Active {
			t.Fatalf("call start as seen: %+v", w)
		}
	}
	// dave calls bob too: busy.
	d.MustSend(t, &proto.WhisperStart{To: "bob"})
	if dn := relaytest.Wait[*proto.FloorDeny](t, d, nil); dn.Channel != proto.WhisperChannel || dn.HolderName != "alice" || !strings.Contains(dn.Reason, "alice is calling bob") {
		t.Fatalf("second caller: %+v", dn)
	}
	// bob calls alice back while carol talks.
	b.MustSend(t, &proto.WhisperStart{To: "alice"})
	if g := relaytest.Wait[*proto.FloorGrant](t, b, nil); g.Channel != proto.WhisperChannel {
		t.Fatalf("call back: %+v", g)
	}

	const n = 8
	talkBurst(t, a, proto.WhisperChannel, 10, n)
	talkBurst(t, b, proto.WhisperChannel, 50, n)
	var fromA, fromB int
	for range n {
		h, _ := b.RecvVoice(t)
		if h.Channel != proto.WhisperChannel || h.Sender != a.Session() {
			t.Fatalf("bob got %+v", h)
		}
		fromA++
	}
	for range n {
		h, _ := a.RecvVoice(t)
		if h.Channel != proto.WhisperChannel || h.Sender != b.Session() {
			t.Fatalf("alice got %+v", h)
		}
		fromB++
	}
	relaytest.Wait(t, b, func(w *proto.Whisper) bool { return w.From == a.Session() && !w.Active })
	relaytest.Wait(t, a, func(w *proto.Whisper) bool { return w.From == a.Session() && !w.Active })
	r.WaitStats(t, "call frames out", func(s relay.Stats) bool { return s.FramesOut >= 3+2*n })
	if k := c.VoicePending() + d.VoicePending(); k != 0 {
		t.Fatalf("carol and dave got %d frames of the calls", k)
	}
	// carol still holds the lobby floor: the calls took nothing from it.
	c.SendVoice(voice(1, 1, proto.FlagEnd))
	if h, _ := d.RecvVoice(t); h.Sender != c.Session() || h.Seq != 1 {
		t.Fatalf("carol's end frame: %+v", h)
	}

	// Frames on the call channel without a call are dropped.
	before := r.Stats().Dropped["no_floor"]
	a.SendVoice(voice(proto.WhisperChannel, 99, proto.FlagStart))
	r.WaitStats(t, "a frame without a call dropped", func(s relay.Stats) bool { return s.Dropped["no_floor"] == before+1 })

	a.MustSend(t, &proto.WhisperStart{To: "zed"})
	if e := relaytest.Wait[*proto.Error](t, a, nil); e.Code != proto.CodeNoUser || e.About != proto.TypeWhisperStart || !strings.Contains(e.Text, "zed is not online") {
		t.Fatalf("call to someone offline: %+v", e)
	}
	old := r.DialWith(t, "oldbox", "", relaytest.DialOptions{Without: proto.FeatureWhisper})
	a.MustSend(t, &proto.WhisperStart{To: "oldbox"})
	if e := relaytest.Wait[*proto.Error](t, a, nil); e.Code != proto.CodeNoUser || !strings.Contains(e.Text, "cannot take calls") {
		t.Fatalf("call to an old client: %+v", e)
	}
	old.MustSend(t, &proto.WhisperStart{To: "alice"})
	if e := relaytest.Wait[*proto.Error](t, old, nil); e.About != proto.TypeWhisperStart {
		t.Fatalf("an old client calls: %+v", e)
	}
}

// TestWhisperPreemptedAndStopped: a call ends when the caller stops or leaves,
// and a page pre-empts it.
func TestWhisperPreemptedAndStopped(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "p", 0)
	r.AddUser("bob", "p", 0)
	r.AddUser("boss", "p", proto.RolePage)
	a, b, boss := r.Dial(t, "alice", "p"), r.Dial(t, "bob", "p"), r.Dial(t, "boss", "p")
	a.MustSend(t, &proto.WhisperStart{To: "bob"})
	relaytest.Wait[*proto.FloorGrant](t, a, nil)
	a.MustSend(t, &proto.WhisperStop{})
	relaytest.Wait(t, b, func(w *proto.Whisper) bool { return !w.Active && w.FromName == "alice" })

	a.MustSend(t, &proto.WhisperStart{To: "bob"})
	relaytest.Wait[*proto.FloorGrant](t, a, nil)
	relaytest.Wait(t, b, func(w *proto.Whisper) bool { return w.Active })
	boss.MustSend(t, &proto.PageStart{})
	relaytest.Wait[*proto.FloorGrant](t, boss, nil)
	if e := relaytest.Wait[*proto.Error](t, a, nil); e.Code != proto.CodeBusy || !strings.Contains(e.Text, "boss") {
		t.Fatalf("pre-empted caller: %+v", e)
	}
	relaytest.Wait(t, b, func(w *proto.Whisper) bool { return !w.Active })
	a.MustSend(t, &proto.WhisperStart{To: "bob"})
	if dn := relaytest.Wait[*proto.FloorDeny](t, a, nil); dn.HolderName != "boss" {
		t.Fatalf("call during a page: %+v", dn)
	}
	boss.MustSend(t, &proto.PageStop{})
	relaytest.Wait(t, a, func(p *proto.Page) bool { return !p.Active })

	a.MustSend(t, &proto.WhisperStart{To: "bob"})
	relaytest.Wait[*proto.FloorGrant](t, a, nil)
	relaytest.Wait(t, b, func(w *proto.Whisper) bool { return w.Active })
	a.Close()
	relaytest.Wait(t, b, func(w *proto.Whisper) bool { return !w.Active })
}

// TestGroupCall: alice calls bob and carol at once (GroupCallStart): both
// hear her frames and are told, dave beside them hears nothing; the end
// frame ends the call for both. A call by role reaches whoever has it; a
// group with someone offline, a role nobody online has, an unknown role
// and a callee already called are refused in words.
func TestGroupCall(t *testing.T) {
	r := relaytest.Start(t)
	for _, u := range []string{"alice", "bob", "carol", "dave", "eve"} {
		r.AddUser(u, "pw", 0)
	}
	r.AddUser("boss", "pw", proto.RolePage)
	a, b, c, d, e := r.Dial(t, "alice", "pw"), r.Dial(t, "bob", "pw"), r.Dial(t, "carol", "pw"), r.Dial(t, "dave", "pw"), r.Dial(t, "eve", "pw")

	a.MustSend(t, &proto.GroupCallStart{To: []string{"carol", "bob", "carol"}})
	if g := relaytest.Wait[*proto.FloorGrant](t, a, nil); g.Channel != proto.WhisperChannel {
		t.Fatalf("grant %+v", g)
	}
	for _, x := range []*relaytest.Client{b, c} {
		if w := relaytest.Wait[*proto.Whisper](t, x, nil); w.From != a.Session() || w.To != x.Session() || !w.Active {
			t.Fatalf("call start as a callee sees it: %+v", w)
		}
		relaytest.Wait(t, a, func(w *proto.Whisper) bool { return w.To == x.Session() && w.Active })
	}
	const n = 6
	talkBurst(t, a, proto.WhisperChannel, 10, n)
	for _, x := range []*relaytest.Client{b, c} {
		for range n {
			if h, _ := x.RecvVoice(t); h.Channel != proto.WhisperChannel || h.Sender != a.Session() {
				t.Fatalf("a callee got %+v", h)
			}
		}
		relaytest.Wait(t, x, func(w *proto.Whisper) bool { return w.From == a.Session() && !w.Active })
	}
	r.WaitStats(t, "group call frames out", func(s relay.Stats) bool { return s.FramesOut >= 2*n })
	if k := d.VoicePending() + e.VoicePending(); k != 0 {
		t.Fatalf("dave and eve got %d frames of the call", k)
	}

	// By role: whoever has the page role (boss).
	boss := r.Dial(t, "boss", "pw")
	d.MustSend(t, &proto.GroupCallStart{To: []string{"role:page"}})
	relaytest.Wait(t, d, func(g *proto.FloorGrant) bool { return g.Channel == proto.WhisperChannel })
	relaytest.Wait(t, boss, func(w *proto.Whisper) bool { return w.From == d.Session() && w.Active })
	d.MustSend(t, &proto.WhisperStop{})
	relaytest.Wait(t, boss, func(w *proto.Whisper) bool { return w.From == d.Session() && !w.Active })

	// Refusals.
	for _, tc := range []struct {
		to   []string
		want string
	}{
		{[]string{"bob", "zed"}, "zed is not online"},
		{[]string{"role:admin"}, "nobody with the role admin is online"},
		{[]string{"role:nurses"}, "there is no role nurses"},
	} {
		a.MustSend(t, &proto.GroupCallStart{To: tc.to})
		if m := relaytest.Wait[*proto.Error](t, a, nil); m.About != proto.TypeGroupCallStart || !strings.Contains(m.Text, tc.want) {
			t.Fatalf("call to %v: %+v, want %q", tc.to, m, tc.want)
		}
	}
	e.MustSend(t, &proto.WhisperStart{To: "carol"})
	relaytest.Wait[*proto.FloorGrant](t, e, nil)
	a.MustSend(t, &proto.GroupCallStart{To: []string{"bob", "carol"}})
	if dn := relaytest.Wait[*proto.FloorDeny](t, a, nil); !strings.Contains(dn.Reason, "eve is calling carol") {
		t.Fatalf("a callee already called: %+v", dn)
	}
}

package relay_test

import (
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

func threeChannels() relaytest.Option {
	return relaytest.Channels(accounts.Channel{Name: "lobby"}, accounts.Channel{Name: "ops"}, accounts.Channel{Name: "dock", Mode: proto.ModeOpen})
}

// talkBurst sends n frames on ch from c, the first with the start flag and
// the last with the end flag.
func talkBurst(t *testing.T, c *relaytest.Client, ch uint16, base uint16, n int) {
	t.Helper()
	for i := range n {
		var f proto.VoiceFlags
		if i == 0 {
			f |= proto.FlagStart
		}
		if i == n-1 {
			f |= proto.FlagEnd
		}
		if err := c.SendVoice(voice(ch, base+uint16(i), f)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMonitorHearsOtherChannels: a session in lobby that monitors ops and
// dock hears all three, each frame marked with its channel, and the
// Talking news of the monitored channels; a session that does not monitor
// hears only its own channel; the monitor still talks only in lobby; a
// page reaches it once; an unknown channel is refused and changes nothing;
// an empty set stops it.
func TestMonitorHearsOtherChannels(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), threeChannels())
	sup, l, o, d := r.Dial(t, "sup", ""), r.Dial(t, "lena", ""), r.Dial(t, "otto", ""), r.Dial(t, "dora", "")
	sup.Join(t, "lobby")
	l.Join(t, "lobby")
	o.Join(t, "ops")
	d.Join(t, "dock")

	sup.MustSend(t, &proto.Monitor{Channels: []string{"ops", "dock", "ops"}})
	m := relaytest.Wait[*proto.Monitoring](t, sup, nil)
	if len(m.Channels) != 2 || m.Channels[0].Name != "ops" || m.Channels[0].ID != 2 || m.Channels[1].Name != "dock" || m.Channels[1].ID != 3 || m.Channels[1].Mode != proto.ModeOpen {
		t.Fatalf("monitoring %+v", m.Channels)
	}

	const n = 10
	talkBurst(t, o, 2, 0, n)
	talkBurst(t, d, 3, 100, n)
	talkBurst(t, l, 1, 200, n)
	got := map[uint16]int{}
	for range 3 * n {
		h, _ := sup.RecvVoice(t)
		want := map[uint16]uint32{1: l.Session(), 2: o.Session(), 3: d.Session()}[h.Channel]
		if h.Sender != want {
			t.Fatalf("frame %+v: sender is not the channel's talker", h)
		}
		got[h.Channel]++
	}
	if got[1] != n || got[2] != n || got[3] != n {
		t.Fatalf("frames by channel %v, want %d each", got, n)
	}
	// The Talking news of all three channels (in any order between them).
	news := map[uint16]bool{}
	relaytest.Wait(t, sup, func(m *proto.Talking) bool {
		if !m.Talking && m.Session == map[uint16]uint32{1: l.Session(), 2: o.Session(), 3: d.Session()}[m.Channel] {
			news[m.Channel] = true
		}
		return len(news) == 3
	})

	// Every frame forwarded: ops to otto's fellow listeners (sup), dock
	// to sup, lobby to sup: lena in lobby hears none of ops or dock.
	r.WaitStats(t, "every frame out", func(s relay.Stats) bool { return s.FramesOut >= 3*n })
	if k := l.VoicePending(); k != 0 {
		t.Fatalf("lena (lobby, not monitoring) got %d frames of other channels", k)
	}

	// Monitoring gives no floor: sup talks only in lobby.
	sup.MustSend(t, &proto.FloorRequest{Channel: 2})
	if e := relaytest.Wait[*proto.Error](t, sup, nil); e.Code != proto.CodeNotJoined {
		t.Fatalf("floor in a monitored channel: %+v", e)
	}

	// An unknown channel refuses the request; the set stays.
	sup.MustSend(t, &proto.Monitor{Channels: []string{"ops", "attic"}})
	if e := relaytest.Wait[*proto.Error](t, sup, nil); e.Code != proto.CodeNoChannel || e.About != proto.TypeMonitor || !strings.Contains(e.Text, `"attic"`) {
		t.Fatalf("unknown channel: %+v", e)
	}
	talkBurst(t, d, 3, 300, 1)
	if h, _ := sup.RecvVoice(t); h.Channel != 3 {
		t.Fatalf("after a refused change: %+v", h)
	}

	// An empty set stops monitoring.
	sup.MustSend(t, &proto.Monitor{})
	if m := relaytest.Wait[*proto.Monitoring](t, sup, nil); len(m.Channels) != 0 {
		t.Fatalf("after stopping: %+v", m)
	}
	talkBurst(t, o, 2, 400, 3)
	talkBurst(t, l, 1, 500, 3)
	for range 3 {
		if h, _ := sup.RecvVoice(t); h.Channel != 1 {
			t.Fatalf("heard %+v after it stopped monitoring", h)
		}
	}
}

// TestMonitorPageOnce: a page reaches a session that monitors every other
// channel once, with the id of the channel it joined.
func TestMonitorPageOnce(t *testing.T) {
	r := relaytest.Start(t, threeChannels())
	r.AddUser("sup", "p", 0)
	r.AddUser("boss", "p", proto.RolePage)
	sup, boss := r.Dial(t, "sup", "p"), r.Dial(t, "boss", "p")
	sup.Join(t, "lobby")
	boss.Join(t, "ops")
	sup.MustSend(t, &proto.Monitor{Channels: []string{"ops", "dock"}})
	relaytest.Wait[*proto.Monitoring](t, sup, nil)
	boss.MustSend(t, &proto.PageStart{})
	relaytest.Wait[*proto.FloorGrant](t, boss, nil)
	talkBurst(t, boss, proto.PageChannel, 0, 4)
	for i := range 4 {
		h, _ := sup.RecvVoice(t)
		if h.Channel != 1 || h.Flags&proto.FlagPriority == 0 || h.Seq != uint16(i) {
			t.Fatalf("page frame %d: %+v", i, h)
		}
	}
	relaytest.Wait(t, sup, func(m *proto.Page) bool { return !m.Active })
	r.WaitStats(t, "page out", func(s relay.Stats) bool { return s.FramesOut >= 4 })
	if k := sup.VoicePending(); k != 0 {
		t.Fatalf("the monitor got %d extra copies of the page", k)
	}
}

// TestMonitorNeedsFeature: a client that did not offer the feature (an
// older one) is told so, and hears nothing more.
func TestMonitorNeedsFeature(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), threeChannels())
	old := r.DialWith(t, "old", "", relaytest.DialOptions{Without: proto.FeatureMonitor})
	old.Join(t, "lobby")
	old.MustSend(t, &proto.Monitor{Channels: []string{"ops"}})
	if e := relaytest.Wait[*proto.Error](t, old, nil); e.About != proto.TypeMonitor || !strings.Contains(e.Text, "update") {
		t.Fatalf("old client: %+v", e)
	}
}

// TestMonitorAcrossJoins: a session that joins a channel it monitors hears
// it once, and still hears it after moving on.
func TestMonitorAcrossJoins(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), threeChannels())
	sup, o := r.Dial(t, "sup", ""), r.Dial(t, "otto", "")
	sup.Join(t, "lobby")
	o.Join(t, "ops")
	sup.MustSend(t, &proto.Monitor{Channels: []string{"ops"}})
	relaytest.Wait[*proto.Monitoring](t, sup, nil)
	out := r.Stats().FramesOut
	for i, ch := range []string{"ops", "lobby"} {
		sup.Join(t, ch)
		talkBurst(t, o, 2, uint16(100*i), 5)
		for range 5 {
			if h, _ := sup.RecvVoice(t); h.Channel != 2 {
				t.Fatalf("in %s: heard %+v", ch, h)
			}
		}
		out += 5
		r.WaitStats(t, "frames out", func(s relay.Stats) bool { return s.FramesOut >= out })
		if n := sup.VoicePending(); n != 0 {
			t.Fatalf("in %s: %d extra copies of ops' frames", ch, n)
		}
	}
}

package relay_test

import (
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestDirectSendsAndDeadListener: to listeners that keep up, frames go to
// QUIC straight from the fan-out, in order; a listener that goes dead
// mid-transmission gets its frames through its queue (which overflows,
// counted) and never stalls the fan-out: no direct send ever blocks.
func TestDirectSendsAndDeadListener(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) {
		c.VoiceRate, c.VoiceBurst = 1e6, 1e6
		c.FloorTimeout = time.Minute
	}))
	a, b := r.Dial(t, "alice", ""), r.Dial(t, "bob", "")
	px := r.NewProxy(t)
	dead := r.DialWith(t, "dead", "", relaytest.DialOptions{Addr: px.Addr, NoVoiceReader: true})
	for _, x := range []*relaytest.Client{a, b, dead} {
		x.Join(t, "lobby")
	}
	send := func(from, to int) {
		for i := from; i < to; i++ {
			f := proto.VoiceFlags(0)
			if i == 0 {
				f = proto.FlagStart
			}
			if err := a.SendVoice(voice(1, uint16(i), f, make([]byte, 200)...)); err != nil {
				t.Fatal(err)
			}
			if h, _ := b.RecvVoice(t); h.Seq != uint16(i) {
				t.Fatalf("bob got seq %d, want %d", h.Seq, i)
			}
		}
	}
	send(0, 50)
	if s := r.Stats(); s.FramesDirect == 0 {
		t.Fatalf("no frame went straight to QUIC: %+v", s)
	}
	px.Freeze(true)
	send(50, 3000)
	s := r.WaitStats(t, "the dead listener's queue overflowing", func(s relay.Stats) bool { return s.Dropped["queue_full"] > 0 })
	if s.DirectStuck != 0 {
		t.Fatalf("a direct send blocked: %+v", s)
	}
	t.Logf("frames out %d, of them direct %d; dropped for the dead listener %d", s.FramesOut, s.FramesDirect, s.Dropped["queue_full"])
}

package relay_test

import (
	"testing"

	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestAlarmRingsUntilEveryStationAcknowledged: an alarm reaches every
// station with its id; each acknowledgement is told to all with the count
// still pending; a station that goes offline is not waited for; an old
// station gets a plain ring and is not waited for either.
func TestAlarmRingsUntilEveryStationAcknowledged(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	a, b, c, d := r.Dial(t, "alice", ""), r.Dial(t, "bob", ""), r.Dial(t, "carol", ""), r.Dial(t, "dave", "")
	old := r.DialWith(t, "oldbox", "", relaytest.DialOptions{Without: proto.FeatureAlarm})
	a.MustSend(t, &proto.Ring{Text: "fire in bay 4", Flags: proto.RingAlarm})
	var id uint32
	for _, x := range []*relaytest.Client{a, b, c, d} {
		g := relaytest.Wait[*proto.Ring](t, x, nil)
		if g.Flags&proto.RingAlarm == 0 || g.Alarm == 0 || g.FromName != "alice" || g.Text != "fire in bay 4" {
			t.Fatalf("alarm ring %+v", g)
		}
		if id != 0 && g.Alarm != id {
			t.Fatalf("alarm ids differ: %d, %d", id, g.Alarm)
		}
		id = g.Alarm
	}
	if g := relaytest.Wait[*proto.Ring](t, old, nil); g.Text != "fire in bay 4" {
		t.Fatalf("old station: %+v", g)
	}

	b.MustSend(t, &proto.AlarmAck{Alarm: id})
	for _, x := range []*relaytest.Client{a, b, c, d} {
		m := relaytest.Wait[*proto.AlarmAck](t, x, nil)
		if m.Alarm != id || m.Name != "bob" || m.Session != b.Session() || m.Pending != 2 || m.Over {
			t.Fatalf("bob's ack as seen: %+v", m)
		}
	}
	b.MustSend(t, &proto.AlarmAck{Alarm: id}) // twice: nothing more
	d.Close()                                 // dave leaves: not waited for
	relaytest.Wait[*proto.PresenceChange](t, c, func(m *proto.PresenceChange) bool {
		return m.Kind == proto.PresenceOffline && m.User.Name == "dave"
	})
	c.MustSend(t, &proto.AlarmAck{Alarm: id})
	for _, x := range []*relaytest.Client{a, b, c} {
		m := relaytest.Wait[*proto.AlarmAck](t, x, nil)
		if m.Alarm != id || m.Name != "carol" || m.Pending != 0 || !m.Over {
			t.Fatalf("carol's ack as seen: %+v", m)
		}
	}

	// The sender's own acknowledgement ends an alarm for everyone.
	a.MustSend(t, &proto.Ring{Flags: proto.RingAlarm})
	id2 := relaytest.Wait[*proto.Ring](t, b, nil).Alarm
	if id2 == id {
		t.Fatal("the second alarm has the first's id")
	}
	a.MustSend(t, &proto.AlarmAck{Alarm: id2})
	if m := relaytest.Wait[*proto.AlarmAck](t, c, func(m *proto.AlarmAck) bool { return m.Alarm == id2 }); !m.Over || m.Name != "alice" {
		t.Fatalf("cancelled alarm: %+v", m)
	}
}

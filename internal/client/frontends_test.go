package client

// Tests of the small pieces every front end shares (alarms, calls, transmissions).

import (
	"testing"

	"github.com/hark-intercom/hark/proto"
)

// TestAlarms: an alarm rings here from its Ring until this station
// acknowledges it or it is over; another station's acknowledgement leaves
// it ringing; a plain ring and a repeated alarm change nothing; the
// station's own alarm rings only with KeepOwn.
func TestAlarms(t *testing.T) {
	const self = 7
	alarm := func(id, from uint32) *proto.Ring {
		return &proto.Ring{From: from, FromName: "bob", Flags: proto.RingAlarm, Alarm: id}
	}
	var a Alarms
	if c := a.Apply(&proto.Ring{From: 2}, self); c != (AlarmChange{}) {
		t.Errorf("a plain ring: %+v", c)
	}
	if c := a.Apply(alarm(1, 2), self); c != (AlarmChange{About: true, Rang: true, Ringing: 1}) {
		t.Errorf("bob's alarm: %+v", c)
	}
	if c := a.Apply(alarm(1, 2), self); c != (AlarmChange{About: true, Ringing: 1}) {
		t.Errorf("the same alarm again: %+v", c)
	}
	if c := a.Apply(alarm(2, self), self); c != (AlarmChange{About: true, Ringing: 1}) {
		t.Errorf("our own alarm: %+v", c)
	}
	if c := a.Apply(alarm(3, 4), self); !c.Rang || c.Ringing != 2 {
		t.Errorf("a second alarm: %+v", c)
	}
	if c := a.Apply(&proto.AlarmAck{Alarm: 1, Session: 4, Name: "carol", Pending: 1}, self); c != (AlarmChange{About: true, Ringing: 2}) {
		t.Errorf("carol's acknowledgement: %+v", c)
	}
	if c := a.Apply(&proto.AlarmAck{Alarm: 1, Session: self, Name: "ann"}, self); c != (AlarmChange{About: true, Stopped: true, Ringing: 1}) {
		t.Errorf("ours: %+v", c)
	}
	if got := a.Ringing(); len(got) != 1 || got[0] != 3 || a.Len() != 1 {
		t.Errorf("ringing %v (%d)", got, a.Len())
	}
	if c := a.Apply(&proto.AlarmAck{Alarm: 3, Over: true}, self); c != (AlarmChange{About: true, Stopped: true}) {
		t.Errorf("over: %+v", c)
	}
	own := Alarms{KeepOwn: true}
	if c := own.Apply(alarm(2, self), self); !c.Rang {
		t.Errorf("our own alarm with KeepOwn: %+v", c)
	}
}

func TestAlarmAckText(t *testing.T) {
	for _, c := range []struct {
		m    proto.AlarmAck
		self uint32
		want string
	}{
		{proto.AlarmAck{Session: 3, Name: "bob", Pending: 1}, 7, "bob acknowledged the alarm (1 station(s) still ringing)"},
		{proto.AlarmAck{Session: 3, Name: "bob", Over: true}, 7, "bob acknowledged the alarm; every station has now"},
		{proto.AlarmAck{Session: 7, Name: "ann", Pending: 2}, 7, "you acknowledged the alarm"},
		{proto.AlarmAck{Session: 3, Name: "bob", Pending: 2, Over: true}, 7, "bob called the alarm off (2 station(s) had not acknowledged)"},
		{proto.AlarmAck{Session: 7, Name: "ann", Pending: 2, Over: true}, 7, "you called the alarm off (2 station(s) had not acknowledged)"},
		{proto.AlarmAck{Over: true}, 7, "the alarm is over: no station is left to acknowledge it"},
		{proto.AlarmAck{Name: "ann", Pending: 1}, 0, "ann acknowledged the alarm (1 station(s) still ringing)"},
	} {
		if got := AlarmAckText(&c.m, c.self); got != c.want {
			t.Errorf("%+v at %d: %q, want %q", c.m, c.self, got, c.want)
		}
	}
}

// TestCalls: a group call is one Whisper per callee; the call on the air
// names them all until the last end, and a call to this station is "→ you".
func TestCalls(t *testing.T) {
	var c Calls
	w := func(from, to string, on bool) *proto.Whisper {
		return &proto.Whisper{FromName: from, ToName: to, Active: on}
	}
	c.Apply(w("ann", "bob", true), "ann")
	c.Apply(w("ann", "carol", true), "ann")
	if got := c.String(); got != "you → bob, carol" {
		t.Errorf("a group call: %q", got)
	}
	c.Apply(w("ann", "bob", false), "ann")
	if got := c.String(); got != "you → carol" {
		t.Errorf("bob's end: %q", got)
	}
	c.Apply(w("ann", "carol", false), "ann")
	c.Apply(w("dave", "ann", false), "ann") // an end of no call on the air
	if got := c.String(); got != "" {
		t.Errorf("after the ends: %q", got)
	}
	c.Apply(w("dave", "ann", true), "ann")
	if got := c.String(); got != "dave → you" {
		t.Errorf("a call to us: %q", got)
	}
	if from, to := CallParties(w("dave", "box1", true), "box1", "this box"); from != "dave" || to != "this box" {
		t.Errorf("CallParties: %q → %q", from, to)
	}
}

// TestAsFloorTx: a refused transmission is a nil FloorTx (a typed nil in
// the interface would pass a "tx != nil" check).
func TestAsFloorTx(t *testing.T) {
	if tx, err := AsFloorTx(nil, ErrNotConnected); tx != nil || err != ErrNotConnected {
		t.Errorf("refused: %v, %v", tx, err)
	}
	want := &Transmission{}
	if tx, err := AsFloorTx(want, nil); tx != FloorTx(want) || err != nil {
		t.Errorf("granted: %v, %v", tx, err)
	}
}

func TestRingText(t *testing.T) {
	for _, c := range []struct {
		r    proto.Ring
		want string
	}{
		{proto.Ring{FromName: "bob", Text: "lunch"}, "RING from bob: lunch"},
		{proto.Ring{FromName: "ann"}, "RING from you"},
		{proto.Ring{FromName: "bob", Flags: proto.RingAlarm, Alarm: 3, Text: "fire"}, "ALARM from bob: fire"},
	} {
		if got := RingText(&c.r, "ann"); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}

package client

import (
	"fmt"
	"slices"
	"sync"

	"github.com/hark-intercom/hark/proto"
)

// Alarms is the set of alarms ringing at one station: an alarm
// (proto.Ring with proto.RingAlarm) rings until this station acknowledges
// it or it is over (proto.AlarmAck). Every front end keeps its alarms with
// one (the engine's looping tone, the box's talk button, the terminal UI's
// a key). The zero value is empty and leaves out the station's own alarms;
// it is safe for concurrent use.
type Alarms struct {
	// KeepOwn keeps an alarm this station raised too (the terminal UI
	// does, so that a press calls it off). Set before the first Apply.
	KeepOwn bool

	mu  sync.Mutex
	ids []uint32 // guarded by mu: ringing here, oldest first
}

// AlarmChange is what one message did to Alarms.
type AlarmChange struct {
	About   bool // the message is about an alarm (an alarm's Ring, an AlarmAck)
	Rang    bool // an alarm started ringing here
	Stopped bool // an alarm stopped ringing here: acknowledged here, or over
	Ringing int  // how many ring here now
}

// Apply takes a message for the station whose session is self (0 while
// not known); messages not about alarms change nothing.
func (a *Alarms) Apply(m proto.Message, self uint32) AlarmChange {
	a.mu.Lock()
	defer a.mu.Unlock()
	var c AlarmChange
	switch m := m.(type) {
	case *proto.Ring:
		if m.Flags&proto.RingAlarm == 0 || m.Alarm == 0 {
			return c
		}
		c.About = true
		if (a.KeepOwn || self == 0 || m.From != self) && !slices.Contains(a.ids, m.Alarm) {
			a.ids = append(a.ids, m.Alarm)
			c.Rang = true
		}
	case *proto.AlarmAck:
		c.About = true
		if m.Over || (self != 0 && m.Session == self) {
			n := len(a.ids)
			a.ids = slices.DeleteFunc(a.ids, func(id uint32) bool { return id == m.Alarm })
			c.Stopped = len(a.ids) < n
		}
	default:
		return c
	}
	c.Ringing = len(a.ids)
	return c
}

// Ringing returns the alarms ringing here, oldest first (a copy).
func (a *Alarms) Ringing() []uint32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.ids)
}

// Len returns how many alarms ring here.
func (a *Alarms) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

// AlarmAckText says what an AlarmAck reports, for a person at the station
// whose session is self (0: not known, nothing is said as "you").
func AlarmAckText(m *proto.AlarmAck, self uint32) string {
	mine := self != 0 && m.Session == self
	switch {
	case m.Over && m.Name != "" && m.Pending > 0:
		who := m.Name
		if mine {
			who = "you"
		}
		return fmt.Sprintf("%s called the alarm off (%d station(s) had not acknowledged)", who, m.Pending)
	case m.Over && m.Name == "":
		return "the alarm is over: no station is left to acknowledge it"
	case mine:
		return "you acknowledged the alarm"
	case m.Over:
		return m.Name + " acknowledged the alarm; every station has now"
	}
	return fmt.Sprintf("%s acknowledged the alarm (%d station(s) still ringing)", m.Name, m.Pending)
}

// RingText says a ring or an alarm for the person at the station named
// self: "RING from bob: lunch is ready", "ALARM from you".
func RingText(r *proto.Ring, self string) string {
	t := "RING from "
	if r.Flags&proto.RingAlarm != 0 {
		t = "ALARM from "
	}
	if r.FromName == self {
		t += "you"
	} else {
		t += r.FromName
	}
	if r.Text != "" {
		t += ": " + r.Text
	}
	return t
}

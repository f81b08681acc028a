package relay

import (
	"time"

	"github.com/hark-intercom/hark/proto"
)

// alarms are the alarms ringing now (proto.RingAlarm). Guarded by
// Relay.mu; the zero value is ready.
type alarms struct {
	next uint32
	on   map[uint32]*alarm
}

// alarm is one alarm: the stations it waits for.
type alarm struct {
	id      uint32
	from    *session
	started time.Time
	pending map[*session]bool // stations (with FeatureAlarm) that have not acknowledged
}

// maxAlarms bounds the alarms ringing at once; the oldest is ended (told
// to everyone as over) to make room.
const maxAlarms = 16

// alarmLocked starts an alarm from s: every station rings until it
// acknowledges. Stations without FeatureAlarm get it as a plain ring and
// are not waited for. histID is the ring's history id (0: not stored).
func (r *Relay) alarmLocked(s *session, text string, histID uint64, now time.Time) {
	a := &r.alarms
	if a.on == nil {
		a.on = map[uint32]*alarm{}
	}
	if len(a.on) >= maxAlarms {
		var oldest *alarm
		for _, x := range a.on {
			if oldest == nil || x.started.Before(oldest.started) {
				oldest = x
			}
		}
		r.endAlarmLocked(oldest, nil)
	}
	a.next++
	if a.next == 0 {
		a.next = 1
	}
	al := &alarm{id: a.next, from: s, started: now, pending: map[*session]bool{}}
	for _, o := range r.sessions {
		if o != s && o.features&proto.FeatureAlarm != 0 {
			al.pending[o] = true
		}
	}
	a.on[al.id] = al
	r.toAllLocked(r.frame(&proto.Ring{From: s.id, FromName: s.name, Time: proto.UnixMillis(now), Text: text,
		Flags: proto.RingAlarm, Alarm: al.id, ID: histID}))
	s.log.Warn("alarm", "text", text, "stations", len(al.pending))
	if len(al.pending) == 0 {
		r.endAlarmLocked(al, nil)
	}
}

// alarmAckLocked takes s's acknowledgement of an alarm. The sender's own
// acknowledgement ends the alarm for everyone (it was a false alarm).
func (r *Relay) alarmAckLocked(s *session, id uint32) {
	al := r.alarms.on[id]
	if al == nil {
		return // over already, or never was: nothing to do
	}
	if s == al.from {
		r.endAlarmLocked(al, s)
		return
	}
	if !al.pending[s] {
		return
	}
	delete(al.pending, s)
	s.log.Info("alarm acknowledged", "alarm", id, "pending", len(al.pending))
	over := len(al.pending) == 0
	if over {
		delete(r.alarms.on, id)
	}
	r.toAllLocked(r.frame(&proto.AlarmAck{Alarm: id, Session: s.id, Name: s.name, Pending: uint16(min(len(al.pending), 0xFFFF)), Over: over}))
}

// alarmsGoneLocked stops waiting for a station that left; an alarm that
// waited only for it is over.
func (r *Relay) alarmsGoneLocked(s *session) {
	for _, al := range r.alarms.on {
		if al.from == s {
			continue // it rings on: the stations still need to hear it
		}
		if al.pending[s] {
			delete(al.pending, s)
			if len(al.pending) == 0 {
				r.endAlarmLocked(al, nil)
			}
		}
	}
}

// endAlarmLocked ends an alarm for everyone: by (when not nil) called it
// off, with Pending the stations that had not acknowledged; or nobody is
// left to acknowledge it (no name).
func (r *Relay) endAlarmLocked(al *alarm, by *session) {
	delete(r.alarms.on, al.id)
	m := &proto.AlarmAck{Alarm: al.id, Over: true, Pending: uint16(min(len(al.pending), 0xFFFF))}
	if by != nil {
		m.Session, m.Name = by.id, by.name
	}
	r.toAllLocked(r.frame(m))
}

package proto

import (
	"encoding/binary"
	"fmt"
)

// Alarms: a [Ring] with [RingAlarm] set rings every station with a
// repeating tone until that station acknowledges it ([AlarmAck]); everyone
// sees who acknowledged, and the alarm is over once every station that was
// online when it started has acknowledged (or gone offline). Added in
// version 2 as the feature [FeatureAlarm]. A station without the feature
// gets the alarm as a plain ring and is not waited for.
//
//	client                         relay
//	Ring{Text, Flags: RingAlarm} ->
//	                          <-   Ring{From, FromName, Time, Text, Flags: RingAlarm, Alarm: id} to every station
//	AlarmAck{Alarm: id}       ->   (one station acknowledges)
//	                          <-   AlarmAck{Alarm, Session, Name, Pending, Over} to every station

// TypeAlarmAck acknowledges an alarm (C) or reports an acknowledgement (R).
const TypeAlarmAck MsgType = 35

// FeatureAlarm: alarms ([RingAlarm], [AlarmAck]). Assigned in version 2.
const FeatureAlarm Features = 1 << 3

// RingFlags qualify a [Ring].
type RingFlags uint8

// Ring flags.
const (
	// RingAlarm makes a ring an alarm: it rings until acknowledged.
	RingAlarm RingFlags = 1 << 0
)

// AlarmAck acknowledges an alarm. A client sends Alarm alone; the relay
// tells every station who acknowledged and how many stations it still
// waits for.
//
//	alarm   u32  the alarm's id (Ring.Alarm)
//	session u32  who acknowledged (relay)
//	name    str  (MaxNameLen) their name (relay)
//	pending u16  stations that have not acknowledged yet (relay)
//	over    u8   1 when the alarm stopped for everyone (relay): every
//	             station acknowledged or left (Pending 0), or its sender
//	             called it off (Name is the sender's; Pending those that
//	             had not acknowledged)
type AlarmAck struct {
	Alarm   uint32
	Session uint32
	Name    string
	Pending uint16
	Over    bool
}

func (m *AlarmAck) Type() MsgType { return TypeAlarmAck }

func (m *AlarmAck) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, m.Alarm)
	b = binary.BigEndian.AppendUint32(b, m.Session)
	b = appendStr(b, m.Name)
	b = binary.BigEndian.AppendUint16(b, m.Pending)
	return appendBool(b, m.Over)
}
func (m *AlarmAck) check(c *checker) { c.str("name", m.Name, MaxNameLen) }
func (m *AlarmAck) parse(d *decoder) {
	m.Alarm = d.u32()
	m.Session = d.u32()
	m.Name = d.str("name", MaxNameLen)
	m.Pending = d.u16()
	m.Over = d.bool()
}

func (f RingFlags) String() string {
	if f&RingAlarm != 0 {
		return "alarm"
	}
	return fmt.Sprintf("ring-flags-%d", uint8(f))
}

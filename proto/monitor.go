package proto

import (
	"encoding/binary"
	"fmt"
)

// Monitoring (listening to several channels): a session talks in the one
// channel it joined and also hears the channels it monitors. A client sends
// [Monitor] with the names of the channels it wants to hear besides its own
// (the whole set each time; an empty list stops monitoring); the relay
// answers [Monitoring] with the set now in force, or an [Error] (About
// TypeMonitor) naming a channel that does not exist, in which case the set
// is unchanged. The relay then forwards every voice frame of a monitored
// channel to the session as it does to the channel's members: the frame
// keeps the channel's id (see [VoiceHeader]), which is how a receiver knows
// which channel it came from, and [Talking] messages of monitored channels
// reach it too. Monitoring gives no floor: a session talks only in the
// channel it joined. A page still reaches the session once, with its
// joined channel's id. A session that joins a channel it monitors hears it
// once. The set survives a Join (it is the session's, not the channel's)
// and ends with the session: a client that reconnects sends Monitor again.
// Added in version 2 as the feature [FeatureMonitor]; a relay without it
// answers Monitor with an Error (CodeBadMessage) or ignores it.
//
//	client                         relay
//	Monitor{Channels: ops, dock} ->
//	                          <-   Monitoring{Channels: [ops id 2, dock id 3]}
//	                          <-   voice frames of lobby, ops and dock

// Message types of monitoring.
const (
	TypeMonitor    MsgType = 36 // C    hear these channels besides the one joined
	TypeMonitoring MsgType = 37 // R    the channels monitored now
)

// FeatureMonitor: monitoring several channels ([Monitor]). Assigned in
// version 2.
const FeatureMonitor Features = 1 << 4

// MaxMonitored is the most channels a session may monitor besides its own.
const MaxMonitored = 32

// Monitor sets the channels a session hears besides the one it joined.
//
//	count    u16  (at most MaxMonitored)
//	channels str (MaxChannelLen) × count, channel names
type Monitor struct {
	Channels []string
}

// Monitoring is the relay's answer to [Monitor]: the channels the session
// monitors now, as the relay knows them (name, voice id, mode, history).
//
//	count    u16  (at most MaxMonitored)
//	channels [ChannelInfo] records × count
type Monitoring struct {
	Channels []ChannelInfo
}

func (m *Monitor) Type() MsgType    { return TypeMonitor }
func (m *Monitoring) Type() MsgType { return TypeMonitoring }

func (m *Monitor) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Channels)))
	for _, c := range m.Channels {
		b = appendStr(b, c)
	}
	return b
}
func (m *Monitor) check(c *checker) {
	c.listMax("channels", len(m.Channels), MaxMonitored)
	for _, n := range m.Channels {
		c.str("channel", n, MaxChannelLen)
	}
}
func (m *Monitor) parse(d *decoder) {
	n := int(d.u16())
	if d.err != nil {
		return
	}
	if n > MaxMonitored {
		d.fail(fmt.Errorf("%w: channels has %d entries, limit %d", ErrTooLong, n, MaxMonitored))
		return
	}
	if n*2 > len(d.b) {
		d.fail(fmt.Errorf("%w: channels claims %d entries", ErrShort, n))
		return
	}
	if n > 0 {
		m.Channels = make([]string, n)
		for i := range m.Channels {
			m.Channels[i] = d.str("channel", MaxChannelLen)
		}
	}
}

func (m *Monitoring) AppendBody(b []byte) []byte { return m.appendBodyFor(b, Version) }
func (m *Monitoring) appendBodyFor(b []byte, v uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Channels)))
	for i := range m.Channels {
		b = m.Channels[i].appendTo(b, v)
	}
	return b
}
func (m *Monitoring) check(c *checker) {
	c.listMax("channels", len(m.Channels), MaxMonitored)
	for i := range m.Channels {
		m.Channels[i].check(c)
	}
}
func (m *Monitoring) parse(d *decoder) {
	n := d.countMax("channels", 5, MaxMonitored)
	if n > 0 {
		m.Channels = make([]ChannelInfo, n)
		for i := range m.Channels {
			d.record(&m.Channels[i])
		}
	}
}

package proto

// TEMPORARY STUB of the history messages (notes/history_contract.md) so that
// branch hfront builds before the lead's proto lands on main. It is deleted
// when main is merged; nothing here is the specification.

import "encoding/binary"

const (
	TypeTextAck         MsgType = 27
	TypeHistoryQuery    MsgType = 28
	TypeHistory         MsgType = 29
	TypeHistoryRead     MsgType = 30
	TypeFetch           MsgType = 31
	TypeRecording       MsgType = 32
	TypeChannelSet      MsgType = 33
	TypeChannelSettings MsgType = 34
)

const FeatureHistory Features = 1 << 0

const CodeNotFound Code = 20

type TextFlags uint8

const TextFromHistory TextFlags = 1 << 0

type TextStatus uint8

const (
	TextSent      TextStatus = 0
	TextDelivered TextStatus = 1
	TextWaiting   TextStatus = 2
)

type ChannelHistory uint8

const (
	HistoryOff   ChannelHistory = 0
	HistoryText  ChannelHistory = 1
	HistoryVoice ChannelHistory = 2
)

type HistoryKind uint8

const (
	ItemText    HistoryKind = 0
	ItemPrivate HistoryKind = 1
	ItemVoice   HistoryKind = 2
	ItemRing    HistoryKind = 3
	ItemPage    HistoryKind = 4
)

type ItemFlags uint8

const (
	ItemAudio   ItemFlags = 1 << 0
	ItemCut     ItemFlags = 1 << 1
	ItemWaiting ItemFlags = 1 << 2
	ItemAlarm   ItemFlags = 1 << 3
)

type HistoryFlags uint8

const HistoryMissed HistoryFlags = 1 << 0

type TextAck struct {
	ClientID, ID uint64
	Status       TextStatus
}

type HistoryItem struct {
	ID                uint64
	Kind              HistoryKind
	Flags             ItemFlags
	Time              int64
	From, Channel, To string
	Text              string
	Duration          uint32
	Size              uint32
}

type HistoryQuery struct {
	Req           uint32
	Channel       string
	Before, After uint64
	Since, Until  int64
	Limit         uint16
	Kinds         uint8
}

type History struct {
	Req   uint32
	Flags HistoryFlags
	Items []HistoryItem
	More  bool
}

type HistoryRead struct{ UpTo uint64 }

type Fetch struct {
	Req uint32
	ID  uint64
}

type RecPacket struct {
	Offset uint32
	Opus   []byte
}

type Recording struct {
	Req     uint32
	ID      uint64
	Packets []RecPacket
	More    bool
}

type ChannelSet struct{ Channel, Settings string }
type ChannelSettings struct{ Channel, Settings string }

func (m *TextAck) Type() MsgType         { return TypeTextAck }
func (m *HistoryQuery) Type() MsgType    { return TypeHistoryQuery }
func (m *History) Type() MsgType         { return TypeHistory }
func (m *HistoryRead) Type() MsgType     { return TypeHistoryRead }
func (m *Fetch) Type() MsgType           { return TypeFetch }
func (m *Recording) Type() MsgType       { return TypeRecording }
func (m *ChannelSet) Type() MsgType      { return TypeChannelSet }
func (m *ChannelSettings) Type() MsgType { return TypeChannelSettings }

func (m *TextAck) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, m.ClientID)
	b = binary.BigEndian.AppendUint64(b, m.ID)
	return append(b, byte(m.Status))
}
func (m *TextAck) check(*checker) {}
func (m *TextAck) parse(d *decoder) {
	m.ClientID, m.ID, m.Status = d.u64(), d.u64(), TextStatus(d.u8())
}

func (m *HistoryQuery) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, m.Req)
	b = appendStr(b, m.Channel)
	b = binary.BigEndian.AppendUint64(b, m.Before)
	b = binary.BigEndian.AppendUint64(b, m.After)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Since))
	b = binary.BigEndian.AppendUint64(b, uint64(m.Until))
	b = binary.BigEndian.AppendUint16(b, m.Limit)
	return append(b, m.Kinds)
}
func (m *HistoryQuery) check(c *checker) { c.str("channel", m.Channel, MaxChannelLen) }
func (m *HistoryQuery) parse(d *decoder) {
	m.Req = d.u32()
	m.Channel = d.str("channel", MaxChannelLen)
	m.Before, m.After = d.u64(), d.u64()
	m.Since, m.Until = int64(d.u64()), int64(d.u64())
	m.Limit = d.u16()
	m.Kinds = d.u8()
}

func (it *HistoryItem) appendTo(b []byte) []byte {
	b, start := beginRecord(b, Version)
	b = binary.BigEndian.AppendUint64(b, it.ID)
	b = append(b, byte(it.Kind), byte(it.Flags))
	b = binary.BigEndian.AppendUint64(b, uint64(it.Time))
	b = appendStr(b, it.From)
	b = appendStr(b, it.Channel)
	b = appendStr(b, it.To)
	b = appendStr(b, it.Text)
	b = binary.BigEndian.AppendUint32(b, it.Duration)
	b = binary.BigEndian.AppendUint32(b, it.Size)
	return endRecord(b, start)
}
func (it *HistoryItem) parse(d *decoder) {
	it.ID = d.u64()
	it.Kind, it.Flags = HistoryKind(d.u8()), ItemFlags(d.u8())
	it.Time = int64(d.u64())
	it.From = d.str("from", MaxNameLen)
	it.Channel = d.str("channel", MaxChannelLen)
	it.To = d.str("to", MaxNameLen)
	it.Text = d.str("text", MaxTextLen)
	it.Duration, it.Size = d.u32(), d.u32()
}

func (m *History) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, m.Req)
	b = append(b, byte(m.Flags))
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Items)))
	for i := range m.Items {
		b = m.Items[i].appendTo(b)
	}
	return appendBool(b, m.More)
}
func (m *History) check(c *checker) { c.list("items", len(m.Items)) }
func (m *History) parse(d *decoder) {
	m.Req = d.u32()
	m.Flags = HistoryFlags(d.u8())
	n := d.count("items", 4)
	for range n {
		var it HistoryItem
		d.v = Version
		d.record(&it)
		m.Items = append(m.Items, it)
	}
	m.More = d.bool()
}

func (m *HistoryRead) AppendBody(b []byte) []byte { return binary.BigEndian.AppendUint64(b, m.UpTo) }
func (m *HistoryRead) check(*checker)             {}
func (m *HistoryRead) parse(d *decoder)           { m.UpTo = d.u64() }

func (m *Fetch) AppendBody(b []byte) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(b, m.Req), m.ID)
}
func (m *Fetch) check(*checker)   {}
func (m *Fetch) parse(d *decoder) { m.Req, m.ID = d.u32(), d.u64() }

func (m *Recording) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, m.Req)
	b = binary.BigEndian.AppendUint64(b, m.ID)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Packets)))
	for _, p := range m.Packets {
		b = binary.BigEndian.AppendUint32(b, p.Offset)
		b = appendBytes(b, p.Opus)
	}
	return appendBool(b, m.More)
}
func (m *Recording) check(c *checker) { c.list("packets", len(m.Packets)) }
func (m *Recording) parse(d *decoder) {
	m.Req, m.ID = d.u32(), d.u64()
	n := d.count("packets", 4)
	for range n {
		var p RecPacket
		p.Offset = d.u32()
		p.Opus = d.bytes("opus", MaxVoicePayload)
		m.Packets = append(m.Packets, p)
	}
	m.More = d.bool()
}

func (m *ChannelSet) AppendBody(b []byte) []byte {
	return appendStr(appendStr(b, m.Channel), m.Settings)
}
func (m *ChannelSet) check(c *checker) { c.str("settings", m.Settings, MaxTextLen) }
func (m *ChannelSet) parse(d *decoder) {
	m.Channel, m.Settings = d.str("channel", MaxChannelLen), d.str("settings", MaxTextLen)
}
func (m *ChannelSettings) AppendBody(b []byte) []byte {
	return appendStr(appendStr(b, m.Channel), m.Settings)
}
func (m *ChannelSettings) check(c *checker) { c.str("settings", m.Settings, MaxTextLen) }
func (m *ChannelSettings) parse(d *decoder) {
	m.Channel, m.Settings = d.str("channel", MaxChannelLen), d.str("settings", MaxTextLen)
}

func newHistoryMessage(t MsgType) Message {
	switch t {
	case TypeTextAck:
		return new(TextAck)
	case TypeHistoryQuery:
		return new(HistoryQuery)
	case TypeHistory:
		return new(History)
	case TypeHistoryRead:
		return new(HistoryRead)
	case TypeFetch:
		return new(Fetch)
	case TypeRecording:
		return new(Recording)
	case TypeChannelSet:
		return new(ChannelSet)
	case TypeChannelSettings:
		return new(ChannelSettings)
	}
	return nil
}

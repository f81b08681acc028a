package proto

import (
	"encoding/binary"
	"fmt"
)

// History: the relay keeps texts, transmissions, rings and pages, and a
// client catches up on what it missed (added in version 2 as the feature
// [FeatureHistory]; no new version was needed: every addition is a new
// message type or an optional field).
//
// The conversation, for a session where both sides offered FeatureHistory:
//
//	client                         relay
//	Auth, Join ...            ->
//	                          <-   Welcome, Joined (ChannelInfo.History), Presence
//	                          <-   History{Flags: HistoryMissed, Items, More}
//	                               (what this user has not seen since their
//	                               read position, oldest first)
//	                          <-   History{Flags: HistoryAway, Items, More}
//	                               (after a login whose Auth gave Away: the
//	                               transmissions of the time it was away,
//	                               oldest first; one more for each that was
//	                               under way at the login, once it ended)
//	HistoryRead{UpTo}         ->   (the client has shown them)
//	Text{..., ClientID}       ->
//	                          <-   TextAck{ClientID, ID, Status}
//	HistoryQuery{Req, ...}    ->
//	                          <-   History{Req, Items, More}
//	Fetch{Req, ID}            ->
//	                          <-   Recording{Req, ID, Packets, More: true} ...
//	                          <-   Recording{Req, ID, Packets, More: false}
//	                               or Error{About: TypeFetch}
//
// A relay without the feature never sends these messages and answers none of
// the requests; a client that did not offer it gets no catch-up and no
// TextAck, and its texts are still stored.

// Message types added with [FeatureHistory].
const (
	TypeTextAck         MsgType = 27 // R    a text was stored or delivered: its server id and status
	TypeHistoryQuery    MsgType = 28 // C    list stored items of a channel or of the user
	TypeHistory         MsgType = 29 // R    stored items: an answer, or the catch-up after login
	TypeHistoryRead     MsgType = 30 // C    the user has seen every item up to an id
	TypeFetch           MsgType = 31 // C    ask for one stored transmission's audio
	TypeRecording       MsgType = 32 // R    part of a stored transmission's Opus packets
	TypeChannelSet      MsgType = 33 // C    admin: change a channel's settings
	TypeChannelSettings MsgType = 34 // R    a channel's settings after a ChannelSet
)

// Limits of the history messages.
const (
	MaxHistoryItems   = 500  // items in one History message
	MaxRecPackets     = 1000 // packets in one Recording message
	MaxSettingsLen    = 1024 // a channel's settings text
	DefaultHistoryMax = 50   // items a HistoryQuery with Limit 0 gets
)

// FeatureHistory: the relay stores texts, transmissions, rings and pages and
// serves them ([HistoryQuery], [Fetch]); after a login or a rejoin it sends
// what the user missed ([History] with [HistoryMissed]); it acknowledges
// texts ([TextAck]). Assigned in version 2.
const FeatureHistory Features = 1 << 0

// ChannelHistory says what a channel keeps ([ChannelInfo.History]).
// Front ends show a channel that keeps voice: people must know they are
// recorded.
type ChannelHistory uint8

// Channel history settings.
const (
	HistoryOff   ChannelHistory = 0 // nothing is kept
	HistoryText  ChannelHistory = 1 // texts, rings and pages are kept, voice is not
	HistoryVoice ChannelHistory = 2 // texts and transmissions are kept
)

func (h ChannelHistory) String() string {
	switch h {
	case HistoryOff:
		return "off"
	case HistoryText:
		return "text"
	case HistoryVoice:
		return "voice"
	}
	return fmt.Sprintf("history-%d", uint8(h))
}

// ParseChannelHistory reads "off", "text" or "voice".
func ParseChannelHistory(s string) (ChannelHistory, error) {
	switch s {
	case "off":
		return HistoryOff, nil
	case "text":
		return HistoryText, nil
	case "voice":
		return HistoryVoice, nil
	}
	return 0, fmt.Errorf("history %q: use off, text or voice", s)
}

// TextFlags qualify a [Text].
type TextFlags uint8

// Text flags.
const (
	// TextFromHistory marks a text delivered from the store (a private
	// text that waited for its recipient), not live.
	TextFromHistory TextFlags = 1 << 0
)

// TextStatus is what became of a text ([TextAck]).
type TextStatus uint8

// Text statuses.
const (
	// TextSent: a channel text was passed to the channel (and stored when
	// the channel keeps history).
	TextSent TextStatus = 1
	// TextDelivered: the recipient of a private text has it. Also sent
	// later, to the sender if online, when a waiting text is delivered.
	TextDelivered TextStatus = 2
	// TextWaiting: the recipient is offline; the text is stored and
	// delivered at their next login.
	TextWaiting TextStatus = 3
)

func (s TextStatus) String() string {
	switch s {
	case TextSent:
		return "sent"
	case TextDelivered:
		return "delivered"
	case TextWaiting:
		return "waiting"
	}
	return fmt.Sprintf("status-%d", uint8(s))
}

// TextAck tells the sender of a [Text] what became of it.
//
//	clientID u64  the sender's Text.ClientID (0 when it gave none)
//	id       u64  the text's server id (0 when it was not stored)
//	status   u8   [TextStatus]
type TextAck struct {
	ClientID uint64
	ID       uint64
	Status   TextStatus
}

// HistoryKind is the kind of a stored item.
type HistoryKind uint8

// History item kinds.
const (
	ItemText    HistoryKind = 1 // a channel text
	ItemPrivate HistoryKind = 2 // a private text (To is set)
	ItemVoice   HistoryKind = 3 // a transmission in a channel
	ItemRing    HistoryKind = 4 // a ring of every station
	ItemPage    HistoryKind = 5 // a page of every channel (playable with ItemAudio)
)

func (k HistoryKind) String() string {
	switch k {
	case ItemText:
		return "text"
	case ItemPrivate:
		return "private"
	case ItemVoice:
		return "voice"
	case ItemRing:
		return "ring"
	case ItemPage:
		return "page"
	}
	return fmt.Sprintf("kind-%d", uint8(k))
}

// ItemFlags qualify a [HistoryItem]. Flags a receiver does not know are
// ignored.
type ItemFlags uint8

// History item flags.
const (
	ItemAudio   ItemFlags = 1 << 0 // the item's audio is stored: [Fetch] plays it
	ItemCut     ItemFlags = 1 << 1 // the transmission was longer than the channel keeps: stored cut
	ItemWaiting ItemFlags = 1 << 2 // a private text its recipient has not received yet
)

// HistoryItem is one stored item. It is a record (see the package
// documentation): length-prefixed from version 2 on.
//
//	id       u64  server id, increasing in the order the relay stored items
//	kind     u8   [HistoryKind]
//	flags    u8   [ItemFlags]
//	time     u64  unix ms (a transmission's start)
//	from     str  sender's name (MaxNameLen)
//	channel  str  (MaxChannelLen; "" for private texts, rings and pages)
//	to       str  recipient of a private text (MaxNameLen)
//	text     str  a text's or ring's words (MaxTextLen)
//	duration u32  ms of a transmission or page
//	size     u32  bytes of Opus stored for it
type HistoryItem struct {
	ID       uint64
	Kind     HistoryKind
	Flags    ItemFlags
	Time     int64
	From     string
	Channel  string
	To       string
	Text     string
	Duration uint32
	Size     uint32
}

// HistoryQuery asks for stored items the user may see: a channel's texts,
// transmissions and pages, and the user's private texts and rings.
//
//	req     u32  echoed in the answer
//	channel str  (MaxChannelLen) "" for every channel the user may see,
//	             plus their private texts, rings and pages
//	before  u64  only items with a smaller id (0: no bound)
//	after   u64  only items with a larger id (0: no bound)
//	since   u64  only items at or after this unix ms (0: no bound)
//	until   u64  only items before this unix ms (0: no bound)
//	limit   u16  at most this many (0: [DefaultHistoryMax]; the relay caps
//	             it at [MaxHistoryItems])
//	kinds   u8   bit 1<<kind for each [HistoryKind] wanted (0: all)
//
// Items come newest first, except with After set: then oldest first (paging
// forward). History.More says that more items match.
type HistoryQuery struct {
	Req     uint32
	Channel string
	Before  uint64
	After   uint64
	Since   int64
	Until   int64
	Limit   uint16
	Kinds   uint8
}

// HistoryFlags qualify a [History].
type HistoryFlags uint8

// History flags.
const (
	// HistoryMissed marks the catch-up the relay sends unasked after a
	// login or rejoin: the items this user has not seen, oldest first.
	HistoryMissed HistoryFlags = 1 << 0
	// HistoryAway marks transmissions (voice items, and pages with
	// audio) said while the client was away: the relay sends them unasked
	// after a login whose [Auth] gave Away (a reconnection), oldest first,
	// in the channels the session may hear, none of its own user's, and
	// no older than the relay's bound (see its documentation); More says
	// older ones were left out. A transmission under way at the login
	// (heard live only from then on) follows in a History of its own once
	// it ended and was stored. A client plays them, said as missed while
	// reconnecting. Only in channels that keep voice (history=voice): of
	// the others nothing was kept. Added in version 2 with [Auth.Away]; a
	// client that sends no Away never gets one.
	HistoryAway HistoryFlags = 1 << 1
)

// History carries stored items: the answer to a [HistoryQuery] (Req is the
// query's), or the catch-up after a login (Req 0, [HistoryMissed]).
//
//	req   u32
//	flags u8   [HistoryFlags]
//	items u16 count, then a HistoryItem record each (at most MaxHistoryItems)
//	more  u8   1 when more items match than were sent
type History struct {
	Req   uint32
	Flags HistoryFlags
	Items []HistoryItem
	More  bool
}

// HistoryRead tells the relay the user has seen every item up to UpTo. The
// relay moves the user's read position forward (never back); items at or
// below it are not sent again in a catch-up, to any of the user's sessions.
//
//	upTo u64
type HistoryRead struct{ UpTo uint64 }

// Fetch asks for the audio of one stored transmission or page (an item with
// [ItemAudio]). The relay answers with [Recording] messages, or an [Error]
// about TypeFetch ([CodeNotFound] for an item the user may not see, that is
// gone or that has no audio).
//
//	req u32
//	id  u64
type Fetch struct {
	Req uint32
	ID  uint64
}

// RecPacket is one stored Opus packet. It is a record (see the package
// documentation): length-prefixed from version 2 on.
//
//	offset u32   ms from the transmission's start to this packet
//	opus   bytes (MaxVoicePayload)
type RecPacket struct {
	Offset uint32
	Opus   []byte
}

// Recording is part of a stored transmission's audio, in order. The relay
// sends the first part at once and the rest no faster than about four times
// real time, so that a replay never starves the control stream.
//
//	req     u32
//	id      u64
//	packets u16 count, then a RecPacket record each (at most MaxRecPackets)
//	more    u8   1 when another Recording for this request follows
type Recording struct {
	Req     uint32
	ID      uint64
	Packets []RecPacket
	More    bool
}

// ChannelSet changes a channel's settings (role admin), effective at once.
// Settings is a space-separated list of key=value, for example
// "history=voice max-age=24h max-count=500"; keys left out keep their value.
// The relay answers with [ChannelSettings] or an [Error] about TypeChannelSet
// whose text names the setting it refused.
//
//	channel  str (MaxChannelLen)
//	settings str (MaxSettingsLen)
type ChannelSet struct {
	Channel  string
	Settings string
}

// ChannelSettings is a channel's full settings, in the same form as
// [ChannelSet].
//
//	channel  str (MaxChannelLen)
//	settings str (MaxSettingsLen)
type ChannelSettings struct {
	Channel  string
	Settings string
}

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
	m.ClientID = d.u64()
	m.ID = d.u64()
	m.Status = TextStatus(d.u8())
}

func (it *HistoryItem) appendTo(b []byte, v uint16) []byte {
	b, start := beginRecord(b, v)
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

// EncodedLen is the number of bytes it takes on the wire in version v,
// including its length prefix from version 2 on.
func (it *HistoryItem) EncodedLen(v uint16) int {
	return recordPrefixLen(v) + 8 + 1 + 1 + 8 + 2 + len(it.From) + 2 + len(it.Channel) +
		2 + len(it.To) + 2 + len(it.Text) + 4 + 4
}
func (it *HistoryItem) check(c *checker) {
	c.str("sender name", it.From, MaxNameLen)
	c.str("channel", it.Channel, MaxChannelLen)
	c.str("recipient", it.To, MaxNameLen)
	c.str("text", it.Text, MaxTextLen)
}
func (it *HistoryItem) parse(d *decoder) {
	it.ID = d.u64()
	it.Kind = HistoryKind(d.u8())
	it.Flags = ItemFlags(d.u8())
	it.Time = int64(d.u64())
	it.From = d.str("sender name", MaxNameLen)
	it.Channel = d.str("channel", MaxChannelLen)
	it.To = d.str("recipient", MaxNameLen)
	it.Text = d.str("text", MaxTextLen)
	it.Duration = d.u32()
	it.Size = d.u32()
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
	m.Before = d.u64()
	m.After = d.u64()
	m.Since = int64(d.u64())
	m.Until = int64(d.u64())
	m.Limit = d.u16()
	m.Kinds = d.u8()
}

// historyItemMin is the smallest HistoryItem record in version 1 (no
// length prefix): id, kind, flags, time, four empty strings, duration, size.
const historyItemMin = 8 + 1 + 1 + 8 + 4*2 + 4 + 4

func (m *History) AppendBody(b []byte) []byte { return m.appendBodyFor(b, Version) }
func (m *History) appendBodyFor(b []byte, v uint16) []byte {
	b = binary.BigEndian.AppendUint32(b, m.Req)
	b = append(b, byte(m.Flags))
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Items)))
	for i := range m.Items {
		b = m.Items[i].appendTo(b, v)
	}
	return appendBool(b, m.More)
}
func (m *History) check(c *checker) {
	c.listMax("items", len(m.Items), MaxHistoryItems)
	for i := range m.Items {
		m.Items[i].check(c)
	}
}
func (m *History) parse(d *decoder) {
	m.Req = d.u32()
	m.Flags = HistoryFlags(d.u8())
	n := d.countMax("items", historyItemMin, MaxHistoryItems)
	if n > 0 {
		m.Items = make([]HistoryItem, n)
		for i := range m.Items {
			d.record(&m.Items[i])
		}
	}
	m.More = d.bool()
}

func (m *HistoryRead) AppendBody(b []byte) []byte {
	return binary.BigEndian.AppendUint64(b, m.UpTo)
}
func (m *HistoryRead) check(*checker)   {}
func (m *HistoryRead) parse(d *decoder) { m.UpTo = d.u64() }

func (m *Fetch) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, m.Req)
	return binary.BigEndian.AppendUint64(b, m.ID)
}
func (m *Fetch) check(*checker) {}
func (m *Fetch) parse(d *decoder) {
	m.Req = d.u32()
	m.ID = d.u64()
}

func (p *RecPacket) appendTo(b []byte, v uint16) []byte {
	b, start := beginRecord(b, v)
	b = binary.BigEndian.AppendUint32(b, p.Offset)
	b = appendBytes(b, p.Opus)
	return endRecord(b, start)
}

// EncodedLen is the number of bytes p takes on the wire in version v,
// including its length prefix from version 2 on.
func (p *RecPacket) EncodedLen(v uint16) int {
	return recordPrefixLen(v) + 4 + 2 + len(p.Opus)
}
func (p *RecPacket) check(c *checker) { c.bytes("opus", p.Opus, MaxVoicePayload) }
func (p *RecPacket) parse(d *decoder) {
	p.Offset = d.u32()
	p.Opus = d.bytes("opus", MaxVoicePayload)
}

// recPacketMin is the smallest RecPacket record in version 1.
const recPacketMin = 4 + 2

func (m *Recording) AppendBody(b []byte) []byte { return m.appendBodyFor(b, Version) }
func (m *Recording) appendBodyFor(b []byte, v uint16) []byte {
	b = binary.BigEndian.AppendUint32(b, m.Req)
	b = binary.BigEndian.AppendUint64(b, m.ID)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Packets)))
	for i := range m.Packets {
		b = m.Packets[i].appendTo(b, v)
	}
	return appendBool(b, m.More)
}
func (m *Recording) check(c *checker) {
	c.listMax("packets", len(m.Packets), MaxRecPackets)
	for i := range m.Packets {
		m.Packets[i].check(c)
	}
}
func (m *Recording) parse(d *decoder) {
	m.Req = d.u32()
	m.ID = d.u64()
	n := d.countMax("packets", recPacketMin, MaxRecPackets)
	if n > 0 {
		m.Packets = make([]RecPacket, n)
		for i := range m.Packets {
			d.record(&m.Packets[i])
		}
	}
	m.More = d.bool()
}

// RecordingOverhead is the bytes of a Recording message around its packets
// (framing, type, req, id, count, more): a sender fills a message with
// packets while RecordingOverhead plus their EncodedLen stays within
// [MaxMessageSize] + [FrameHeaderLen].
const RecordingOverhead = FrameHeaderLen + 1 + 4 + 8 + 2 + 1

func (m *ChannelSet) AppendBody(b []byte) []byte {
	return appendStr(appendStr(b, m.Channel), m.Settings)
}
func (m *ChannelSet) check(c *checker) {
	c.str("channel", m.Channel, MaxChannelLen)
	c.str("settings", m.Settings, MaxSettingsLen)
}
func (m *ChannelSet) parse(d *decoder) {
	m.Channel = d.str("channel", MaxChannelLen)
	m.Settings = d.str("settings", MaxSettingsLen)
}

func (m *ChannelSettings) AppendBody(b []byte) []byte {
	return appendStr(appendStr(b, m.Channel), m.Settings)
}
func (m *ChannelSettings) check(c *checker) {
	c.str("channel", m.Channel, MaxChannelLen)
	c.str("settings", m.Settings, MaxSettingsLen)
}
func (m *ChannelSettings) parse(d *decoder) {
	m.Channel = d.str("channel", MaxChannelLen)
	m.Settings = d.str("settings", MaxSettingsLen)
}

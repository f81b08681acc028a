package proto

import (
	"encoding/binary"
	"fmt"
	"time"
)

// MsgType is the type byte of a control message.
type MsgType uint8

// Control message types. Values are part of the protocol: never reuse one.
// Direction: C = client to relay, R = relay to client.
const (
	TypeHello          MsgType = 1  // C,R  version handshake, first message each way
	TypeAuth           MsgType = 2  // C    name and password
	TypeWelcome        MsgType = 3  // R    login accepted: session id, roles, channels
	TypeJoin           MsgType = 4  // C    join a channel (leaves the current one)
	TypeJoined         MsgType = 5  // R    now in a channel: its voice id and mode
	TypeLeave          MsgType = 6  // C    leave the current channel
	TypePresence       MsgType = 7  // R    snapshot of everyone online
	TypePresenceChange MsgType = 8  // R    one user came, went or moved
	TypeFloorRequest   MsgType = 9  // C    ask to talk in a channel
	TypeFloorGrant     MsgType = 10 // R    you may talk
	TypeFloorDeny      MsgType = 11 // R    you may not: someone else is talking
	TypeFloorRelease   MsgType = 12 // C    done talking (the end flag also releases)
	TypeTalking        MsgType = 13 // R    someone started or stopped talking
	TypeText           MsgType = 14 // C,R  text to a channel or to one user
	TypeRing           MsgType = 15 // C,R  ring every station
	TypePageStart      MsgType = 16 // C    start a page to all channels (role page)
	TypePageStop       MsgType = 17 // C    end the page
	TypePage           MsgType = 18 // R    a page started or ended
	TypeError          MsgType = 19 // R    a request failed: code and human text
	TypePing           MsgType = 20 // C,R  liveness; answered with Pong
	TypePong           MsgType = 21 // C,R
	TypeListSessions   MsgType = 22 // C    admin: list sessions
	TypeSessions       MsgType = 23 // R    admin: the list
	TypeKick           MsgType = 24 // C    admin: end a user's session
	TypeBye            MsgType = 25 // R    the relay is closing this session, and why
	TypeTicket         MsgType = 26 // R    a resume ticket: log in again without the password
)

var typeNames = [...]string{
	TypeHello: "hello", TypeAuth: "auth", TypeWelcome: "welcome", TypeJoin: "join",
	TypeJoined: "joined", TypeLeave: "leave", TypePresence: "presence",
	TypePresenceChange: "presence-change", TypeFloorRequest: "floor-request",
	TypeFloorGrant: "floor-grant", TypeFloorDeny: "floor-deny",
	TypeFloorRelease: "floor-release", TypeTalking: "talking", TypeText: "text",
	TypeRing: "ring", TypePageStart: "page-start", TypePageStop: "page-stop",
	TypePage: "page", TypeError: "error", TypePing: "ping", TypePong: "pong",
	TypeListSessions: "list-sessions", TypeSessions: "sessions", TypeKick: "kick",
	TypeBye: "bye", TypeTicket: "ticket", TypeTextAck: "text-ack",
	TypeHistoryQuery: "history-query", TypeHistory: "history", TypeHistoryRead: "history-read",
	TypeFetch: "fetch", TypeRecording: "recording", TypeChannelSet: "channel-set",
	TypeChannelSettings: "channel-settings", TypeAlarmAck: "alarm-ack",
	TypeMonitor: "monitor", TypeMonitoring: "monitoring", TypeWhisperStart: "whisper-start",
	TypeWhisperStop: "whisper-stop", TypeWhisper: "whisper", TypeGroupCallStart: "group-call-start",
}

func (t MsgType) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

// Role is a bit set of permissions beyond talking and listening.
type Role uint8

// Roles.
const (
	RolePage  Role = 1 << 0 // may page all channels
	RoleAdmin Role = 1 << 1 // may list and kick sessions
)

func (r Role) String() string {
	s := ""
	if r&RolePage != 0 {
		s = "page"
	}
	if r&RoleAdmin != 0 {
		if s != "" {
			s += ","
		}
		s += "admin"
	}
	return s
}

// ChannelMode says how a channel shares the air.
type ChannelMode uint8

// Channel modes.
const (
	// ModePTT: one talker at a time; the floor is requested and granted.
	ModePTT ChannelMode = 0
	// ModeOpen: anyone may talk at any time; listeners mix.
	ModeOpen ChannelMode = 1
)

func (m ChannelMode) String() string {
	switch m {
	case ModePTT:
		return "ptt"
	case ModeOpen:
		return "open"
	}
	return fmt.Sprintf("mode-%d", uint8(m))
}

// PageChannel is the channel id a client puts in voice datagrams of a page
// (after a [FloorGrant] for it). The relay forwards them into every channel
// with [FlagPriority] set and the listener's own channel id.
const PageChannel uint16 = 0xFFFF

// Code classifies an [Error] or a [Bye].
type Code uint16

// Error and bye codes.
const (
	CodeOK          Code = 0
	CodeVersion     Code = 1  // protocol version not spoken
	CodeAuth        Code = 2  // unknown user or wrong password
	CodeForbidden   Code = 3  // the user lacks the role for this
	CodeNoChannel   Code = 4  // no such channel
	CodeBusy        Code = 5  // someone else holds the floor
	CodeRateLimit   Code = 6  // too many messages or frames
	CodeBadMessage  Code = 7  // malformed or out-of-order message
	CodeNotJoined   Code = 8  // the request needs a channel first
	CodeNoUser      Code = 9  // no such user online
	CodeKicked      Code = 10 // an admin ended the session
	CodeReplaced    Code = 11 // the same name logged in elsewhere
	CodeShutdown    Code = 12 // the relay is stopping
	CodeIdle        Code = 13 // no sign of life for too long
	CodeInternal    Code = 14 // the relay failed; not the client's fault
	CodeTooLong     Code = 15 // a transmission hit the maximum length
	CodeUnavailable Code = 16 // the relay is full
	CodeNameTaken   Code = 17 // the name is online and nothing proves the login is the same user (open mode)
	CodeBadName     Code = 18 // the name breaks the naming rules (the text says which characters are allowed)
	CodeBanned      Code = 19 // an admin banned the name for a while (the text says until when)
	CodeNotFound    Code = 20 // no such stored item (history), or the user may not see it
)

// Message is one control message. Implementations are the types in this
// file; their zero values are valid messages.
type Message interface {
	// Type returns the message's type byte.
	Type() MsgType
	// AppendBody appends the message body as the newest [Version] encodes
	// it, without framing and without checking limits; use [AppendMessage]
	// (or [AppendMessageFor] for an older peer) to frame and check.
	AppendBody(b []byte) []byte
	check(c *checker)
	parse(d *decoder)
}

// versioned is implemented by the messages whose encoding depends on the
// protocol version (those that carry records); the others are encoded the
// same in every version. A message that gains a record must implement it
// (the round-trip test over every version catches one that does not).
type versioned interface {
	appendBodyFor(b []byte, v uint16) []byte
}

// Hello opens the conversation in both directions: each side says which
// protocol versions it speaks and which features it offers, and both then use
// the highest version both speak (see [Negotiate]). Hello is encoded the same
// in every version (it is sent before a version is agreed).
//
//	version    u16  the lowest version the sender speaks
//	software   str (MaxSoftwareLen)
//	maxVersion u16  (v2) the highest version the sender speaks
//	features   u32  (v2) [Features] the sender offers
//
// A version-1 peer sends only version (the one version it speaks) and
// software; its Hello parses with MaxVersion = Version and no features. It
// reads only those two fields of a newer peer's Hello, and a v1 relay refuses
// a Hello whose version is not 1: that is why version is the lowest version
// spoken, so a newer client still logs in to a v1 relay (as v1).
type Hello struct {
	Version    uint16   // lowest version spoken
	Software   string   // e.g. "talk 1.2 (hark)", for logs
	MaxVersion uint16   // highest version spoken (see Versions)
	Features   Features // offered; used when both sides offer them
}

// NewHello returns the Hello this package sends: every version from
// [MinVersion] to [Version] and [SupportedFeatures].
func NewHello(software string) *Hello {
	return &Hello{Version: MinVersion, Software: software, MaxVersion: Version, Features: SupportedFeatures}
}

// Versions returns the range of versions h announces. A MaxVersion below
// Version (a v1 Hello, or a zero field) means Version alone.
func (h *Hello) Versions() (lowest, highest uint16) {
	return h.Version, max(h.Version, h.MaxVersion)
}

// Negotiate returns the version and features a connection uses, given this
// side's Hello and the peer's: the highest version in both ranges and the
// features both offer. ok is false when the ranges do not overlap; then
// which side is older can be told from [Hello.Versions].
func Negotiate(ours, theirs *Hello) (version uint16, features Features, ok bool) {
	olo, ohi := ours.Versions()
	tlo, thi := theirs.Versions()
	lo, hi := max(olo, tlo), min(ohi, thi)
	if lo > hi {
		return 0, 0, false
	}
	return hi, ours.Features & theirs.Features, true
}

// Auth logs in. In an open relay the password is ignored.
//
// Ticket, when set, is a resume ticket from an earlier [Ticket] of the same
// relay for the same name. A relay that accepts it logs the client in
// without checking the password (no password hashing: a relay restart does
// not cost one hash per client); a relay that does not (expired, forged,
// the password changed since, or a relay that predates tickets) checks the
// password as if no ticket had been sent. A client therefore sends its
// password along with the ticket.
//
// Away, when not 0, says the client is logging in again after losing its
// connection: how long ago (milliseconds) it last heard from the relay. A
// relay that keeps voice then sends the transmissions of that time
// ([History] with [HistoryAway]).
//
//	name     str (MaxNameLen)
//	password str (MaxPasswordLen)
//	ticket   bytes (MaxTicketLen), optional: omitted when empty and Away
//	         is 0 (present, with length 0, when Away is not 0)
//	away     u32, optional: omitted when 0 (what older clients send)
type Auth struct {
	Name     string
	Password string
	Ticket   []byte
	Away     uint32
}

// ChannelInfo describes one channel. It is a record (see the package
// documentation): length-prefixed from version 2 on.
//
//	name    str (MaxChannelLen)
//	id      u16
//	mode    u8
//	history u8 (v2, optional) [ChannelHistory]: what the relay keeps of the
//	        channel; front ends show a channel that keeps voice
//	access  u8 (v2, optional, 2026-12) [ChannelAccess] flags: what the
//	        receiving session may not do in the channel (per-channel rules)
//	maxms   u32 (v2, optional, 2026-12): the longest transmission in the
//	        channel in milliseconds, 0 when the relay sets no limit
//
// Access and MaxMillis are the receiver's own: a relay computes them per
// session (a Welcome and a Joined are sent to one session). A peer that
// does not send them means "no restriction" (zero values), which is what a
// relay without per-channel rules enforces.
type ChannelInfo struct {
	Name      string
	ID        uint16
	Mode      ChannelMode
	History   ChannelHistory
	Access    ChannelAccess
	MaxMillis uint32
}

// ChannelAccess says what a session may not do in a channel. The zero value
// allows everything. Unknown bits are ignored.
type ChannelAccess uint8

// Channel access bits.
const (
	// AccessNoTalk: the session may listen but not talk or write texts in
	// the channel (a listen-only member: an announcement channel).
	AccessNoTalk ChannelAccess = 1 << 0
	// AccessNoListen: the session may not join or monitor the channel.
	AccessNoListen ChannelAccess = 1 << 1
)

// Welcome accepts a login.
//
//	session  u32
//	name     str
//	roles    u8
//	server   str (MaxSoftwareLen)
//	default  str (MaxChannelLen): the channel to join when the user names none
//	channels u16 count, then a ChannelInfo record each
type Welcome struct {
	Session        uint32
	Name           string
	Roles          Role
	Server         string
	DefaultChannel string
	Channels       []ChannelInfo
}

// Join moves the session into a channel.
//
//	channel str (MaxChannelLen)
type Join struct{ Channel string }

// Joined confirms a join.
//
//	channel ChannelInfo record
type Joined struct{ ChannelInfo }

// Leave takes the session out of its channel; it stays online.
type Leave struct{}

// UserInfo is one online user. It is a record (see the package
// documentation): length-prefixed from version 2 on.
//
//	session u32
//	name    str
//	channel str ("" when in none)
//	talking u8 (0 or 1)
type UserInfo struct {
	Session uint32
	Name    string
	Channel string
	Talking bool
}

// Presence is a snapshot of everyone online, sent after a join and on request.
// A snapshot too big for one message is split (see [SplitPresence]): from
// version 2 on, every part but the last has More set, and a receiver
// assembles the parts before replacing what it knew. (Version 1 has no More:
// the relay sends a v1 peer the first part as Presence and each further user
// as a [PresenceChange] of kind online.)
//
//	users u16 count, then a UserInfo record each
//	more  u8 (v2): 1 when the next Presence message continues this snapshot
type Presence struct {
	Users []UserInfo
	More  bool
}

// PresenceKind says what a [PresenceChange] reports.
type PresenceKind uint8

// Presence change kinds.
const (
	PresenceOnline  PresenceKind = 1 // logged in
	PresenceOffline PresenceKind = 2 // logged out or dropped
	PresenceMoved   PresenceKind = 3 // joined or left a channel (User.Channel is the new one)
)

func (k PresenceKind) String() string {
	switch k {
	case PresenceOnline:
		return "online"
	case PresenceOffline:
		return "offline"
	case PresenceMoved:
		return "moved"
	}
	return fmt.Sprintf("kind-%d", uint8(k))
}

// PresenceChange reports one user's change to every session.
//
//	kind u8
//	user UserInfo record
type PresenceChange struct {
	Kind PresenceKind
	User UserInfo
}

// FloorRequest asks for the floor of a channel (by id), or of every channel
// with [PageChannel] (pages use [PageStart] instead, which also sets it up).
//
//	channel u16
type FloorRequest struct{ Channel uint16 }

// FloorGrant gives the floor. MaxMillis is the longest the transmission may
// last before the relay cuts it (0: no limit).
//
//	channel   u16
//	maxMillis u32
type FloorGrant struct {
	Channel   uint16
	MaxMillis uint32
}

// FloorDeny refuses the floor, naming who holds it.
//
//	channel    u16
//	holder     u32 (session; 0 if none)
//	holderName str
//	reason     str (MaxReasonLen), e.g. "busy: alice is talking"
type FloorDeny struct {
	Channel    uint16
	Holder     uint32
	HolderName string
	Reason     string
}

// FloorRelease gives the floor back.
//
//	channel u16
type FloorRelease struct{ Channel uint16 }

// Talking tells a channel's members that someone started or stopped talking.
//
//	channel  u16
//	session  u32
//	name     str
//	talking  u8
//	priority u8 (a page)
type Talking struct {
	Channel  uint16
	Session  uint32
	Name     string
	Talking  bool
	Priority bool
}

// Text is a text message. A client sends Channel (its channel's name) or To
// (a user name) and Text; the relay fills From, FromName and Time (unix
// milliseconds, the relay's clock) when it delivers.
//
//	from     u32
//	fromName str
//	channel  str
//	to       str (MaxNameLen; "" for the channel)
//	time     u64 unix ms
//	text     str (MaxTextLen)
//	id       u64 (v2, optional, with the next two) server id of the stored
//	         text, 0 when not stored
//	clientID u64 the sender's own id for the text (0: none): the relay
//	         answers a [TextAck] with it and drops a resend of the same id
//	flags    u8  [TextFlags]
//
// The three optional fields are sent together, only when one is not zero,
// and only to a peer of version 2 or later.
type Text struct {
	From     uint32
	FromName string
	Channel  string
	To       string
	Time     int64
	Text     string
	ID       uint64    // v2, optional: server id (0: not stored)
	ClientID uint64    // v2, optional: the sender's id, for [TextAck] and resends
	Flags    TextFlags // v2, optional
}

// Ring rings every logged-in station. The relay fills From, FromName, Time.
//
//	from     u32
//	fromName str
//	time     u64 unix ms
//	text     str (MaxTextLen)
//	flags    u8  (v2, optional, with the next two) [RingFlags]
//	alarm    u32 the alarm's id, set by the relay (see [AlarmAck])
//	id       u64 the ring's server id in the relay's history (0: not stored)
//
// The three optional fields are sent together, only when one is not zero,
// and only to a peer of version 2 or later.
type Ring struct {
	From     uint32
	FromName string
	Time     int64
	Text     string
	Flags    RingFlags // v2, optional
	Alarm    uint32    // v2, optional
	ID       uint64    // v2, optional
}

// PageStart asks to page every channel. The relay answers with [FloorGrant]
// for [PageChannel] or with an [Error] (CodeForbidden without the page role).
type PageStart struct{}

// PageStop ends a page.
type PageStop struct{}

// Page tells everyone a page started or ended.
//
//	from     u32
//	fromName str
//	active   u8
type Page struct {
	From     uint32
	FromName string
	Active   bool
}

// Error reports a failed request. About is the type of the request that
// failed (0 if none in particular).
//
//	code  u16
//	about u8
//	text  str (MaxReasonLen)
type Error struct {
	Code  Code
	About MsgType
	Text  string
}

func (e *Error) Error() string { return e.Text }

// Ping asks for a [Pong] with the same nonce.
//
// Padding makes the packet that carries the ping big enough (over 42 bytes)
// for a relay that restarted to answer it with a QUIC stateless reset, so a
// client learns of the restart at its next ping instead of at its idle
// timeout. The padding bytes are zero when sent and ignored when received.
//
//	nonce   u64
//	padding u16 length, then that many bytes (at most MaxPingPadding),
//	        optional: omitted when Padding is 0
type Ping struct {
	Nonce   uint64
	Padding uint16
}

// Pong answers a [Ping].
//
//	nonce u64
type Pong struct{ Nonce uint64 }

// ListSessions asks (role admin) for [Sessions].
type ListSessions struct{}

// SessionInfo is one session as an admin sees it. It is a record (see the
// package documentation): length-prefixed from version 2 on.
//
//	session u32
//	name    str
//	channel str
//	addr    str (MaxReasonLen)
//	since   u64 unix ms
//	roles   u8
type SessionInfo struct {
	Session uint32
	Name    string
	Channel string
	Addr    string
	Since   int64
	Roles   Role
}

// Sessions lists sessions. A list too big for one message is split (see
// [SplitSessions]); from version 2 on every part but the last has More set.
// (A version-1 receiver cannot tell the last part: it sends a [Ping] after
// its request and takes the parts that arrive before the [Pong].)
//
//	sessions u16 count, then a SessionInfo record each
//	more     u8 (v2): 1 when the next Sessions message continues this list
type Sessions struct {
	Sessions []SessionInfo
	More     bool
}

// Kick ends a user's session (role admin) and may keep the name out for a
// while.
//
//	name   str
//	reason str (MaxReasonLen)
//	ban    u32 seconds the name may not log in again, 0 for none
//	       (optional: a Kick that ends after reason bans nobody, and a
//	       relay that does not know the field ignores it; 1 to 3 bytes
//	       after reason are malformed)
type Kick struct {
	Name       string
	Reason     string
	BanSeconds uint32
}

// Bye is the relay's last message on a session.
//
//	code u16
//	text str (MaxReasonLen)
type Bye struct {
	Code Code
	Text string
}

// Ticket gives the client a resume ticket: presented in a later [Auth] of the
// same name (for example after the connection dropped or the relay
// restarted), it logs the client in without a password check. The relay
// sends one right after [Welcome] in a relay with passwords (none in an open
// relay) and a fresh one before the last expires; the newest replaces the
// others. The ticket is opaque to the client (its layout is the relay's
// business) and is a credential: keep it in memory only.
//
//	ticket   bytes (MaxTicketLen)
//	lifetime u32 seconds the relay accepts it, from when it was sent
type Ticket struct {
	Ticket   []byte
	Lifetime uint32
}

// Unknown holds a message of a type this version does not know. [Reader]
// skips them; [ParseMessage] returns one with ErrUnknownType.
type Unknown struct {
	T    MsgType
	Body []byte
}

func (m *Hello) Type() MsgType          { return TypeHello }
func (m *Auth) Type() MsgType           { return TypeAuth }
func (m *Welcome) Type() MsgType        { return TypeWelcome }
func (m *Join) Type() MsgType           { return TypeJoin }
func (m *Joined) Type() MsgType         { return TypeJoined }
func (m *Leave) Type() MsgType          { return TypeLeave }
func (m *Presence) Type() MsgType       { return TypePresence }
func (m *PresenceChange) Type() MsgType { return TypePresenceChange }
func (m *FloorRequest) Type() MsgType   { return TypeFloorRequest }
func (m *FloorGrant) Type() MsgType     { return TypeFloorGrant }
func (m *FloorDeny) Type() MsgType      { return TypeFloorDeny }
func (m *FloorRelease) Type() MsgType   { return TypeFloorRelease }
func (m *Talking) Type() MsgType        { return TypeTalking }
func (m *Text) Type() MsgType           { return TypeText }
func (m *Ring) Type() MsgType           { return TypeRing }
func (m *PageStart) Type() MsgType      { return TypePageStart }
func (m *PageStop) Type() MsgType       { return TypePageStop }
func (m *Page) Type() MsgType           { return TypePage }
func (m *Error) Type() MsgType          { return TypeError }
func (m *Ping) Type() MsgType           { return TypePing }
func (m *Pong) Type() MsgType           { return TypePong }
func (m *ListSessions) Type() MsgType   { return TypeListSessions }
func (m *Sessions) Type() MsgType       { return TypeSessions }
func (m *Kick) Type() MsgType           { return TypeKick }
func (m *Bye) Type() MsgType            { return TypeBye }
func (m *Ticket) Type() MsgType         { return TypeTicket }
func (m *Unknown) Type() MsgType        { return m.T }

// ---- bodies ----

func (m *Hello) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, m.Version)
	b = appendStr(b, m.Software)
	b = binary.BigEndian.AppendUint16(b, m.MaxVersion)
	return binary.BigEndian.AppendUint32(b, uint32(m.Features))
}
func (m *Hello) check(c *checker) { c.str("software", m.Software, MaxSoftwareLen) }
func (m *Hello) parse(d *decoder) {
	m.Version = d.u16()
	m.Software = d.str("software", MaxSoftwareLen)
	m.MaxVersion = m.Version // a v1 Hello: one version
	if d.more() {
		m.MaxVersion = d.u16()
	}
	if d.more() {
		m.Features = Features(d.u32())
	}
}

func (m *Auth) AppendBody(b []byte) []byte {
	b = appendStr(appendStr(b, m.Name), m.Password)
	if len(m.Ticket) > 0 || m.Away != 0 {
		b = appendBytes(b, m.Ticket)
	}
	if m.Away != 0 {
		b = binary.BigEndian.AppendUint32(b, m.Away)
	}
	return b
}
func (m *Auth) check(c *checker) {
	c.str("name", m.Name, MaxNameLen)
	c.str("password", m.Password, MaxPasswordLen)
	c.bytes("ticket", m.Ticket, MaxTicketLen)
}
func (m *Auth) parse(d *decoder) {
	m.Name = d.str("name", MaxNameLen)
	m.Password = d.str("password", MaxPasswordLen)
	if d.more() {
		m.Ticket = d.bytes("ticket", MaxTicketLen)
	}
	if d.more() {
		m.Away = d.u32()
	}
}

func (ci *ChannelInfo) appendTo(b []byte, v uint16) []byte {
	b, start := beginRecord(b, v)
	b = appendStr(b, ci.Name)
	b = binary.BigEndian.AppendUint16(b, ci.ID)
	b = append(b, byte(ci.Mode))
	if v >= Version2 {
		b = append(b, byte(ci.History), byte(ci.Access))
		b = binary.BigEndian.AppendUint32(b, ci.MaxMillis)
	}
	return endRecord(b, start)
}

// EncodedLen is the number of bytes ci takes on the wire in version v,
// including its length prefix from version 2 on.
func (ci *ChannelInfo) EncodedLen(v uint16) int {
	n := recordPrefixLen(v) + 2 + len(ci.Name) + 2 + 1
	if v >= Version2 {
		n += 1 + 1 + 4
	}
	return n
}
func (ci *ChannelInfo) check(c *checker) { c.str("channel", ci.Name, MaxChannelLen) }
func (ci *ChannelInfo) parse(d *decoder) {
	ci.Name = d.str("channel", MaxChannelLen)
	ci.ID = d.u16()
	ci.Mode = ChannelMode(d.u8())
	if d.v >= Version2 && d.more() { // a v1 record has no length: the next record follows
		ci.History = ChannelHistory(d.u8())
	}
	if d.v >= Version2 && d.more() {
		ci.Access = ChannelAccess(d.u8())
	}
	if d.v >= Version2 && d.more() {
		ci.MaxMillis = d.u32()
	}
}

func (m *Welcome) AppendBody(b []byte) []byte { return m.appendBodyFor(b, Version) }
func (m *Welcome) appendBodyFor(b []byte, v uint16) []byte {
	b = binary.BigEndian.AppendUint32(b, m.Session)
	b = appendStr(b, m.Name)
	b = append(b, byte(m.Roles))
	b = appendStr(b, m.Server)
	b = appendStr(b, m.DefaultChannel)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Channels)))
	for i := range m.Channels {
		b = m.Channels[i].appendTo(b, v)
	}
	return b
}
func (m *Welcome) check(c *checker) {
	c.str("name", m.Name, MaxNameLen)
	c.str("server", m.Server, MaxSoftwareLen)
	c.str("default channel", m.DefaultChannel, MaxChannelLen)
	c.list("channels", len(m.Channels))
	for i := range m.Channels {
		m.Channels[i].check(c)
	}
}
func (m *Welcome) parse(d *decoder) {
	m.Session = d.u32()
	m.Name = d.str("name", MaxNameLen)
	m.Roles = Role(d.u8())
	m.Server = d.str("server", MaxSoftwareLen)
	m.DefaultChannel = d.str("default channel", MaxChannelLen)
	n := d.count("channels", 5)
	if n > 0 {
		m.Channels = make([]ChannelInfo, n)
		for i := range m.Channels {
			d.record(&m.Channels[i])
		}
	}
}

func (m *Join) AppendBody(b []byte) []byte { return appendStr(b, m.Channel) }
func (m *Join) check(c *checker)           { c.str("channel", m.Channel, MaxChannelLen) }
func (m *Join) parse(d *decoder)           { m.Channel = d.str("channel", MaxChannelLen) }

func (m *Joined) AppendBody(b []byte) []byte { return m.appendBodyFor(b, Version) }
func (m *Joined) appendBodyFor(b []byte, v uint16) []byte {
	return m.ChannelInfo.appendTo(b, v)
}
func (m *Joined) check(c *checker) { m.ChannelInfo.check(c) }
func (m *Joined) parse(d *decoder) { d.record(&m.ChannelInfo) }

func (m *Leave) AppendBody(b []byte) []byte { return b }
func (m *Leave) check(*checker)             {}
func (m *Leave) parse(*decoder)             {}

func (u *UserInfo) appendTo(b []byte, v uint16) []byte {
	b, start := beginRecord(b, v)
	b = binary.BigEndian.AppendUint32(b, u.Session)
	b = appendStr(b, u.Name)
	b = appendStr(b, u.Channel)
	b = appendBool(b, u.Talking)
	return endRecord(b, start)
}

// EncodedLen is the number of bytes u takes on the wire in version v,
// including its length prefix from version 2 on.
func (u *UserInfo) EncodedLen(v uint16) int {
	return recordPrefixLen(v) + 4 + 2 + len(u.Name) + 2 + len(u.Channel) + 1
}
func (u *UserInfo) check(c *checker) {
	c.str("name", u.Name, MaxNameLen)
	c.str("channel", u.Channel, MaxChannelLen)
}
func (u *UserInfo) parse(d *decoder) {
	u.Session = d.u32()
	u.Name = d.str("name", MaxNameLen)
	u.Channel = d.str("channel", MaxChannelLen)
	u.Talking = d.bool()
}

func (m *Presence) AppendBody(b []byte) []byte { return m.appendBodyFor(b, Version) }
func (m *Presence) appendBodyFor(b []byte, v uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Users)))
	for i := range m.Users {
		b = m.Users[i].appendTo(b, v)
	}
	if v >= Version2 {
		b = appendBool(b, m.More)
	}
	return b
}
func (m *Presence) check(c *checker) {
	c.list("users", len(m.Users))
	for i := range m.Users {
		m.Users[i].check(c)
	}
}
func (m *Presence) parse(d *decoder) {
	n := d.count("users", 9)
	if n > 0 {
		m.Users = make([]UserInfo, n)
		for i := range m.Users {
			d.record(&m.Users[i])
		}
	}
	if d.v >= Version2 {
		m.More = d.bool()
	}
}

func (m *PresenceChange) AppendBody(b []byte) []byte { return m.appendBodyFor(b, Version) }
func (m *PresenceChange) appendBodyFor(b []byte, v uint16) []byte {
	return m.User.appendTo(append(b, byte(m.Kind)), v)
}
func (m *PresenceChange) check(c *checker) { m.User.check(c) }
func (m *PresenceChange) parse(d *decoder) {
	m.Kind = PresenceKind(d.u8())
	d.record(&m.User)
}

func (m *FloorRequest) AppendBody(b []byte) []byte {
	return binary.BigEndian.AppendUint16(b, m.Channel)
}
func (m *FloorRequest) check(*checker)   {}
func (m *FloorRequest) parse(d *decoder) { m.Channel = d.u16() }

func (m *FloorGrant) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, m.Channel)
	return binary.BigEndian.AppendUint32(b, m.MaxMillis)
}
func (m *FloorGrant) check(*checker) {}
func (m *FloorGrant) parse(d *decoder) {
	m.Channel = d.u16()
	m.MaxMillis = d.u32()
}

func (m *FloorDeny) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, m.Channel)
	b = binary.BigEndian.AppendUint32(b, m.Holder)
	b = appendStr(b, m.HolderName)
	return appendStr(b, m.Reason)
}
func (m *FloorDeny) check(c *checker) {
	c.str("holder name", m.HolderName, MaxNameLen)
	c.str("reason", m.Reason, MaxReasonLen)
}
func (m *FloorDeny) parse(d *decoder) {
	m.Channel = d.u16()
	m.Holder = d.u32()
	m.HolderName = d.str("holder name", MaxNameLen)
	m.Reason = d.str("reason", MaxReasonLen)
}

func (m *FloorRelease) AppendBody(b []byte) []byte {
	return binary.BigEndian.AppendUint16(b, m.Channel)
}
func (m *FloorRelease) check(*checker)   {}
func (m *FloorRelease) parse(d *decoder) { m.Channel = d.u16() }

func (m *Talking) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, m.Channel)
	b = binary.BigEndian.AppendUint32(b, m.Session)
	b = appendStr(b, m.Name)
	b = appendBool(b, m.Talking)
	return appendBool(b, m.Priority)
}
func (m *Talking) check(c *checker) { c.str("name", m.Name, MaxNameLen) }
func (m *Talking) parse(d *decoder) {
	m.Channel = d.u16()
	m.Session = d.u32()
	m.Name = d.str("name", MaxNameLen)
	m.Talking = d.bool()
	m.Priority = d.bool()
}

func (m *Text) AppendBody(b []byte) []byte { return m.appendBodyFor(b, Version) }
func (m *Text) appendBodyFor(b []byte, v uint16) []byte {
	b = binary.BigEndian.AppendUint32(b, m.From)
	b = appendStr(b, m.FromName)
	b = appendStr(b, m.Channel)
	b = appendStr(b, m.To)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Time))
	b = appendStr(b, m.Text)
	if v >= Version2 && (m.ID != 0 || m.ClientID != 0 || m.Flags != 0) {
		b = binary.BigEndian.AppendUint64(b, m.ID)
		b = binary.BigEndian.AppendUint64(b, m.ClientID)
		b = append(b, byte(m.Flags))
	}
	return b
}
func (m *Text) check(c *checker) {
	c.str("sender name", m.FromName, MaxNameLen)
	c.str("channel", m.Channel, MaxChannelLen)
	c.str("recipient", m.To, MaxNameLen)
	c.str("text", m.Text, MaxTextLen)
}
func (m *Text) parse(d *decoder) {
	m.From = d.u32()
	m.FromName = d.str("sender name", MaxNameLen)
	m.Channel = d.str("channel", MaxChannelLen)
	m.To = d.str("recipient", MaxNameLen)
	m.Time = int64(d.u64())
	m.Text = d.str("text", MaxTextLen)
	if d.v >= Version2 && d.more() { // 1 to 16 bytes after text are malformed
		m.ID = d.u64()
		m.ClientID = d.u64()
		m.Flags = TextFlags(d.u8())
	}
}

func (m *Ring) AppendBody(b []byte) []byte { return m.appendBodyFor(b, Version) }
func (m *Ring) appendBodyFor(b []byte, v uint16) []byte {
	b = binary.BigEndian.AppendUint32(b, m.From)
	b = appendStr(b, m.FromName)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Time))
	b = appendStr(b, m.Text)
	if v >= Version2 && (m.Flags != 0 || m.Alarm != 0 || m.ID != 0) {
		b = append(b, byte(m.Flags))
		b = binary.BigEndian.AppendUint32(b, m.Alarm)
		b = binary.BigEndian.AppendUint64(b, m.ID)
	}
	return b
}
func (m *Ring) check(c *checker) {
	c.str("sender name", m.FromName, MaxNameLen)
	c.str("text", m.Text, MaxTextLen)
}
func (m *Ring) parse(d *decoder) {
	m.From = d.u32()
	m.FromName = d.str("sender name", MaxNameLen)
	m.Time = int64(d.u64())
	m.Text = d.str("text", MaxTextLen)
	if d.v >= Version2 && d.more() { // 1 to 12 bytes after text are malformed
		m.Flags = RingFlags(d.u8())
		m.Alarm = d.u32()
		m.ID = d.u64()
	}
}

func (m *PageStart) AppendBody(b []byte) []byte { return b }
func (m *PageStart) check(*checker)             {}
func (m *PageStart) parse(*decoder)             {}

func (m *PageStop) AppendBody(b []byte) []byte { return b }
func (m *PageStop) check(*checker)             {}
func (m *PageStop) parse(*decoder)             {}

func (m *Page) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, m.From)
	b = appendStr(b, m.FromName)
	return appendBool(b, m.Active)
}
func (m *Page) check(c *checker) { c.str("sender name", m.FromName, MaxNameLen) }
func (m *Page) parse(d *decoder) {
	m.From = d.u32()
	m.FromName = d.str("sender name", MaxNameLen)
	m.Active = d.bool()
}

func (m *Error) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(m.Code))
	b = append(b, byte(m.About))
	return appendStr(b, m.Text)
}
func (m *Error) check(c *checker) { c.str("text", m.Text, MaxReasonLen) }
func (m *Error) parse(d *decoder) {
	m.Code = Code(d.u16())
	m.About = MsgType(d.u8())
	m.Text = d.str("text", MaxReasonLen)
}

func (m *Ping) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, m.Nonce)
	if m.Padding > 0 {
		b = binary.BigEndian.AppendUint16(b, m.Padding)
		b = append(b, make([]byte, m.Padding)...)
	}
	return b
}
func (m *Ping) check(c *checker) {
	if c.err == nil && m.Padding > MaxPingPadding {
		c.err = fmt.Errorf("%w: ping padding is %d bytes, limit %d", ErrTooLong, m.Padding, MaxPingPadding)
	}
}
func (m *Ping) parse(d *decoder) {
	m.Nonce = d.u64()
	if d.more() {
		m.Padding = uint16(len(d.skip("padding", MaxPingPadding)))
	}
}

func (m *Pong) AppendBody(b []byte) []byte { return binary.BigEndian.AppendUint64(b, m.Nonce) }
func (m *Pong) check(*checker)             {}
func (m *Pong) parse(d *decoder)           { m.Nonce = d.u64() }

func (m *ListSessions) AppendBody(b []byte) []byte { return b }
func (m *ListSessions) check(*checker)             {}
func (m *ListSessions) parse(*decoder)             {}

func (s *SessionInfo) appendTo(b []byte, v uint16) []byte {
	b, start := beginRecord(b, v)
	b = binary.BigEndian.AppendUint32(b, s.Session)
	b = appendStr(b, s.Name)
	b = appendStr(b, s.Channel)
	b = appendStr(b, s.Addr)
	b = binary.BigEndian.AppendUint64(b, uint64(s.Since))
	b = append(b, byte(s.Roles))
	return endRecord(b, start)
}

// EncodedLen is the number of bytes s takes on the wire in version v,
// including its length prefix from version 2 on.
func (s *SessionInfo) EncodedLen(v uint16) int {
	return recordPrefixLen(v) + 4 + 2 + len(s.Name) + 2 + len(s.Channel) + 2 + len(s.Addr) + 8 + 1
}
func (s *SessionInfo) check(c *checker) {
	c.str("name", s.Name, MaxNameLen)
	c.str("channel", s.Channel, MaxChannelLen)
	c.str("address", s.Addr, MaxReasonLen)
}
func (s *SessionInfo) parse(d *decoder) {
	s.Session = d.u32()
	s.Name = d.str("name", MaxNameLen)
	s.Channel = d.str("channel", MaxChannelLen)
	s.Addr = d.str("address", MaxReasonLen)
	s.Since = int64(d.u64())
	s.Roles = Role(d.u8())
}

func (m *Sessions) AppendBody(b []byte) []byte { return m.appendBodyFor(b, Version) }
func (m *Sessions) appendBodyFor(b []byte, v uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Sessions)))
	for i := range m.Sessions {
		b = m.Sessions[i].appendTo(b, v)
	}
	if v >= Version2 {
		b = appendBool(b, m.More)
	}
	return b
}
func (m *Sessions) check(c *checker) {
	c.list("sessions", len(m.Sessions))
	for i := range m.Sessions {
		m.Sessions[i].check(c)
	}
}
func (m *Sessions) parse(d *decoder) {
	n := d.count("sessions", 19)
	if n > 0 {
		m.Sessions = make([]SessionInfo, n)
		for i := range m.Sessions {
			d.record(&m.Sessions[i])
		}
	}
	if d.v >= Version2 {
		m.More = d.bool()
	}
}

func (m *Kick) AppendBody(b []byte) []byte {
	b = appendStr(appendStr(b, m.Name), m.Reason)
	if m.BanSeconds != 0 {
		b = binary.BigEndian.AppendUint32(b, m.BanSeconds) // absent when 0: what older peers send
	}
	return b
}
func (m *Kick) check(c *checker) {
	c.str("name", m.Name, MaxNameLen)
	c.str("reason", m.Reason, MaxReasonLen)
}
func (m *Kick) parse(d *decoder) {
	m.Name = d.str("name", MaxNameLen)
	m.Reason = d.str("reason", MaxReasonLen)
	if d.more() {
		m.BanSeconds = d.u32()
	}
}

func (m *Bye) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(m.Code))
	return appendStr(b, m.Text)
}
func (m *Bye) check(c *checker) { c.str("text", m.Text, MaxReasonLen) }
func (m *Bye) parse(d *decoder) {
	m.Code = Code(d.u16())
	m.Text = d.str("text", MaxReasonLen)
}

func (m *Ticket) AppendBody(b []byte) []byte {
	return binary.BigEndian.AppendUint32(appendBytes(b, m.Ticket), m.Lifetime)
}
func (m *Ticket) check(c *checker) { c.bytes("ticket", m.Ticket, MaxTicketLen) }
func (m *Ticket) parse(d *decoder) {
	m.Ticket = d.bytes("ticket", MaxTicketLen)
	m.Lifetime = d.u32()
}

func (m *Unknown) AppendBody(b []byte) []byte { return append(b, m.Body...) }
func (m *Unknown) check(*checker)             {}
func (m *Unknown) parse(d *decoder)           { m.Body = append([]byte(nil), d.b...); d.b = nil }

// newMessage returns a zero message of type t, or nil if t is unknown.
func newMessage(t MsgType) Message {
	switch t {
	case TypeHello:
		return new(Hello)
	case TypeAuth:
		return new(Auth)
	case TypeWelcome:
		return new(Welcome)
	case TypeJoin:
		return new(Join)
	case TypeJoined:
		return new(Joined)
	case TypeLeave:
		return new(Leave)
	case TypePresence:
		return new(Presence)
	case TypePresenceChange:
		return new(PresenceChange)
	case TypeFloorRequest:
		return new(FloorRequest)
	case TypeFloorGrant:
		return new(FloorGrant)
	case TypeFloorDeny:
		return new(FloorDeny)
	case TypeFloorRelease:
		return new(FloorRelease)
	case TypeTalking:
		return new(Talking)
	case TypeText:
		return new(Text)
	case TypeRing:
		return new(Ring)
	case TypePageStart:
		return new(PageStart)
	case TypePageStop:
		return new(PageStop)
	case TypePage:
		return new(Page)
	case TypeError:
		return new(Error)
	case TypePing:
		return new(Ping)
	case TypePong:
		return new(Pong)
	case TypeListSessions:
		return new(ListSessions)
	case TypeSessions:
		return new(Sessions)
	case TypeKick:
		return new(Kick)
	case TypeBye:
		return new(Bye)
	case TypeTicket:
		return new(Ticket)
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
	case TypeAlarmAck:
		return new(AlarmAck)
	case TypeMonitor:
		return new(Monitor)
	case TypeMonitoring:
		return new(Monitoring)
	case TypeWhisperStart:
		return new(WhisperStart)
	case TypeWhisperStop:
		return new(WhisperStop)
	case TypeWhisper:
		return new(Whisper)
	case TypeGroupCallStart:
		return new(GroupCallStart)
	}
	return nil
}

// UnixMillis converts a time to the protocol's timestamps.
func UnixMillis(t time.Time) int64 { return t.UnixMilli() }

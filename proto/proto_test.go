package proto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// samples holds one filled-in value of every message type.
func samples() []Message {
	return []Message{
		&Hello{Version: MinVersion, Software: "hark-test/1", MaxVersion: Version, Features: 1<<31 | 5},
		&Auth{Name: "alice", Password: "s3cret", Ticket: []byte{1, 2, 3, 0xff}, Away: 2500},
		&Welcome{Session: 7, Name: "alice", Roles: RolePage | RoleAdmin, Server: "hark relay",
			DefaultChannel: "lobby", Channels: []ChannelInfo{{"lobby", 1, ModePTT, HistoryOff, 0, 0}, {"ops", 2, ModeOpen, HistoryVoice, AccessNoTalk, 30000}}},
		&Join{Channel: "ops"},
		&Joined{ChannelInfo{"ops", 2, ModeOpen, HistoryText, AccessNoTalk | AccessNoListen, 60000}},
		&Leave{},
		&Presence{Users: []UserInfo{{1, "alice", "lobby", true}, {2, "bob", "", false}}, More: true},
		&PresenceChange{Kind: PresenceMoved, User: UserInfo{2, "bob", "ops", false}},
		&FloorRequest{Channel: 1},
		&FloorGrant{Channel: 1, MaxMillis: 60000},
		&FloorDeny{Channel: 1, Holder: 1, HolderName: "alice", Reason: "busy: alice is talking"},
		&FloorRelease{Channel: 1},
		&Talking{Channel: 1, Session: 1, Name: "alice", Talking: true, Priority: true},
		&Text{From: 1, FromName: "alice", Channel: "lobby", To: "bob", Time: 1790000000000, Text: "héllo",
			ID: 1 << 40, ClientID: 99, Flags: TextFromHistory},
		&Ring{From: 1, FromName: "alice", Time: 1790000000001, Text: "fire drill", Flags: RingAlarm, Alarm: 4, ID: 1 << 41},
		&PageStart{},
		&PageStop{},
		&Page{From: 3, FromName: "desk", Active: true},
		&Error{Code: CodeForbidden, About: TypePageStart, Text: "you may not page"},
		&Ping{Nonce: 1 << 60, Padding: 24},
		&Pong{Nonce: 42},
		&ListSessions{},
		&Sessions{Sessions: []SessionInfo{{1, "alice", "lobby", "127.0.0.1:5000", 1790000000000, RoleAdmin}}, More: true},
		&Kick{Name: "bob", Reason: "testing", BanSeconds: 600},
		&Bye{Code: CodeReplaced, Text: "you logged in from another place"},
		&Ticket{Ticket: []byte{1, 0, 0xfe, 7}, Lifetime: 86400},
		&TextAck{ClientID: 99, ID: 1 << 40, Status: TextWaiting},
		&HistoryQuery{Req: 5, Channel: "lobby", Before: 100, After: 3, Since: 1790000000000, Until: 1790000009999, Limit: 20, Kinds: 1<<ItemText | 1<<ItemVoice},
		&History{Req: 5, Flags: HistoryMissed, More: true, Items: []HistoryItem{
			{ID: 7, Kind: ItemVoice, Flags: ItemAudio | ItemCut, Time: 1790000000000, From: "alice", Channel: "lobby", Duration: 60000, Size: 120000},
			{ID: 8, Kind: ItemPrivate, Flags: ItemWaiting, Time: 1790000000001, From: "bob", To: "carol", Text: "call me"},
		}},
		&HistoryRead{UpTo: 8},
		&Fetch{Req: 6, ID: 7},
		&Recording{Req: 6, ID: 7, More: true, Packets: []RecPacket{{0, []byte{0xfc, 1, 2}}, {20, []byte{0xfc, 3}}}},
		&ChannelSet{Channel: "lobby", Settings: "history=voice max-age=24h"},
		&ChannelSettings{Channel: "lobby", Settings: "mode=ptt history=voice max-age=24h"},
		&AlarmAck{Alarm: 4, Session: 2, Name: "bob", Pending: 3, Over: true},
		&Monitor{Channels: []string{"ops", "dock"}},
		&Monitoring{Channels: []ChannelInfo{{"ops", 2, ModeOpen, HistoryVoice, AccessNoTalk, 0}, {"dock", 3, ModePTT, HistoryOff, 0, 30000}}},
		&WhisperStart{To: "bob"},
		&WhisperStop{},
		&Whisper{From: 1, FromName: "alice", To: 2, ToName: "bob", Active: true},
		&GroupCallStart{To: []string{"bob", "carol", "role:page"}},
	}
}

// versions lists every version this package speaks.
func versions() []uint16 {
	var vs []uint16
	for v := MinVersion; v <= Version; v++ {
		vs = append(vs, v)
	}
	return vs
}

// asSentIn returns m as a peer of version v receives it: version 1 has no
// More flag on lists.
func asSentIn(m Message, v uint16) Message {
	if v >= Version2 {
		return m
	}
	switch m := m.(type) {
	case *Presence:
		c := *m
		c.More = false
		return &c
	case *Sessions:
		c := *m
		c.More = false
		return &c
	case *Text:
		c := *m
		c.ID, c.ClientID, c.Flags = 0, 0, 0
		return &c
	case *Ring:
		c := *m
		c.Flags, c.Alarm, c.ID = 0, 0, 0
		return &c
	case *Welcome:
		c := *m
		c.Channels = append([]ChannelInfo(nil), m.Channels...)
		for i := range c.Channels {
			c.Channels[i].History, c.Channels[i].Access, c.Channels[i].MaxMillis = 0, 0, 0
		}
		return &c
	case *Monitoring:
		c := *m
		c.Channels = append([]ChannelInfo(nil), m.Channels...)
		for i := range c.Channels {
			c.Channels[i].History, c.Channels[i].Access, c.Channels[i].MaxMillis = 0, 0, 0
		}
		return &c
	case *Joined:
		c := *m
		c.History, c.Access, c.MaxMillis = 0, 0, 0
		return &c
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	for _, v := range versions() {
		seen := map[MsgType]bool{}
		for _, m := range samples() {
			b, err := AppendMessageFor(nil, m, v)
			if err != nil {
				t.Fatalf("v%d %v: %v", v, m.Type(), err)
			}
			got, err := ParseMessageFor(b[FrameHeaderLen:], v)
			if err != nil {
				t.Fatalf("v%d %v: parse: %v", v, m.Type(), err)
			}
			if want := asSentIn(m, v); !reflect.DeepEqual(got, want) {
				t.Errorf("v%d %v: got %+v, want %+v", v, m.Type(), got, want)
			}
			if seen[m.Type()] {
				t.Errorf("duplicate type %v", m.Type())
			}
			seen[m.Type()] = true
			if strings.HasPrefix(m.Type().String(), "type-") {
				t.Errorf("type %d has no name", m.Type())
			}
			// Every strict prefix of a non-empty body must fail, not panic,
			// except where optional fields begin (Hello's v2 fields).
			optional := map[int]bool{}
			if h, ok := m.(*Hello); ok {
				optional[1+2+2+len(h.Software)] = true   // a v1 Hello
				optional[1+2+2+len(h.Software)+2] = true // no features
			}
			// A message whose last field is optional parses without it,
			// and must then encode to exactly that prefix.
			for i := 1; i < len(b)-FrameHeaderLen; i++ {
				prefix := b[FrameHeaderLen : FrameHeaderLen+i]
				p, err := ParseMessageFor(prefix, v)
				if err != nil || optional[i] {
					continue
				}
				if out, _ := AppendMessageFor(nil, p, v); optionalTail[m.Type()] && bytes.Equal(out[FrameHeaderLen:], prefix) {
					continue
				}
				t.Errorf("v%d %v: prefix of %d bytes parsed", v, m.Type(), i)
			}
			// Bytes after the known fields are ignored.
			long := append(b[FrameHeaderLen:len(b):len(b)], 0xde, 0xad, 0xbe, 0xef)
			if got, err := ParseMessageFor(long, v); err != nil || !reflect.DeepEqual(got, asSentIn(m, v)) {
				t.Errorf("v%d %v: with trailing bytes: %+v, %v", v, m.Type(), got, err)
			}
		}
		for ty := MsgType(1); ty < 64; ty++ {
			if newMessage(ty) != nil && !seen[ty] {
				t.Errorf("type %v has no sample", ty)
			}
		}
	}
}

// TestRecordsGrow checks that a record with fields this version does not
// know (a newer peer's) parses, its extra bytes skipped, in lists and alone.
func TestRecordsGrow(t *testing.T) {
	extra := []byte{9, 8, 7, 6, 5}
	// grow appends r's fields, then extra, as one v2 record.
	grow := func(b []byte, appendFields func([]byte, uint16) []byte) []byte {
		b, start := beginRecord(b, Version2)
		b = append(b, appendFields(nil, Version2)[2:]...) // today's fields, without their length
		b = append(b, extra...)
		return endRecord(b, start)
	}
	users := []UserInfo{{1, "alice", "lobby", true}, {2, "bob", "", false}}
	b := []byte{byte(TypePresence), 0, 2}
	for i := range users {
		b = grow(b, users[i].appendTo)
	}
	b = append(b, 1)        // more
	b = append(b, extra...) // a newer Presence field
	m, err := ParseMessageFor(b, Version2)
	if want := (&Presence{Users: users, More: true}); err != nil || !reflect.DeepEqual(m, want) {
		t.Errorf("presence: got %+v, %v; want %+v", m, err, want)
	}

	ch := ChannelInfo{"ops", 2, ModeOpen, HistoryVoice, AccessNoTalk, 1500}
	b = grow([]byte{byte(TypeJoined)}, ch.appendTo)
	if m, err := ParseMessageFor(b, Version2); err != nil || !reflect.DeepEqual(m, &Joined{ch}) {
		t.Errorf("joined: got %+v, %v", m, err)
	}

	b = grow([]byte{byte(TypePresenceChange), byte(PresenceMoved)}, users[0].appendTo)
	if m, err := ParseMessageFor(b, Version2); err != nil || !reflect.DeepEqual(m, &PresenceChange{PresenceMoved, users[0]}) {
		t.Errorf("presence change: got %+v, %v", m, err)
	}

	w := &Welcome{Session: 7, Name: "alice", DefaultChannel: "lobby", Channels: []ChannelInfo{{"lobby", 1, ModePTT, HistoryOff, 0, 0}, ch}}
	b = (&Welcome{Session: 7, Name: "alice", DefaultChannel: "lobby"}).appendBodyFor([]byte{byte(TypeWelcome)}, Version2)
	b = b[:len(b)-2] // the empty channel count
	b = append(b, 0, 2)
	for i := range w.Channels {
		b = grow(b, w.Channels[i].appendTo)
	}
	if m, err := ParseMessageFor(b, Version2); err != nil || !reflect.DeepEqual(m, w) {
		t.Errorf("welcome: got %+v, %v", m, err)
	}

	si := SessionInfo{1, "alice", "lobby", "127.0.0.1:5000", 1790000000000, RoleAdmin}
	b = grow([]byte{byte(TypeSessions), 0, 1}, si.appendTo)
	b = append(b, 0)
	if m, err := ParseMessageFor(b, Version2); err != nil || !reflect.DeepEqual(m, &Sessions{Sessions: []SessionInfo{si}}) {
		t.Errorf("sessions: got %+v, %v", m, err)
	}

	// A record shorter than its known fields, or a length past the end, is
	// an error.
	b = []byte{byte(TypeJoined), 0, 3, 0, 1, 'x'}
	if _, err := ParseMessageFor(b, Version2); !errors.Is(err, ErrShort) {
		t.Errorf("short record: %v", err)
	}
	b = []byte{byte(TypeJoined), 0, 99, 0, 1, 'x', 0, 1, 0}
	if _, err := ParseMessageFor(b, Version2); !errors.Is(err, ErrShort) {
		t.Errorf("record past the end: %v", err)
	}
}

func TestHelloAndNegotiate(t *testing.T) {
	// A v1 Hello (version, software, nothing else) is one version.
	m, err := ParseMessage([]byte{byte(TypeHello), 0, 1, 0, 2, 'o', 'k'})
	if want := (&Hello{Version: 1, Software: "ok", MaxVersion: 1}); err != nil || !reflect.DeepEqual(m, want) {
		t.Fatalf("v1 hello: %+v %v", m, err)
	}
	ours := NewHello("test")
	if lo, hi := ours.Versions(); lo != MinVersion || hi != Version {
		t.Errorf("NewHello speaks %d..%d", lo, hi)
	}
	cases := []struct {
		name   string
		theirs Hello
		v      uint16
		f      Features
		ok     bool
	}{
		{"v1 peer", Hello{Version: 1, MaxVersion: 1}, 1, 0, true},
		{"v1 peer, zero max", Hello{Version: 1}, 1, 0, true},
		{"same", Hello{Version: 1, MaxVersion: 2, Features: SupportedFeatures}, 2, SupportedFeatures, true},
		{"newer peer", Hello{Version: 1, MaxVersion: 9, Features: ^Features(0)}, Version, SupportedFeatures, true},
		{"newer peer, old dropped", Hello{Version: 2, MaxVersion: 9}, Version, 0, true},
		{"too new", Hello{Version: Version + 1, MaxVersion: Version + 5}, 0, 0, false},
		{"too old", Hello{Version: 0, MaxVersion: 0}, 0, 0, false},
	}
	for _, c := range cases {
		v, f, ok := Negotiate(ours, &c.theirs)
		if v != c.v || f != c.f || ok != c.ok {
			t.Errorf("%s: got %d %x %v, want %d %x %v", c.name, v, f, ok, c.v, c.f, c.ok)
		}
		if v2, f2, ok2 := Negotiate(&c.theirs, ours); v2 != v || f2 != f || ok2 != ok {
			t.Errorf("%s: not symmetric", c.name)
		}
	}
	a := &Hello{Version: 1, MaxVersion: 2, Features: 0b0110}
	b := &Hello{Version: 1, MaxVersion: 2, Features: 0b1100}
	if _, f, _ := Negotiate(a, b); f != 0b0100 {
		t.Errorf("features %b, want the common ones", f)
	}
}

func TestSplitLists(t *testing.T) {
	var users []UserInfo
	for i := range 1000 {
		users = append(users, UserInfo{Session: uint32(i), Name: fmt.Sprintf("user-%04d-%s", i, strings.Repeat("n", 40)), Channel: strings.Repeat("c", 50), Talking: i%2 == 0})
	}
	var sessions []SessionInfo
	for i := range 1000 {
		sessions = append(sessions, SessionInfo{Session: uint32(i), Name: fmt.Sprintf("u%d", i), Channel: "lobby", Addr: strings.Repeat("a", 100), Since: int64(i)})
	}
	for _, v := range versions() {
		for _, n := range []int{0, 1, 100, 1000} {
			parts := SplitPresence(users[:n], v)
			var got []UserInfo
			for i, p := range parts {
				b, err := AppendMessageFor(nil, p, v)
				if err != nil {
					t.Fatalf("v%d %d users part %d: %v", v, n, i, err)
				}
				if p.More != (v >= Version2 && i < len(parts)-1) {
					t.Errorf("v%d %d users part %d/%d: more %v", v, n, i, len(parts), p.More)
				}
				got = append(got, p.Users...)
				// Sizes come from EncodedLen: a part is full when the next
				// user would not have fit.
				if i < len(parts)-1 {
					next := parts[i+1].Users[0]
					if len(b)-FrameHeaderLen+next.EncodedLen(v) <= MaxMessageSize && len(p.Users) < MaxListLen {
						t.Errorf("v%d: part %d of %d bytes left room", v, i, len(b))
					}
				}
			}
			if len(got) != n || (n > 0 && !reflect.DeepEqual(got, users[:n])) {
				t.Errorf("v%d: %d users split and joined differ", v, n)
			}
			if n == 1000 && len(parts) < 2 {
				t.Errorf("v%d: 1000 users in %d parts", v, len(parts))
			}
		}
		parts := SplitSessions(sessions, v)
		var got []SessionInfo
		for i, p := range parts {
			if _, err := AppendMessageFor(nil, p, v); err != nil {
				t.Fatalf("v%d sessions part %d: %v", v, i, err)
			}
			got = append(got, p.Sessions...)
		}
		if len(parts) < 2 || !reflect.DeepEqual(got, sessions) {
			t.Errorf("v%d: sessions in %d parts, joined equal %v", v, len(parts), reflect.DeepEqual(got, sessions))
		}
	}
}

func TestEncodedLen(t *testing.T) {
	u := UserInfo{1, "alice", "lobby", true}
	ci := ChannelInfo{"ops", 2, ModeOpen, HistoryOff, 0, 0}
	si := SessionInfo{1, "alice", "lobby", "127.0.0.1:5000", 1790000000000, RoleAdmin}
	for _, v := range versions() {
		if n := len(u.appendTo(nil, v)); n != u.EncodedLen(v) {
			t.Errorf("v%d user: %d bytes, EncodedLen %d", v, n, u.EncodedLen(v))
		}
		if n := len(ci.appendTo(nil, v)); n != ci.EncodedLen(v) {
			t.Errorf("v%d channel: %d bytes, EncodedLen %d", v, n, ci.EncodedLen(v))
		}
		if n := len(si.appendTo(nil, v)); n != si.EncodedLen(v) {
			t.Errorf("v%d session: %d bytes, EncodedLen %d", v, n, si.EncodedLen(v))
		}
	}
}

// optionalTail lists the types whose last field is optional.
var optionalTail = map[MsgType]bool{TypeAuth: true, TypePing: true, TypeKick: true, TypeText: true, TypeRing: true}

// Optional trailing fields: a message without them is the message of a
// peer that predates them, and parses with the field's zero value; one with
// them parses in full, and a decoder that knows only the fields before
// them ignores them (checked by parsing into the older layout by hand).
func TestOptionalTrailingFields(t *testing.T) {
	old := appendStr(appendStr([]byte{byte(TypeAuth)}, "alice"), "pw")
	m, err := ParseMessage(old)
	if err != nil {
		t.Fatal(err)
	}
	if a := m.(*Auth); a.Name != "alice" || a.Password != "pw" || a.Ticket != nil {
		t.Errorf("auth without ticket: %+v", a)
	}
	// Encoding without a ticket is byte for byte the old layout.
	b, _ := AppendMessage(nil, &Auth{Name: "alice", Password: "pw"})
	if !bytes.Equal(b[FrameHeaderLen:], old) {
		t.Errorf("auth without ticket encodes as %x, want %x", b[FrameHeaderLen:], old)
	}
	// A version-1 decoder reads name and password and ignores the rest.
	b, _ = AppendMessage(nil, &Auth{Name: "alice", Password: "pw", Ticket: []byte("t")})
	d := decoder{b: b[FrameHeaderLen+1:], typ: TypeAuth}
	if n, p := d.str("name", MaxNameLen), d.str("password", MaxPasswordLen); n != "alice" || p != "pw" || d.err != nil {
		t.Errorf("old decoder read %q %q %v", n, p, d.err)
	}
	// A zero-length ticket that is present parses as none.
	m, err = ParseMessage(append(append([]byte(nil), old...), 0, 0))
	if err != nil || m.(*Auth).Ticket != nil {
		t.Errorf("empty ticket: %+v %v", m, err)
	}
	// Away without a ticket: the ticket is present with length 0.
	b, _ = AppendMessage(nil, &Auth{Name: "alice", Password: "pw", Away: 1500})
	if want := append(append(append([]byte(nil), old...), 0, 0), 0, 0, 5, 0xdc); !bytes.Equal(b[FrameHeaderLen:], want) {
		t.Errorf("auth with away encodes as %x, want %x", b[FrameHeaderLen:], want)
	}
	if m, err = ParseMessage(b[FrameHeaderLen:]); err != nil || m.(*Auth).Away != 1500 || m.(*Auth).Ticket != nil {
		t.Errorf("auth with away: %+v %v", m, err)
	}
	// Ping: old layout, padded layout, and the padding's size.
	b, _ = AppendMessage(nil, &Ping{Nonce: 5})
	if len(b) != FrameHeaderLen+1+8 {
		t.Errorf("unpadded ping is %d bytes", len(b))
	}
	b, _ = AppendMessage(nil, &Ping{Nonce: 5, Padding: 30})
	if len(b) != FrameHeaderLen+1+8+2+30 {
		t.Errorf("padded ping is %d bytes", len(b))
	}
	m, err = ParseMessage(b[FrameHeaderLen:])
	if err != nil || m.(*Ping).Nonce != 5 || m.(*Ping).Padding != 30 {
		t.Errorf("padded ping parsed as %+v %v", m, err)
	}
	// Padding that claims more bytes than follow is short.
	if _, err := ParseMessage(b[FrameHeaderLen : len(b)-1]); !errors.Is(err, ErrShort) {
		t.Errorf("cut padding: %v", err)
	}
}

// A Kick without the ban (from an older admin client) bans nobody; a ban
// cut short is malformed; bytes after the ban are ignored.
func TestKickBanOptional(t *testing.T) {
	old := appendStr(appendStr([]byte{byte(TypeKick)}, "bob"), "bye")
	m, err := ParseMessage(old)
	if err != nil || !reflect.DeepEqual(m, &Kick{Name: "bob", Reason: "bye"}) {
		t.Fatalf("old kick: %+v, %v", m, err)
	}
	for cut := 1; cut < 4; cut++ {
		if _, err := ParseMessage(append(append([]byte{}, old...), make([]byte, cut)...)); !errors.Is(err, ErrShort) {
			t.Errorf("ban of %d bytes: %v", cut, err)
		}
	}
	m, err = ParseMessage(append(append([]byte{}, old...), 0, 0, 0x0e, 0x10, 0xAA))
	if err != nil || m.(*Kick).BanSeconds != 3600 {
		t.Errorf("kick with a ban and a later field: %+v, %v", m, err)
	}
}

func TestReaderSkipsUnknownAndKeepsGoing(t *testing.T) {
	var b []byte
	b, _ = AppendMessage(b, &Ping{Nonce: 1})
	b, _ = AppendMessage(b, &Unknown{T: 200, Body: []byte("future")})
	// A known type with a broken body: reported, stream goes on.
	b = append(b, 0, 2, byte(TypeJoin), 0xff)
	b, _ = AppendMessage(b, &Pong{Nonce: 2})
	r := NewReader(bytes.NewReader(b))
	m, err := r.Next()
	if err != nil || m.(*Ping).Nonce != 1 {
		t.Fatalf("first: %v %v", m, err)
	}
	_, err = r.Next()
	if !errors.Is(err, ErrShort) || IsFramingError(err) {
		t.Fatalf("broken join: got %v, want a non-fatal ErrShort", err)
	}
	m, err = r.Next()
	if err != nil || m.(*Pong).Nonce != 2 {
		t.Fatalf("after broken: %v %v", m, err)
	}
	if r.Skipped() != 1 {
		t.Errorf("skipped = %d, want 1", r.Skipped())
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("end: %v, want EOF", err)
	}
}

func TestReaderFramingErrors(t *testing.T) {
	for name, in := range map[string][]byte{
		"zero length": {0, 0},
		"too long":    {0xff, 0xff, 1},
	} {
		_, err := NewReader(bytes.NewReader(in)).Next()
		if !IsFramingError(err) {
			t.Errorf("%s: %v is not a framing error", name, err)
		}
	}
	_, err := NewReader(bytes.NewReader([]byte{0, 5, 1})).Next()
	if err != io.ErrUnexpectedEOF {
		t.Errorf("truncated: %v", err)
	}
	// An error of the stream itself (a QUIC stream reset, a deadline) ends
	// the stream too: a reader that goes on after bad messages must not
	// spin on it.
	reset := errors.New("stream reset by peer")
	_, err = NewReader(iotest.ErrReader(reset)).Next()
	if !errors.Is(err, reset) || !IsFramingError(err) {
		t.Errorf("stream error: %v, IsFramingError %v; want the stream's error, fatal", err, IsFramingError(err))
	}
}

func TestLimits(t *testing.T) {
	long := strings.Repeat("x", MaxNameLen+1)
	if _, err := AppendMessage(nil, &Auth{Name: long}); !errors.Is(err, ErrTooLong) {
		t.Errorf("long name: %v", err)
	}
	if _, err := AppendMessage(nil, &Text{Text: string([]byte{0xff, 0xfe})}); !errors.Is(err, ErrBadValue) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if _, err := AppendMessage(nil, &Auth{Name: "a", Ticket: make([]byte, MaxTicketLen+1)}); !errors.Is(err, ErrTooLong) {
		t.Errorf("long ticket: %v", err)
	}
	if _, err := AppendMessage(nil, &Ticket{Ticket: make([]byte, MaxTicketLen+1)}); !errors.Is(err, ErrTooLong) {
		t.Errorf("long ticket: %v", err)
	}
	if _, err := AppendMessage(nil, &Ping{Padding: MaxPingPadding + 1}); !errors.Is(err, ErrTooLong) {
		t.Errorf("long padding: %v", err)
	}
	b := appendBytes([]byte{byte(TypeTicket)}, make([]byte, MaxTicketLen+1))
	if _, err := ParseMessage(append(b, 0, 0, 0, 1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("parse long ticket: %v", err)
	}
	// A list count that claims more entries than bytes left.
	b = []byte{byte(TypePresence), 0x0f, 0xff}
	if _, err := ParseMessage(b); !errors.Is(err, ErrShort) {
		t.Errorf("lying count: %v", err)
	}
	b = []byte{byte(TypePresence), 0xff, 0xff}
	if _, err := ParseMessage(b); !errors.Is(err, ErrTooLong) {
		t.Errorf("huge count: %v", err)
	}
	// A Welcome at the list limit with long names exceeds the message size.
	w := &Welcome{}
	for i := 0; i < MaxListLen; i++ {
		w.Channels = append(w.Channels, ChannelInfo{Name: strings.Repeat("c", 60)})
	}
	if _, err := AppendMessage(nil, w); !errors.Is(err, ErrTooLong) {
		t.Errorf("huge welcome: %v", err)
	}
}

func TestVoiceRoundTrip(t *testing.T) {
	h := VoiceHeader{Flags: FlagStart | FlagPriority, Channel: 3, Sender: 0xdeadbeef, Seq: 65535, Timestamp: 1<<32 - 960, Duration: 960}
	payload := []byte{0xfc, 1, 2, 3}
	b := AppendVoice(nil, h, payload)
	if len(b) != VoiceHeaderLen+len(payload) {
		t.Fatalf("len %d", len(b))
	}
	got, p, err := ParseVoice(b)
	if err != nil || got != h || !bytes.Equal(p, payload) {
		t.Fatalf("got %+v %x %v", got, p, err)
	}
	PutSender(b, 9)
	PutChannel(b, 4)
	PutFlags(b, FlagEnd)
	got, _, _ = ParseVoice(b)
	if got.Sender != 9 || got.Channel != 4 || got.Flags != FlagEnd {
		t.Errorf("put: %+v", got)
	}
	if s := (FlagStart | FlagEnd | 0x80).String(); s != "start|end|0x80" {
		t.Errorf("flags string %q", s)
	}
	// Flags this version does not know are kept, not refused: the receiver
	// ignores them (the relay clears them, see ClientVoiceFlags).
	h.Flags = FlagEnd | 0x80 | 0x08
	got, _, err = ParseVoice(AppendVoice(nil, h, payload))
	if err != nil || got != h {
		t.Errorf("unknown flags: %+v %v", got, err)
	}
}

func TestVoiceRejects(t *testing.T) {
	good := AppendVoice(nil, VoiceHeader{Duration: 960}, []byte{1})
	cases := map[string]struct {
		b    []byte
		want error
	}{
		"empty":       {nil, ErrShort},
		"header only": {good[:VoiceHeaderLen], ErrShort},
		"wrong kind":  {append([]byte{9}, good[1:]...), ErrBadType},
		"zero dur":    {AppendVoice(nil, VoiceHeader{}, []byte{1}), ErrBadValue},
		"too long":    {AppendVoice(nil, VoiceHeader{Duration: 960}, make([]byte, MaxVoicePayload+1)), ErrTooLong},
	}
	for name, c := range cases {
		if _, _, err := ParseVoice(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

func TestVoiceZeroAlloc(t *testing.T) {
	buf := make([]byte, 0, 256)
	payload := make([]byte, 100)
	bad := []byte{1, 2, 3}
	n := testing.AllocsPerRun(100, func() {
		b := AppendVoice(buf[:0], VoiceHeader{Seq: 1, Duration: 960}, payload)
		if _, _, err := ParseVoice(b); err != nil {
			t.Fatal(err)
		}
		PutSender(b, 5)
		_, _, _ = ParseVoice(bad)
	})
	if n != 0 {
		t.Errorf("voice hot path allocates %v times", n)
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, v := range versions() {
		for _, m := range samples() {
			b, _ := AppendMessageFor(nil, m, v)
			f.Add(v, b[FrameHeaderLen:])
		}
	}
	f.Fuzz(func(t *testing.T, v uint16, b []byte) {
		m, err := ParseMessageFor(b, v)
		if err != nil {
			return
		}
		// What parses must encode and parse to the same thing.
		out, err := AppendMessageFor(nil, m, v)
		if err != nil {
			t.Fatalf("re-encode %v: %v", m.Type(), err)
		}
		m2, err := ParseMessageFor(out[FrameHeaderLen:], v)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("unstable: %+v vs %+v (%v)", m, m2, err)
		}
	})
}

func FuzzReader(f *testing.F) {
	for _, v := range versions() {
		var all []byte
		for _, m := range samples() {
			all, _ = AppendMessageFor(all, m, v)
		}
		f.Add(v, all)
	}
	f.Fuzz(func(t *testing.T, v uint16, b []byte) {
		r := NewReader(bytes.NewReader(b))
		r.SetVersion(v)
		for i := 0; i < 1000; i++ {
			if _, err := r.Next(); err != nil && IsFramingError(err) {
				return
			}
		}
	})
}

func FuzzParseVoice(f *testing.F) {
	f.Add(AppendVoice(nil, VoiceHeader{Flags: FlagStart, Channel: 1, Sender: 2, Seq: 3, Timestamp: 4, Duration: 960}, []byte{0xfc, 0xff}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, p, err := ParseVoice(b)
		if err != nil {
			return
		}
		if out := AppendVoice(nil, h, p); !bytes.Equal(out, b) {
			t.Fatalf("re-encode differs")
		}
	})
}

func BenchmarkAppendVoice(b *testing.B) {
	buf := make([]byte, 0, 256)
	payload := make([]byte, 80)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendVoice(buf[:0], VoiceHeader{Seq: 1, Duration: 960}, payload)
	}
}

func BenchmarkParseVoice(b *testing.B) {
	d := AppendVoice(nil, VoiceHeader{Seq: 1, Duration: 960}, make([]byte, 80))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseVoice(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendText(b *testing.B) {
	buf := make([]byte, 0, 512)
	m := &Text{From: 1, FromName: "alice", Channel: "lobby", Time: 1, Text: "the forklift is in bay 4"}
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendMessage(buf[:0], m)
	}
}

func BenchmarkParseText(b *testing.B) {
	d, _ := AppendMessage(nil, &Text{From: 1, FromName: "alice", Channel: "lobby", Time: 1, Text: "the forklift is in bay 4"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessage(d[FrameHeaderLen:]); err != nil {
			b.Fatal(err)
		}
	}
}

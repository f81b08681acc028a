package proto

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// samples holds one filled-in value of every message type.
func samples() []Message {
	return []Message{
		&Hello{Version: Version, Software: "hark-test/1"},
		&Auth{Name: "alice", Password: "s3cret", Ticket: []byte{1, 2, 3, 0xff}},
		&Welcome{Session: 7, Name: "alice", Roles: RolePage | RoleAdmin, Server: "hark relay",
			DefaultChannel: "lobby", Channels: []ChannelInfo{{"lobby", 1, ModePTT}, {"ops", 2, ModeOpen}}},
		&Join{Channel: "ops"},
		&Joined{ChannelInfo{"ops", 2, ModeOpen}},
		&Leave{},
		&Presence{Users: []UserInfo{{1, "alice", "lobby", true}, {2, "bob", "", false}}},
		&PresenceChange{Kind: PresenceMoved, User: UserInfo{2, "bob", "ops", false}},
		&FloorRequest{Channel: 1},
		&FloorGrant{Channel: 1, MaxMillis: 60000},
		&FloorDeny{Channel: 1, Holder: 1, HolderName: "alice", Reason: "busy: alice is talking"},
		&FloorRelease{Channel: 1},
		&Talking{Channel: 1, Session: 1, Name: "alice", Talking: true, Priority: true},
		&Text{From: 1, FromName: "alice", Channel: "lobby", To: "bob", Time: 1790000000000, Text: "héllo"},
		&Ring{From: 1, FromName: "alice", Time: 1790000000001, Text: "fire drill"},
		&PageStart{},
		&PageStop{},
		&Page{From: 3, FromName: "desk", Active: true},
		&Error{Code: CodeForbidden, About: TypePageStart, Text: "you may not page"},
		&Ping{Nonce: 1 << 60, Padding: 24},
		&Pong{Nonce: 42},
		&ListSessions{},
		&Sessions{Sessions: []SessionInfo{{1, "alice", "lobby", "127.0.0.1:5000", 1790000000000, RoleAdmin}}},
		&Kick{Name: "bob", Reason: "testing"},
		&Bye{Code: CodeReplaced, Text: "you logged in from another place"},
		&Ticket{Ticket: []byte{1, 0, 0xfe, 7}, Lifetime: 86400},
	}
}

func TestRoundTrip(t *testing.T) {
	seen := map[MsgType]bool{}
	for _, m := range samples() {
		b, err := AppendMessage(nil, m)
		if err != nil {
			t.Fatalf("%v: %v", m.Type(), err)
		}
		got, err := ParseMessage(b[FrameHeaderLen:])
		if err != nil {
			t.Fatalf("%v: parse: %v", m.Type(), err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%v: got %+v, want %+v", m.Type(), got, m)
		}
		if seen[m.Type()] {
			t.Errorf("duplicate type %v", m.Type())
		}
		seen[m.Type()] = true
		if strings.HasPrefix(m.Type().String(), "type-") {
			t.Errorf("type %d has no name", m.Type())
		}
		// Every strict prefix of a non-empty body must fail, not panic,
		// except the message without its optional trailing field, which
		// must then encode to exactly that prefix.
		for i := 1; i < len(b)-FrameHeaderLen; i++ {
			prefix := b[FrameHeaderLen : FrameHeaderLen+i]
			p, err := ParseMessage(prefix)
			if err != nil || len(m.AppendBody(nil)) == 0 {
				continue
			}
			if out, _ := AppendMessage(nil, p); optionalTail[m.Type()] && bytes.Equal(out[FrameHeaderLen:], prefix) {
				continue
			}
			t.Errorf("%v: prefix of %d bytes parsed", m.Type(), i)
		}
	}
	for ty := MsgType(1); ty < 64; ty++ {
		if newMessage(ty) != nil && !seen[ty] {
			t.Errorf("type %v has no sample", ty)
		}
	}
}

// optionalTail lists the types whose last field is optional.
var optionalTail = map[MsgType]bool{TypeAuth: true, TypePing: true}

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
		"bad flags":   {append([]byte{1, 0x80}, good[2:]...), ErrBadValue},
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
	for _, m := range samples() {
		b, _ := AppendMessage(nil, m)
		f.Add(b[FrameHeaderLen:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			return
		}
		// What parses must encode and parse to the same thing.
		out, err := AppendMessage(nil, m)
		if err != nil {
			t.Fatalf("re-encode %v: %v", m.Type(), err)
		}
		m2, err := ParseMessage(out[FrameHeaderLen:])
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("unstable: %+v vs %+v (%v)", m, m2, err)
		}
	})
}

func FuzzReader(f *testing.F) {
	var all []byte
	for _, m := range samples() {
		all, _ = AppendMessage(all, m)
	}
	f.Add(all)
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
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

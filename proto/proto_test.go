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
		&Auth{Name: "alice", Password: "s3cret"},
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
		&Ping{Nonce: 1 << 60},
		&Pong{Nonce: 42},
		&ListSessions{},
		&Sessions{Sessions: []SessionInfo{{1, "alice", "lobby", "127.0.0.1:5000", 1790000000000, RoleAdmin}}},
		&Kick{Name: "bob", Reason: "testing", BanSeconds: 600},
		&Bye{Code: CodeReplaced, Text: "you logged in from another place"},
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
		// except one that ends where an optional trailing field begins.
		for i := 1; i < len(b)-FrameHeaderLen; i++ {
			if optionalEnd(m, i) {
				continue
			}
			if _, err := ParseMessage(b[FrameHeaderLen : FrameHeaderLen+i]); err == nil && len(m.AppendBody(nil)) > 0 {
				t.Errorf("%v: prefix of %d bytes parsed", m.Type(), i)
			}
		}
	}
	for ty := MsgType(1); ty < 64; ty++ {
		if newMessage(ty) != nil && !seen[ty] {
			t.Errorf("type %v has no sample", ty)
		}
	}
}

// optionalEnd reports whether n bytes of m (type byte and body) end just
// before an optional trailing field (the message an older peer sends).
func optionalEnd(m Message, n int) bool {
	if k, ok := m.(*Kick); ok {
		return n == 1+len((&Kick{Name: k.Name, Reason: k.Reason}).AppendBody(nil))
	}
	return false
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
}

func TestLimits(t *testing.T) {
	long := strings.Repeat("x", MaxNameLen+1)
	if _, err := AppendMessage(nil, &Auth{Name: long}); !errors.Is(err, ErrTooLong) {
		t.Errorf("long name: %v", err)
	}
	if _, err := AppendMessage(nil, &Text{Text: string([]byte{0xff, 0xfe})}); !errors.Is(err, ErrBadValue) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	// A list count that claims more entries than bytes left.
	b := []byte{byte(TypePresence), 0x0f, 0xff}
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

package proto

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/hark-intercom/hark/internal/protov1"
)

// These tests hold today's code against a frozen copy of the version-1 code
// (internal/protov1): what a v1 box sends must parse, and what we send a v1
// peer must be exactly what a v1 encoder would have sent.

// TestV1PeerReadsWhatWeSend: every message we encode for a v1 peer parses
// with the v1 decoder and re-encodes with the v1 encoder to the same bytes.
func TestV1PeerReadsWhatWeSend(t *testing.T) {
	for _, m := range samples() {
		if sinceV1[m.Type()] {
			continue // a v1 peer skips a type it does not know (TestV1SkipsNewTypes)
		}
		b, err := AppendMessageFor(nil, m, Version1)
		if err != nil {
			t.Fatal(err)
		}
		old, err := protov1.ParseMessage(b[FrameHeaderLen:])
		if err != nil {
			t.Errorf("%v: the v1 decoder refuses it: %v", m.Type(), err)
			continue
		}
		back, err := protov1.AppendMessage(nil, old)
		if err != nil {
			t.Fatalf("%v: v1 re-encode: %v", m.Type(), err)
		}
		want := b
		if v1m := asV1Reads(m); v1m != m {
			// Optional fields added since v1 are skipped by a v1 decoder.
			want, _ = AppendMessageFor(nil, v1m, Version1)
			if !bytes.HasPrefix(b[FrameHeaderLen:], want[FrameHeaderLen:]) {
				t.Errorf("%v: the v1 fields are not a prefix: %x vs %x", m.Type(), want, b)
			}
		}
		if m.Type() == TypeHello {
			// The v1 decoder skips Hello's v2 fields, as designed.
			want = back
			if !bytes.HasPrefix(b[FrameHeaderLen:], back[FrameHeaderLen:]) {
				t.Errorf("hello: v1 fields differ: %x vs %x", back, b)
			}
		}
		if !bytes.Equal(back, want) {
			t.Errorf("%v: a v1 peer reads something else:\n ours %x\n v1   %x", m.Type(), b, back)
		}
	}
}

// TestWeReadWhatV1Sends: every message a v1 encoder produces parses as the
// same message with our v1 decoder, and our v1 encoding is byte for byte
// the v1 encoder's.
func TestWeReadWhatV1Sends(t *testing.T) {
	for _, m := range samples() {
		if sinceV1[m.Type()] {
			continue
		}
		ours, _ := AppendMessageFor(nil, m, Version1)
		old, err := protov1.ParseMessage(ours[FrameHeaderLen:])
		if err != nil {
			t.Fatalf("%v: %v", m.Type(), err)
		}
		b, err := protov1.AppendMessage(nil, old) // a v1 peer's bytes
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseMessageFor(b[FrameHeaderLen:], Version1)
		if err != nil {
			t.Errorf("%v: we refuse what a v1 peer sends: %v", m.Type(), err)
			continue
		}
		want := asV1Reads(asSentIn(m, Version1))
		if h, ok := want.(*Hello); ok {
			want = &Hello{Version: h.Version, Software: h.Software, MaxVersion: h.Version}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: got %+v, want %+v", m.Type(), got, want)
		}
	}
	// The Reader, set to v1, reads a v1 stream.
	var stream []byte
	var sent []Message
	for _, m := range samples() {
		if sinceV1[m.Type()] {
			continue
		}
		sent = append(sent, m)
		ours, _ := AppendMessageFor(nil, m, Version1)
		old, _ := protov1.ParseMessage(ours[FrameHeaderLen:])
		stream, _ = protov1.AppendMessage(stream, old)
	}
	r := NewReader(bytes.NewReader(stream))
	r.SetVersion(Version1)
	for _, m := range sent {
		got, err := r.Next()
		if err != nil || got.Type() != m.Type() {
			t.Fatalf("reader: %v %v, want %v", got, err, m.Type())
		}
	}
}

// TestHelloAcrossVersions: a v1 relay accepts our Hello as a v1 Hello (it
// refuses any version but 1), and a v1 peer's Hello negotiates version 1.
func TestHelloAcrossVersions(t *testing.T) {
	b, _ := AppendMessage(nil, NewHello("new client"))
	m, err := protov1.ParseMessage(b[FrameHeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	if h := m.(*protov1.Hello); h.Version != protov1.Version || h.Software != "new client" {
		t.Errorf("a v1 relay reads our hello as %+v", h)
	}
	old, _ := protov1.AppendMessage(nil, &protov1.Hello{Version: protov1.Version, Software: "old box"})
	nm, err := ParseMessage(old[FrameHeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	v, f, ok := Negotiate(NewHello("relay"), nm.(*Hello))
	if !ok || v != Version1 || f != 0 {
		t.Errorf("with a v1 peer: version %d features %x ok %v", v, f, ok)
	}
}

// TestVoiceAcrossVersions: v1 and v2 voice headers are the same; flags a
// client may set and the relay forwards are all known to a v1 receiver.
func TestVoiceAcrossVersions(t *testing.T) {
	h := VoiceHeader{Flags: FlagStart | FlagEnd | FlagPriority, Channel: 3, Sender: 4, Seq: 5, Timestamp: 6, Duration: 960}
	b := AppendVoice(nil, h, []byte{0xfc})
	oh, p, err := protov1.ParseVoice(b)
	if err != nil || uint8(oh.Flags) != uint8(h.Flags) || oh.Channel != 3 || oh.Sender != 4 || !bytes.Equal(p, []byte{0xfc}) {
		t.Errorf("v1 reads %+v %x %v", oh, p, err)
	}
	forwarded := (^VoiceFlags(0))&ClientVoiceFlags | FlagPriority
	b = AppendVoice(nil, VoiceHeader{Flags: forwarded, Duration: 960}, []byte{1})
	if _, _, err := protov1.ParseVoice(b); err != nil {
		t.Errorf("a v1 receiver refuses the flags a relay forwards (%v): %v", forwarded, err)
	}
}

// sinceV1 lists the message types added after version 1.
var sinceV1 = map[MsgType]bool{TypeTicket: true, TypeTextAck: true, TypeHistoryQuery: true,
	TypeHistory: true, TypeHistoryRead: true, TypeFetch: true, TypeRecording: true,
	TypeChannelSet: true, TypeChannelSettings: true, TypeAlarmAck: true,
	TypeMonitor: true, TypeMonitoring: true, TypeWhisperStart: true, TypeWhisperStop: true, TypeWhisper: true,
	TypeGroupCallStart: true}

// asV1Reads returns m as a v1 decoder sees it: without the optional
// trailing fields added since version 1 (m itself when it has none set).
func asV1Reads(m Message) Message {
	switch x := m.(type) {
	case *Auth:
		if x.Ticket != nil || x.Away != 0 {
			c := *x
			c.Ticket, c.Away = nil, 0
			return &c
		}
	case *Kick:
		if x.BanSeconds != 0 {
			c := *x
			c.BanSeconds = 0
			return &c
		}
	case *Ping:
		if x.Padding != 0 {
			c := *x
			c.Padding = 0
			return &c
		}
	}
	return m
}

// TestV1SkipsNewTypes: a v1 peer's Reader skips the message types added
// since, and reads what follows them.
func TestV1SkipsNewTypes(t *testing.T) {
	var stream []byte
	for _, m := range samples() {
		if sinceV1[m.Type()] {
			stream, _ = AppendMessageFor(stream, m, Version1)
		}
	}
	stream, _ = AppendMessageFor(stream, &Pong{Nonce: 9}, Version1)
	r := protov1.NewReader(bytes.NewReader(stream))
	got, err := r.Next()
	if p, ok := got.(*protov1.Pong); err != nil || !ok || p.Nonce != 9 {
		t.Fatalf("v1 reader: %+v, %v; want the pong after the new types", got, err)
	}
}

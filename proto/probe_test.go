package proto

import (
	"errors"
	"testing"
)

func TestProbeRoundTrip(t *testing.T) {
	h := ProbeHeader{Seq: 7, Sent: -12345678901}
	b, err := AppendProbe(nil, h, 100)
	if err != nil || len(b) != 100 {
		t.Fatalf("append: %d bytes, %v", len(b), err)
	}
	got, err := ParseProbe(b)
	if err != nil || got != h {
		t.Fatalf("parse: %+v, %v", got, err)
	}
	MarkProbeReply(b)
	if got, _ := ParseProbe(b); got.Flags&ProbeReply == 0 || got.Seq != 7 {
		t.Errorf("reply: %+v", got)
	}
	if _, _, err := ParseVoice(b); err == nil {
		t.Error("a probe parses as voice")
	}
	for _, size := range []int{ProbeHeaderLen - 1, MaxProbeLen + 1} {
		if _, err := AppendProbe(nil, h, size); !errors.Is(err, ErrBadValue) {
			t.Errorf("size %d: %v", size, err)
		}
	}
	if _, err := ParseProbe(b[:ProbeHeaderLen-1]); !errors.Is(err, ErrShort) {
		t.Errorf("short: %v", err)
	}
	v := AppendVoice(nil, VoiceHeader{Seq: 1, Duration: 960}, []byte{1, 2, 3})
	if _, err := ParseProbe(v); !errors.Is(err, ErrBadType) {
		t.Errorf("voice as probe: %v", err)
	}
}

func FuzzParseProbe(f *testing.F) {
	b, _ := AppendProbe(nil, ProbeHeader{Flags: ProbeReply, Seq: 3, Sent: 99}, 40)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseProbe(b)
		if err != nil {
			return
		}
		out, err := AppendProbe(nil, h, len(b))
		if err != nil {
			t.Fatal(err)
		}
		if h2, _ := ParseProbe(out); h2 != h {
			t.Fatalf("re-parse differs: %+v vs %+v", h2, h)
		}
	})
}

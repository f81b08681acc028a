package history

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/proto"
)

// encode encodes pcm into 20 ms packets at their offsets.
func encode(t *testing.T, pcm []int16) []proto.RecPacket {
	t.Helper()
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960})
	if err != nil {
		t.Fatal(err)
	}
	var out []proto.RecPacket
	for i := 0; i+960 <= len(pcm); i += 960 {
		b, err := enc.Encode(pcm[i:i+960], make([]byte, 0, codec.MaxPacketBytes))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, proto.RecPacket{Offset: uint32(i / 48), Opus: b})
	}
	return out
}

func TestDecodeGapsAndPauses(t *testing.T) {
	speech := audiotest.Speech(t, "the history keeps every word")
	speech = speech[:len(speech)/960*960]
	pkts := encode(t, speech)
	// A pause of 700 ms after the first half: the second half's offsets
	// move on; and one packet lost in the second half.
	half := len(pkts) / 2
	var rec []proto.RecPacket
	for i, p := range pkts {
		if i >= half {
			p.Offset += 700
		}
		if i == half+10 {
			continue // lost
		}
		rec = append(rec, p)
	}
	// A packet that does not decode is concealed, not fatal.
	rec[3].Opus = []byte{0xff, 0xff, 0xff}
	pcm, st, err := Decode(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := len(speech) + 700*48
	if len(pcm) != want {
		t.Fatalf("decoded %d samples, want %d", len(pcm), want)
	}
	if st.Silence != 700*48 || st.Concealed != 2*960 || st.Bad != 1 || st.Packets != len(rec)-1 {
		t.Errorf("stats %+v", st)
	}
	pause := pcm[half*960 : half*960+700*48]
	for i, v := range pause {
		if v != 0 {
			t.Fatalf("sample %d of the pause is %d, want silence", i, v)
		}
	}
	// The sound is the speech (without the pause).
	got := append(append([]int16(nil), pcm[:half*960]...), pcm[half*960+700*48:]...)
	audiotest.RequireCorrelation(t, speech, got, 48000, 0.9)

	var buf bytes.Buffer
	if err := WriteWAV(&buf, pcm); err != nil {
		t.Fatal(err)
	}
	a, err := wav.Decode(&buf)
	if err != nil || a.Format.Rate != 48000 || a.Format.Channels != 1 || a.Format.Bits != 16 || a.Frames() != len(pcm) {
		t.Fatalf("WAV: %+v, %v", a, err)
	}
}

func TestDecodeRefusesAbsurdGap(t *testing.T) {
	pkts := encode(t, make([]int16, 960))
	pkts = append(pkts, proto.RecPacket{Offset: 1 << 31, Opus: pkts[0].Opus})
	if _, _, err := Decode(pkts); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("gap of weeks: err = %v", err)
	}
}

func TestPlayPacesAndFlags(t *testing.T) {
	pkts := encode(t, make([]int16, 960*5))
	pkts[4].Offset += 100 // a pause before the last
	batches := make(chan []proto.RecPacket, 2)
	batches <- pkts[:2]
	batches <- pkts[2:]
	close(batches)
	type frame struct {
		h  proto.VoiceHeader
		at time.Time
	}
	var got []frame
	start := time.Now()
	err := Play(context.Background(), batches, func(h proto.VoiceHeader, opus []byte, at time.Time) {
		got = append(got, frame{h, at})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("%d frames fed, want 5", len(got))
	}
	for i, f := range got {
		wantFlags := proto.VoiceFlags(0)
		if i == 0 {
			wantFlags = proto.FlagStart
		}
		if i == 4 {
			wantFlags = proto.FlagEnd
		}
		if f.h.Flags != wantFlags || f.h.Seq != uint16(i) || f.h.Sender != ReplayTalker || f.h.Duration != 960 ||
			f.h.Timestamp != pkts[i].Offset*48 {
			t.Errorf("frame %d: %+v", i, f.h)
		}
		// Never before its time (a lower bound, not a timed assertion).
		if min := time.Duration(pkts[i].Offset) * time.Millisecond; f.at.Sub(start) < min {
			t.Errorf("frame %d fed %v after the start, before its offset %v", i, f.at.Sub(start), min)
		}
	}
}

func TestPlayStopsWithContext(t *testing.T) {
	pkts := encode(t, make([]int16, 960*3))
	pkts[2].Offset = 3_600_000 // an hour later: only ctx can end the wait
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := PlayAll(ctx, pkts, func(proto.VoiceHeader, []byte, time.Time) {
		n++
		if n == 2 {
			cancel()
		}
	})
	if err != context.Canceled || n != 2 {
		t.Errorf("Play = %v after %d frames, want canceled after 2", err, n)
	}
}

func TestLine(t *testing.T) {
	loc := time.FixedZone("here", 3600)
	ts := time.Date(2026, 12, 7, 9, 2, 3, 0, time.UTC).UnixMilli()
	for _, tc := range []struct {
		it   proto.HistoryItem
		want string
	}{
		{proto.HistoryItem{ID: 7, Kind: proto.ItemText, Time: ts, From: "bob", Channel: "lobby", Text: "hi"},
			"7      2026-12-07 10:02:03  bob in lobby: hi"},
		{proto.HistoryItem{ID: 8, Kind: proto.ItemPrivate, Time: ts, From: "bob", To: "carol", Text: "psst"},
			"8      2026-12-07 10:02:03  bob to you (private): psst"},
		{proto.HistoryItem{ID: 9, Kind: proto.ItemVoice, Flags: proto.ItemAudio | proto.ItemCut, Time: ts, From: "bob", Channel: "ops", Duration: 4240},
			"9      2026-12-07 10:02:03  bob talked in ops for 4.2s (cut: only the start was kept)  [talk play 9]"},
		{proto.HistoryItem{ID: 12, Kind: proto.ItemPrivate, Flags: proto.ItemWaiting, Time: ts, From: "carol", To: "dave", Text: "lunch?"},
			"12     2026-12-07 10:02:03  carol to dave (private): lunch? [waiting: dave has not logged in since]"},
		{proto.HistoryItem{ID: 10, Kind: proto.ItemRing, Time: ts, From: "bob", Text: "lunch"},
			"10     2026-12-07 10:02:03  ring from bob: lunch"},
		{proto.HistoryItem{ID: 11, Kind: proto.ItemPage, Flags: proto.ItemAudio, Time: ts, From: "boss", Duration: 3000},
			"11     2026-12-07 10:02:03  page from boss to all channels for 3s  [talk play 11]"},
	} {
		if got := Line(tc.it, "carol", loc); got != tc.want {
			t.Errorf("Line:\n got %q\nwant %q", got, tc.want)
		}
	}
}

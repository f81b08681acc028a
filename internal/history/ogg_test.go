package history

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/internal/webm"
	"github.com/hark-intercom/hark/proto"
)

// An Ogg export keeps the stored packets as they are, fills pauses with
// silence packets (so the timing survives), parses with the demuxer and
// plays in ffmpeg as the same sound as Decode makes.
func TestWriteOgg(t *testing.T) {
	speech := audiotest.Speech(t, "one two three four")
	speech = speech[:len(speech)/960*960]
	pkts := encode(t, speech)
	half := len(pkts) / 2
	for i := half; i < len(pkts); i++ {
		pkts[i].Offset += 500 // a pause of half a second
	}
	it := proto.HistoryItem{ID: 5, Kind: proto.ItemVoice, Flags: proto.ItemAudio, From: "bob", Channel: "ops", Time: 1_700_000_000_000, Duration: uint32(len(speech)/48 + 500)}
	var buf bytes.Buffer
	if err := WriteOgg(&buf, it, pkts); err != nil {
		t.Fatal(err)
	}
	d := webm.NewOgg(webm.Config{})
	got, err := d.Push(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if want := len(pkts) + 500/20; len(got) != want {
		t.Fatalf("%d packets in the file, want %d (the stored ones and 25 of silence)", len(got), want)
	}
	for i := range half {
		if !bytes.Equal(got[i].Data, pkts[i].Opus) || got[i].Timestamp != int64(pkts[i].Offset)*48 {
			t.Fatalf("packet %d changed: ts %d, want %d", i, got[i].Timestamp, pkts[i].Offset*48)
		}
	}
	last := got[len(got)-1]
	if !bytes.Equal(last.Data, pkts[len(pkts)-1].Opus) || last.Timestamp != int64(pkts[len(pkts)-1].Offset)*48 {
		t.Errorf("the last packet is at %d samples, want %d", last.Timestamp, pkts[len(pkts)-1].Offset*48)
	}

	audiotest.RequireTools(t, "ffmpeg")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "x.ogg"), filepath.Join(dir, "x.wav")
	if err := os.WriteFile(in, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("ffmpeg", "-loglevel", "error", "-i", in, "-ar", "48000", "-ac", "1", "-c:a", "pcm_s16le", out).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	a, err := wav.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	played, _ := wav.ToMono48k(a)
	ref, _, err := Decode(pkts)
	if err != nil {
		t.Fatal(err)
	}
	if d := len(played) - len(ref); d < -960 || d > 960 {
		t.Errorf("ffmpeg plays %d samples, the recording has %d", len(played), len(ref))
	}
	audiotest.RequireCorrelation(t, ref, played, 48000, 0.95)
	probe, _ := exec.Command("ffprobe", "-loglevel", "error", "-show_entries", "stream_tags", in).CombinedOutput()
	if !strings.Contains(strings.ToLower(string(probe)), "artist=bob") {
		t.Errorf("ffprobe does not see the comments: %s", probe)
	}
}

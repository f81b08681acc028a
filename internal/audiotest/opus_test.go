package audiotest

import (
	"testing"
	"time"

	"github.com/hraban/opus"
)

// throughOpus encodes pcm (48 kHz mono) in 20 ms frames at bitrate and
// decodes it again, like one hop of Hark's voice path.
func throughOpus(t *testing.T, pcm []int16, bitrate int) []int16 {
	t.Helper()
	enc, err := opus.NewEncoder(rate, 1, opus.AppVoIP)
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.SetBitrate(bitrate); err != nil {
		t.Fatal(err)
	}
	dec, err := opus.NewDecoder(rate, 1)
	if err != nil {
		t.Fatal(err)
	}
	const frame = 960
	var out []int16
	pkt := make([]byte, 1500)
	for i := 0; i+frame <= len(pcm); i += frame {
		n, err := enc.Encode(pcm[i:i+frame], pkt)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]int16, frame)
		m, err := dec.Decode(pkt[:n], buf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, buf[:m]...)
	}
	return out
}

// The acceptance metric on real speech through real Opus: same speech
// scores high, different speech low.
func TestEnvelopeCorrelationThroughOpus(t *testing.T) {
	ref := Speech(t, "Hark, this is a test of the intercom.")
	for _, br := range []int{12000, 24000} {
		got := throughOpus(t, concat(silence(200*time.Millisecond), ref), br)
		c, lag := EnvelopeCorrelation(ref, got, rate)
		t.Logf("opus %d bit/s: correlation %.3f, lag %v", br, c, lag)
		if c < 0.9 {
			t.Errorf("opus %d bit/s: correlation %.3f, want >= 0.9", br, c)
		}
		if lag < 200*time.Millisecond || lag > 215*time.Millisecond {
			t.Errorf("opus %d bit/s: lag %v, want 200 ms + codec delay", br, lag)
		}
	}
	other := throughOpus(t, Speech(t, "Seven green bottles hanging on the wall, and nobody answered."), 24000)
	if c, _ := EnvelopeCorrelation(ref, other, rate); c > 0.6 {
		t.Errorf("different speech through opus: %.3f", c)
	}
}

// Clicks survive Opus and are found with a consistent offset (the codec's
// look-ahead), so mouth-to-ear can be measured to well under a millisecond.
func TestFindClickThroughOpus(t *testing.T) {
	at := []time.Duration{500 * time.Millisecond, 1234 * time.Millisecond, 2017 * time.Millisecond}
	got := throughOpus(t, ClickTrack(rate, 3*time.Second, at...), 24000)
	found := FindClicks(got, rate, 0.25, 0)
	if len(found) != len(at) {
		t.Fatalf("found %d clicks (%v), want %d", len(found), found, len(at))
	}
	d0 := found[0] - at[0]
	t.Logf("opus delay %v", d0)
	if d0 < 0 || d0 > 10*time.Millisecond {
		t.Errorf("delay %v, want 0–10 ms (Opus look-ahead)", d0)
	}
	for i := range at {
		if d := found[i] - at[i] - d0; d < -300*time.Microsecond || d > 300*time.Microsecond {
			t.Errorf("click %d: delay %v differs from %v", i, found[i]-at[i], d0)
		}
	}
}

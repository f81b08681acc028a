package audiotest

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/resample"
	"github.com/hark-intercom/hark/internal/wav"
)

const rate = 48000

// babble is a speech-like test signal: noise bursts ("syllables") of random
// length and level separated by short gaps, seeded for repeatability.
func babble(seed uint64, d time.Duration) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	n := int(d.Seconds() * rate)
	out := make([]int16, n)
	for i := 0; i < n; {
		syl := int((0.08 + 0.22*rng.Float64()) * rate)
		amp := 0.05 + 0.4*rng.Float64()
		for j := 0; j < syl && i+j < n; j++ {
			ramp := math.Sin(math.Pi * float64(j) / float64(syl))
			out[i+j] = int16(max(-32768, min(32767, rng.NormFloat64()*amp*ramp*32768/3)))
		}
		i += syl + int((0.02+0.15*rng.Float64())*rate)
	}
	return out
}

func silence(d time.Duration) []int16 { return make([]int16, int(d.Seconds()*rate)) }

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func gain(x []int16, g float64) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, float64(v)*g)))
	}
	return out
}

func addNoise(x []int16, level float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 2))
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, float64(v)+rng.NormFloat64()*level*32768)))
	}
	return out
}

func TestEnvelope(t *testing.T) {
	x := make([]float32, rate+100)
	for i := range x {
		x[i] = float32(0.5 * math.Sin(2*math.Pi*1000*float64(i)/rate))
	}
	e := Envelope(x, rate, 10*time.Millisecond)
	if len(e) != 100 {
		t.Fatalf("len %d, want 100", len(e))
	}
	for i, v := range e {
		if math.Abs(v-0.5/math.Sqrt2) > 1e-3 {
			t.Fatalf("window %d: %v", i, v)
		}
	}
	// int16 is scaled to full scale 1.
	y := make([]int16, 480)
	for i := range y {
		y[i] = 16384
	}
	if e := Envelope(y, rate, 10*time.Millisecond); len(e) != 1 || math.Abs(e[0]-0.5) > 1e-9 {
		t.Fatalf("int16 envelope %v", e)
	}
}

func TestAlign(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	ref := make([]float64, 500)
	for i := range ref {
		ref[i] = rng.Float64()
	}
	for _, lag := range []int{0, 1, 17, 300, -40, -200} {
		got := make([]float64, 900)
		for i := range got {
			got[i] = 0.1 * rng.Float64()
		}
		for i, v := range ref {
			if j := i + lag; j >= 0 && j < len(got) {
				got[j] = 3 * v
			}
		}
		l, score := Align(ref, got)
		if l != lag {
			t.Errorf("lag %d: found %d (score %.2f)", lag, l, score)
		}
	}
}

func TestEnvelopeCorrelationAlignedCopies(t *testing.T) {
	ref := concat(silence(500*time.Millisecond), babble(1, 4*time.Second), silence(500*time.Millisecond))
	// 8 kHz round trip: a band-limited copy, like a narrowband codec.
	narrow, _ := resample.Int16(ref, rate, 8000)
	narrow, _ = resample.Int16(narrow, 8000, rate)
	cases := []struct {
		name string
		got  []int16
		lag  time.Duration
	}{
		{"identical", ref, 0},
		{"late-quiet-padded", concat(silence(1234*time.Millisecond), gain(ref, 0.2), silence(700*time.Millisecond)), 1234 * time.Millisecond},
		{"early-cut", gain(ref[int(0.8*rate):], 1.5), -800 * time.Millisecond},
		{"noisy", concat(silence(63*time.Millisecond), addNoise(ref, 0.003, 5)), 63 * time.Millisecond},
		{"narrowband", concat(silence(20*time.Millisecond), narrow), 20 * time.Millisecond},
		{"recording-cut-short", concat(silence(300*time.Millisecond), ref[:len(ref)*2/3]), 300 * time.Millisecond},
	}
	for _, c := range cases {
		corr, lag := EnvelopeCorrelation(ref, c.got, rate)
		if corr < 0.95 {
			t.Errorf("%s: correlation %.3f, want >= 0.95", c.name, corr)
		}
		if d := lag - c.lag; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("%s: lag %v, want %v", c.name, lag, c.lag)
		}
	}
}

// The metric must be able to fail: unrelated signals score low.
func TestEnvelopeCorrelationUnrelated(t *testing.T) {
	ref := concat(silence(500*time.Millisecond), babble(1, 4*time.Second), silence(500*time.Millisecond))
	white := addNoise(silence(5*time.Second), 0.2, 9)
	other := concat(silence(500*time.Millisecond), babble(2, 4*time.Second), silence(500*time.Millisecond))
	for name, got := range map[string][]int16{
		"white-noise":    white,
		"other-babble":   other,
		"silence":        silence(5 * time.Second),
		"reversed":       reverse(ref),
		"noise-vs-noise": addNoise(silence(5*time.Second), 0.2, 10),
	} {
		r := ref
		if name == "noise-vs-noise" {
			r = white
		}
		corr, _ := EnvelopeCorrelation(r, got, rate)
		t.Logf("%s: %.3f", name, corr)
		// Two unrelated 4 s signals have ~20 independent syllables, and the
		// best of ~400 lags is taken, so chance alone reaches ~0.5; an
		// aligned copy scores > 0.95 (above).
		limit := 0.65
		if strings.Contains(name, "noise") {
			limit = 0.3
		}
		if corr > limit {
			t.Errorf("%s: correlation %.3f, want < %.2f", name, corr, limit)
		}
	}
	if c, _ := EnvelopeCorrelation(ref[:100], ref[:100], rate); c != 0 {
		t.Errorf("too short: %v", c)
	}
}

func reverse(x []int16) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[len(x)-1-i] = v
	}
	return out
}

func TestSpeech(t *testing.T) {
	a := Speech(t, "Hark, this is a test of the intercom.")
	if d := time.Duration(len(a)) * time.Second / rate; d < 2*time.Second || d > 6*time.Second {
		t.Fatalf("speech lasts %v", d)
	}
	// 0.5 s of silence both sides.
	for _, part := range [][]int16{a[:rate*45/100], a[len(a)-rate*45/100:]} {
		if e := Envelope(part, rate, 100*time.Millisecond); maxOf(e) > 0.003 {
			t.Errorf("padding not silent: %v", maxOf(e))
		}
	}
	if e := Envelope(a, rate, 100*time.Millisecond); maxOf(e) < 0.05 {
		t.Errorf("speech too quiet: %v", maxOf(e))
	}
	// Cached: same content, distinct copy.
	b := Speech(t, "Hark, this is a test of the intercom.")
	b[0] = 1
	if c := Speech(t, "Hark, this is a test of the intercom."); c[0] != 0 || len(c) != len(a) {
		t.Error("cache returned a shared or different slice")
	}

	// The same speech through an 8 kHz 8-bit stereo WAV correlates; other speech does not.
	p := WriteWAV(t, wav.Format{Rate: 8000, Channels: 2, Bits: 8}, a, rate)
	w, err := wav.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := wav.ToMono48k(w)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := EnvelopeCorrelation(a, concat(silence(77*time.Millisecond), back), rate); c < 0.9 {
		t.Errorf("speech through 8 kHz 8-bit: correlation %.3f, want >= 0.9", c)
	}
	other := Speech(t, "Seven green bottles hanging on the wall, and nobody answered.")
	c, _ := EnvelopeCorrelation(a, other, rate)
	t.Logf("different sentences: %.3f", c)
	if c > 0.6 {
		t.Errorf("different sentences: correlation %.3f, want < 0.6", c)
	}
	f := SpeechFile(t, "Hark, this is a test of the intercom.")
	w, err = wav.ReadFile(f)
	if err != nil || w.SampleRate != 48000 || w.Channels != 1 || w.Frames() != len(a) {
		t.Fatalf("SpeechFile: %v %+v", err, w)
	}
}

func maxOf(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

func TestFindClick(t *testing.T) {
	at := []time.Duration{1234567 * time.Microsecond, 2500 * time.Millisecond}
	track := ClickTrack(rate, 3*time.Second, at...)
	got := FindClicks(track, rate, 0.25, 0)
	if len(got) != 2 {
		t.Fatalf("found %d clicks, want 2", len(got))
	}
	for i := range at {
		if d := got[i] - at[i]; d < -50*time.Microsecond || d > 50*time.Microsecond {
			t.Errorf("click %d at %v, want %v", i, got[i], at[i])
		}
	}
	// Through a low-pass (8 kHz round trip), in background noise, as float,
	// after a WAV round trip: still within half a millisecond.
	lp, _ := resample.Int16(track, rate, 8000)
	lp, _ = resample.Int16(lp, 8000, rate)
	noisy := addNoise(gain(lp, 0.6), 0.01, 4)
	var buf bytes.Buffer
	if err := wav.EncodeFormat(&buf, wav.Format{Rate: rate, Channels: 1, Bits: 32, Float: true}, noisy); err != nil {
		t.Fatal(err)
	}
	w, err := wav.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	on, ok := FindClick(w.Samples[0], rate, 0.2)
	if !ok {
		t.Fatal("click not found after low-pass")
	}
	if d := on - at[0]; d < -500*time.Microsecond || d > 500*time.Microsecond {
		t.Errorf("low-passed click at %v, want %v", on, at[0])
	}
	if _, ok := FindClick(addNoise(silence(time.Second), 0.01, 5), rate, 0.2); ok {
		t.Error("click found in noise")
	}
}

func BenchmarkEnvelopeCorrelation10s(b *testing.B) {
	ref := concat(silence(500*time.Millisecond), babble(1, 9*time.Second), silence(500*time.Millisecond))
	got := concat(silence(300*time.Millisecond), gain(ref, 0.5))
	for b.Loop() {
		if c, _ := EnvelopeCorrelation(ref, got, rate); c < 0.9 {
			b.Fatal(c)
		}
	}
}

// A long recording with the reference somewhere in the middle, other sound
// before it and a noise floor throughout, as `talk record` produces.
func TestEnvelopeCorrelationLongRecording(t *testing.T) {
	ref := concat(silence(500*time.Millisecond), babble(1, 4*time.Second), silence(500*time.Millisecond))
	got := concat(silence(3*time.Second), gain(babble(7, 5*time.Second), 0.5), silence(9*time.Second),
		gain(ref, 0.7), silence(8*time.Second))
	got = addNoise(got, 0.001, 3)
	corr, lag := EnvelopeCorrelation(ref, got, rate)
	if corr < 0.95 || lag < 17*time.Second-time.Millisecond || lag > 17*time.Second+time.Millisecond {
		t.Errorf("corr %.3f lag %v, want >= 0.95 at 17s", corr, lag)
	}
	// Same with float32 samples.
	f := make([]float32, len(got))
	for i, v := range got {
		f[i] = float32(v) / 32768
	}
	r := make([]float32, len(ref))
	for i, v := range ref {
		r[i] = float32(v) / 32768
	}
	if c2, l2 := EnvelopeCorrelation(r, f, rate); math.Abs(c2-corr) > 1e-6 || l2 != lag {
		t.Errorf("float32: %v %v, int16: %v %v", c2, l2, corr, lag)
	}
}

func BenchmarkEnvelopeCorrelation60s(b *testing.B) {
	ref := concat(silence(500*time.Millisecond), babble(1, 9*time.Second), silence(500*time.Millisecond))
	got := concat(silence(30*time.Second), gain(ref, 0.5), silence(20*time.Second))
	for b.Loop() {
		if c, _ := EnvelopeCorrelation(ref, got, rate); c < 0.9 {
			b.Fatal(c)
		}
	}
}

// fakeTB records a Fatalf instead of stopping the test.
type fakeTB struct {
	testing.TB
	dir    string
	failed bool
	msg    string
	logs   []string
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Logf(s string, a ...any)   { f.logs = append(f.logs, fmt.Sprintf(s, a...)) }
func (f *fakeTB) ArtifactDir() string       { return f.dir }
func (f *fakeTB) Fatalf(s string, a ...any) { f.failed, f.msg = true, fmt.Sprintf(s, a...) }

func TestRequireCorrelation(t *testing.T) {
	ref := concat(silence(500*time.Millisecond), babble(1, 3*time.Second), silence(500*time.Millisecond))
	ok := &fakeTB{TB: t, dir: t.TempDir()}
	if c, _ := RequireCorrelation(ok, ref, concat(silence(time.Second), ref), rate, 0.9); ok.failed || c < 0.9 {
		t.Errorf("matching recording failed: %v %s", c, ok.msg)
	}
	bad := &fakeTB{TB: t, dir: t.TempDir()}
	RequireCorrelation(bad, ref, addNoise(silence(4*time.Second), 0.1, 1), rate, 0.9)
	if !bad.failed || !strings.Contains(bad.msg, "got.wav") {
		t.Fatalf("noise passed or message lacks files: %q", bad.msg)
	}
	a, err := wav.ReadFile(filepath.Join(bad.dir, "got.wav"))
	if err != nil || a.Frames() != 4*rate {
		t.Errorf("saved recording: %v %v", err, a)
	}
}

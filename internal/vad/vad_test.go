package vad

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/audiotest"
)

const (
	rate  = 48000
	frame = 480 // 10 ms
)

var sentences = []string{
	"Front door, there is a delivery for the kitchen.",
	"Can somebody bring the ladder to the loading bay please?",
	"Thanks. I am on my way, give me two minutes.",
}

// testSignal is speech with gaps: the clean speech and per-frame labels.
type testSignal struct {
	clean  []float64
	speech []bool // frame has speech (clean level within 30 dB of its loudest frame)
	quiet  []bool // frame is at least 500 ms away from any speech frame
	power  float64
}

func buildSignal(t *testing.T) testSignal {
	var clean []float64
	pad := func(sec float64) {
		clean = append(clean, make([]float64, int(sec*rate))...)
	}
	pad(2.5)
	for _, s := range sentences {
		for _, v := range audiotest.Speech(t, s) {
			clean = append(clean, float64(v))
		}
		pad(1.5)
	}
	pad(1)
	nf := len(clean) / frame
	sig := testSignal{clean: clean[:nf*frame], speech: make([]bool, nf), quiet: make([]bool, nf)}
	lv := make([]float64, nf)
	peak := -1e9
	for i := range lv {
		var e float64
		for _, v := range sig.clean[i*frame : (i+1)*frame] {
			e += v * v
		}
		lv[i] = 10 * math.Log10(e/frame+1e-9)
		peak = max(peak, lv[i])
	}
	var active float64
	nActive := 0
	for i := range lv {
		if lv[i] > peak-30 {
			sig.speech[i] = true
			active += math.Pow(10, lv[i]/10)
			nActive++
		}
	}
	sig.power = active / float64(nActive) // active speech power
	const guard = 50                      // frames
	last := -1000
	for i := range lv {
		if sig.speech[i] {
			last = i
		}
		sig.quiet[i] = i-last > guard
	}
	next := 1 << 30
	for i := len(lv) - 1; i >= 0; i-- {
		if sig.speech[i] {
			next = i
		}
		if next-i <= guard {
			sig.quiet[i] = false
		}
	}
	return sig
}

func whiteNoise(n int, r *rand.Rand) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	return x
}

// pinkNoise filters white noise with Paul Kellet's economy filter (-3 dB/octave).
func pinkNoise(n int, r *rand.Rand) []float64 {
	x := make([]float64, n)
	var b0, b1, b2 float64
	for i := range x {
		w := r.NormFloat64()
		b0 = 0.99765*b0 + w*0.0990460
		b1 = 0.96300*b1 + w*0.2965164
		b2 = 0.57000*b2 + w*1.0526913
		x[i] = b0 + b1 + b2 + w*0.1848
	}
	return x
}

// swingNoise varies the level of x by ±5 dB with a 4 s period, like
// traffic passing by.
func swingNoise(x []float64) []float64 {
	for i := range x {
		db := 5 * math.Sin(2*math.Pi*float64(i)/(4*rate))
		x[i] *= math.Pow(10, db/20)
	}
	return x
}

// mix adds noise scaled so that active speech power / noise power = snr dB.
func mix(sig testSignal, noise []float64, snr float64) []int16 {
	var np float64
	for _, v := range noise {
		np += v * v
	}
	np /= float64(len(noise))
	g := 0.0
	if np > 0 {
		g = math.Sqrt(sig.power / np / math.Pow(10, snr/10))
	}
	out := make([]int16, len(sig.clean))
	for i, v := range sig.clean {
		out[i] = int16(max(-32768, min(32767, math.Round(v+g*noise[i]))))
	}
	return out
}

type score struct {
	speechSent, speechFrames int
	falseSent, quietFrames   int
}

func (s score) speechPct() float64 { return 100 * float64(s.speechSent) / float64(s.speechFrames) }
func (s score) falsePct() float64  { return 100 * float64(s.falseSent) / float64(s.quietFrames) }

func measure(sig testSignal, pcm []int16, cfg Config) score {
	d := New(cfg)
	var s score
	for i := range sig.speech {
		open := d.Process(pcm[i*frame : (i+1)*frame])
		if sig.speech[i] {
			s.speechFrames++
			if open {
				s.speechSent++
			}
		}
		if sig.quiet[i] {
			s.quietFrames++
			if open {
				s.falseSent++
			}
		}
	}
	return s
}

// TestSpeechInNoise measures the detector on espeak-ng speech mixed with
// white and pink noise at several signal-to-noise ratios (active speech
// level against noise power, full band) and prints the share of speech
// frames sent and of noise-only frames (more than 500 ms from speech)
// falsely sent.
func TestSpeechInNoise(t *testing.T) {
	sig := buildSignal(t)
	r := rand.New(rand.NewPCG(1, 2))
	noises := []struct {
		name string
		x    []float64
	}{
		{"white", whiteNoise(len(sig.clean), r)},
		{"pink", pinkNoise(len(sig.clean), r)},
		{"swing", swingNoise(pinkNoise(len(sig.clean), r))},
	}
	var tbl strings.Builder
	fmt.Fprintf(&tbl, "VAD on %d speech frames and %d noise-only frames (10 ms)\n", 0, 0)
	tbl.Reset()
	fmt.Fprintf(&tbl, "\n%-6s %7s %14s %14s\n", "noise", "SNR dB", "speech sent %", "false sent %")
	for _, n := range noises {
		snrs := []float64{30, 20, 10, 5, 0}
		if testing.Short() {
			snrs = []float64{20}
		}
		for _, snr := range snrs {
			s := measure(sig, mix(sig, n.x, snr), Config{})
			fmt.Fprintf(&tbl, "%-6s %7.0f %14.1f %14.1f\n", n.name, snr, s.speechPct(), s.falsePct())
			switch {
			case snr >= 20:
				if s.speechPct() < 90 || s.falsePct() > 5 {
					t.Errorf("%s noise at %v dB: %.1f%% speech sent (want >= 90), %.1f%% false (want <= 5)", n.name, snr, s.speechPct(), s.falsePct())
				}
			case snr >= 10:
				if s.speechPct() < 75 || s.falsePct() > 10 {
					t.Errorf("%s noise at %v dB: %.1f%% speech sent (want >= 75), %.1f%% false (want <= 10)", n.name, snr, s.speechPct(), s.falsePct())
				}
			}
		}
	}
	s := measure(sig, mix(sig, make([]float64, len(sig.clean)), 0), Config{})
	fmt.Fprintf(&tbl, "%-6s %7s %14.1f %14.1f\n", "none", "-", s.speechPct(), s.falsePct())
	t.Logf("%d speech frames, %d noise-only frames%s", s.speechFrames, s.quietFrames, tbl.String())
}

func tone(n int, amp, freq float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = amp * math.Sin(2*math.Pi*freq*float64(i)/rate)
	}
	return x
}

func toPCM(x []float64) []int16 {
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}

// gate runs the detector over pcm and returns the gate state per frame.
func gate(d *Detector, pcm []int16) []bool {
	var g []bool
	for i := 0; i+frame <= len(pcm); i += frame {
		g = append(g, d.Process(pcm[i:i+frame]))
	}
	return g
}

func TestAttackAndHangover(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	noise := whiteNoise(3*rate, r)
	for i := range noise {
		noise[i] *= 100 // about -50 dBFS
	}
	// A vowel-like burst from 1.0 s to 1.5 s, 30 dB above the noise.
	burst := tone(rate/2, 3000, 300)
	for i, v := range burst {
		noise[rate+i] += v + 0.5*v*math.Sin(2*math.Pi*float64(i)/rate*600)
	}
	g := gate(New(Config{}), toPCM(noise))
	first, last := -1, -1
	for i, open := range g {
		if open {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first != 100 && first != 101 {
		t.Errorf("gate opened at frame %d, want 100 or 101 (burst starts at 100)", first)
	}
	if want := 149 + 30; last != want {
		t.Errorf("gate closed after frame %d, want %d (300 ms hangover after the burst ends at 149)", last, want)
	}
	for i := 100; i <= last; i++ {
		if i > first && !g[i] {
			t.Fatalf("gate closed inside the burst at frame %d", i)
		}
	}
}

func TestClickDoesNotOpen(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	noise := whiteNoise(2*rate, r)
	for i := range noise {
		noise[i] *= 100
	}
	for i := 0; i < 96; i++ { // 2 ms click at 1 s, moderately loud
		noise[rate+200+i] += 2000 * math.Sin(float64(i))
	}
	d := New(Config{})
	for i, open := range gate(d, toPCM(noise)) {
		if open {
			t.Fatalf("a click opened the gate at frame %d: %+v", i, d.Last())
		}
	}
}

func TestSilenceAndEmptyFrames(t *testing.T) {
	d := New(Config{})
	for i := 0; i < 100; i++ {
		if d.Process(make([]int16, frame)) {
			t.Fatal("digital silence opened the gate")
		}
	}
	if d.Process(nil) {
		t.Fatal("empty frame opened the gate")
	}
}

func BenchmarkProcess10ms(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	pcm := toPCM(whiteNoise(frame, r))
	d := New(Config{})
	b.ReportAllocs()
	for b.Loop() {
		d.Process(pcm)
	}
}

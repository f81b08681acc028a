package tones

import (
	"math"
	"testing"
	"time"
)

// level returns the amplitude of frequency f in x (Goertzel-style single
// DFT bin, Hann window), full scale 1.
func level(x []int16, f float64) float64 {
	var re, im, ws float64
	for i, v := range x {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(len(x)-1))
		ph := 2 * math.Pi * f * float64(i) / Rate
		re += float64(v) / 32768 * w * math.Cos(ph)
		im += float64(v) / 32768 * w * math.Sin(ph)
		ws += w
	}
	return 2 * math.Hypot(re, im) / ws
}

func ms(x []int16, from, to int) []int16 { return x[from*Rate/1000 : to*Rate/1000] }

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s/float64(len(x))) / 32768
}

type sound struct {
	name  string
	pcm   []int16
	dur   time.Duration
	freqs []float64 // must be present in the first burst
}

func all() []sound {
	return []sound{
		{"ring", Ring(), time.Second, []float64{400, 450}},
		{"ringcycle", RingCycle(), 3 * time.Second, []float64{400, 450}},
		{"busy", Busy(), time.Second, []float64{425}},
		{"permit", TalkPermit(), 140 * time.Millisecond, []float64{880}},
		{"roger", Roger(), 150 * time.Millisecond, []float64{1320}},
		{"join", Join(), 160 * time.Millisecond, []float64{523.25}},
		{"leave", Leave(), 160 * time.Millisecond, []float64{783.99}},
		{"message", Message(), 500 * time.Millisecond, []float64{1318.5}},
		{"page", PageAlert(), 750 * time.Millisecond, []float64{783.99}},
		{"denied", Denied(), 300 * time.Millisecond, []float64{330, 990}},
		{"call", Call(), 440 * time.Millisecond, []float64{1174.66}},
	}
}

func TestSounds(t *testing.T) {
	for _, s := range all() {
		if got := time.Duration(len(s.pcm)) * time.Second / Rate; got != s.dur {
			t.Errorf("%s: lasts %v, want %v", s.name, got, s.dur)
		}
		// First 40 ms carry the expected frequencies.
		head := s.pcm[:min(len(s.pcm), 40*Rate/1000)]
		for _, f := range s.freqs {
			if l := level(head, f); l < 0.05 {
				t.Errorf("%s: %v Hz level %.3f, want present", s.name, f, l)
			}
		}
		if l := level(head, 3000); l > 0.005 {
			t.Errorf("%s: stray energy at 3 kHz: %.4f", s.name, l)
		}
		// Click-free: starts and ends at (near) zero, and no jump between
		// samples exceeds what the loudest component allows.
		if abs(s.pcm[0]) > 50 || abs(s.pcm[len(s.pcm)-1]) > 50 {
			t.Errorf("%s: starts at %d, ends at %d", s.name, s.pcm[0], s.pcm[len(s.pcm)-1])
		}
		maxStep := 0
		for i := 1; i < len(s.pcm); i++ {
			maxStep = max(maxStep, abs(s.pcm[i]-s.pcm[i-1]))
		}
		// A 4.2 kHz sine (octave of the highest chime note) at -6 dBFS
		// moves at most 2π·4186/48000·0.5 ≈ 0.27 of full scale per sample.
		if maxStep > 9000 {
			t.Errorf("%s: sample step of %d (a click)", s.name, maxStep)
		}
		peak := 0
		for _, v := range s.pcm {
			peak = max(peak, abs(v))
		}
		if peak > 16500 || peak < 3000 {
			t.Errorf("%s: peak %d, want -6 dBFS or quieter but audible", s.name, peak)
		}
	}
}

func abs(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}

func TestCadences(t *testing.T) {
	r := RingCycle()
	for _, c := range []struct {
		from, to int
		on       bool
	}{{10, 390, true}, {410, 590, false}, {610, 990, true}, {1010, 2990, false}} {
		if on := rms(ms(r, c.from, c.to)) > 0.05; on != c.on {
			t.Errorf("ring %d–%d ms: on=%v, want %v", c.from, c.to, on, c.on)
		}
	}
	b := BusyFor(3)
	if len(b) != 3*Rate {
		t.Fatalf("BusyFor(3) lasts %d samples", len(b))
	}
	for k := 0; k < 3; k++ {
		if rms(ms(b, k*1000+10, k*1000+490)) < 0.05 || rms(ms(b, k*1000+510, k*1000+990)) != 0 {
			t.Errorf("busy cadence %d wrong", k)
		}
	}
	if l := level(ms(b, 0, 500), 425); l < 0.3 {
		t.Errorf("busy 425 Hz level %.3f", l)
	}
}

func TestCuesDistinct(t *testing.T) {
	// Permit rises, roger falls; join rises, leave falls.
	p, r := TalkPermit(), Roger()
	if level(p[len(p)-2400:], 1320) < 0.1 || level(r[len(r)-2400:], 990) < 0.1 {
		t.Error("permit must end high, roger low")
	}
	j, l := Join(), Leave()
	if level(j[len(j)-2400:], 783.99) < 0.05 || level(l[len(l)-2400:], 523.25) < 0.05 {
		t.Error("join must end high, leave low")
	}
}

func TestLoop(t *testing.T) {
	src := []int16{1, 2, 3, 4, 5, 6, 7}
	l := NewLoop(src)
	frame := make([]int16, 3)
	var got []int16
	for i := 0; i < 6; i++ {
		l.Read(frame)
		got = append(got, frame...)
	}
	for i, v := range got {
		if v != src[i%len(src)] {
			t.Fatalf("sample %d = %d, want %d", i, v, src[i%len(src)])
		}
	}
	l.Reset()
	l.Read(frame)
	if frame[0] != 1 {
		t.Error("Reset did not restart")
	}
	var z Loop
	frame[0] = 9
	z.Read(frame)
	if frame[0] != 0 {
		t.Error("zero Loop not silent")
	}
	// A frame longer than the sound wraps several times.
	big := make([]int16, 20)
	NewLoop(src).Read(big)
	if big[14] != 1 || big[19] != 6 {
		t.Errorf("long frame: %v", big)
	}
}

// Each call returns a new slice.
func TestFreshSlices(t *testing.T) {
	a := Ring()
	a[1000] = 12345
	if Ring()[1000] == 12345 {
		t.Error("Ring returned shared storage")
	}
}

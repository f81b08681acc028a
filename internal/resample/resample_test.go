package resample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func sine(n, rate int, freq, amp float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// toneLevel returns the amplitude of the component at freq in x (single-bin
// DFT over the middle of the signal, Hann-windowed), relative to full scale 1.
func toneLevel(x []float32, rate int, freq float64) float64 {
	// skip edges
	skip := len(x) / 8
	x = x[skip : len(x)-skip]
	var re, im, wsum float64
	for i, v := range x {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(len(x)-1))
		ph := 2 * math.Pi * freq * float64(i) / float64(rate)
		re += float64(v) * w * math.Cos(ph)
		im -= float64(v) * w * math.Sin(ph)
		wsum += w
	}
	return 2 * math.Hypot(re, im) / wsum
}

func rms(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

var ratePairs = [][2]int{
	{44100, 48000}, {48000, 44100}, {8000, 48000}, {48000, 8000},
	{16000, 48000}, {48000, 16000}, {22050, 48000}, {11025, 48000},
	{32000, 48000}, {24000, 48000}, {12000, 48000}, {48000, 48000},
	{44100, 8000}, {47999, 48000}, // last one uses interpolated phases
}

func TestLengthAndTonePreserved(t *testing.T) {
	for _, p := range ratePairs {
		in, out := p[0], p[1]
		t.Run(fmt.Sprintf("%d-%d", in, out), func(t *testing.T) {
			low := min(in, out)
			for _, freq := range []float64{100, 440, 0.3 * float64(low)} {
				x := sine(in/2, in, freq, 0.5)
				y, err := Float32(x, in, out)
				if err != nil {
					t.Fatal(err)
				}
				if want := OutputLen(len(x), in, out); len(y) != want {
					t.Fatalf("len = %d, want %d", len(y), want)
				}
				got := toneLevel(y, out, freq)
				if math.Abs(got-0.5) > 0.5*0.01 { // within 0.1 dB
					t.Errorf("%.0f Hz: level %.4f, want 0.5", freq, got)
				}
				// Everything else in the output must be tiny: compare against
				// an ideal sine at the output rate, allowing for phase.
				ideal := sine(len(y), out, freq, 0.5)
				var errSum, n float64
				for i := len(y) / 8; i < len(y)-len(y)/8; i++ {
					d := float64(y[i] - ideal[i])
					errSum += d * d
					n++
				}
				snr := 10 * math.Log10(0.125/(errSum/n))
				if snr < 60 {
					t.Errorf("%.0f Hz: SNR vs ideal %.1f dB, want >= 60 dB", freq, snr)
				}
			}
		})
	}
}

// A tone above the output Nyquist frequency must be removed, not aliased.
func TestAliasingRejected(t *testing.T) {
	for _, p := range [][2]int{{48000, 8000}, {48000, 16000}, {48000, 44100}, {44100, 8000}, {48000, 47999}} {
		in, out := p[0], p[1]
		for _, rel := range []float64{0.56, 0.7, 0.95} {
			freq := rel * float64(out)
			if freq >= float64(in)/2 {
				continue
			}
			x := sine(in, in, freq, 0.9)
			y, err := Float32(x, in, out)
			if err != nil {
				t.Fatal(err)
			}
			lvl := rms(y[len(y)/8 : len(y)-len(y)/8])
			db := 20 * math.Log10(lvl/(0.9/math.Sqrt2)+1e-12)
			if db > -70 {
				t.Errorf("%d→%d: %.0f Hz leaks at %.1f dB, want < -70 dB", in, out, freq, db)
			}
		}
	}
}

// Upsampling must not create images above the input band.
func TestImagingRejected(t *testing.T) {
	x := sine(8000, 8000, 3000, 0.9)
	y, _ := Float32(x, 8000, 48000)
	for _, img := range []float64{5000, 11000, 13000} {
		if l := toneLevel(y, 48000, img); 20*math.Log10(l/0.9) > -70 {
			t.Errorf("image at %.0f Hz: %.1f dB", img, 20*math.Log10(l/0.9))
		}
	}
}

func TestSweepFollowsFrequency(t *testing.T) {
	// A linear chirp 100 Hz → 3.5 kHz at 8 kHz, upsampled to 48 kHz, must
	// match the same chirp generated directly at 48 kHz.
	const dur = 1.0
	chirp := func(rate int) []float32 {
		n := int(dur * float64(rate))
		x := make([]float32, n)
		for i := range x {
			tt := float64(i) / float64(rate)
			x[i] = float32(0.5 * math.Sin(2*math.Pi*(100*tt+0.5*3400*tt*tt/dur)))
		}
		return x
	}
	y, _ := Float32(chirp(8000), 8000, 48000)
	want := chirp(48000)
	var e, s float64
	for i := 4800; i < len(want)-4800; i++ { // the filter rolls off near 4 kHz at the end
		d := float64(y[i] - want[i])
		e += d * d
		s += float64(want[i]) * float64(want[i])
	}
	if snr := 10 * math.Log10(s/e); snr < 40 {
		t.Errorf("chirp SNR %.1f dB, want >= 40", snr)
	}
}

func TestStreamingMatchesWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range ratePairs {
		in, out := p[0], p[1]
		x := make([]float32, in/3+17)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 0.2)
		}
		whole, err := Float32(x, in, out)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := New(in, out)
		for round := 0; round < 2; round++ { // second round checks Flush resets
			var got []float32
			for i := 0; i < len(x); {
				n := 1 + rng.IntN(700)
				if i+n > len(x) {
					n = len(x) - i
				}
				got = s.Process(got, x[i:i+n])
				i += n
			}
			got = s.Flush(got)
			if len(got) != len(whole) {
				t.Fatalf("%d→%d: streamed %d samples, whole %d", in, out, len(got), len(whole))
			}
			for i := range got {
				if got[i] != whole[i] {
					t.Fatalf("%d→%d: sample %d differs: %v vs %v", in, out, i, got[i], whole[i])
				}
			}
		}
	}
}

func TestStreamingKeepsUpWithInput(t *testing.T) {
	// After each 20 ms chunk the held-back output must stay bounded.
	s, _ := New(44100, 48000)
	var outN int
	inN := 0
	for i := 0; i < 100; i++ {
		chunk := make([]float32, 882)
		inN += len(chunk)
		outN = len(s.Process(nil, chunk)) + outN
		if lag := OutputLen(inN, 44100, 48000) - outN; lag > 64 {
			t.Fatalf("chunk %d: %d output samples held back", i, lag)
		}
	}
}

func TestInt16(t *testing.T) {
	x := make([]int16, 4800)
	for i := range x {
		x[i] = int16(30000 * math.Sin(2*math.Pi*1000*float64(i)/48000))
	}
	y, err := Int16(x, 48000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	if len(y) != 1600 {
		t.Fatalf("len %d", len(y))
	}
	// Full-scale square wave must clip, not wrap.
	sq := make([]int16, 4800)
	for i := range sq {
		if (i/24)%2 == 0 {
			sq[i] = 32767
		} else {
			sq[i] = -32768
		}
	}
	z, _ := Int16(sq, 48000, 44100)
	for i := 100; i < len(z)-100; i++ {
		if (i/22)%2 == 0 && z[i] < -20000 && z[i-1] > 20000 {
			t.Fatalf("wrap-around at %d", i)
		}
	}
}

func TestBadRates(t *testing.T) {
	for _, r := range [][2]int{{0, 48000}, {48000, -1}, {999, 48000}, {48000, 1 << 30}} {
		if _, err := New(r[0], r[1]); !errors.Is(err, ErrRate) {
			t.Errorf("%v: err %v, want ErrRate", r, err)
		}
	}
}

func BenchmarkStream(b *testing.B) {
	for _, p := range [][2]int{{44100, 48000}, {48000, 44100}, {8000, 48000}, {16000, 48000}, {48000, 8000}, {48000, 16000}} {
		in, out := p[0], p[1]
		b.Run(fmt.Sprintf("%d-%d", in, out), func(b *testing.B) {
			s, _ := New(in, out)
			chunk := sine(in/50, in, 440, 0.5) // 20 ms
			dst := make([]float32, 0, 4096)
			var produced int
			for b.Loop() {
				dst = s.Process(dst[:0], chunk)
				produced += len(dst)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(produced), "ns/outsample")
		})
	}
}

func TestProcessInt16NoAllocs(t *testing.T) {
	s, _ := New(44100, 48000)
	in := make([]int16, 441)
	dst := make([]int16, 0, 1024)
	s.ProcessInt16(dst, in) // warm up buffers
	if n := testing.AllocsPerRun(100, func() { dst = s.ProcessInt16(dst[:0], in) }); n != 0 {
		t.Errorf("%v allocations per 10 ms chunk", n)
	}
}

func BenchmarkStreamInt16(b *testing.B) {
	s, _ := New(44100, 48000)
	in := make([]int16, 882)
	for i := range in {
		in[i] = int16(10000 * math.Sin(float64(i)/10))
	}
	dst := make([]int16, 0, 2048)
	var produced int
	for b.Loop() {
		dst = s.ProcessInt16(dst[:0], in)
		produced += len(dst)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(produced), "ns/outsample")
}

// Package resample converts mono audio between sample rates with a
// windowed-sinc (Kaiser) polyphase filter.
//
// The ratio between the rates is reduced to L/M (for example 44100 → 48000 is
// 160/147). When L is small (every common pair of rates between 8 kHz and
// 48 kHz) each output sample uses one exact filter phase; for unusual rates
// whose reduced L is large the filter phases are interpolated from a table of
// 1024 phases. Output timing is computed in integers, so it never drifts.
//
// The filter is zero-phase: output sample n is the input at time n·in/out,
// so resampled audio stays aligned with the input (no added delay in the
// whole-buffer result). Rates from 1 kHz to 384 kHz are accepted.
//
// Two ways to use it:
//
//   - whole buffers: [Float32] and [Int16];
//   - streaming, chunk by chunk: [New] returns a [Stream] whose output,
//     concatenated over all Process calls plus the final Flush, is bit-for-bit
//     the whole-buffer result.
package resample

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// ErrRate reports a sample rate outside the supported range.
var ErrRate = errors.New("resample: unsupported sample rate")

// Limits on the sample rates accepted by [New].
const (
	MinRate = 1000
	MaxRate = 384000
)

const (
	// halfTaps is the half-length of the filter in samples of the lower of the
	// two rates. 32 gives a transition band of about 0.09·fs(low) at ~90 dB
	// stop-band attenuation.
	halfTaps = 32
	// kaiserBeta for ~90 dB stop band.
	kaiserBeta = 8.96
	// cutoff is the -6 dB point as a fraction of the lower Nyquist frequency.
	// The stop band begins at about the lower Nyquist frequency.
	cutoff = 0.91
	// maxExactPhases: above this many phases the table is interpolated.
	maxExactPhases = 1024
	// maxTable bounds the coefficient table (float32s) of one rate pair.
	maxTable = 1 << 19
)

// filter is the polyphase table shared by streams of the same rate pair.
type filter struct {
	l, m    int       // reduced ratio: l output samples per m input samples
	taps    int       // taps per phase (even)
	phases  int       // table phases (== l when exact)
	exact   bool      // phases == l, no interpolation
	coefs   []float32 // (phases+1)*taps; phase p at coefs[p*taps:]
	history int       // input samples needed before the centre: taps/2-1
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// filters caches tables by rate pair; a table is immutable once built.
var filters struct {
	mu sync.Mutex
	m  map[[2]int]*filter // guarded by mu; at most maxCached entries
}

const maxCached = 32

func getFilter(inRate, outRate int) *filter {
	key := [2]int{inRate, outRate}
	filters.mu.Lock()
	f := filters.m[key]
	filters.mu.Unlock()
	if f != nil {
		return f
	}
	f = newFilter(inRate, outRate)
	filters.mu.Lock()
	if filters.m == nil || len(filters.m) >= maxCached {
		filters.m = make(map[[2]int]*filter)
	}
	filters.m[key] = f
	filters.mu.Unlock()
	return f
}

func newFilter(inRate, outRate int) *filter {
	g := gcd(inRate, outRate)
	l, m := outRate/g, inRate/g
	f := &filter{l: l, m: m}
	// Bandwidth relative to the input rate; when decimating the filter
	// gets longer in input samples so the transition band stays the same
	// width relative to the output rate.
	scale := 1.0
	if outRate < inRate {
		scale = float64(inRate) / float64(outRate)
	}
	half := int(math.Ceil(halfTaps * scale))
	f.taps = 2 * half
	f.history = half - 1
	fc := cutoff / scale // cutoff in cycles per input sample ×2 (1 == input Nyquist)
	if l <= maxExactPhases && l*f.taps <= maxTable {
		f.phases, f.exact = l, true
	} else {
		f.phases = max(64, min(maxExactPhases, maxTable/f.taps))
	}
	f.coefs = make([]float32, (f.phases+1)*f.taps)
	i0 := bessel0(kaiserBeta)
	w := float64(half)
	vals := make([]float64, f.taps)
	for p := 0; p <= f.phases; p++ {
		frac := float64(p) / float64(f.phases) // centre sits frac after tap (half-1)
		row := f.coefs[p*f.taps : (p+1)*f.taps]
		sum := 0.0
		for k := 0; k < f.taps; k++ {
			x := float64(k-(half-1)) - frac // distance of tap k from the centre, input samples
			var s float64
			if x == 0 {
				s = fc
			} else {
				s = math.Sin(math.Pi*fc*x) / (math.Pi * x)
			}
			r := x / w
			win := 0.0
			if r > -1 && r < 1 {
				win = bessel0(kaiserBeta*math.Sqrt(1-r*r)) / i0
			}
			vals[k] = s * win
			sum += vals[k]
		}
		for k := range vals {
			row[k] = float32(vals[k] / sum) // unity DC gain for every phase
		}
	}
	return f
}

// Stream is a stateful resampler for audio arriving in chunks.
//
// A Stream is not safe for concurrent use (distinct Streams are). Its zero value is not usable:
// create one with [New].
type Stream struct {
	inRate, outRate int
	f               *filter
	buf             []float32 // pending input; buf[0] is input sample base
	base            int64     // absolute index of buf[0] (may be negative: zero history)
	n               int64     // next output sample index
	in              int64     // total input samples received
	scratch         []float32 // ProcessInt16 input conversion, reused
	outScratch      []float32 // ProcessInt16 output before rounding, reused
}

// New returns a Stream converting mono audio from inRate to outRate Hz.
func New(inRate, outRate int) (*Stream, error) {
	for _, r := range []int{inRate, outRate} {
		if r < MinRate || r > MaxRate {
			return nil, fmt.Errorf("%w: %d Hz (supported: %d to %d Hz)", ErrRate, r, MinRate, MaxRate)
		}
	}
	s := &Stream{inRate: inRate, outRate: outRate}
	if inRate != outRate {
		s.f = getFilter(inRate, outRate)
	}
	s.Reset()
	return s, nil
}

// Reset forgets all input, as if the Stream were new.
func (s *Stream) Reset() {
	s.n, s.in = 0, 0
	s.buf = s.buf[:0]
	if s.f != nil {
		// Start with zero history so the first outputs see silence before
		// the signal, exactly like the whole-buffer result.
		s.base = -int64(s.f.history)
		for i := 0; i < s.f.history; i++ {
			s.buf = append(s.buf, 0)
		}
	}
}

// Rates returns the input and output rates.
func (s *Stream) Rates() (in, out int) { return s.inRate, s.outRate }

// OutputLen returns how many output samples a whole buffer of n input
// samples yields: ceil(n·out/in).
func OutputLen(n, inRate, outRate int) int {
	if inRate == outRate {
		return n
	}
	return int((int64(n)*int64(outRate) + int64(inRate) - 1) / int64(inRate))
}

// Process consumes in and appends to dst the output samples that can be
// computed so far, returning the extended slice. The Stream copies what it
// needs from in; the caller keeps ownership of both slices.
// Some output is held back (about 32 samples of the lower rate) until more
// input or [Stream.Flush] arrives.
func (s *Stream) Process(dst, in []float32) []float32 {
	if s.f == nil {
		s.in += int64(len(in))
		return append(dst, in...)
	}
	s.buf = append(s.buf, in...)
	s.in += int64(len(in))
	dst = s.run(dst, s.base+int64(len(s.buf)), false)
	s.compact()
	return dst
}

// Flush appends the remaining output (treating the input as followed by
// silence) so that the total output is ceil(inputLen·out/in) samples, then
// resets the Stream for a new signal.
func (s *Stream) Flush(dst []float32) []float32 {
	if s.f == nil {
		s.Reset()
		return dst
	}
	end := s.base + int64(len(s.buf))
	pad := s.f.taps
	for i := 0; i < pad; i++ {
		s.buf = append(s.buf, 0)
	}
	dst = s.run(dst, end+int64(pad), true)
	s.Reset()
	return dst
}

// run produces outputs whose window lies entirely below avail (absolute
// input index); when final, it stops at the total output length.
func (s *Stream) run(dst []float32, avail int64, final bool) []float32 {
	f := s.f
	l, m := int64(f.l), int64(f.m)
	total := (s.in*l + m - 1) / m
	taps := f.taps
	for {
		if final && s.n >= total {
			break
		}
		if !final && s.n*m >= s.in*l {
			// Output n needs input time n·m/l < in to be part of the signal.
			break
		}
		num := s.n * m // input time of output n, in units of 1/l input samples
		idx := num / l // integer input sample at or before the centre
		rem := num % l
		start := idx - int64(f.history)
		if start+int64(taps) > avail {
			break
		}
		x := s.buf[start-s.base : start-s.base+int64(taps)]
		var acc float32
		if f.exact {
			acc = dot(x, f.coefs[int(rem)*taps:int(rem+1)*taps])
		} else {
			pos := float64(rem) * float64(f.phases) / float64(l)
			p := int(pos)
			t := float32(pos - float64(p))
			a := dot(x, f.coefs[p*taps:(p+1)*taps])
			b := dot(x, f.coefs[(p+1)*taps:(p+2)*taps])
			acc = a + (b-a)*t
		}
		dst = append(dst, acc)
		s.n++
	}
	return dst
}

// compact drops input no longer needed by future outputs.
func (s *Stream) compact() {
	f := s.f
	num := s.n * int64(f.m)
	need := num/int64(f.l) - int64(f.history) // first input index still needed
	drop := need - s.base
	if drop <= 0 {
		return
	}
	if drop > int64(len(s.buf)) {
		drop = int64(len(s.buf))
	}
	k := copy(s.buf, s.buf[drop:])
	s.buf = s.buf[:k]
	s.base += drop
}

func dot(x, h []float32) float32 {
	h = h[:len(x)]
	var a0, a1, a2, a3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a0 += x[i] * h[i]
		a1 += x[i+1] * h[i+1]
		a2 += x[i+2] * h[i+2]
		a3 += x[i+3] * h[i+3]
	}
	for ; i < len(x); i++ {
		a0 += x[i] * h[i]
	}
	return (a0 + a1) + (a2 + a3)
}

// ProcessInt16 is [Stream.Process] for 16-bit samples; output is rounded and
// clipped to the int16 range.
func (s *Stream) ProcessInt16(dst, in []int16) []int16 {
	s.scratch = s.scratch[:0]
	for _, v := range in {
		s.scratch = append(s.scratch, float32(v))
	}
	s.outScratch = s.Process(s.outScratch[:0], s.scratch)
	return appendInt16(dst, s.outScratch)
}

// FlushInt16 is [Stream.Flush] for 16-bit output.
func (s *Stream) FlushInt16(dst []int16) []int16 {
	return appendInt16(dst, s.Flush(nil))
}

func appendInt16(dst []int16, v []float32) []int16 {
	for _, x := range v {
		dst = append(dst, ClipInt16(x))
	}
	return dst
}

// ClipInt16 rounds x (in int16 units) to the nearest int16, saturating.
func ClipInt16(x float32) int16 {
	switch {
	case x >= 32767:
		return 32767
	case x <= -32768:
		return -32768
	case x >= 0:
		return int16(x + 0.5)
	default:
		return int16(x - 0.5)
	}
}

// Float32 resamples a whole buffer. The result has ceil(len(in)·out/in)
// samples and is a new slice.
func Float32(in []float32, inRate, outRate int) ([]float32, error) {
	s, err := New(inRate, outRate)
	if err != nil {
		return nil, err
	}
	out := make([]float32, 0, OutputLen(len(in), inRate, outRate))
	out = s.Process(out, in)
	return s.Flush(out), nil
}

// Int16 resamples a whole buffer of 16-bit samples (rounded, clipped).
func Int16(in []int16, inRate, outRate int) ([]int16, error) {
	s, err := New(inRate, outRate)
	if err != nil {
		return nil, err
	}
	out := make([]int16, 0, OutputLen(len(in), inRate, outRate))
	out = s.ProcessInt16(out, in)
	return s.FlushInt16(out), nil
}

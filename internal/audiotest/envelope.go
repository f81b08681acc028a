// Package audiotest measures audio for end-to-end tests and benchmarks:
// RMS envelopes, alignment by cross-correlation, the realigned envelope
// correlation used as the acceptance metric ("the recording matches the
// input", tolerant of a playout buffer changing its delay mid-recording,
// after ITU-T P.862's time alignment), clicks for mouth-to-ear latency,
// and test speech made with espeak-ng and sox.
//
// All functions are pure and safe for concurrent use; they never modify
// their input slices.
package audiotest

import (
	"math"
	"math/bits"
	"math/cmplx"
	"time"
)

// Sample is the PCM sample types accepted. int16 is full scale ±32768;
// float32 and float64 are full scale ±1.
type Sample interface {
	~int16 | ~float32 | ~float64
}

// scaleOf returns the factor that maps S to full scale ±1.
func scaleOf[S Sample](_ []S) float64 {
	if isInt16[S]() {
		return 1.0 / 32768
	}
	return 1
}

// isInt16 reports whether S is the integer member of [Sample]: integer
// division truncates -1/2 to 0, float division does not.
func isInt16[S Sample]() bool {
	z := S(-1)
	return z/2 == 0
}

// Envelope returns the RMS of consecutive, non-overlapping windows of
// window duration (full scale 1.0). A trailing partial window is dropped.
// The result is a new slice.
func Envelope[S Sample](pcm []S, rate int, window time.Duration) []float64 {
	w := int(int64(rate) * int64(window) / int64(time.Second))
	if w < 1 {
		w = 1
	}
	scale := scaleOf(pcm)
	out := make([]float64, len(pcm)/w)
	for i := range out {
		var s float64
		for _, v := range pcm[i*w : (i+1)*w] {
			x := float64(v)
			s += x * x
		}
		out[i] = math.Sqrt(s/float64(w)) * scale
	}
	return out
}

// Pearson returns the Pearson correlation of a and b over their common
// length (0 if either is constant or empty).
func Pearson(a, b []float64) float64 {
	n := min(len(a), len(b))
	if n < 2 {
		return 0
	}
	var ma, mb float64
	for i := 0; i < n; i++ {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(n)
	mb /= float64(n)
	var sab, saa, sbb float64
	for i := 0; i < n; i++ {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa <= 0 || sbb <= 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}

// Align finds the lag (in elements) at which got best matches ref:
// got[i+lag] ≈ ref[i]. A positive lag means got is late. Only lags whose
// overlap covers at least half of the shorter sequence are considered, so
// a few matching elements at an edge cannot win. score is the
// mean-removed cross-correlation at that lag divided by the product of
// the norms (a cosine similarity in [-1, 1]); use [Pearson] on the overlap
// for a correlation. It runs in O((n+m) log(n+m)) with an FFT.
func Align(ref, got []float64) (lag int, score float64) {
	n, m := len(ref), len(got)
	if n == 0 || m == 0 {
		return 0, 0
	}
	r := demean(ref)
	g := demean(got)
	size := 1 << bits.Len(uint(n+m))
	fr := make([]complex128, size)
	fg := make([]complex128, size)
	for i, v := range r {
		fr[i] = complex(v, 0)
	}
	for i, v := range g {
		fg[i] = complex(v, 0)
	}
	fft(fr, false)
	fft(fg, false)
	for i := range fr {
		fg[i] *= cmplx.Conj(fr[i])
	}
	fft(fg, true) // fg[k] = sum_i g[i+k]·r[i] (circular; size ≥ n+m avoids wrap)
	minOverlap := (min(n, m) + 1) / 2
	best := math.Inf(-1)
	for l := -(n - minOverlap); l <= m-minOverlap; l++ {
		idx := l
		if idx < 0 {
			idx += size
		}
		v := real(fg[idx]) / float64(size)
		if v > best {
			best, lag = v, l
		}
	}
	var nr, ng float64
	for _, v := range r {
		nr += v * v
	}
	for _, v := range g {
		ng += v * v
	}
	if nr > 0 && ng > 0 {
		score = best / math.Sqrt(nr*ng)
	}
	return lag, score
}

func demean(x []float64) []float64 {
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v - m
	}
	return out
}

// FFT is an in-place iterative radix-2 FFT for tests that need a spectrum
// (len(a) a power of two); inverse computes the unnormalised inverse.
func FFT(a []complex128, inverse bool) { fft(a, inverse) }

// fft is an in-place iterative radix-2 FFT; len(a) must be a power of two.
// inverse computes the unnormalised inverse transform.
func fft(a []complex128, inverse bool) {
	n := len(a)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			a[i], a[j] = a[j], a[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		ang := 2 * math.Pi / float64(size)
		if !inverse {
			ang = -ang
		}
		wl := complex(math.Cos(ang), math.Sin(ang))
		for i := 0; i < n; i += size {
			w := complex(1, 0)
			for k := 0; k < size/2; k++ {
				u := a[i+k]
				v := a[i+k+size/2] * w
				a[i+k] = u + v
				a[i+k+size/2] = u - v
				w *= wl
			}
		}
	}
}

// EnvelopeWindow is the window of the envelopes compared by
// [EnvelopeCorrelation].
const EnvelopeWindow = 10 * time.Millisecond

// EnvelopeCorrelation is the acceptance metric "realigned envelope
// correlation": the Pearson correlation of the 10 ms RMS envelopes of ref
// and got, with got realigned segment by segment the way ITU-T P.862
// (PESQ) aligns utterances (see [EnvelopeAlignment]), so that a playout
// buffer changing its delay mid-recording is not scored as a mismatch.
// It returns the score and the global delay of got (positive: got is
// late), found coarsely on 10 ms envelopes and refined to 1 ms. Silence
// before and after the reference's sound (below -40 dB of its loudest
// 10 ms) is left out of the comparison, and so is the part of the
// reference that the recording does not cover at the global delay.
//
// It is insensitive to gain, to silence before and after either signal,
// to different lengths and to delay changes of up to 150 ms between
// segments (250 ms from the global delay). Both signals must have the
// same sample rate; resample first if not. Unrelated signals score well
// below 0.8; the same speech through a codec scores above 0.9. Signals
// shorter than 20 windows, or silent, score 0.
func EnvelopeCorrelation[S Sample](ref, got []S, rate int) (corr float64, lag time.Duration) {
	a := EnvelopeAlignment(ref, got, rate)
	return a.Corr, a.Lag
}

// EnvelopeCorrelationSingleLag is the "aligned envelope correlation" at a
// single lag, the acceptance metric before realignment: the Pearson
// correlation of the 10 ms RMS envelopes of ref and of got at the global
// delay, over the stretch where both exist (the reference's leading and
// trailing silence left out as in [EnvelopeCorrelation]). It scores any
// change of delay during the recording as a mismatch: a 20 ms shift of a
// quarter of the speech drops it to about 0.9, a 100 ms shift to about
// 0.5.
func EnvelopeCorrelationSingleLag[S Sample](ref, got []S, rate int) (corr float64, lag time.Duration) {
	a0, a1 := activeSpan(ref, rate)
	r := ref[a0:a1]
	shift, ok := globalShift(r, got, rate)
	if !ok {
		return 0, 0
	}
	return singleLagCorr(r, got, rate, shift), samplesToDur(shift, rate) - samplesToDur(a0, rate)
}

// activeSpan returns the sample range of ref from 20 ms before its first
// 10 ms window above -40 dB of its loudest window to 20 ms after its last.
func activeSpan[S Sample](ref []S, rate int) (int, int) {
	e := Envelope(ref, rate, EnvelopeWindow)
	peak := 0.0
	for _, v := range e {
		peak = max(peak, v)
	}
	first, last := -1, -1
	for i, v := range e {
		if v > peak*0.01 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return 0, len(ref)
	}
	w := int(int64(rate) * int64(EnvelopeWindow) / int64(time.Second))
	return max(0, (first-2)*w), min(len(ref), (last+3)*w)
}

// globalShift returns the delay of got relative to ref in samples
// (got[i+shift] ≈ ref[i]): the best lag of the 10 ms envelopes, refined to
// 1 ms. ok is false if either is shorter than 20 windows.
func globalShift[S Sample](ref, got []S, rate int) (shift int, ok bool) {
	er := Envelope(ref, rate, EnvelopeWindow)
	eg := Envelope(got, rate, EnvelopeWindow)
	if len(er) < 20 || len(eg) < 20 {
		return 0, false
	}
	coarse, _ := Align(er, eg)

	// Refine to 1 ms around the coarse lag.
	const fine = time.Millisecond
	fr := Envelope(ref, rate, fine)
	fg := Envelope(got, rate, fine)
	step := int(EnvelopeWindow / fine)
	bestLag, best := coarse*step, math.Inf(-1)
	for l := coarse*step - 2*step; l <= coarse*step+2*step; l++ {
		if v := overlapCov(fr, fg, l); v > best {
			best, bestLag = v, l
		}
	}
	return int(int64(bestLag) * int64(rate) * int64(fine) / int64(time.Second)), true
}

// singleLagCorr is the Pearson correlation of the 10 ms envelopes of ref
// and got shifted by shift samples, over their overlap.
func singleLagCorr[S Sample](ref, got []S, rate, shift int) float64 {
	r, g := ref, got
	if shift >= 0 {
		g = g[min(shift, len(g)):]
	} else {
		r = r[min(-shift, len(r)):]
	}
	n := min(len(r), len(g))
	ea := Envelope(r[:n], rate, EnvelopeWindow)
	eb := Envelope(g[:n], rate, EnvelopeWindow)
	if len(ea) < 2 {
		return 0
	}
	return Pearson(ea, eb)
}

// overlapCov is the mean-removed covariance of a[i] and b[i+lag] over the
// overlap, weighted by its length (so larger overlaps win ties).
func overlapCov(a, b []float64, lag int) float64 {
	i0 := max(0, -lag)
	i1 := min(len(a), len(b)-lag)
	if i1-i0 < 2 {
		return math.Inf(-1)
	}
	var ma, mb float64
	for i := i0; i < i1; i++ {
		ma += a[i]
		mb += b[i+lag]
	}
	cnt := float64(i1 - i0)
	ma /= cnt
	mb /= cnt
	var s float64
	for i := i0; i < i1; i++ {
		s += (a[i] - ma) * (b[i+lag] - mb)
	}
	return s
}

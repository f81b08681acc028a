package playout

import "math"

// Time-scale modification (WSOLA), the way WebRTC NetEQ's accelerate and
// preemptive expand work on decoded audio: the jitter buffer asks for a
// packet's audio to be longer or shorter (jitter.Decision.Stretch); the
// talker adds the requests up, and once they come to a pitch period it
// removes or inserts one period of the audio not yet played, where the
// waveform repeats itself (voiced speech) or is quiet: the end of the
// removed (or start of the repeated) period is cross-faded over an
// overlap window with the waveform one period away, which it resembles,
// so there is no click and no audible change of pitch. At most one period
// per tick, so the rate of change stays small (a 5 ms period per 20 ms
// packet is 25 %, the most the buffer asks for far from its target; near
// it, a few %).
//
// The period is searched by normalized cross-correlation between the
// overlap window at the start of the unplayed audio and the window one
// lag later, for lags of 2.5–16 ms (a 400–62.5 Hz voice), first on a
// 8:1 decimated signal (6 kHz, plenty for a pitch period) and then
// refined at full rate around the best decimated lag.
const (
	tsmMinLag   = 120 // 2.5 ms at 48 kHz
	tsmMaxLag   = 768 // 16 ms
	tsmOverlap  = 480 // 10 ms overlap window
	tsmDecimate = 8
	// tsmMinCorr: a lag is used if the window one period later
	// correlates this well (voiced), or the audio is quiet (a pause,
	// where anything goes).
	tsmMinCorr = 0.9
	// tsmMaxDebt bounds the requests not carried out yet (the buffer
	// asks again for what is not done: no need to remember more).
	tsmMaxDebt = 2 * tsmMaxLag
)

var zeros [tsmMaxLag]int16 // read-only

// stretcher is one talker's time-scale modification state. Used only by
// the ticking goroutine.
type stretcher struct {
	debt int // samples asked for and not carried out yet (> 0 lengthen)
	dir  int // the direction of the last request (-1, 0, 1)
	// Carried out so far: operations and samples (> 0 inserted).
	ops     uint64
	samples int64
	xfade   [tsmOverlap]int16
	dec     [(tsmMaxLag + tsmOverlap) / tsmDecimate]float32
}

// request takes the jitter.Decision.Stretch of a played packet. Requests
// add up while they keep asking the same way; none (the buffer is at its
// target) or one the other way cancels what is left, so the talker never
// carries out more than the buffer still wants.
func (s *stretcher) request(n int) {
	dir := 0
	switch {
	case n > 0:
		dir = 1
	case n < 0:
		dir = -1
	}
	if dir != s.dir {
		s.debt, s.dir = 0, dir
	}
	s.debt = min(max(s.debt+n, -tsmMaxDebt), tsmMaxDebt)
}

// pending reports whether a request is large enough to act on.
func (s *stretcher) pending() bool {
	return s.debt >= tsmMinLag || s.debt <= -tsmMinLag
}

// apply carries out at most one pitch period of the pending request on
// buf[from:] (audio not played yet) and returns the new buffer and the
// number of samples added (> 0) or removed (< 0). quietThr is the sample
// magnitude below which audio counts as a pause (any lag will do there).
// buf may be re-allocated when it grows.
func (s *stretcher) apply(buf []int16, from int, quietThr float64) ([]int16, int) {
	if !s.pending() {
		return buf, 0
	}
	x := buf[from:]
	maxLag := min(tsmMaxLag, len(x)-tsmOverlap)
	if maxLag < tsmMinLag {
		return buf, 0
	}
	lag, corr, quiet := bestLag(x, maxLag, quietThr, &s.dec)
	if lag == 0 || (corr < tsmMinCorr && !quiet) {
		return buf, 0
	}
	if s.debt < 0 {
		// Accelerate: cross-fade x[0:L] into x[lag:lag+L], drop x[0:lag].
		crossfade(x[lag:lag+tsmOverlap], x[:tsmOverlap], x[lag:lag+tsmOverlap])
		n := copy(x, x[lag:])
		buf = buf[:from+n]
		s.debt += lag
		s.ops++
		s.samples -= int64(lag)
		return buf, -lag
	}
	// Preemptive expand: x[0:lag], then a cross-fade from x[lag:lag+L]
	// into x[0:L], then x[L:].
	xf := s.xfade[:]
	crossfade(xf, x[lag:lag+tsmOverlap], x[:tsmOverlap])
	n := len(x)
	buf = append(buf, zeros[:lag]...)
	x = buf[from:]
	copy(x[lag+tsmOverlap:], x[tsmOverlap:n])
	copy(x[lag:lag+tsmOverlap], xf)
	s.debt -= lag
	s.ops++
	s.samples += int64(lag)
	return buf, lag
}

// crossfade writes into dst a linear fade from a (weight 1 at the start)
// to b (weight 1 at the end). dst may be a or b.
func crossfade(dst, a, b []int16) {
	n := len(dst)
	for i := range n {
		w := float32(i+1) / float32(n+1)
		dst[i] = int16(math.Round(float64(float32(a[i])*(1-w) + float32(b[i])*w)))
	}
}

// bestLag finds the lag in [tsmMinLag, maxLag] at which x repeats itself
// best over the overlap window (normalized cross-correlation of x[0:L]
// and x[lag:lag+L]), searching a decimated copy first. It reports the
// correlation, and whether the audio it would touch is quiet (peak below
// quietThr).
func bestLag(x []int16, maxLag int, quietThr float64, dec *[(tsmMaxLag + tsmOverlap) / tsmDecimate]float32) (lag int, corr float64, quiet bool) {
	n := maxLag + tsmOverlap
	peak := 0.0
	for _, v := range x[:n] {
		peak = max(peak, math.Abs(float64(v)))
	}
	quiet = peak < quietThr
	// Decimate by averaging (a crude low-pass, enough for the coarse
	// search of a pitch period).
	nd := n / tsmDecimate
	d := dec[:nd]
	for i := range d {
		var s float32
		for k := range tsmDecimate {
			s += float32(x[i*tsmDecimate+k])
		}
		d[i] = s
	}
	const ld = tsmOverlap / tsmDecimate
	best, bestC := 0, math.Inf(-1)
	e0 := energy32(d[:ld])
	for l := tsmMinLag / tsmDecimate; l <= maxLag/tsmDecimate; l++ {
		if c := ncc32(d[:ld], d[l:l+ld], e0); c > bestC {
			best, bestC = l, c
		}
	}
	if best == 0 {
		return 0, 0, quiet
	}
	// Refine at full rate around it.
	e0f := energy16(x[:tsmOverlap])
	lo, hi := max(tsmMinLag, best*tsmDecimate-tsmDecimate), min(maxLag, best*tsmDecimate+tsmDecimate)
	lag, corr = 0, math.Inf(-1)
	for l := lo; l <= hi; l++ {
		if c := ncc16(x[:tsmOverlap], x[l:l+tsmOverlap], e0f); c > corr {
			lag, corr = l, c
		}
	}
	return lag, corr, quiet
}

func energy32(a []float32) float64 {
	var e float64
	for _, v := range a {
		e += float64(v) * float64(v)
	}
	return e
}

func ncc32(a, b []float32, ea float64) float64 {
	b = b[:len(a)]
	var ab, eb float32
	for i, v := range a {
		w := b[i]
		ab += v * w
		eb += w * w
	}
	if ea == 0 || eb == 0 {
		return 0
	}
	return float64(ab) / math.Sqrt(ea*float64(eb))
}

func energy16(a []int16) float64 {
	var e int64
	for _, v := range a {
		e += int64(v) * int64(v)
	}
	return float64(e)
}

func ncc16(a, b []int16, ea float64) float64 {
	b = b[:len(a)]
	var ab, eb int64
	for i, v := range a {
		w := int64(b[i])
		ab += int64(v) * w
		eb += w * w
	}
	if ea == 0 || eb == 0 {
		return 0
	}
	return float64(ab) / math.Sqrt(ea*float64(eb))
}

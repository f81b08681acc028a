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
// The period is searched the way NetEQ's time_stretch.cc does it, cheaply
// enough to run on every packet while the buffer asks: on a copy
// decimated 12:1 (4 kHz, plenty for a pitch period), normalized
// cross-correlation between the 10 ms overlap window at the start of the
// unplayed audio and the window one lag later, for lags of 2.5–16 ms (a
// 400–62.5 Hz voice); a parabola through the best lag and its neighbours
// gives the lag at full rate, and the full-rate correlation of it and the
// lags either side picks the one used and says whether the audio is
// voiced enough. Where the decimated correlation is already far from
// voiced, the full-rate step is skipped.
const (
	tsmMinLag   = 120 // 2.5 ms at 48 kHz
	tsmMaxLag   = 768 // 16 ms
	tsmOverlap  = 480 // 10 ms overlap window
	tsmDecimate = 12
	tsmDecLen   = (tsmMaxLag + tsmOverlap) / tsmDecimate
	tsmDecWin   = tsmOverlap / tsmDecimate
	// tsmRefine: lags either side of the parabola's estimate searched at
	// full rate.
	tsmRefine = 2
	// tsmMinCorr: a lag is used if the window one period later
	// correlates this well (voiced), or the audio is quiet (a pause,
	// where anything goes).
	tsmMinCorr = 0.9
	// tsmCoarseCorr: below this decimated correlation no lag can reach
	// tsmMinCorr at full rate (decimation smooths the waveform, which
	// only raises the correlation).
	tsmCoarseCorr = 0.6
	// tsmMaxDebt bounds the requests not carried out yet (the buffer
	// asks again for what is not done: no need to remember more).
	tsmMaxDebt = 2 * tsmMaxLag
)

// tsmFade[i] is the weight (of 1<<15) of the second signal at sample i of
// the cross-fade: a linear ramp over tsmOverlap samples.
var tsmFade = func() (w [tsmOverlap]int32) {
	for i := range w {
		w[i] = int32((int64(i+1)<<15 + (tsmOverlap+1)/2) / (tsmOverlap + 1))
	}
	return w
}()

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
	dec     [tsmDecLen]float32
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
// to b (weight 1 at the end), over tsmOverlap samples. dst may be a or b.
func crossfade(dst, a, b []int16) {
	dst, a, b = dst[:tsmOverlap], a[:tsmOverlap], b[:tsmOverlap]
	for i, w := range &tsmFade {
		dst[i] = int16((int32(a[i])*(1<<15-w) + int32(b[i])*w + 1<<14) >> 15)
	}
}

// bestLag finds the lag in [tsmMinLag, maxLag] at which x repeats itself
// best over the overlap window (normalized cross-correlation of x[0:L]
// and x[lag:lag+L]; see the search above). It reports the correlation (0
// with lag 0 when the audio is clearly not voiced), and whether the
// audio it would touch is quiet (peak below quietThr).
func bestLag(x []int16, maxLag int, quietThr float64, dec *[tsmDecLen]float32) (lag int, corr float64, quiet bool) {
	n := maxLag + tsmOverlap
	nd := n / tsmDecimate
	// Decimate by averaging (a crude low-pass, enough for the coarse
	// search of a pitch period), and find the peak on the way.
	d := dec[:nd]
	var peak int32
	xs := x[:nd*tsmDecimate]
	for i := range d {
		blk := xs[i*tsmDecimate : i*tsmDecimate+tsmDecimate]
		var sum, hi, lo int32
		for _, v := range blk {
			w := int32(v)
			sum += w
			hi = max(hi, w)
			lo = min(lo, w)
		}
		peak = max(peak, hi, -lo)
		d[i] = float32(sum)
	}
	for _, v := range x[nd*tsmDecimate : n] {
		peak = max(peak, int32(v), -int32(v))
	}
	quiet = float64(peak) < quietThr

	// Coarse search: maximize ab/sqrt(eb) (e0 is the same for every lag)
	// with eb, the energy of the lagged window, kept as a running sum.
	const win = tsmDecWin
	lo, hi := (tsmMinLag+tsmDecimate-1)/tsmDecimate, maxLag/tsmDecimate
	if hi < lo {
		return 0, 0, quiet
	}
	w0 := d[:win]
	e0 := float64(dot32(w0, w0))
	var abs, ebs [tsmMaxLag/tsmDecimate + 2]float64
	eb := float64(dot32(d[lo:lo+win], d[lo:lo+win]))
	best, bestScore := -1, math.Inf(-1)
	for l := lo; l <= hi; l++ {
		if l > lo {
			in, out := float64(d[l+win-1]), float64(d[l-1])
			eb = max(eb+in*in-out*out, 0)
		}
		ab := float64(dot32(w0, d[l:l+win]))
		abs[l], ebs[l] = ab, eb
		if eb > 0 {
			if sc := ab * math.Abs(ab) / eb; sc > bestScore {
				best, bestScore = l, sc
			}
		}
	}
	if best < 0 || e0 == 0 {
		return silentLag(quiet), 0, quiet
	}
	c := func(l int) float64 {
		if ebs[l] <= 0 {
			return 0
		}
		return abs[l] / math.Sqrt(e0*ebs[l])
	}
	cb := c(best)
	if cb < tsmCoarseCorr && !quiet {
		return 0, cb, quiet
	}
	// A parabola through the best lag and its neighbours: the lag at
	// full rate.
	est := float64(best)
	if best > lo && best < hi {
		cl, cr := c(best-1), c(best+1)
		if den := cl - 2*cb + cr; den < 0 {
			est += min(max(0.5*(cl-cr)/den, -0.5), 0.5)
		}
	}
	center := int(math.Round(est * tsmDecimate))
	// Refine at full rate: the estimate and the lags either side.
	a0 := x[:tsmOverlap]
	e0f := float64(dot16(a0, a0))
	if e0f == 0 {
		return silentLag(quiet), 0, quiet
	}
	lag, corr = 0, math.Inf(-1)
	rlo, rhi := max(tsmMinLag, center-tsmRefine), min(maxLag, center+tsmRefine)
	ebi := dot16(x[rlo:rlo+tsmOverlap], x[rlo:rlo+tsmOverlap]) // running energy of x[l:l+L]
	for l := rlo; l <= rhi; l++ {
		if l > rlo {
			in, out := int64(x[l+tsmOverlap-1]), int64(x[l-1])
			ebi += in*in - out*out
		}
		if ebi <= 0 {
			continue
		}
		if cc := float64(dot16(a0, x[l:l+tsmOverlap])) / math.Sqrt(e0f*float64(ebi)); cc > corr {
			lag, corr = l, cc
		}
	}
	if lag == 0 {
		return 0, 0, quiet
	}
	return lag, corr, quiet
}

// silentLag is the lag bestLag returns where there is nothing to
// correlate (digital silence): the shortest, if the audio is quiet (any lag
// will do), else none.
func silentLag(quiet bool) int {
	if quiet {
		return tsmMinLag
	}
	return 0
}

// dot32 is the dot product of a and b[:len(a)].
func dot32(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// dot16 is the dot product of a and b[:len(a)].
func dot16(a, b []int16) int64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		aa, bb := a[i:i+4:i+4], b[i:i+4:i+4]
		s0 += int64(int32(aa[0]) * int32(bb[0]))
		s1 += int64(int32(aa[1]) * int32(bb[1]))
		s2 += int64(int32(aa[2]) * int32(bb[2]))
		s3 += int64(int32(aa[3]) * int32(bb[3]))
	}
	for ; i < len(a); i++ {
		s0 += int64(int32(a[i]) * int32(b[i]))
	}
	return s0 + s1 + s2 + s3
}

package audiotest

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Realignment, after ITU-T P.862 (PESQ) time alignment: a crude global
// delay from the envelopes, then the reference split into utterances at
// its pauses, one delay per utterance searched near the global one, and
// utterances split once more where two delays fit much better than one
// (P.862's "utterance splitting", which finds a delay change inside an
// utterance). An adaptive jitter buffer changes its delay during a
// transmission (it conceals while packets are late and drops silence in
// pauses); every change shifts the rest of the recording, which a single
// lag scores as a mismatch although a listener hears nothing wrong.
const (
	// maxDeviation bounds a segment's delay around the global delay.
	// Playout buffers adapt by tens of milliseconds per step and rarely
	// drift more than a couple of hundred milliseconds in one
	// transmission; a syllable lasts 100–300 ms and a word 300–800 ms,
	// so ±250 ms covers any plausible adaptation while a segment can
	// rarely reach a different word (the structure the score checks).
	maxDeviation = 250 * time.Millisecond
	// maxStep bounds the change of delay between neighbouring segments,
	// so a segment cannot jump to a neighbouring word; the delay grows
	// anywhere (the buffer conceals mid-word) but shrinks only in a
	// pause (see aligner.quietAt).
	maxStep = 150 * time.Millisecond
	// lagStep is the resolution of the per-segment delay search.
	lagStep = time.Millisecond
	// pauseWindows is the shortest pause (in envelope windows, 150 ms)
	// that ends an utterance.
	pauseWindows = 15
	// silenceDB is the level, relative to the reference's loudest
	// window, below which a window is a pause.
	silenceDB = -35
	// maxSegmentWindows caps a segment at 1 s so that a delay change
	// inside a long utterance is found too.
	maxSegmentWindows = 100
	// minPartWindows is the shortest part (100 ms) a segment is split
	// into when looking for a delay change inside it.
	minPartWindows = 10
	// minChangeWindows is how much speech (windows above the silence
	// level: 200 ms) a segment or part needs for its delay to differ
	// from its predecessor's: a syllable or two resemble many others.
	minChangeWindows = 20
	// changeCost is what one change of delay costs in the search, in
	// units of the squared difference of standardised envelopes (an
	// aligned window of speech costs about 0.1, a misaligned one about
	// 1). Delay changes are rare, so a change must pay for itself: it
	// keeps noise from wandering between lags in search of chance
	// matches.
	changeCost = 4.0
	// minConfidence is the envelope correlation a segment must reach at
	// a lag to move there from its predecessor's lag (P.862 too accepts
	// an utterance's delay only with enough confidence): a shifted copy
	// of speech scores above 0.9 at its own lag, unrelated sound over
	// 200 ms of speech rarely does by chance.
	minConfidence = 0.9
	// splitCost is the extra a split inside a segment must gain on top
	// of its changeCost: the split point is free, so chance alone finds
	// some gain.
	splitCost = 4.0
)

// Alignment reports how a recording lines up with its reference: the
// global delay, the delay of each segment of the reference (utterances
// split at pauses and at most about 1 s long), and the correlations
// with and without per-segment realignment. See [EnvelopeAlignment].
type Alignment struct {
	// Corr is the realigned envelope correlation: the acceptance metric
	// returned by [EnvelopeCorrelation].
	Corr float64
	// SingleLagCorr is the envelope correlation at the single global
	// delay ([EnvelopeCorrelationSingleLag]).
	SingleLagCorr float64
	// Lag is the global delay of the recording (positive: late).
	Lag time.Duration
	// Segments are the parts of the reference in order, each with its
	// own delay. Empty if the signals were too short or silent.
	Segments []Segment
}

// Segment is one part of the reference and where it was found in the
// recording.
type Segment struct {
	// Start and End are the segment's place in the reference.
	Start, End time.Duration
	// Lag is the segment's delay in the recording (positive: late).
	Lag time.Duration
	// Corr is the envelope correlation within the segment at Lag (0 if
	// either side is constant, e.g. a segment that is all pause).
	Corr float64
	// Split is true if the segment was found by splitting an utterance
	// piece in two because its halves have different delays.
	Split bool
}

// String describes the alignment for a person: both scores, then one
// line per segment with its delay change from the previous one.
func (a Alignment) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "realigned envelope correlation %.3f, single-lag %.3f, global delay %v, %d segments",
		a.Corr, a.SingleLagCorr, a.Lag, len(a.Segments))
	for i, s := range a.Segments {
		fmt.Fprintf(&b, "\n  segment %d (%.2f–%.2f s of the reference): delay %v, r=%.3f",
			i+1, s.Start.Seconds(), s.End.Seconds(), s.Lag, s.Corr)
		if i > 0 {
			switch d := s.Lag - a.Segments[i-1].Lag; {
			case d > 0:
				fmt.Fprintf(&b, ", delayed %v more than segment %d", d, i)
			case d < 0:
				fmt.Fprintf(&b, ", delayed %v less than segment %d", -d, i)
			}
		}
		if s.Split {
			b.WriteString(" (split inside an utterance)")
		}
	}
	return b.String()
}

// changes summarises the delay changes between segments, e.g. "2 delay
// changes: +80ms at 1.52 s, -20ms at 2.90 s", or "no delay change".
func (a Alignment) changes() string {
	var parts []string
	for i := 1; i < len(a.Segments); i++ {
		if d := a.Segments[i].Lag - a.Segments[i-1].Lag; d != 0 {
			sign := "+"
			if d < 0 {
				sign, d = "-", -d
			}
			parts = append(parts, fmt.Sprintf("%s%v at %.2f s (segment %d)", sign, d, a.Segments[i].Start.Seconds(), i+1))
		}
	}
	switch len(parts) {
	case 0:
		return "no delay change"
	case 1:
		return "1 delay change: " + parts[0]
	}
	return fmt.Sprintf("%d delay changes: %s", len(parts), strings.Join(parts, ", "))
}

// EnvelopeAlignment compares got with ref like [EnvelopeCorrelation] and
// reports the alignment it found: the global delay, the delay of each
// segment of the reference, and both the realigned and the single-lag
// correlation.
//
// The realignment follows ITU-T P.862's time alignment: after the global
// delay (the best lag of the 10 ms envelopes, refined to 1 ms), the
// reference's active span is cut into segments at its pauses (at least
// 150 ms below -35 dB of its loudest window; the pause is shared between
// its neighbours at its middle) and into pieces of at most 1 s at the
// quietest window; each segment gets its own delay within ±250 ms of the
// global one, neighbours differing by at most 150 ms, chosen together to
// minimise the squared difference of the standardised envelopes plus a
// cost per change; then each segment is split once more where two delays
// fit much better than one. The score is the Pearson correlation of the
// reference's envelope with the recording's envelope taken, window by
// window, at its segment's delay. A pure shift of part of the recording
// therefore costs nothing, while missing, inserted-over, concealed or
// noisy audio still does, since every window of the reference is
// compared with what the recording has at its delay.
func EnvelopeAlignment[S Sample](ref, got []S, rate int) Alignment {
	a0, a1 := activeSpan(ref, rate)
	r := ref[a0:a1]
	off := time.Duration(int64(a0) * int64(time.Second) / int64(rate))
	shift, ok := globalShift(r, got, rate)
	if !ok {
		return Alignment{}
	}
	al := Alignment{Lag: samplesToDur(shift, rate) - off}
	al.SingleLagCorr = singleLagCorr(r, got, rate, shift)

	w := int(int64(rate) * int64(EnvelopeWindow) / int64(time.Second))
	w = max(w, 1)
	r0, g0 := max(0, -shift), max(0, shift)
	n := min(len(r)-r0, len(got)-g0) / w
	if n < 2 {
		return al
	}
	er := Envelope(r[r0:r0+n*w], rate, EnvelopeWindow)
	step := max(1, int(int64(rate)*int64(lagStep)/int64(time.Second)))
	ge := newShiftedEnvelope(got, g0, n, w, step, int(maxDeviation/lagStep))

	segs, lags := realign(er, ge, segmentReference(er))
	al.Corr = Pearson(er, ge.assigned(segs, lags))

	start := off + samplesToDur(r0, rate)
	for i, s := range segs {
		seg := Segment{
			Start: start + time.Duration(s.from)*EnvelopeWindow,
			End:   start + time.Duration(s.to)*EnvelopeWindow,
			Lag:   al.Lag + samplesToDur(lags[i]*step, rate),
			Split: s.split,
		}
		g := make([]float64, s.to-s.from)
		for j := range g {
			g[j] = ge.at(s.from+j, lags[i])
		}
		seg.Corr = Pearson(er[s.from:s.to], g)
		al.Segments = append(al.Segments, seg)
	}
	return al
}

func samplesToDur(n, rate int) time.Duration {
	return time.Duration(int64(n) * int64(time.Second) / int64(rate))
}

// shiftedEnvelope gives the 10 ms RMS envelope of got at window i of the
// reference grid displaced by k lag steps: the RMS of
// got[g0+i·w+k·step : +w], silence outside got. It reads a prefix sum of
// squares, so any displacement costs O(1); when a window is a whole
// number of lag steps (any rate that is a multiple of 1 kHz) every value
// is computed once into a table.
type shiftedEnvelope struct {
	g0, n, w, step, maxK int
	lo, hi               int       // got[lo:hi] is covered by sum
	sum                  []float64 // sum[j] = Σ got[lo:lo+j]² at full scale 1
	hop                  int       // w/step if w%step == 0, else 0
	table                []float64 // if hop > 0: table[i·hop+k+maxK] = at(i, k)
}

func newShiftedEnvelope[S Sample](got []S, g0, n, w, step, maxK int) *shiftedEnvelope {
	e := &shiftedEnvelope{g0: g0, n: n, w: w, step: step, maxK: maxK}
	e.lo = max(0, g0-maxK*step)
	e.hi = min(len(got), g0+n*w+maxK*step)
	e.hi = max(e.hi, e.lo)
	scale := scaleOf(got)
	e.sum = make([]float64, e.hi-e.lo+1)
	var s float64
	for j, v := range got[e.lo:e.hi] {
		x := float64(v) * scale
		s += x * x
		e.sum[j+1] = s
	}
	if w%step == 0 {
		hop := w / step
		table := make([]float64, (n-1)*hop+2*maxK+1)
		for m := range table {
			table[m] = e.rms(g0 + (m-maxK)*step)
		}
		e.hop, e.table = hop, table
	}
	return e
}

// at returns the envelope of window i at displacement k (|k| ≤ maxK).
func (e *shiftedEnvelope) at(i, k int) float64 {
	if e.hop > 0 {
		return e.table[i*e.hop+k+e.maxK]
	}
	return e.rms(e.g0 + i*e.w + k*e.step)
}

// rms returns the RMS of got[a:a+w], silence outside got.
func (e *shiftedEnvelope) rms(a int) float64 {
	b := min(max(a+e.w, e.lo), e.hi)
	a = min(max(a, e.lo), e.hi)
	p := e.sum[b-e.lo] - e.sum[a-e.lo]
	if p <= 0 {
		return 0
	}
	return math.Sqrt(p / float64(e.w))
}

// assigned returns the envelope of got with each segment at its lag.
func (e *shiftedEnvelope) assigned(segs []segment, lags []int) []float64 {
	out := make([]float64, e.n)
	for si, s := range segs {
		for i := s.from; i < s.to; i++ {
			out[i] = e.at(i, lags[si])
		}
	}
	return out
}

// segment is a run of reference windows [from, to) with one delay.
type segment struct {
	from, to int
	split    bool
}

// silenceLevel is the envelope level below which a window of er is
// silent: silenceDB below its loudest window.
func silenceLevel(er []float64) float64 {
	peak := 0.0
	for _, v := range er {
		peak = max(peak, v)
	}
	return peak * math.Pow(10, silenceDB/20.0)
}

// segmentReference cuts the reference envelope into segments that cover
// it without gaps: utterances separated by pauses of at least
// pauseWindows windows below silenceDB (each pause shared between its
// neighbours at its middle), and utterances longer than
// maxSegmentWindows cut into nearly equal pieces at their quietest
// window near each nominal cut.
func segmentReference(er []float64) []segment {
	n := len(er)
	peak := 0.0
	for _, v := range er {
		peak = max(peak, v)
	}
	thr := silenceLevel(er)
	// Utterances: runs of windows not separated by a long pause.
	type run struct{ from, to int }
	var utts []run
	last := -1 // last loud window
	for i, v := range er {
		if v < thr {
			continue
		}
		if len(utts) == 0 || i-last > pauseWindows {
			utts = append(utts, run{i, i + 1})
		} else {
			utts[len(utts)-1].to = i + 1
		}
		last = i
	}
	if len(utts) == 0 {
		return []segment{{0, n, false}}
	}
	// Boundaries: the middle of each pause, and cuts inside long
	// utterances.
	cuts := []int{0}
	for j, u := range utts {
		if j > 0 {
			cuts = append(cuts, (utts[j-1].to+u.from)/2)
		}
		length := u.to - u.from
		pieces := (length + maxSegmentWindows - 1) / maxSegmentWindows
		for p := 1; p < pieces; p++ {
			nominal := u.from + p*length/pieces
			// The quietest window within ±20% of a piece of the nominal
			// cut: a word boundary if there is one.
			d := length / pieces / 5
			best := nominal
			for i := max(u.from+1, nominal-d); i <= min(u.to-1, nominal+d); i++ {
				if er[i] < er[best] {
					best = i
				}
			}
			cuts = append(cuts, best)
		}
	}
	cuts = append(cuts, n)
	segs := make([]segment, 0, len(cuts)-1)
	for j := 1; j < len(cuts); j++ {
		if cuts[j] > cuts[j-1] {
			segs = append(segs, segment{from: cuts[j-1], to: cuts[j]})
		}
	}
	return segs
}

// realign splits segments whose two parts have different delays, then
// chooses a lag (in steps, |lag| ≤ maxK) for every segment. It returns
// the new segments and their lags. The objective, over all windows, is
// the squared difference of the reference's and the recording's
// standardised envelopes, plus changeCost per change of lag; neighbouring
// lags are at most maxStep apart, and a segment may move to a lag other
// than its predecessor's only where its own envelope correlates at least
// minConfidence there (P.862 likewise accepts an utterance's delay only
// with enough confidence). A Viterbi search over the segments finds the
// best lags.
func realign(er []float64, ge *shiftedEnvelope, segs []segment) ([]segment, []int) {
	a := &aligner{er: er, ge: ge, K: ge.maxK, M: int(maxStep / lagStep)}
	thr := silenceLevel(er)
	a.loud = make([]int, len(er)+1)
	for i, v := range er {
		a.loud[i+1] = a.loud[i]
		if v >= thr {
			a.loud[i+1]++
		}
	}
	a.size = 2*a.K + 1
	a.mr, a.sr = meanStd(er)
	g0 := make([]float64, len(er))
	for i := range g0 {
		g0[i] = ge.at(i, 0)
	}
	a.mg, a.sg = meanStd(g0)
	if a.sr == 0 || a.sg == 0 {
		return segs, make([]int, len(segs))
	}

	// Split test (P.862's utterance splitting): does a segment fit much
	// better as two parts with different lags?
	var split []segment
	for _, s := range segs {
		split = append(split, a.split(s)...)
	}
	segs = split

	// Viterbi over segments: dp[k] is the least cost of the segments so
	// far with the last one at lag index k.
	size, M := a.size, a.M
	var st segStats
	cost := make([]float64, size)
	conf := make([]bool, size)
	dp := make([]float64, size)
	next := make([]float64, size)
	back := make([][]int32, len(segs))
	dq := make([]int, 0, size)
	for si, s := range segs {
		a.stats(s.from, s.to, &st)
		for k := range cost {
			cost[k] = st.cost(a, k)
			conf[k] = st.corr(k) >= minConfidence && a.loud[s.to]-a.loud[s.from] >= minChangeWindows
		}
		if si == 0 {
			for k := range dp {
				dp[k] = math.Inf(1)
				if conf[k] || k == a.K {
					dp[k] = cost[k]
				}
			}
			continue
		}
		b := make([]int32, size)
		dq = dq[:0]
		add := 0
		// The delay may grow anywhere (the buffer conceals mid-word) but
		// shrink only in a pause.
		up := 0
		if a.quietAt(s.from) {
			up = M
		}
		for k := 0; k < size; k++ {
			// Sliding minimum of dp over [k-M, k+up]: the lags the
			// previous segment may have.
			for ; add < size && add <= k+up; add++ {
				for len(dq) > 0 && dp[dq[len(dq)-1]] >= dp[add] {
					dq = dq[:len(dq)-1]
				}
				dq = append(dq, add)
			}
			for dq[0] < k-M {
				dq = dq[1:]
			}
			best, from := dp[k], k
			if m := dp[dq[0]] + changeCost; conf[k] && m < best {
				best, from = m, dq[0]
			}
			next[k] = cost[k] + best
			b[k] = int32(from)
		}
		back[si] = b
		dp, next = next, dp
	}
	lags := make([]int, len(segs))
	lags[len(segs)-1] = bestIndex(dp, a.K)
	for si := len(segs) - 1; si > 0; si-- {
		lags[si-1] = int(back[si][lags[si]])
	}
	for i := range lags {
		lags[i] -= a.K
	}
	return segs, lags
}

// quietAt reports whether the reference is silent on both sides of the
// boundary before window i: a pause, where a playout buffer may shrink
// its delay. Everywhere else a shrink would discard speech, which is
// rare, and a segment moved earlier there usually only pretends that a
// lost syllable is an echo of its neighbour.
func (a *aligner) quietAt(i int) bool {
	quiet := func(j int) bool { return j < 0 || j >= len(a.er) || a.loud[j+1] == a.loud[j] }
	return quiet(i-1) && quiet(i)
}

// aligner holds what the lag search needs: the reference envelope, the
// recording's shifted envelope, both envelopes' mean and standard
// deviation (the recording's at the global lag), and the lag index
// range: index k is lag k-K steps, |k-K| ≤ K, neighbours within M.
type aligner struct {
	er         []float64
	ge         *shiftedEnvelope
	mr, sr     float64
	mg, sg     float64
	K, M, size int
	loud       []int // loud[i]: how many of er[:i] are above the silence level

	// Scratch space of split, reused from segment to segment.
	part         segStats
	pg, pgg, prg []float64
	pr, prr      []float64
}

// segStats holds sums over some windows i of the reference envelope r
// and, for every lag index k, of the recording's envelope g at k.
type segStats struct {
	n, r, rr  float64
	g, gg, rg []float64 // by lag index
}

func (st *segStats) reset(size int) {
	st.n, st.r, st.rr = 0, 0, 0
	if cap(st.g) < size {
		st.g, st.gg, st.rg = make([]float64, size), make([]float64, size), make([]float64, size)
	}
	st.g, st.gg, st.rg = st.g[:size], st.gg[:size], st.rg[:size]
	clear(st.g)
	clear(st.gg)
	clear(st.rg)
}

// stats fills st with the sums over windows [from, to).
func (a *aligner) stats(from, to int, st *segStats) {
	st.reset(a.size)
	for i := from; i < to; i++ {
		r := a.er[i]
		st.n++
		st.r += r
		st.rr += r * r
		for k := 0; k < a.size; k++ {
			g := a.ge.at(i, k-a.K)
			st.g[k] += g
			st.gg[k] += g * g
			st.rg[k] += r * g
		}
	}
}

// cost is Σ (zr - zg)² at lag index k, with zr and zg the envelopes
// standardised by the whole signals' mean and deviation.
func (st *segStats) cost(a *aligner, k int) float64 {
	n := st.n
	zrr := (st.rr - 2*a.mr*st.r + n*a.mr*a.mr) / (a.sr * a.sr)
	zgg := (st.gg[k] - 2*a.mg*st.g[k] + n*a.mg*a.mg) / (a.sg * a.sg)
	zrg := (st.rg[k] - a.mg*st.r - a.mr*st.g[k] + n*a.mr*a.mg) / (a.sr * a.sg)
	return max(0, zrr-2*zrg+zgg)
}

// corr is the Pearson correlation within the windows at lag index k (0
// if either side is constant).
func (st *segStats) corr(k int) float64 {
	n := st.n
	vr := n*st.rr - st.r*st.r
	vg := n*st.gg[k] - st.g[k]*st.g[k]
	if vr <= 1e-12*n*st.rr || vg <= 1e-12*n*st.gg[k] {
		return 0
	}
	return (n*st.rg[k] - st.r*st.g[k]) / math.Sqrt(vr*vg)
}

// split tests whether segment s fits better as two parts of at least
// minPartWindows with different lags, each part correlating at least
// minConfidence at its lag and the lags at most M apart, than as one
// part at its best lag, by more than changeCost+splitCost. It returns s
// or its two parts.
func (a *aligner) split(s segment) []segment {
	n := s.to - s.from
	if n < 2*minPartWindows {
		return []segment{s}
	}
	whole := &a.part
	a.stats(s.from, s.to, whole)
	one := math.Inf(1)
	for k := 0; k < a.size; k++ {
		one = min(one, whole.cost(a, k))
	}
	// Prefix sums by window over the first j windows, lag index k at
	// [j*size+k]; a part's sums are differences of two prefixes.
	size := a.size
	pn := n + 1
	if len(a.pg) < pn*size {
		a.pg, a.pgg, a.prg = make([]float64, pn*size), make([]float64, pn*size), make([]float64, pn*size)
		a.pr, a.prr = make([]float64, pn), make([]float64, pn)
	}
	pg, pgg, prg, pr, prr := a.pg[:pn*size], a.pgg[:pn*size], a.prg[:pn*size], a.pr[:pn], a.prr[:pn]
	clear(pg[:size])
	clear(pgg[:size])
	clear(prg[:size])
	pr[0], prr[0] = 0, 0
	for j := 0; j < n; j++ {
		i := s.from + j
		r := a.er[i]
		pr[j+1], prr[j+1] = pr[j]+r, prr[j]+r*r
		p, q := j*size, (j+1)*size
		for k := 0; k < size; k++ {
			g := a.ge.at(i, k-a.K)
			pg[q+k] = pg[p+k] + g
			pgg[q+k] = pgg[p+k] + g*g
			prg[q+k] = prg[p+k] + r*g
		}
	}
	part := &a.part
	part.reset(size)
	diff := func(hi, lo int) *segStats {
		part.n, part.r, part.rr = float64(hi-lo), pr[hi]-pr[lo], prr[hi]-prr[lo]
		h, l := hi*size, lo*size
		for k := range part.g {
			part.g[k] = pg[h+k] - pg[l+k]
			part.gg[k] = pgg[h+k] - pgg[l+k]
			part.rg[k] = prg[h+k] - prg[l+k]
		}
		return part
	}
	best := func(st *segStats) (float64, int) {
		c, at := math.Inf(1), -1
		for k := 0; k < a.size; k++ {
			if v := st.cost(a, k); v < c && st.corr(k) >= minConfidence {
				c, at = v, k
			}
		}
		return c, at
	}
	bestTotal, bestJ := one-changeCost-splitCost, -1
	for j := minPartWindows; j <= n-minPartWindows; j++ {
		m := s.from + j
		if a.loud[m]-a.loud[s.from] < minChangeWindows || a.loud[s.to]-a.loud[m] < minChangeWindows {
			continue
		}
		c1, k1 := best(diff(j, 0))
		c2, k2 := best(diff(n, j))
		if k1 < 0 || k2 < 0 || k1 == k2 || abs(k1-k2) > a.M || (k2 < k1 && !a.quietAt(m)) {
			continue
		}
		if t := c1 + c2; t < bestTotal {
			bestTotal, bestJ = t, j
		}
	}
	if bestJ < 0 {
		return []segment{s}
	}
	m := s.from + bestJ
	return []segment{{s.from, m, true}, {m, s.to, true}}
}

// bestIndex returns the index of the smallest value, preferring the one
// nearest to centre among equals.
func bestIndex(v []float64, centre int) int {
	best := centre
	for k, x := range v {
		if x < v[best] || (x == v[best] && abs(k-centre) < abs(best-centre)) {
			best = k
		}
	}
	return best
}

func meanStd(x []float64) (mean, std float64) {
	if len(x) == 0 {
		return 0, 0
	}
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(x)))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

package jitter

import "math"

// estimator turns packet transit times into a target delay.
//
// Transit of a packet = arrival − (timestamp+duration)/clockRate
// (nanoseconds, relative to an arbitrary anchor): a packet leaves the sender
// only once its last sample has been captured. The baseline is the minimum transit over a
// sliding window of blocks, so a sender clock that runs slightly fast or slow
// (drift) is followed. Jitter of a packet = transit − baseline ≥ 0.
//
// A packet's jitter goes into a histogram with exponential forgetting
// (weights grow instead of decaying every bucket, so adding is O(1)); the
// target for a packet is its own duration (it was sent only after its last
// sample was captured) plus the jitter histogram's high quantile, so a
// stream mixing 20 and 60 ms packets plays its 20 ms ones 40 ms sooner
// than its 60 ms ones. The histogram and the spike rules below work on
// "need" = jitter + refDurNs (a 20 ms frame's), so thresholds read as
// delays of a 20 ms stream.
//
// The baseline follows a ramp (a queue filling: the minimum transit rising
// block after block) by extrapolating the last two block minima instead of
// waiting for the low blocks to leave the window, so a ramp's lag is not
// learned as jitter (a 40 ms/s ramp would teach the histogram 80 ms for
// its 20 s memory); once the ramp stops, the baseline stays at its level
// until a faster packet pulls it down. A packet much faster than the
// baseline (a queue collapsing, a faster route) pulls it down at once and
// is reported as a fall (see add): the packets of the old path still in
// flight are then not convicted of being late. Samples far above it are spikes: a stalled
// link, or a stalled sender or relay process on a busy machine, releasing
// the packets it held back together. A cluster of spike samples (each
// within spikeGapNs of the last) is a spike event once it has spikeRunMin
// of them, or burstMin samples above the base target in all (a burst:
// the packets stuck behind a stall need less the later they were sent, so
// only the first are above the spike threshold). An event never enters
// the histogram, whose memory is long (about 20 s): one stall would hold
// the target at its height long after the network is back to normal, and,
// the spike threshold being relative to the target, let the next stall
// climb on top of it. A smaller cluster is ordinary tail and is learned
// once it is over.
//
// While a cluster is open its samples are measured against the base target
// as it was when it began (a burst must not raise the bar it is measured
// against: with few samples learned, one of them is the quantile), and
// when it becomes an event, the samples above that target learned in the
// burstLeadNs before it are taken back (jitter reorders a burst, so its
// last packets, needing least, may come first).
//
// Spike events that recur (peakMinEvents within peakWindowNs) are covered
// for a while (peak mode, as in WebRTC's NetEq): the target is raised to the
// highest of them until no event has come for twice the longest interval
// between them, then it falls back to the base target, which has followed
// the network all along.
//
// Spikes are told apart from the second sample on (spikeWarmup), with the
// threshold relative to at least warmupTargetNs for the first 50: a stall
// in the first second of a transmission (when a busy machine is busiest,
// starting processes) is a spike as much as a later one, also one right
// after the first packet (a sender whose process stalled after sending
// it; from the 5th sample on, as before, the 470 ms such a stall held
// back was learned as jitter: the target, and the delay, stayed that
// much higher for the 20 s memory).
type estimator struct {
	bucketNs int64
	buckets  []float64
	total    float64
	weight   float64 // weight of the next sample (grows by 1/forget per 20 ms of audio)
	q        float64
	forget   float64 // per 20 ms of audio
	samples  int     // samples seen (for warm-up)

	// baseline: min transit per block, ring of blockCount blocks, with the
	// arrival of each block's minimum.
	blockNs    int64
	blockMin   [baselineBlocks]int64
	blockAt    [baselineBlocks]int64
	blockMax   [baselineBlocks]int64 // max transit per block (its spread)
	blockStart int64                 // arrival (ns) when the current block began
	blockIdx   int
	blocksUsed int
	baseline   int64
	haveBase   bool
	// ramp: the minima are rising; the baseline is extrapolated from the
	// last two complete blocks (slope in ns per ns).
	ramp      bool
	rampSlope float64
	// The most a packet needed above the target during the ramp, over
	// the last rampNeedNs (the newest such sample at rampNeedAt).
	rampNeed, rampNeedAt int64

	// The current cluster of spike samples (see the type's doc).
	spikeRun  int   // spike samples in the current cluster
	spikeRef  int64 // the base target when the cluster began
	spikeLast int64 // arrival of the last spike sample
	// Samples of the current cluster held back until it is known whether
	// it is a spike event (then they are not learned) or not.
	pending  [burstMin]int64
	npending int
	event    bool  // the current cluster is a spike event
	spikeAt  int64 // arrival of the cluster's first spike sample

	// The last samples learned, to take back those that turn out to be
	// part of a spike event (see unlearnBefore).
	recent     [128]learned
	recentNext int

	// Spike events, newest at peaks[(peakNext-1) % peakEvents]; peakN of
	// them are valid.
	peaks    [peakEvents]peak
	peakNext int
	peakN    int
	lastArr  int64 // arrival of the newest sample (ns)

	// margin: the target's jitter is the quantile's times 1+margin
	// (the late-loss feedback, see Buffer.noteLate).
	margin float64

	cached      int64 // cached quantile (ns)
	dirty       int
	maxNs       int64
	spikeMinNs  int64
	spikeFactor float64
}

// learned is a sample added to the histogram.
type learned struct {
	at, need int64
	before   int64 // the quantile when it was added
	bucket   int
	w        float64 // weight added; 0: taken back
}

// peak is one spike event: when it began and the most delay one of its
// packets needed.
type peak struct{ at, height int64 }

const (
	spikeRunMin = 3
	// tailMin: the quantile is never above the tailMin-th largest sample
	// (see quantile).
	tailMin  = 2.0
	burstMin = 4
	// refDurNs: the histogram holds jitter + refDurNs (see the type's
	// doc).
	refDurNs = 20e6
	// rampMinNs: block minima rising by more than this make a ramp.
	rampMinNs = 4e6
	// rampNeedNs: how long a need above the target on a ramp is covered.
	rampNeedNs = 1e9
	// fallMinNs: a packet this much faster than the baseline is a fall.
	fallMinNs      = 30e6
	spikeGapNs     = 200e6
	baselineBlocks = 4
	frame20ms      = 20e6

	// spikeWarmup samples are learned before spikes are told apart (a
	// jitter is measured against the first); for
	// the first 50, the spike threshold is relative to at least
	// warmupTargetNs.
	spikeWarmup    = 1
	warmupTargetNs = 60e6

	// burstLeadNs: samples above the target learned this long before a
	// spike event's first spike sample are taken back as part of it.
	burstLeadNs = 100e6

	// Peak mode: peakMinEvents spike events within peakWindowNs raise the
	// target to their height; it holds for twice the longest interval
	// between them (at most peakWindowNs) after the last one.
	peakEvents    = 8
	peakMinEvents = 4
	peakWindowNs  = 10e9
)

func newEstimator(maxNs int64, q, forget float64) *estimator {
	const bucketNs = 1e6 // 1 ms
	n := int(maxNs/bucketNs) + 2
	return &estimator{
		bucketNs:    bucketNs,
		buckets:     make([]float64, n),
		weight:      1,
		q:           q,
		forget:      forget,
		blockNs:     500e6,
		maxNs:       maxNs,
		spikeMinNs:  60e6,
		spikeFactor: 2,
	}
}

// resetBaseline forgets the transit baseline (new transmission: the
// sender's timestamps may have jumped). The histogram is kept: the network
// is the same.
func (e *estimator) resetBaseline() {
	e.haveBase = false
	e.blocksUsed = 0
}

// add records one packet's transit (ns) observed at arrival (ns) and
// covering durNs of audio. It returns the jitter of this packet; if it
// pulled the baseline down by more than fallMinNs at once (a queue
// collapsed, or a faster route), by how much; and if the sample is part
// of a cluster of spike samples, the cluster (its first sample's
// arrival, non-zero; isEvent tells whether it became a spike event).
func (e *estimator) add(transit, arrival, durNs int64) (jit, fall, cluster int64) {
	fall = e.updateBaseline(transit, arrival)
	j := transit - e.baseline
	// The histogram holds jitter plus a reference duration (see the
	// type's doc); the target adds the duration of the packet played.
	need := j + refDurNs

	// Forgetting is per 20 ms of audio so 60 ms packets age the history as
	// fast as three 20 ms packets.
	steps := float64(durNs) / frame20ms
	if steps <= 0 {
		steps = 1
	}
	e.weight /= math.Pow(e.forget, steps)
	e.lastArr = max(e.lastArr, arrival)

	if e.spikeRun > 0 && arrival-e.spikeLast > spikeGapNs {
		e.endCluster()
	}
	base := e.quantile()
	// During a cluster, spikes are told apart from the target as it was
	// before it began: the burst's own samples must not raise the bar
	// they are measured against (with few samples, one of them is the
	// quantile).
	ref := base
	if e.spikeRun > 0 {
		ref = e.spikeRef
	}
	if e.samples < 50 {
		ref = max(ref, warmupTargetNs)
	}
	spike := e.samples >= spikeWarmup && need > max(ref+e.spikeMinNs, int64(e.spikeFactor*float64(ref)))
	e.samples++
	switch {
	case spike:
		if e.spikeRun == 0 {
			e.spikeRef, e.spikeAt, e.event = base, arrival, false
		}
		e.spikeLast = arrival
		e.spikeRun++
		e.member(need)
		cluster = e.spikeAt
	case e.spikeRun > 0 && need > e.spikeRef:
		// Above the target but below the spike threshold, during a
		// cluster: the rest of a burst (packets stuck behind a stall
		// need less the later they were sent).
		e.member(need)
		cluster = e.spikeAt
	case e.ramp && need > base:
		// On a ramp, what is above the target is jitter around the
		// extrapolated baseline, and its lag when the ramp steepens:
		// covered while the ramp lasts (rampNeed), not learned into
		// the histogram, which would hold it for 20 s after.
		if arrival-e.rampNeedAt > rampNeedNs || need >= e.rampNeed {
			e.rampNeed, e.rampNeedAt = need, arrival
		}
	default:
		e.addSample(need)
	}
	return j, fall, cluster
}

// isEvent reports whether cluster (from add) is a spike event: the
// current cluster once it became one, or one of the last peakEvents.
func (e *estimator) isEvent(cluster int64) bool {
	if cluster == 0 {
		return false
	}
	if e.spikeRun > 0 && e.spikeAt == cluster {
		return e.event
	}
	for i := 0; i < e.peakN; i++ {
		if e.peaks[(e.peakNext+peakEvents-1-i)%peakEvents].at == cluster {
			return true
		}
	}
	return false
}

// updateBaseline moves the baseline with the packet's transit (see the
// type's doc) and returns by how much it fell at once, if more than
// fallMinNs, else 0.
func (e *estimator) updateBaseline(transit, arrival int64) (fall int64) {
	if !e.haveBase {
		e.haveBase = true
		e.blockIdx = 0
		e.blocksUsed = 1
		e.blockStart = arrival
		e.blockMin[0], e.blockAt[0] = transit, arrival
		e.blockMax[0] = transit
		e.baseline = transit
		e.ramp = false
		return 0
	}
	if arrival-e.blockStart >= e.blockNs {
		prev := e.blockIdx
		e.blockIdx = (e.blockIdx + 1) % baselineBlocks
		if e.blocksUsed < baselineBlocks {
			e.blocksUsed++
		}
		e.blockStart = arrival
		e.blockMin[e.blockIdx], e.blockAt[e.blockIdx] = transit, arrival
		e.blockMax[e.blockIdx] = transit
		// The minimum over the live blocks, and over those before the
		// block just closed.
		m, older := int64(math.MaxInt64), int64(math.MaxInt64)
		for i := 0; i < e.blocksUsed; i++ {
			m = min(m, e.blockMin[i])
			if i != prev && i != e.blockIdx {
				older = min(older, e.blockMin[i])
			}
		}
		pp := (prev + baselineBlocks - 1) % baselineBlocks
		wasRamp := e.ramp
		e.ramp = false
		ppp := (pp + baselineBlocks - 1) % baselineBlocks
		if e.blocksUsed == baselineBlocks && e.blockMin[prev] > older+rampMinNs &&
			e.blockMin[prev] > e.blockMin[pp]+rampMinNs/2 && e.blockMin[pp] > e.blockMin[ppp]+rampMinNs/2 &&
			e.blockMin[prev]-e.blockMin[ppp] > min(e.blockMax[prev]-e.blockMin[prev], e.blockMax[pp]-e.blockMin[pp]) {
			// Rising block after block (not just a block of high
			// jitter), by more than the transit spreads within a
			// block (the less of the last two): extrapolate from the
			// last two complete blocks.
			// The minima of a heavy-tailed jitter's blocks rise a few
			// ms three blocks in a row by chance; taken for a ramp,
			// that took back the tail the history had learned (see
			// unlearnBefore): on issue 3's mobile preset (60 ms
			// jitter) seed 216 the target fell from 300 to 24 ms at
			// 2 s and 10 packets were lost late in a second. A
			// queue filling (bufferbloat: 40 ms/s over a jitter of
			// 8 ms) rises by far more than that.
			if dt := e.blockAt[prev] - e.blockAt[pp]; dt > 0 {
				e.ramp = true
				e.rampSlope = float64(e.blockMin[prev]-e.blockMin[pp]) / float64(dt)
			}
		}
		if e.ramp && !wasRamp {
			// The ramp began before it could be told: take back what
			// its lag taught the histogram since its first block.
			e.unlearnBefore(e.blockAt[ppp], e.cached)
		}
		// Rotation only raises the window's minimum; a baseline a ramp
		// raised above it stays (until a faster packet comes).
		e.baseline = max(m, min(e.baseline, e.blockMin[prev], transit))
	}
	if transit < e.blockMin[e.blockIdx] {
		e.blockMin[e.blockIdx], e.blockAt[e.blockIdx] = transit, arrival
	}
	e.blockMax[e.blockIdx] = max(e.blockMax[e.blockIdx], transit)
	if e.ramp {
		prev := (e.blockIdx + baselineBlocks - 1) % baselineBlocks
		pred := e.blockMin[prev] + int64(e.rampSlope*float64(arrival-e.blockAt[prev]))
		e.baseline = max(e.baseline, min(pred, e.blockMin[e.blockIdx]))
	}
	if transit < e.baseline {
		if e.baseline-transit > fallMinNs {
			fall = e.baseline - transit
			e.ramp = false
		}
		e.baseline = transit
	}
	return fall
}

// member takes a sample of the current cluster: held back until the
// cluster is known to be a spike event (then it only raises the event's
// height) or not (then it is learned when the cluster ends). A cluster is
// a spike event once it has spikeRunMin spike samples, or burstMin samples
// above the target (a stall releasing a burst: only its first packets
// need more than the spike threshold).
func (e *estimator) member(need int64) {
	if e.event {
		e.raisePeak(need)
		return
	}
	e.hold(need)
	if e.spikeRun < spikeRunMin && e.npending < burstMin {
		return
	}
	e.event = true
	h := int64(0)
	for _, v := range e.pending[:e.npending] {
		h = max(h, v)
	}
	e.npending = 0
	e.spikeRef = e.unlearnBefore(e.spikeAt-burstLeadNs, e.spikeRef)
	e.peaks[e.peakNext] = peak{at: e.spikeAt, height: h}
	e.peakNext = (e.peakNext + 1) % peakEvents
	e.peakN = min(e.peakN+1, peakEvents)
}

// hold keeps a sample of an undecided cluster back (see add); if too many
// are held, it is learned at once.
func (e *estimator) hold(need int64) {
	if e.npending == len(e.pending) {
		e.addSample(need)
		return
	}
	e.pending[e.npending] = need
	e.npending++
}

// endCluster closes the current cluster: if it was not a spike event, its
// samples are ordinary tail and are learned.
func (e *estimator) endCluster() {
	for _, v := range e.pending[:e.npending] {
		e.addSample(v)
	}
	e.npending = 0
	e.spikeRun = 0
	e.event = false
}

// raisePeak records that the current spike event needed need.
func (e *estimator) raisePeak(need int64) {
	if e.peakN == 0 {
		return
	}
	p := &e.peaks[(e.peakNext+peakEvents-1)%peakEvents]
	p.height = max(p.height, need)
}

// peakLevel is the delay that covers recurring spike events, or 0 when
// they do not recur or have stopped (see the type's doc).
func (e *estimator) peakLevel() int64 {
	if e.peakN < peakMinEvents {
		return 0
	}
	newest := e.peaks[(e.peakNext+peakEvents-1)%peakEvents]
	var n int
	var level, gap int64
	prev := newest.at
	for i := 1; i <= e.peakN; i++ {
		p := e.peaks[(e.peakNext+peakEvents-i)%peakEvents]
		if newest.at-p.at > peakWindowNs {
			break
		}
		n++
		level = max(level, p.height)
		gap = max(gap, prev-p.at)
		prev = p.at
	}
	if n < peakMinEvents || e.lastArr-newest.at > min(2*gap, peakWindowNs) {
		return 0
	}
	return min(level, e.maxNs)
}

// target is the delay to aim for when playing a packet of durNs: its
// duration plus the jitter quantile, or plus the level of recurring spikes
// while they last; 0 while nothing is learned.
func (e *estimator) target(durNs int64) int64 {
	// The margin (late-loss feedback) is on the quantile, an estimate of
	// the tail from a dozen samples; the level of recurring spikes and
	// the need on a ramp are measured: a margin below 0 on them made a
	// sender's 280 ms bursts come 15-20 ms after their slot, concealed
	// and resumed from 4 times a second (8 % of the audio concealed).
	t := e.quantile()
	if t > refDurNs {
		t = refDurNs + int64(float64(t-refDurNs)*(1+e.margin))
	}
	t = max(t, e.peakLevel())
	if e.ramp && e.lastArr-e.rampNeedAt <= rampNeedNs {
		t = max(t, e.rampNeed)
	}
	if t == 0 {
		return 0
	}
	return max(t-refDurNs, 0) + durNs
}

func (e *estimator) addSample(j int64) {
	k := int(j / e.bucketNs)
	if k < 0 {
		k = 0
	}
	if k >= len(e.buckets) {
		k = len(e.buckets) - 1
	}
	e.buckets[k] += e.weight
	e.total += e.weight
	e.recent[e.recentNext] = learned{at: e.lastArr, need: j, before: e.cached, bucket: k, w: e.weight}
	e.recentNext = (e.recentNext + 1) % len(e.recent)
	if e.weight > 1e100 {
		s := 1 / e.weight
		for i := range e.buckets {
			e.buckets[i] *= s
		}
		for i := range e.recent {
			e.recent[i].w *= s
		}
		e.total *= s
		e.weight = 1
	}
	if j > e.cached {
		e.dirty = 1 << 30 // recompute now: grow fast
	} else {
		e.dirty++
	}
}

// unlearnBefore takes back the samples learned since from that are part of
// a spike event's burst: when a cluster turns out to be a spike event, the
// members of its burst that arrived before its first spike sample (jitter
// reorders a burst; those sent last need least and may come first) were
// learned as ordinary samples, and with few samples in the histogram, one
// of them is its quantile. A sample is taken back if it needed more than ref
// (the target when the cluster began) or than the target before any of
// those samples was learned. It returns the lower of the two, the target
// the burst is measured against.
func (e *estimator) unlearnBefore(from, ref int64) int64 {
	ref = e.quantileBefore(from, ref)
	for i := range e.recent {
		r := &e.recent[i]
		if r.w == 0 || r.at < from || r.need <= ref {
			continue
		}
		e.buckets[r.bucket] = max(0, e.buckets[r.bucket]-r.w)
		e.total = max(0, e.total-r.w)
		r.w = 0
		e.dirty = 1 << 30
	}
	return ref
}

// quantileBefore is the lowest of ref and the quantile as it was before
// each of the samples still held that were learned since from.
func (e *estimator) quantileBefore(from, ref int64) int64 {
	for _, r := range e.recent {
		if r.w != 0 && r.at >= from {
			ref = min(ref, r.before)
		}
	}
	return ref
}

// quantile returns the q-quantile of the jitter histogram in ns,
// interpolated between the occupied buckets: each holds its weight
// centred on it (a bucket is at the cumulative weight below it plus half
// its own), and the quantile is linear between the two buckets around
// q, so it moves continuously with the weights (and with q). In a heavy
// tail the top 1 % of the history is a dozen samples tens of
// milliseconds apart, and the plain quantile (the bucket where the
// cumulative weight reaches q) jumped from one to the next as one sample
// came or aged: on mobile seed 31 a single packet 230 ms late took the
// target from 144 to 239 ms and back within a second, and the delay
// followed it up and down.
//
// A young history (fewer than tailMin/(1-q) samples' weight: 4 s of 20 ms
// packets at q = 0.99) cannot tell its q-quantile: its top 1 % is less
// than tailMin samples, and the quantile was its largest sample, which in
// a heavy tail is far above the tail it will show over a minute. On
// issue 3's mobile preset, seed 202, four packets 240-630 ms late in the
// first 2 s (the minute's ideal delay is 140 ms) set the target to 600
// ms, and it took 10 s to come down; the mean delay over the minute was
// 1.33 × ideal (Wi-Fi seed 66: 1.17 ×). The quantile is instead taken at
// most at 1 − tailMin/n of the n samples' weight, between the
// tailMin-th largest and the next: a lone outlier in the first seconds
// is not the target, while a tail of several is covered. From
// tailMin/(1-q) samples' weight on, 1 − tailMin/n is above q and this
// changes nothing; the forgetting holds the history at about 1000
// samples' weight of 20 ms packets (333 of 60 ms ones), so at the
// default q it acts only in the first seconds (WithPercentile 0.999
// would be held at 0.998, the second-largest of 1000 samples, for good).
func (e *estimator) quantile() int64 {
	if e.dirty < 4 {
		return e.cached
	}
	e.dirty = 0
	if e.total == 0 {
		e.cached = 0
		return 0
	}
	// The tail is never the largest sample or two alone (tailMin).
	want := min(e.q, 1-tailMin*e.weight/e.total) * e.total
	var c float64
	prevX, prevAt := -1.0, 0.0 // the occupied bucket below (value, position)
	for i, w := range e.buckets {
		if w == 0 {
			continue
		}
		x, at := float64(i+1), c+w/2
		c += w
		if at >= want {
			if prevX >= 0 {
				x = prevX + (want-prevAt)/(at-prevAt)*(x-prevX)
			}
			e.cached = int64(x * float64(e.bucketNs))
			return e.cached
		}
		prevX, prevAt = x, at
	}
	e.cached = int64(prevX * float64(e.bucketNs))
	return e.cached
}

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
// The delay a packet needed to be played on time — its duration plus its
// jitter — goes into a histogram with exponential forgetting (weights
// grow instead of decaying every bucket, so adding is O(1)); its high
// quantile is the base target. Samples far above it are spikes: a stalled
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
// Spikes are told apart after the first spikeWarmup samples, with the
// threshold relative to at least warmupTargetNs for the first 50: a stall
// in the first second of a transmission (when a busy machine is busiest,
// starting processes) is a spike as much as a later one.
type estimator struct {
	bucketNs int64
	buckets  []float64
	total    float64
	weight   float64 // weight of the next sample (grows by 1/forget per 20 ms of audio)
	q        float64
	forget   float64 // per 20 ms of audio
	samples  int     // samples seen (for warm-up)

	// baseline: min transit per block, ring of blockCount blocks.
	blockNs    int64
	blockMin   [baselineBlocks]int64
	blockStart int64 // arrival (ns) when the current block began
	blockIdx   int
	blocksUsed int
	baseline   int64
	haveBase   bool

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
	recent     [16]learned
	recentNext int

	// Spike events, newest at peaks[(peakNext-1) % peakEvents]; peakN of
	// them are valid.
	peaks    [peakEvents]peak
	peakNext int
	peakN    int
	lastArr  int64 // arrival of the newest sample (ns)

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
	spikeRunMin    = 3
	burstMin       = 4
	spikeGapNs     = 200e6
	baselineBlocks = 4
	frame20ms      = 20e6

	// spikeWarmup samples are learned before spikes are told apart; for
	// the first 50, the spike threshold is relative to at least
	// warmupTargetNs.
	spikeWarmup    = 5
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
// covering durNs of audio. It returns the jitter of this packet.
func (e *estimator) add(transit, arrival, durNs int64) int64 {
	// Baseline: sliding-window minimum.
	if !e.haveBase {
		e.haveBase = true
		e.blockIdx = 0
		e.blocksUsed = 1
		e.blockStart = arrival
		e.blockMin[0] = transit
		e.baseline = transit
	} else {
		if arrival-e.blockStart >= e.blockNs {
			e.blockIdx = (e.blockIdx + 1) % baselineBlocks
			if e.blocksUsed < baselineBlocks {
				e.blocksUsed++
			}
			e.blockStart = arrival
			e.blockMin[e.blockIdx] = transit
			// Recompute the minimum over the live blocks.
			m := int64(math.MaxInt64)
			for i := 0; i < e.blocksUsed; i++ {
				m = min(m, e.blockMin[i])
			}
			e.baseline = m
		}
		if transit < e.blockMin[e.blockIdx] {
			e.blockMin[e.blockIdx] = transit
		}
		if transit < e.baseline {
			e.baseline = transit
		}
	}
	j := transit - e.baseline
	// What this packet needed: its own duration (it is sent only after its
	// last sample was captured) plus its jitter.
	need := j + durNs

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
	case e.spikeRun > 0 && need > e.spikeRef:
		// Above the target but below the spike threshold, during a
		// cluster: the rest of a burst (packets stuck behind a stall
		// need less the later they were sent).
		e.member(need)
	default:
		e.addSample(need)
	}
	return j
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

// target is the delay to aim for: the base quantile, or the level of
// recurring spikes while they last.
func (e *estimator) target() int64 {
	return max(e.quantile(), e.peakLevel())
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
	for _, r := range e.recent {
		if r.w != 0 && r.at >= from {
			ref = min(ref, r.before)
		}
	}
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

// quantile returns the q-quantile of the jitter histogram in ns.
func (e *estimator) quantile() int64 {
	if e.dirty < 4 {
		return e.cached
	}
	e.dirty = 0
	if e.total == 0 {
		e.cached = 0
		return 0
	}
	want := e.q * e.total
	var c float64
	for i, w := range e.buckets {
		c += w
		if c >= want {
			e.cached = int64(i+1) * e.bucketNs
			return e.cached
		}
	}
	e.cached = int64(len(e.buckets)) * e.bucketNs
	return e.cached
}

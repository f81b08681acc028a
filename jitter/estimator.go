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
// grow instead of decaying every bucket, so adding is O(1)). Samples far
// above the current target are spikes: they are kept out of the histogram
// (a run of several such samples) unless such events are frequent, so one
// delay spike does not inflate the target for long (the buffer still stretches through the spike itself and then
// shrinks back).
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

	// Spikes: samples far above the target. When spikeRunMin or more of
	// them come within spikeGapNs of each other they are a spike event,
	// kept out of the histogram unless events are frequent; fewer are
	// ordinary tail and join the histogram once the cluster is over.
	spikeRun     int // spike samples in the current cluster
	spikePending [spikeRunMin]int64
	spikeLast    int64   // arrival of the last spike sample
	spikeEvents  float64 // decaying count of spike events

	cached      int64 // cached quantile (ns)
	dirty       int
	maxNs       int64
	spikeMinNs  int64
	spikeFactor float64
}

const (
	spikeRunMin    = 3
	spikeGapNs     = 200e6
	baselineBlocks = 4
	frame20ms      = 20e6
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
	decay := math.Pow(e.forget, steps)
	e.weight /= decay
	e.spikeEvents *= decay

	target := e.quantile()
	spike := e.samples > 50 && need > max(target+e.spikeMinNs, int64(e.spikeFactor*float64(target)))
	e.samples++
	frequent := e.spikeEvents >= 2
	if e.spikeRun > 0 && arrival-e.spikeLast > spikeGapNs {
		// The cluster is over.
		if e.spikeRun < spikeRunMin {
			for _, v := range e.spikePending[:e.spikeRun] {
				e.addSample(v)
			}
		}
		e.spikeRun = 0
	}
	if !spike {
		// The tail of a spike's release (packets that were stuck behind the
		// stall, above target but below the spike threshold) belongs to the
		// spike too.
		if e.spikeRun >= spikeRunMin && need > target && !frequent {
			return j
		}
		e.addSample(need)
		return j
	}
	e.spikeLast = arrival
	switch {
	case e.spikeRun < spikeRunMin:
		// Maybe part of a spike: hold the sample back until we know.
		e.spikePending[e.spikeRun] = need
		e.spikeRun++
		if e.spikeRun == spikeRunMin {
			e.spikeEvents++
			if frequent {
				for _, v := range e.spikePending {
					e.addSample(v)
				}
			}
		}
	case frequent:
		e.addSample(need)
	}
	return j
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
	if e.weight > 1e100 {
		s := 1 / e.weight
		for i := range e.buckets {
			e.buckets[i] *= s
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

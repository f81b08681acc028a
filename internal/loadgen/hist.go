package loadgen

import (
	"math"
	"sync/atomic"
	"syscall"
	"time"
)

// latHist is a fixed histogram of forward latencies: 10 µs buckets up to
// latHistSpan, then one overflow bucket. Safe for concurrent use; adding
// does not allocate. Quantiles are the upper bound of their bucket.
type latHist struct {
	b        []atomic.Uint64
	overflow atomic.Uint64
	maxNs    atomic.Int64
}

const (
	latBucket   = 10 * time.Microsecond
	latHistSpan = 2 * time.Second
)

func newLatHist() *latHist {
	return &latHist{b: make([]atomic.Uint64, latHistSpan/latBucket)}
}

func (h *latHist) add(d time.Duration) {
	d = max(d, 0)
	if i := int(d / latBucket); i < len(h.b) {
		h.b[i].Add(1)
	} else {
		h.overflow.Add(1)
	}
	for {
		m := h.maxNs.Load()
		if int64(d) <= m || h.maxNs.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

func (h *latHist) max() time.Duration { return time.Duration(h.maxNs.Load()) }

// quantile returns the latency under which a share p of the samples fall
// (0 without samples).
func (h *latHist) quantile(p float64) time.Duration {
	var total uint64
	for i := range h.b {
		total += h.b[i].Load()
	}
	total += h.overflow.Load()
	if total == 0 {
		return 0
	}
	want := max(uint64(math.Ceil(p*float64(total))), 1)
	var acc uint64
	for i := range h.b {
		acc += h.b[i].Load()
		if acc >= want {
			return time.Duration(i+1) * latBucket
		}
	}
	return h.max()
}

// selfCPU returns this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

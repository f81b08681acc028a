package audio

// queueTarget decides how much playback a ring stream keeps queued ahead of
// the device. It starts at one chunk. When the device plays silence
// because the pump was late (an underrun), it queues one more period, up
// to max: a busy moment costs a little latency instead of repeated
// dropouts. Unlike a one-way ratchet it also gives the latency back: after
// calm device callbacks without an underrun it queues one period less. If
// an underrun comes soon after such a step (the machine is slow for good,
// not just starting up), calm doubles, up to maxCalm, so a steadily slow
// machine settles on the larger queue instead of a dropout every few
// seconds.
//
// Only the stream's pump uses it; the zero value is not ready: use
// newQueueTarget.
type queueTarget struct {
	target, min, max, period int // frames

	calm       uint64 // callbacks without underrun before a step down
	calmSince  uint64 // callbacks at the last underrun or step
	lastShrink uint64 // callbacks at the last step down; 0: none yet
	lastX      uint64 // underrun count last seen
}

const (
	// startCallbacks: underruns in the first callbacks (a device may ask
	// for its whole buffer at once while it starts) do not count.
	startCallbacks = 10
	// initialCalm is two seconds of 10 ms callbacks; maxCalm five minutes.
	initialCalm = 200
	maxCalm     = 30000
)

func newQueueTarget(chunk, max, period int) queueTarget {
	return queueTarget{target: chunk, min: chunk, max: max, period: period, calm: initialCalm}
}

// update takes the device's callback and underrun counters (both only
// grow) and reports whether the target changed.
func (q *queueTarget) update(callbacks, xruns uint64) bool {
	if callbacks < startCallbacks {
		q.lastX, q.calmSince = xruns, callbacks
		return false
	}
	if xruns > q.lastX {
		q.lastX = xruns
		if q.lastShrink != 0 && callbacks-q.lastShrink < 2*q.calm {
			q.calm = min(2*q.calm, maxCalm)
		}
		q.calmSince = callbacks
		if q.target < q.max {
			q.target += q.period
			return true
		}
		return false
	}
	if q.target > q.min && callbacks-q.calmSince >= q.calm {
		q.target -= q.period
		q.calmSince, q.lastShrink = callbacks, callbacks
		return true
	}
	return false
}

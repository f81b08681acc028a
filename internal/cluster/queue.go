package cluster

import (
	"sync"
	"sync/atomic"

	"github.com/hark-intercom/hark/proto"
)

// maxFrame is the longest voice datagram (header and the longest Opus
// packet proto allows).
const maxFrame = proto.VoiceHeaderLen + proto.MaxVoicePayload

// voiceSlot is one frame waiting to be published.
type voiceSlot struct {
	channel string // "" for a page frame
	n       int
	seq     uint64 // push order
	b       [maxFrame]byte
}

// voiceQueue is a bounded drop-oldest queue of frames to publish, filled
// by the relay's fan-out goroutines (push copies into a preallocated slot:
// no allocation, never blocks beyond a short mutex) and drained by one
// publisher goroutine. Safe for concurrent use; make it with newVoiceQueue.
type voiceQueue struct {
	mu    sync.Mutex
	slots []voiceSlot // ring; guarded by mu
	head  int         // guarded by mu: oldest
	n     int         // guarded by mu: frames waiting
	kick  chan struct{}

	// Frames are numbered in push order: pushed is the number the next
	// frame gets; inflight is set from pop until the publisher says the
	// frame was handed to NATS (markSent). A waiter (waitSent) is woken by
	// closing sentCh, made only while someone waits, so the publisher does
	// not allocate per frame.
	pushed   uint64        // guarded by mu
	inflight bool          // guarded by mu
	sentCh   chan struct{} // guarded by mu; nil without waiters

	dropped atomic.Uint64 // frames dropped because the queue was full (the oldest)
	tooLong atomic.Uint64 // frames longer than maxFrame (not published)
}

func newVoiceQueue(n int) *voiceQueue {
	return &voiceQueue{slots: make([]voiceSlot, n), kick: make(chan struct{}, 1)}
}

// push copies b for channel into the queue, dropping the oldest frame
// when full (counted).
func (q *voiceQueue) push(channel string, b []byte) {
	if len(b) > maxFrame {
		q.tooLong.Add(1)
		return
	}
	q.mu.Lock()
	if q.n == len(q.slots) {
		q.head = (q.head + 1) % len(q.slots)
		q.n--
		q.dropped.Add(1)
	}
	s := &q.slots[(q.head+q.n)%len(q.slots)]
	s.channel = channel
	s.n = copy(s.b[:], b)
	s.seq = q.pushed
	q.pushed++
	q.n++
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// pop copies the oldest frame into buf and returns its channel and length;
// ok is false when the queue is empty. The caller calls markSent once it
// handed the frame on.
func (q *voiceQueue) pop(buf []byte) (channel string, n int, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return "", 0, false
	}
	s := &q.slots[q.head]
	channel, n = s.channel, copy(buf, s.b[:s.n])
	q.head = (q.head + 1) % len(q.slots)
	q.n--
	q.inflight = true
	return channel, n, true
}

// markSent records that the frame pop returned last was handed to NATS
// (published, or failed and counted) and wakes the waiters.
func (q *voiceQueue) markSent() {
	q.mu.Lock()
	q.inflight = false
	if q.sentCh != nil {
		close(q.sentCh)
		q.sentCh = nil
	}
	q.mu.Unlock()
}

// mark returns the number of the next frame to be pushed: waitSent(mark)
// waits for every frame pushed before.
func (q *voiceQueue) mark() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pushed
}

// waitSent waits until every frame numbered below mark was handed to NATS
// (or dropped from the full queue, counted), or until done is closed; it
// reports whether they were.
func (q *voiceQueue) waitSent(mark uint64, done <-chan struct{}) bool {
	q.mu.Lock()
	for {
		// None in flight, and the oldest waiting (if any) is not older
		// than mark: the earlier ones were handed on or dropped.
		if !q.inflight && (q.n == 0 || q.slots[q.head].seq >= mark) {
			q.mu.Unlock()
			return true
		}
		if q.sentCh == nil {
			q.sentCh = make(chan struct{})
		}
		ch := q.sentCh
		q.mu.Unlock()
		select {
		case <-ch:
		case <-done:
			return false
		}
		q.mu.Lock()
	}
}

func (q *voiceQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

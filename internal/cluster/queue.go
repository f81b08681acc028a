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
	q.n++
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// pop copies the oldest frame into buf and returns its channel and length;
// ok is false when the queue is empty.
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
	return channel, n, true
}

func (q *voiceQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

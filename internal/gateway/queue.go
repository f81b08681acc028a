package gateway

import "sync"

// outMsg is one websocket message waiting to be written.
type outMsg struct {
	text bool   // JSON text frame, else binary
	data []byte // shared between sessions for audio: never modified
}

// outQueue is a session's bounded send queue. Control (text) messages are
// never dropped; if more than maxCtl wait, the browser is too slow and the
// queue reports overflow so the session can be closed. Audio drops its oldest
// frame when maxAudio are waiting. Safe for concurrent use.
type outQueue struct {
	mu       sync.Mutex
	ctl      []outMsg // guarded by mu
	audio    []outMsg // guarded by mu
	dropped  uint64   // guarded by mu: audio messages dropped
	closed   bool     // guarded by mu
	maxCtl   int
	maxAudio int
	wake     chan struct{} // capacity 1: something was queued or the queue closed
}

func newOutQueue(maxCtl, maxAudio int) *outQueue {
	return &outQueue{maxCtl: maxCtl, maxAudio: maxAudio, wake: make(chan struct{}, 1)}
}

func (q *outQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pushCtl queues a control message; false means the queue overflowed (or is closed).
func (q *outQueue) pushCtl(b []byte) bool {
	q.mu.Lock()
	ok := !q.closed && len(q.ctl) < q.maxCtl
	if ok {
		q.ctl = append(q.ctl, outMsg{text: true, data: b})
	}
	q.mu.Unlock()
	if ok {
		q.signal()
	}
	return ok
}

// pushAudio queues an audio message, dropping the oldest audio if full. It
// returns how many messages were dropped (0 or 1).
func (q *outQueue) pushAudio(b []byte) int {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return 0
	}
	d := 0
	if len(q.audio) >= q.maxAudio {
		copy(q.audio, q.audio[1:])
		q.audio = q.audio[:len(q.audio)-1]
		q.dropped++
		d = 1
	}
	q.audio = append(q.audio, outMsg{data: b})
	q.mu.Unlock()
	q.signal()
	return d
}

// pop returns the next message, control first; ok is false if none waits.
func (q *outQueue) pop() (m outMsg, ok bool, closed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case len(q.ctl) > 0:
		m = q.ctl[0]
		q.ctl[0] = outMsg{}
		q.ctl = q.ctl[1:]
		return m, true, false
	case len(q.audio) > 0:
		m = q.audio[0]
		q.audio[0] = outMsg{}
		q.audio = q.audio[1:]
		return m, true, false
	}
	return m, false, q.closed
}

// close wakes the writer, which drains what is queued and stops.
func (q *outQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *outQueue) droppedCount() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

package client

import (
	"sync"
	"time"

	"github.com/hark-intercom/hark/proto"
)

// State is the client's connection state.
type State int

// Connection states, reported in Events.
const (
	StateNone         State = iota // not a state event
	StateConnecting                // first connection attempt under way
	StateConnected                 // logged in (and joined, if a channel was asked for)
	StateReconnecting              // the connection dropped; retrying with backoff
	StateClosed                    // finished: Close was called or the relay ended the session
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateReconnecting:
		return "reconnecting"
	case StateClosed:
		return "closed"
	}
	return "none"
}

// Event is something the user interface should know about. Exactly one of
// State and Msg is set.
//
// Msg is one of the relay's messages, owned by the receiver: *proto.Presence
// (a full snapshot, sent after each join; a snapshot the relay split over
// several messages is delivered whole, with More false), *proto.PresenceChange,
// *proto.Talking (someone took or released the floor; Priority for a page),
// *proto.Text, *proto.Ring (an alarm when Flags has proto.RingAlarm: it
// rings until [Client.AckAlarm]), *proto.AlarmAck (someone acknowledged an
// alarm; Over when it stopped for everyone), *proto.Page, *proto.Joined,
// *proto.Error (a
// refusal not tied to a request this client is waiting for, e.g. a
// transmission cut for being too long), *proto.Bye, and with a relay that
// keeps history: *proto.History (with proto.HistoryMissed: what the user
// missed since their read position, sent after each login and rejoin,
// oldest first; with proto.HistoryAway: the transmissions said while the
// client was reconnecting, to play as missed, see history.AwayPlayer) and
// *proto.TextAck (a private text that was waiting has
// been delivered, or the answer to a SendText whose caller stopped
// waiting).
//
// After OnEvent returns for a catch-up History or a live Text (with an id)
// the client tells the relay the user has seen it (proto.HistoryRead), so
// that the next login and the user's other devices do not get it again.
type Event struct {
	Time  time.Time
	State State // for connection state changes
	Err   error // with State: why the connection dropped or closed
	Msg   proto.Message
}

// eventQueue hands events from the network reader to the user's handler on
// its own goroutine. push never blocks: when the queue holds max events the
// oldest is dropped and counted.
type eventQueue struct {
	handler func(Event)
	// after, if set, runs after each call of handler, on the same
	// goroutine (the client's read position, see Client.afterEvent). Set
	// before run starts.
	after func(Event)
	max   int

	mu      sync.Mutex // guards q, closed, dropped
	q       []Event
	closed  bool
	dropped uint64

	wake chan struct{} // cap 1: something was pushed or the queue closed
	done chan struct{} // closed when run returns
}

func newEventQueue(handler func(Event), max int) *eventQueue {
	return &eventQueue{handler: handler, max: max, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (e *eventQueue) push(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	e.mu.Lock()
	if e.closed || e.handler == nil {
		e.mu.Unlock()
		return
	}
	if len(e.q) >= e.max {
		copy(e.q, e.q[1:])
		e.q = e.q[:len(e.q)-1]
		e.dropped++
	}
	e.q = append(e.q, ev)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *eventQueue) droppedCount() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dropped
}

// close stops accepting events; run delivers what is queued and returns.
func (e *eventQueue) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *eventQueue) run() {
	defer close(e.done)
	for {
		e.mu.Lock()
		if len(e.q) == 0 {
			closed := e.closed
			e.mu.Unlock()
			if closed {
				return
			}
			<-e.wake
			continue
		}
		ev := e.q[0]
		e.q[0] = Event{}
		e.q = e.q[1:]
		e.mu.Unlock()
		e.handler(ev)
		if e.after != nil {
			e.after(ev)
		}
	}
}

package client

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// The push-to-talk floor, written once for every front end: the talk
// client's engine (talk, the terminal UI, the box) and the web gateway's
// uplink drive a Floor; web/app.js mirrors its states by name.
//
// The policy, as an intercom user expects it:
//
//   - A press asks the relay for the floor (requesting). What the
//     microphone captures while the answer is on its way is held (at most
//     FloorConfig.MaxHeld, the oldest dropped and counted beyond that) and
//     sent first once the floor is granted, so the first syllable is not
//     lost to the round trip.
//   - A release before the answer (releasing) keeps what was held: if the
//     grant then comes, the held audio goes out and the transmission ends
//     at once; a short press still delivers its words. A release with
//     nothing held gives the grant straight back.
//   - A refusal drops the held audio (counted) and, while still pressed,
//     stays busy (someone else talks: "busy: alice is talking") or refused
//     (any other refusal: no role, the callee is offline, no answer) until
//     the release; audio meanwhile is not sent.
//   - On the air (talking), a transmission the relay or the connection ends
//     (a page pre-empted it, the channel's maximum length was reached, the
//     connection was lost) is cut: the user is told why and nothing more
//     is sent until the release.
//   - A release while talking ends the transmission; ending never blocks
//     the caller (the floor ends it on its own goroutine, bounded by
//     FloorConfig.EndTimeout), and the next request waits until the last
//     end is done, so the relay has the old floor back first.

// FloorTx is a held floor as a Floor uses it: *Transmission implements it
// (from Client.Talk, Page, Whisper or Echo). Send must not block.
type FloorTx interface {
	// Send queues one Opus packet of samples 48 kHz samples.
	Send(opus []byte, samples int) error
	// End finishes the transmission (bounded by ctx).
	End(ctx context.Context) error
}

// AsFloorTx returns a Client's transmission (from Talk, Page, Echo,
// Whisper) as a FloorTx: nil, not a *Transmission nil in the interface,
// with the error.
func AsFloorTx(tx *Transmission, err error) (FloorTx, error) {
	if err != nil {
		return nil, err
	}
	return tx, nil
}

// FloorRequest asks the relay for a floor and waits for its answer, e.g.
// a Client's Talk; a *BusyError names the holder when someone else has it.
type FloorRequest func(ctx context.Context) (FloorTx, error)

// FloorState is where a Floor is. The names (String) are the ones
// web/app.js uses for the same states.
type FloorState uint8

const (
	FloorIdle       FloorState = iota // not pressed, nothing pending
	FloorRequesting                   // pressed; the request is out; audio is held
	FloorReleasing                    // released before the answer; held audio goes out on a grant
	FloorTalking                      // pressed and on the air
	FloorBusy                         // pressed; refused because someone else holds the floor
	FloorRefused                      // pressed; refused for another reason (FloorChange.Err says why)
	FloorCut                          // pressed; the transmission was ended by the relay or the connection
)

var floorStateNames = [...]string{"idle", "requesting", "releasing", "talking", "busy", "refused", "cut"}

func (s FloorState) String() string {
	if int(s) < len(floorStateNames) {
		return floorStateNames[s]
	}
	return "unknown"
}

// FloorCause says why a Floor changed state on its own (a refusal or a
// cut); FloorCauseNone for the user's own press and release and a grant.
type FloorCause uint8

const (
	FloorCauseNone    FloorCause = iota
	FloorCauseBusy               // someone else holds the floor (*BusyError)
	FloorCauseRefused            // any other refusal of the request
	FloorCausePage               // a page pre-empted the transmission (*CutError with By)
	FloorCauseMaxTalk            // the relay's maximum transmission length (*CutError TooLong)
	FloorCauseLost               // the connection to the relay was lost
	FloorCauseError              // any other error ended the transmission
	FloorCauseAborted            // the front end ended it (Abort: left the channel, shutting down)
)

var floorCauseNames = [...]string{"", "busy", "refused", "preempted", "max-talk", "lost", "error", "aborted"}

func (c FloorCause) String() string {
	if int(c) < len(floorCauseNames) {
		return floorCauseNames[c]
	}
	return "unknown"
}

// FloorChange is one change of a Floor's state, given to
// FloorConfig.OnChange.
type FloorChange struct {
	// Press is the number of the press the change belongs to (Wants).
	Press    uint64
	From, To FloorState
	Cause    FloorCause
	Err      error // the refusal or the cut (nil for FloorCauseNone)
	// Held is the number of held frames sent at a grant; Dropped the
	// number of held frames dropped at a refusal, a cut or an abort.
	Held, Dropped int
}

// Text is the change in words for the user, or "" when there is nothing
// to say (a press, a grant, a release).
func (c FloorChange) Text() string {
	if c.Err == nil {
		return ""
	}
	return c.Err.Error()
}

// FloorStats are a Floor's counters.
type FloorStats struct {
	Requests   uint64 // presses that asked the relay
	Grants     uint64 // requests granted (also those given back at once)
	Refusals   uint64 // requests refused (busy or otherwise)
	Cuts       uint64 // transmissions ended by the relay or the connection
	FramesSent uint64 // frames handed to a transmission (held ones included)
	FramesHeld uint64 // frames held while the request was out
	// HeldDropped counts held frames that were never sent: beyond MaxHeld
	// (the oldest), at a refusal, or at an abort.
	HeldDropped uint64
	// NotWanted counts frames given to Audio when the floor takes none
	// (idle, busy, refused, cut, releasing); SendFailed frames the
	// transmission refused (the transmission is then cut).
	NotWanted  uint64
	SendFailed uint64
}

// FloorConfig configures NewFloor. The zero value works.
type FloorConfig struct {
	// MaxHeld bounds the audio held while a request is out; 0 means 2 s.
	MaxHeld time.Duration
	// RequestTimeout bounds each request; 0: no bound beyond the
	// request's own.
	RequestTimeout time.Duration
	// EndTimeout bounds ending a transmission; 0 means 2 s.
	EndTimeout time.Duration
	// OnChange, if set, is called with every change of state, in order and
	// never concurrently, but from whichever goroutine caused it (the
	// caller of Press, Release, Audio, Cut or Abort, or the floor's request
	// goroutine), possibly after that call returned. It must not block; it
	// may call the Floor's methods.
	OnChange func(FloorChange)
	// Logger; nil discards.
	Logger *slog.Logger
}

// Floor is the push-to-talk state machine of one station (see the policy
// above). Create it with NewFloor; finish it with Close. Its methods are
// safe for concurrent use and never block: requests and ends run on the
// floor's own goroutines.
type Floor struct {
	cfg       FloorConfig
	log       *slog.Logger
	maxHeld   int // samples
	ctx       context.Context
	cancel    context.CancelFunc
	want      atomic.Uint64 // press<<1 | 1 while Audio is taken (requesting, talking)
	stateSeen atomic.Uint32 // state, for State without the lock
	wg        sync.WaitGroup
	done      chan struct{} // closed when Close's work is over

	mu sync.Mutex
	// guarded by mu:
	state      FloorState
	press      uint64  // the current request's number (1, 2, …)
	tx         FloorTx // the transmission on the air (talking)
	held       []heldFrame
	heldLen    int           // samples held
	lastEnd    chan struct{} // closed when the last End returned
	closed     bool
	stats      FloorStats
	queue      []FloorChange // changes not yet given to OnChange
	delivering bool          // a goroutine is calling OnChange
}

type heldFrame struct {
	opus    []byte
	samples int
}

// NewFloor returns an idle floor.
func NewFloor(cfg FloorConfig) *Floor {
	if cfg.MaxHeld <= 0 {
		cfg.MaxHeld = 2 * time.Second
	}
	if cfg.EndTimeout <= 0 {
		cfg.EndTimeout = 2 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Floor{cfg: cfg, log: log, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		maxHeld: int(cfg.MaxHeld.Seconds() * 48000)}
}

// State returns the current state.
func (f *Floor) State() FloorState { return FloorState(f.stateSeen.Load()) }

// Wants reports whether Audio takes frames now (requesting or talking)
// and, as press, which press they belong to: a new press number is a new
// transmission (a capture starts a fresh frame, sends its pre-roll).
func (f *Floor) Wants() (press uint64, ok bool) {
	w := f.want.Load()
	return w >> 1, w&1 != 0
}

// Stats returns the counters.
func (f *Floor) Stats() FloorStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Press is the talk button going down: from idle it asks for the floor
// with req (on the floor's goroutine, after the last transmission's end);
// while releasing, the request still out is taken up again (req is not
// used and may be nil). It returns false when the press changes nothing
// (already pressed, busy, refused or cut until the release, closed, or no
// req to ask with).
func (f *Floor) Press(req FloorRequest) bool {
	f.mu.Lock()
	switch {
	case f.closed:
		f.mu.Unlock()
		return false
	case f.state == FloorReleasing:
		f.setLocked(FloorChange{From: f.state, To: FloorRequesting})
	case f.state == FloorIdle && req != nil:
		f.press++
		f.held, f.heldLen = nil, 0
		f.stats.Requests++
		id, prev := f.press, f.lastEnd
		f.wg.Add(1)
		go f.request(id, req, prev)
		f.setLocked(FloorChange{From: f.state, To: FloorRequesting})
	default:
		f.mu.Unlock()
		return false
	}
	f.unlock()
	return true
}

// request runs one request and hands its answer to answer.
func (f *Floor) request(id uint64, req FloorRequest, prevEnd <-chan struct{}) {
	defer f.wg.Done()
	if prevEnd != nil {
		select {
		case <-prevEnd:
		case <-f.ctx.Done():
		}
	}
	ctx, cancel := f.ctx, context.CancelFunc(func() {})
	if f.cfg.RequestTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, f.cfg.RequestTimeout)
	}
	var tx FloorTx
	err := f.ctx.Err()
	if err == nil {
		tx, err = req(ctx)
		if err == nil && tx == nil {
			err = errors.New("the floor request returned no transmission")
		}
	}
	cancel()
	f.answer(id, tx, err)
}

// answer applies the relay's answer to request id.
func (f *Floor) answer(id uint64, tx FloorTx, err error) {
	f.mu.Lock()
	if f.closed || id != f.press || (f.state != FloorRequesting && f.state != FloorReleasing) {
		// Given up meanwhile (Abort, Close): give a grant back at once.
		if err == nil {
			f.stats.Grants++
			f.endLocked(tx)
		}
		f.unlock()
		return
	}
	from := f.state
	if err != nil {
		f.stats.Refusals++
		dropped := f.dropHeldLocked()
		to, cause := FloorRefused, FloorCauseRefused
		var be *BusyError
		if errors.As(err, &be) {
			to, cause = FloorBusy, FloorCauseBusy
		}
		if from == FloorReleasing {
			to = FloorIdle
		}
		f.log.Debug("floor refused", "err", err, "dropped", dropped)
		f.setLocked(FloorChange{From: from, To: to, Cause: cause, Err: err, Dropped: dropped})
		f.unlock()
		return
	}
	f.stats.Grants++
	f.tx = tx
	f.state = FloorTalking // for sendLocked
	held := f.held
	f.held, f.heldLen = nil, 0
	sent := 0
	for _, h := range held {
		if cut := f.sendLocked(h.opus, h.samples, from); cut {
			f.stats.HeldDropped += uint64(len(held) - sent - 1)
			f.unlock()
			return
		}
		sent++
	}
	f.state = from // the change below is from the state before the grant
	if from == FloorReleasing {
		// A short press: its words went out; the transmission ends now.
		f.endLocked(tx)
		f.tx = nil
		f.setLocked(FloorChange{From: from, To: FloorIdle, Held: sent})
	} else {
		f.setLocked(FloorChange{From: from, To: FloorTalking, Held: sent})
	}
	f.unlock()
}

// Audio takes one encoded frame (opus is copied): held while requesting,
// sent while talking, dropped (counted) otherwise. It returns whether the
// frame was taken. A frame the transmission refuses cuts it.
func (f *Floor) Audio(opus []byte, samples int) bool {
	f.mu.Lock()
	switch f.state {
	case FloorRequesting:
		for f.heldLen+samples > f.maxHeld && len(f.held) > 0 {
			f.heldLen -= f.held[0].samples
			f.held = f.held[1:]
			f.stats.HeldDropped++
		}
		f.held = append(f.held, heldFrame{opus: append([]byte(nil), opus...), samples: samples})
		f.heldLen += samples
		f.stats.FramesHeld++
		f.mu.Unlock()
		return true
	case FloorTalking:
		cut := f.sendLocked(opus, samples, FloorTalking)
		f.unlock()
		return !cut
	}
	f.stats.NotWanted++
	f.mu.Unlock()
	return false
}

// sendLocked sends one frame on f.tx; on an error it cuts the
// transmission (reporting the change from from) and returns true.
func (f *Floor) sendLocked(opus []byte, samples int, from FloorState) (cut bool) {
	if err := f.tx.Send(opus, samples); err != nil {
		f.stats.SendFailed++
		f.cutLocked(err, from)
		return true
	}
	f.stats.FramesSent++
	return false
}

// Cut ends the transmission on the air because of err (the relay said it
// was cut, the connection was lost), as a failed Send would: the user is
// told why (FloorCut until the release). Outside talking it does nothing.
func (f *Floor) Cut(err error) {
	f.mu.Lock()
	if f.state == FloorTalking {
		f.cutLocked(err, FloorTalking)
	}
	f.unlock()
}

func (f *Floor) cutLocked(err error, from FloorState) {
	f.stats.Cuts++
	f.endLocked(f.tx)
	f.tx = nil
	cause := FloorCauseError
	var ce *CutError
	switch {
	case errors.As(err, &ce) && ce.TooLong:
		cause = FloorCauseMaxTalk
	case errors.As(err, &ce) && ce.By != "":
		cause = FloorCausePage
	case errors.Is(err, ErrConnectionLost) || errors.Is(err, ErrNotConnected):
		cause = FloorCauseLost
	}
	to := FloorCut
	if from == FloorReleasing {
		to = FloorIdle // the press is over: just say what happened
	}
	f.log.Debug("transmission cut", "err", err)
	f.setLocked(FloorChange{From: from, To: to, Cause: cause, Err: err})
}

// Release is the talk button going up: talking ends the transmission;
// requesting keeps the held audio for a grant (releasing); busy, refused
// and cut go back to idle.
func (f *Floor) Release() {
	f.mu.Lock()
	switch f.state {
	case FloorRequesting:
		f.setLocked(FloorChange{From: f.state, To: FloorReleasing})
	case FloorTalking:
		f.endLocked(f.tx)
		f.tx = nil
		f.setLocked(FloorChange{From: f.state, To: FloorIdle})
	case FloorBusy, FloorRefused, FloorCut:
		f.setLocked(FloorChange{From: f.state, To: FloorIdle})
	}
	f.unlock()
}

// Abort ends whatever is under way at once, without sending what is held
// (dropped and counted): for a front end that leaves the channel or loses
// its session. A grant that comes later is given back. why (may be nil)
// goes to OnChange.
func (f *Floor) Abort(why error) {
	f.mu.Lock()
	f.abortLocked(why)
	f.unlock()
}

func (f *Floor) abortLocked(why error) {
	if f.state == FloorIdle {
		return
	}
	if f.tx != nil {
		f.endLocked(f.tx)
		f.tx = nil
	}
	dropped := f.dropHeldLocked()
	pending := f.state == FloorRequesting || f.state == FloorReleasing
	f.setLocked(FloorChange{From: f.state, To: FloorIdle, Cause: FloorCauseAborted, Err: why, Dropped: dropped})
	if pending {
		f.press++ // the answer to the old request is given back
	}
}

// Close aborts what is under way and stops the floor; later presses do
// nothing. The returned channel is closed once the pending request has
// answered and every transmission's End has returned (each bounded by
// EndTimeout).
func (f *Floor) Close() <-chan struct{} {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return f.done
	}
	f.abortLocked(nil)
	f.closed = true
	f.unlock()
	f.cancel()
	go func() {
		f.wg.Wait()
		close(f.done)
	}()
	return f.done
}

func (f *Floor) dropHeldLocked() int {
	n := len(f.held)
	f.stats.HeldDropped += uint64(n)
	f.held, f.heldLen = nil, 0
	return n
}

// endLocked ends tx on a goroutine of its own; the next request waits for
// it (lastEnd).
func (f *Floor) endLocked(tx FloorTx) {
	done := make(chan struct{})
	f.lastEnd = done
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), f.cfg.EndTimeout)
		defer cancel()
		if err := tx.End(ctx); err != nil {
			f.log.Debug("ending the transmission", "err", err)
		}
	}()
}

// setLocked moves to c.To and queues c for OnChange.
func (f *Floor) setLocked(c FloorChange) {
	c.Press = f.press
	f.state = c.To
	f.stateSeen.Store(uint32(c.To))
	w := f.press << 1
	if c.To == FloorRequesting || c.To == FloorTalking {
		w |= 1
	}
	f.want.Store(w)
	if f.cfg.OnChange != nil {
		f.queue = append(f.queue, c)
	}
}

// unlock releases f.mu and gives the queued changes to OnChange, unless
// another goroutine already does (it then delivers these too, in order).
func (f *Floor) unlock() {
	if f.delivering || len(f.queue) == 0 {
		f.mu.Unlock()
		return
	}
	f.delivering = true
	for len(f.queue) > 0 {
		q := f.queue
		f.queue = nil
		f.mu.Unlock()
		for _, c := range q {
			f.cfg.OnChange(c)
		}
		f.mu.Lock()
	}
	f.delivering = false
	f.mu.Unlock()
}

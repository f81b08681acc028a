package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// floorTx is a FloorTx that records frames and ends; Send fails with
// sendErr once it is set.
type floorTx struct {
	mu      sync.Mutex
	frames  []string
	sendErr error
	ended   chan struct{}
	endOnce sync.Once
	endWait chan struct{} // if set, End waits for it
}

func newFloorTx() *floorTx { return &floorTx{ended: make(chan struct{})} }

func (t *floorTx) Send(opus []byte, samples int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sendErr != nil {
		return t.sendErr
	}
	t.frames = append(t.frames, string(opus))
	return nil
}

func (t *floorTx) End(ctx context.Context) error {
	if t.endWait != nil {
		<-t.endWait
	}
	t.endOnce.Do(func() { close(t.ended) })
	return nil
}

func (t *floorTx) failWith(err error) {
	t.mu.Lock()
	t.sendErr = err
	t.mu.Unlock()
}

func (t *floorTx) sent() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.frames)
}

func (t *floorTx) waitEnded(tb testing.TB) {
	tb.Helper()
	select {
	case <-t.ended:
	case <-time.After(10 * time.Second):
		tb.Fatal("the transmission was never ended")
	}
}

func (t *floorTx) isEnded() bool {
	select {
	case <-t.ended:
		return true
	default:
		return false
	}
}

// floorHarness runs a Floor whose requests wait for the test's answer.
type floorHarness struct {
	f       *Floor
	asked   chan chan floorAnswer // a request, waiting for its answer
	changes chan FloorChange
}

type floorAnswer struct {
	tx  FloorTx
	err error
}

func newFloorHarness(t *testing.T, cfg FloorConfig) *floorHarness {
	h := &floorHarness{asked: make(chan chan floorAnswer, 4), changes: make(chan FloorChange, 64)}
	cfg.OnChange = func(c FloorChange) { h.changes <- c }
	h.f = NewFloor(cfg)
	t.Cleanup(func() {
		select {
		case <-h.f.Close():
		case <-time.After(10 * time.Second):
			t.Error("Close did not finish")
		}
	})
	return h
}

func (h *floorHarness) request(ctx context.Context) (FloorTx, error) {
	ans := make(chan floorAnswer, 1)
	h.asked <- ans
	select {
	case a := <-ans:
		return a.tx, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// press presses and returns the request's answer channel.
func (h *floorHarness) press(t *testing.T) chan floorAnswer {
	t.Helper()
	if !h.f.Press(h.request) {
		t.Fatalf("press refused in state %v", h.f.State())
	}
	h.expect(t, FloorIdle, FloorRequesting)
	select {
	case a := <-h.asked:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("the press asked nothing")
	}
	return nil
}

// expect waits for the next change and checks its states.
func (h *floorHarness) expect(t *testing.T, from, to FloorState) FloorChange {
	t.Helper()
	select {
	case c := <-h.changes:
		if c.From != from || c.To != to {
			t.Fatalf("change %v → %v (cause %v, %v), want %v → %v", c.From, c.To, c.Cause, c.Err, from, to)
		}
		if h.f.State() != to && len(h.changes) == 0 {
			t.Fatalf("state %v after a change to %v", h.f.State(), to)
		}
		return c
	case <-time.After(10 * time.Second):
		t.Fatalf("no change %v → %v", from, to)
	}
	return FloorChange{}
}

func frame(i int) []byte { return []byte(fmt.Sprintf("f%d", i)) }

func TestFloorPressGrantTalkRelease(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{})
	ans := h.press(t)
	if _, ok := h.f.Wants(); !ok {
		t.Error("a requesting floor does not want audio")
	}
	// Said while the request is out: held, then sent first on the grant.
	for i := range 3 {
		h.f.Audio(frame(i), 960)
	}
	tx := newFloorTx()
	ans <- floorAnswer{tx: tx}
	c := h.expect(t, FloorRequesting, FloorTalking)
	if c.Held != 3 {
		t.Errorf("grant sent %d held frames, want 3", c.Held)
	}
	h.f.Audio(frame(3), 960)
	h.f.Release()
	h.expect(t, FloorTalking, FloorIdle)
	tx.waitEnded(t)
	if got, want := tx.sent(), []string{"f0", "f1", "f2", "f3"}; !slices.Equal(got, want) {
		t.Errorf("sent %v, want %v", got, want)
	}
	if h.f.Audio(frame(4), 960) {
		t.Error("an idle floor took a frame")
	}
	st := h.f.Stats()
	if st.Requests != 1 || st.Grants != 1 || st.FramesSent != 4 || st.FramesHeld != 3 || st.NotWanted != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestFloorHeldAudioIsBounded(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{MaxHeld: 60 * time.Millisecond})
	ans := h.press(t)
	for i := range 5 { // 100 ms, of which 60 are kept: the newest
		h.f.Audio(frame(i), 960)
	}
	tx := newFloorTx()
	ans <- floorAnswer{tx: tx}
	h.expect(t, FloorRequesting, FloorTalking)
	if got, want := tx.sent(), []string{"f2", "f3", "f4"}; !slices.Equal(got, want) {
		t.Errorf("sent %v, want the newest 60 ms %v", got, want)
	}
	if st := h.f.Stats(); st.HeldDropped != 2 {
		t.Errorf("HeldDropped = %d, want 2", st.HeldDropped)
	}
}

// A short press: released before the grant, its words still go out, then
// the transmission ends.
func TestFloorReleaseBeforeGrantSendsWhatWasSaid(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{})
	ans := h.press(t)
	h.f.Audio(frame(0), 960)
	h.f.Audio(frame(1), 960)
	h.f.Release()
	h.expect(t, FloorRequesting, FloorReleasing)
	if h.f.Audio(frame(2), 960) {
		t.Error("a released floor took a frame")
	}
	tx := newFloorTx()
	ans <- floorAnswer{tx: tx}
	c := h.expect(t, FloorReleasing, FloorIdle)
	if c.Held != 2 || c.Cause != FloorCauseNone {
		t.Errorf("change %+v, want 2 held frames sent", c)
	}
	tx.waitEnded(t)
	if got := tx.sent(); !slices.Equal(got, []string{"f0", "f1"}) {
		t.Errorf("sent %v", got)
	}
}

func TestFloorReleaseBeforeGrantWithNothingGivesItBack(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{})
	ans := h.press(t)
	h.f.Release()
	h.expect(t, FloorRequesting, FloorReleasing)
	tx := newFloorTx()
	ans <- floorAnswer{tx: tx}
	h.expect(t, FloorReleasing, FloorIdle)
	tx.waitEnded(t)
	if len(tx.sent()) != 0 {
		t.Errorf("sent %v", tx.sent())
	}
}

// Pressing again while released and waiting takes the request up again.
func TestFloorPressAgainWhileReleasing(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{})
	ans := h.press(t)
	h.f.Audio(frame(0), 960)
	h.f.Release()
	h.expect(t, FloorRequesting, FloorReleasing)
	if !h.f.Press(h.request) {
		t.Fatal("a press while releasing was refused")
	}
	h.expect(t, FloorReleasing, FloorRequesting)
	h.f.Audio(frame(1), 960)
	tx := newFloorTx()
	ans <- floorAnswer{tx: tx}
	h.expect(t, FloorRequesting, FloorTalking)
	if tx.isEnded() {
		t.Error("the taken-up press ended at the grant")
	}
	if got := tx.sent(); !slices.Equal(got, []string{"f0", "f1"}) {
		t.Errorf("sent %v", got)
	}
	select {
	case <-h.asked:
		t.Error("the second press asked again")
	default:
	}
}

func TestFloorBusy(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{})
	ans := h.press(t)
	h.f.Audio(frame(0), 960)
	ans <- floorAnswer{err: &BusyError{Holder: "alice"}}
	c := h.expect(t, FloorRequesting, FloorBusy)
	if c.Cause != FloorCauseBusy || c.Dropped != 1 || c.Text() != "busy: alice is talking" {
		t.Errorf("change %+v (%q)", c, c.Text())
	}
	if _, ok := h.f.Wants(); ok || h.f.Audio(frame(1), 960) {
		t.Error("a busy floor takes audio")
	}
	if h.f.Press(h.request) {
		t.Error("a press while busy (not released) did something")
	}
	h.f.Release()
	h.expect(t, FloorBusy, FloorIdle)
	st := h.f.Stats()
	if st.Refusals != 1 || st.HeldDropped != 1 || st.NotWanted != 1 {
		t.Errorf("stats %+v", st)
	}
	// A refusal after the release tells, and the floor is idle.
	ans = h.press(t)
	h.f.Release()
	h.expect(t, FloorRequesting, FloorReleasing)
	ans <- floorAnswer{err: &BusyError{Holder: "alice"}}
	if c := h.expect(t, FloorReleasing, FloorIdle); c.Cause != FloorCauseBusy {
		t.Errorf("change %+v", c)
	}
}

func TestFloorRefused(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{})
	ans := h.press(t)
	ans <- floorAnswer{err: &RelayError{Text: "zed is not online"}}
	c := h.expect(t, FloorRequesting, FloorRefused)
	if c.Cause != FloorCauseRefused || c.Text() == "" {
		t.Errorf("change %+v", c)
	}
	h.f.Release()
	h.expect(t, FloorRefused, FloorIdle)
}

// Cuts on the air: pre-empted by a page, the maximum length, the
// connection lost; each says why and takes no more audio until the release.
func TestFloorCut(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		cause FloorCause
	}{
		{"preempted by a page", &CutError{By: "boss", Text: "paged over by boss"}, FloorCausePage},
		{"max talk", &CutError{TooLong: true}, FloorCauseMaxTalk},
		{"relay lost", ErrConnectionLost, FloorCauseLost},
		{"relay error", &RelayError{Text: "kicked"}, FloorCauseError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newFloorHarness(t, FloorConfig{})
			ans := h.press(t)
			tx := newFloorTx()
			ans <- floorAnswer{tx: tx}
			h.expect(t, FloorRequesting, FloorTalking)
			h.f.Audio(frame(0), 960)
			tx.failWith(tc.err)
			if h.f.Audio(frame(1), 960) {
				t.Error("a refused frame counted as taken")
			}
			c := h.expect(t, FloorTalking, FloorCut)
			if c.Cause != tc.cause || !errors.Is(c.Err, tc.err) {
				t.Errorf("change %+v, want cause %v", c, tc.cause)
			}
			tx.waitEnded(t)
			if h.f.Audio(frame(2), 960) {
				t.Error("a cut floor took a frame")
			}
			h.f.Release()
			h.expect(t, FloorCut, FloorIdle)
			if st := h.f.Stats(); st.Cuts != 1 || st.SendFailed != 1 || st.FramesSent != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// Cut from outside (the relay's message came before the next frame).
func TestFloorCutFromOutside(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{})
	ans := h.press(t)
	tx := newFloorTx()
	ans <- floorAnswer{tx: tx}
	h.expect(t, FloorRequesting, FloorTalking)
	h.f.Cut(&CutError{TooLong: true})
	if c := h.expect(t, FloorTalking, FloorCut); c.Cause != FloorCauseMaxTalk {
		t.Errorf("change %+v", c)
	}
	tx.waitEnded(t)
}

// A held frame the new transmission refuses cuts it at the grant.
func TestFloorCutWhileSendingHeld(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{})
	ans := h.press(t)
	h.f.Audio(frame(0), 960)
	h.f.Audio(frame(1), 960)
	tx := newFloorTx()
	tx.failWith(ErrConnectionLost)
	ans <- floorAnswer{tx: tx}
	if c := h.expect(t, FloorRequesting, FloorCut); c.Cause != FloorCauseLost {
		t.Errorf("change %+v", c)
	}
	tx.waitEnded(t)
	if st := h.f.Stats(); st.SendFailed != 1 || st.HeldDropped != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestFloorAbortGivesALateGrantBack(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{})
	ans := h.press(t)
	h.f.Audio(frame(0), 960)
	h.f.Abort(errors.New("left the channel"))
	if c := h.expect(t, FloorRequesting, FloorIdle); c.Cause != FloorCauseAborted || c.Dropped != 1 {
		t.Errorf("change %+v", c)
	}
	tx := newFloorTx()
	ans <- floorAnswer{tx: tx}
	tx.waitEnded(t)
	if len(tx.sent()) != 0 || h.f.State() != FloorIdle {
		t.Errorf("sent %v, state %v after an aborted request's grant", tx.sent(), h.f.State())
	}
}

// The next request waits until the last transmission has ended, so the
// client is not still "already transmitting".
func TestFloorNextRequestWaitsForTheLastEnd(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{})
	ans := h.press(t)
	tx := newFloorTx()
	tx.endWait = make(chan struct{})
	ans <- floorAnswer{tx: tx}
	h.expect(t, FloorRequesting, FloorTalking)
	h.f.Release()
	h.expect(t, FloorTalking, FloorIdle)
	if !h.f.Press(h.request) {
		t.Fatal("press refused")
	}
	h.expect(t, FloorIdle, FloorRequesting)
	select {
	case <-h.asked:
		t.Fatal("asked before the last transmission ended")
	default:
	}
	close(tx.endWait)
	select {
	case a := <-h.asked:
		a <- floorAnswer{tx: newFloorTx()}
	case <-time.After(10 * time.Second):
		t.Fatal("never asked")
	}
	h.expect(t, FloorRequesting, FloorTalking)
}

func TestFloorCloseEndsTheTransmission(t *testing.T) {
	h := newFloorHarness(t, FloorConfig{})
	ans := h.press(t)
	tx := newFloorTx()
	ans <- floorAnswer{tx: tx}
	h.expect(t, FloorRequesting, FloorTalking)
	<-h.f.Close()
	if !tx.isEnded() {
		t.Error("Close left the transmission open")
	}
	if h.f.Press(h.request) {
		t.Error("a closed floor took a press")
	}
}

func TestFloorStateNames(t *testing.T) {
	// web/app.js uses these names: keep them in step.
	want := []string{"idle", "requesting", "releasing", "talking", "busy", "refused", "cut"}
	for i, w := range want {
		if got := FloorState(i).String(); got != w {
			t.Errorf("state %d is %q, want %q", i, got, w)
		}
	}
}

package relay

import (
	"context"
	"testing"
	"time"
)

// A login as a name that failed lately waits behind the logins that came
// after it but did not fail: a flood of wrong passwords does not keep the
// people who type theirs right waiting. Among equals, first come first
// served.
func TestPasswordSlotsFailingNamesWaitBehind(t *testing.T) {
	p := newPasswordSlots(1)
	ctx := context.Background()
	if !p.acquire(ctx, false, time.Minute) {
		t.Fatal("no free slot")
	}
	queued := make(chan struct{})
	p.onWait = func() { queued <- struct{}{} }
	order := make(chan string, 3)
	wait := func(name string, later bool) {
		go func() {
			if p.acquire(ctx, later, time.Minute) {
				order <- name
				p.release()
			} else {
				order <- name + " refused"
			}
		}()
		<-queued
	}
	wait("flood", true)
	wait("alice", false)
	wait("bob", false)
	p.release()
	for _, want := range []string{"alice", "bob", "flood"} {
		if got := <-order; got != want {
			t.Fatalf("slot went to %s, want %s", got, want)
		}
	}
	// Every slot is back.
	p.onWait = nil
	if !p.acquire(ctx, true, time.Minute) {
		t.Fatal("slot lost")
	}
}

// A login that waited in vain gets no slot and leaves the queue: the slot
// released later goes to the next login, not to nobody.
func TestPasswordSlotsWaitEnds(t *testing.T) {
	p := newPasswordSlots(1)
	ctx := context.Background()
	p.acquire(ctx, false, time.Minute)
	if p.acquire(ctx, false, time.Millisecond) {
		t.Fatal("got a slot none was free")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if p.acquire(cctx, false, time.Minute) {
		t.Fatal("got a slot after the context ended")
	}
	p.release()
	if !p.acquire(ctx, true, time.Millisecond) {
		t.Fatal("the released slot went to a login that had left")
	}
}

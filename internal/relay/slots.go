package relay

import (
	"context"
	"slices"
	"sync"
	"time"
)

// passwordSlots hands out the relay's password-check slots
// (Config.PasswordSlots) in order of arrival, except that logins as a name
// that failed lately from the same address (limit.Logins.Failing) wait
// behind every other: a flood of wrong passwords (through a gateway, all
// from its address) takes only the checks nobody else is waiting for, and
// the people typing their own password keep logging in. Safe for
// concurrent use; the zero value has no slots (use newPasswordSlots).
type passwordSlots struct {
	mu      sync.Mutex
	free    int                // guarded by mu
	waiting [2][]chan struct{} // guarded by mu: [0] first, [1] after; each in order of arrival
	onWait  func()             // tests: called when a login begins to wait (set before use)
}

func newPasswordSlots(n int) *passwordSlots { return &passwordSlots{free: n} }

// acquire waits up to wait, or until ctx ends, for a slot; later puts the
// login behind every login that is not later. It reports whether it got
// one; then release must follow.
func (p *passwordSlots) acquire(ctx context.Context, later bool, wait time.Duration) bool {
	q := 0
	if later {
		q = 1
	}
	p.mu.Lock()
	if p.free > 0 && len(p.waiting[0]) == 0 && (q == 0 || len(p.waiting[1]) == 0) {
		p.free--
		p.mu.Unlock()
		return true
	}
	granted := make(chan struct{})
	p.waiting[q] = append(p.waiting[q], granted)
	p.mu.Unlock()
	if p.onWait != nil {
		p.onWait()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-granted:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.waiting[q], granted); i >= 0 {
		p.waiting[q] = slices.Delete(p.waiting[q], i, i+1)
		return false
	}
	// Granted as the wait ended: the slot is this login's.
	return true
}

// release returns a slot: to the first login waiting, if any.
func (p *passwordSlots) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for q := range p.waiting {
		if len(p.waiting[q]) > 0 {
			close(p.waiting[q][0])
			p.waiting[q] = p.waiting[q][1:]
			return
		}
	}
	p.free++
}

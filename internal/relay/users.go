package relay

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hark-intercom/hark/proto"
)

// UserList is implemented by an Authenticator whose users can change while
// the relay runs (*accounts.Store: `relay user del` edits the users file).
// The relay asks it every Config.UserCheckEvery and ends the sessions of
// users who no longer exist. Both methods must be safe for concurrent use
// and quick (a file stat, not a password check).
type UserList interface {
	// Version re-reads the users if they changed and returns a number that
	// differs whenever they may have.
	Version() (uint64, error)
	// Has reports whether name is a user.
	Has(name string) bool
}

// watchUsers ends the sessions of deleted users until ctx ends. It does
// nothing in open mode or when Config.Users is not a UserList.
func (r *Relay) watchUsers(ctx context.Context) {
	ul, ok := r.cfg.Users.(UserList)
	if r.cfg.Open || !ok {
		return
	}
	last, err := ul.Version()
	failing := err != nil
	t := time.NewTicker(r.cfg.UserCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := ul.Version()
		if err != nil {
			// A half-written or broken file: keep everyone, say it once.
			if !failing {
				r.cfg.Logger.Error("cannot read the users file; sessions are kept as they are until it is fixed", "err", err)
			}
			failing = true
			continue
		}
		if failing {
			r.cfg.Logger.Info("the users file is readable again")
			failing = false
		}
		if v == last {
			continue
		}
		last = v
		r.mu.Lock()
		for _, s := range r.sortedSessionsLocked() {
			if ul.Has(s.name) {
				continue
			}
			r.removeLocked(s)
			s.bye(proto.CodeKicked, "your account was removed from this relay")
			r.c.kicks.Add(1)
			s.log.Info("session ended: the user was deleted")
		}
		r.mu.Unlock()
	}
}

// bans keeps names out for a while after an admin's kick with a ban. They
// live in memory: a restarted relay forgets them. Safe for concurrent use.
type bans struct {
	mu    sync.Mutex
	until map[string]time.Time // guarded by mu
}

// add bans name until now+d (a later ban replaces an earlier one).
func (b *bans) add(name string, d time.Duration, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.until == nil {
		b.until = map[string]time.Time{}
	}
	for n, u := range b.until { // forget expired bans
		if !now.Before(u) {
			delete(b.until, n)
		}
	}
	b.until[name] = now.Add(d)
}

// check returns the refusal text if name is banned at now.
func (b *bans) check(name string, now time.Time) (string, bool) {
	b.mu.Lock()
	u, ok := b.until[name]
	b.mu.Unlock()
	if !ok || !now.Before(u) {
		return "", false
	}
	left := u.Sub(now).Round(time.Second)
	if left < time.Second {
		left = time.Second
	}
	return fmt.Sprintf("an admin banned %s from this relay for %v more (until %s)", name, left, u.Format("15:04:05 MST")), true
}

// maxBan bounds a ban (a u32 of seconds is 136 years).
const maxBan = 366 * 24 * time.Hour

// answers pings s and reports whether it answers (any control message
// from its client) within Config.OpenProbe. A session that ends meanwhile
// does not answer. Called without r.mu.
func (r *Relay) answers(s *session) bool {
	sent := time.Now()
	s.sendMsg(&proto.Ping{Nonce: uint64(sent.UnixNano())})
	deadline := time.NewTimer(r.cfg.OpenProbe)
	defer deadline.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-poll.C:
			if s.heard.Load() >= sent.UnixNano() {
				return true
			}
		case <-s.closing:
			return false
		case <-deadline.C:
			s.log.Info("session did not answer a ping while its name logged in again: taken for dead", "wait", r.cfg.OpenProbe)
			return false
		}
	}
}

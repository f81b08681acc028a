// Package limit has the rate limits the relay and the gateway share: a
// token bucket, a limiter of failed logins, and a sampler for log lines a
// peer can trigger.
package limit

import (
	"net/netip"
	"sync"
	"time"
)

// Bucket is a token bucket: rate tokens a second, at most burst. It is not
// safe for concurrent use: each is owned by one goroutine (or guarded by
// its owner's lock). The zero value allows nothing; use NewBucket.
type Bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

// NewBucket returns a full bucket.
func NewBucket(rate, burst float64, now time.Time) Bucket {
	return Bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// Allow takes one token if there is one.
func (b *Bucket) Allow(now time.Time) bool { return b.Take(1, now) }

// Take takes n tokens if there are that many.
func (b *Bucket) Take(n float64, now time.Time) bool {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens += dt * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.last = now
	}
	if b.tokens >= n {
		b.tokens -= n
		return true
	}
	return false
}

// full reports whether the bucket has refilled completely (it can be forgotten).
func (b *Bucket) full(now time.Time) bool {
	return b.tokens+now.Sub(b.last).Seconds()*b.rate >= b.burst
}

// Logins limits failed logins. Each remote address and user name
// pair gets burst failures, then one per 1/rate seconds; each address gets
// addrFactor times that over all names (guessing many names from one
// place). Loopback addresses have no per-address limit: a gateway on the
// same machine logs everyone in from there, and it limits failures per
// browser address itself; otherwise one person typing a wrong password
// would lock everybody else out of the web page. IPv6 addresses count per
// /64, the block one subscriber usually has. At most maxAuthEntries
// addresses and pairs are tracked: past that, new ones are not (the
// relay's memory stays bounded under a scan from many addresses). Entries
// whose bucket refilled are forgotten once a minute, as failures come. Safe
// for concurrent use.
//
// The relay keys by the connection's address; the gateway, which sees the
// browsers, by the browser's.
type Logins struct {
	rate, burst float64

	mu        sync.Mutex
	m         map[string]*Bucket // guarded by mu; addresses and pairs that failed recently
	lastPrune time.Time          // guarded by mu
}

// NewLogins returns a limiter that allows burst failures, then one per
// every.
func NewLogins(burst int, every time.Duration) *Logins {
	return &Logins{rate: 1 / every.Seconds(), burst: float64(burst), m: map[string]*Bucket{}}
}

const (
	maxAuthEntries = 100000
	addrFactor     = 4
)

// authKeys returns the limiter's keys for a login from ip (an address
// without port) as name: the pair's, and the address's ("" for loopback).
func authKeys(ip, name string) (pair, addr string) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "n " + ip + " " + name, "a " + ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		ip = p.String()
	}
	pair = "n " + ip + " " + name
	if a.IsLoopback() {
		return pair, ""
	}
	return pair, "a " + ip
}

// Blocked reports whether a login from ip as name has no failure left.
func (l *Logins) Blocked(ip, name string, now time.Time) bool {
	pair, addr := authKeys(ip, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.emptyLocked(pair, now) || (addr != "" && l.emptyLocked(addr, now))
}

// Failing reports whether logins from ip as name failed lately: the pair
// has not earned back every failure it spent.
func (l *Logins) Failing(ip, name string, now time.Time) bool {
	pair, _ := authKeys(ip, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[pair]
	return b != nil && !b.full(now)
}

// emptyLocked reports whether k's bucket has no token now (without taking
// one).
func (l *Logins) emptyLocked(k string, now time.Time) bool {
	b := l.m[k]
	if b == nil {
		return false
	}
	cp := *b
	return !cp.Allow(now)
}

// Try takes a failure in advance for a login from ip as name whose
// password is about to be checked, and reports whether one was left (false:
// refuse the login as Blocked would). A login that then succeeds, or whose
// password was not checked after all, gives it back with Refund. Unlike
// Blocked and then Failed, logins checked at the same time cannot all pass
// while their failures are still being decided (a flood from one browser
// got hundreds of wrong passwords through a limit of 20).
func (l *Logins) Try(ip, name string, now time.Time) bool {
	pair, addr := authKeys(ip, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.emptyLocked(pair, now) || (addr != "" && l.emptyLocked(addr, now)) {
		return false
	}
	l.take(pair, l.rate, l.burst, now)
	if addr != "" {
		l.take(addr, addrFactor*l.rate, addrFactor*l.burst, now)
	}
	return true
}

// Refund gives back the failure Try took.
func (l *Logins) Refund(ip, name string, now time.Time) {
	pair, addr := authKeys(ip, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range []string{pair, addr} {
		if b := l.m[k]; k != "" && b != nil {
			b.Take(0, now) // refill to now
			b.tokens = min(b.burst, b.tokens+1)
		}
	}
}

// Failed records a failed login from ip as name.
func (l *Logins) Failed(ip, name string, now time.Time) {
	pair, addr := authKeys(ip, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.take(pair, l.rate, l.burst, now)
	if addr != "" {
		l.take(addr, addrFactor*l.rate, addrFactor*l.burst, now)
	}
}

func (l *Logins) take(k string, rate, burst float64, now time.Time) {
	if now.Sub(l.lastPrune) > time.Minute {
		l.pruneLocked(now)
	}
	b := l.m[k]
	if b == nil {
		if len(l.m) >= maxAuthEntries {
			if now.Sub(l.lastPrune) < time.Second {
				return // full and pruned just now: do not grow
			}
			l.pruneLocked(now)
			if len(l.m) >= maxAuthEntries {
				return
			}
		}
		nb := NewBucket(rate, burst, now)
		b = &nb
		l.m[k] = b
	}
	b.Allow(now)
}

// Prune forgets addresses and pairs whose bucket refilled now (Failed also
// does it once a minute).
func (l *Logins) Prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked(now)
}

func (l *Logins) pruneLocked(now time.Time) {
	l.lastPrune = now
	for k, b := range l.m {
		if b.full(now) {
			delete(l.m, k)
		}
	}
}

// Sampler lets through a burst of log lines, then one per second, and
// counts the lines it held back, so that a peer cannot fill the disk with
// the relay's log (a login scan writes a refusal per attempt). Safe for
// concurrent use.
type Sampler struct {
	mu   sync.Mutex
	b    Bucket // guarded by mu
	held int    // guarded by mu
}

// NewSampler returns a sampler: a burst of 20 lines, then one a second.
func NewSampler(now time.Time) *Sampler {
	return &Sampler{b: NewBucket(1, 20, now)}
}

// Allow reports whether to log a line now, and how many were held back
// since the last one logged.
func (s *Sampler) Allow(now time.Time) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.b.Allow(now) {
		s.held++
		return false, 0
	}
	h := s.held
	s.held = 0
	return true, h
}

package relay

import (
	"net/netip"
	"sync"
	"time"
)

// bucket is a token bucket. It is not safe for concurrent use: each is owned
// by one goroutine (or guarded by its owner's lock).
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newBucket(rate, burst float64, now time.Time) bucket {
	return bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// allow takes one token if there is one.
func (b *bucket) allow(now time.Time) bool {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens += dt * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// full reports whether the bucket has refilled completely (it can be forgotten).
func (b *bucket) full(now time.Time) bool {
	return b.tokens+now.Sub(b.last).Seconds()*b.rate >= b.burst
}

// authLimiter limits failed logins. Each remote address and user name
// pair gets burst failures, then one per 1/rate seconds; each address gets
// addrFactor times that over all names (guessing many names from one
// place). Loopback addresses have no per-address limit: a gateway on the
// same machine logs everyone in from there, and it limits failures per
// browser address itself; otherwise one person typing a wrong password
// would lock everybody else out of the web page. IPv6 addresses count per
// /64, the block one subscriber usually has. At most maxAuthEntries
// addresses and pairs are tracked: past that, new ones are not (the
// relay's memory stays bounded under a scan from many addresses). Safe for
// concurrent use.
type authLimiter struct {
	rate, burst float64

	mu        sync.Mutex
	m         map[string]*bucket // guarded by mu; addresses and pairs that failed recently
	lastPrune time.Time          // guarded by mu
}

const (
	maxAuthEntries = 100000
	addrFactor     = 4
)

// authKeys returns the limiter's keys for a login from ip (as remoteIP
// gives it) as name: the pair's, and the address's ("" for loopback).
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

// blocked reports whether a login from ip as name has no failure left.
func (l *authLimiter) blocked(ip, name string, now time.Time) bool {
	pair, addr := authKeys(ip, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range []string{pair, addr} {
		if b := l.m[k]; b != nil {
			cp := *b
			if !cp.allow(now) {
				return true
			}
		}
	}
	return false
}

// failed records a failed login from ip as name.
func (l *authLimiter) failed(ip, name string, now time.Time) {
	pair, addr := authKeys(ip, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.take(pair, l.rate, l.burst, now)
	if addr != "" {
		l.take(addr, addrFactor*l.rate, addrFactor*l.burst, now)
	}
}

func (l *authLimiter) take(k string, rate, burst float64, now time.Time) {
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
		nb := newBucket(rate, burst, now)
		b = &nb
		l.m[k] = b
	}
	b.allow(now)
}

// prune forgets addresses whose bucket refilled.
func (l *authLimiter) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked(now)
}

func (l *authLimiter) pruneLocked(now time.Time) {
	l.lastPrune = now
	for k, b := range l.m {
		if b.full(now) {
			delete(l.m, k)
		}
	}
}

// logSampler lets through a burst of log lines, then one per second, and
// counts the lines it held back, so that a peer cannot fill the disk with
// the relay's log (a login scan writes a refusal per attempt). Safe for
// concurrent use.
type logSampler struct {
	mu   sync.Mutex
	b    bucket // guarded by mu
	held int    // guarded by mu
}

func newLogSampler(now time.Time) *logSampler {
	return &logSampler{b: newBucket(1, 20, now)}
}

// allow reports whether to log a line now, and how many were held back
// since the last one logged.
func (s *logSampler) allow(now time.Time) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.b.allow(now) {
		s.held++
		return false, 0
	}
	h := s.held
	s.held = 0
	return true, h
}

package relay

import (
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

// authLimiter counts failed logins per remote IP address. Safe for
// concurrent use.
type authLimiter struct {
	rate, burst float64

	mu sync.Mutex
	m  map[string]*bucket // guarded by mu; buckets of addresses that failed recently
}

const maxAuthEntries = 100000

// blocked reports whether ip has no failed login left.
func (l *authLimiter) blocked(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[ip]
	if b == nil {
		return false
	}
	cp := *b
	return !cp.allow(now)
}

// failed records a failed login from ip.
func (l *authLimiter) failed(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[ip]
	if b == nil {
		if len(l.m) >= maxAuthEntries {
			l.pruneLocked(now)
		}
		nb := newBucket(l.rate, l.burst, now)
		b = &nb
		l.m[ip] = b
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
	for k, b := range l.m {
		if b.full(now) {
			delete(l.m, k)
		}
	}
}

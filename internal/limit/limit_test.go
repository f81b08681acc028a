package limit

import (
	"fmt"
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	now := time.Unix(0, 0)
	b := NewBucket(10, 2, now)
	first, second, third := b.Allow(now), b.Allow(now), b.Allow(now)
	if !first || !second || third {
		t.Fatal("burst of 2 not enforced")
	}
	if !b.Allow(now.Add(100 * time.Millisecond)) {
		t.Fatal("no refill after 100 ms at 10/s")
	}
}

// TestAuthLimiter: failures are limited per address and name, and per
// address over all names (not for loopback, where a gateway logs in many
// people); IPv6 counts per /64; the table stops growing at its cap.
func TestAuthLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := NewLogins(2, time.Minute)
	if l.Blocked("192.0.2.1", "alice", now) {
		t.Fatal("blocked before failing")
	}
	l.Failed("192.0.2.1", "alice", now)
	l.Failed("192.0.2.1", "alice", now)
	if !l.Blocked("192.0.2.1", "alice", now) {
		t.Fatal("two failures did not block the pair")
	}
	if l.Blocked("192.0.2.1", "bob", now) || l.Blocked("192.0.2.2", "alice", now) {
		t.Fatal("another name or address blocked by alice's failures")
	}
	// Guessing names from one address: addrFactor*burst in all.
	for i := 0; i < addrFactor*2; i++ {
		l.Failed("192.0.2.3", fmt.Sprint("user", i), now)
	}
	if !l.Blocked("192.0.2.3", "somebody-else", now) {
		t.Fatal("many names from one address not limited")
	}
	// Loopback (a gateway on this machine): only the pairs.
	for i := 0; i < 50; i++ {
		l.Failed("127.0.0.1", fmt.Sprint("user", i), now)
	}
	if l.Blocked("127.0.0.1", "carol", now) {
		t.Fatal("failures of other people through the gateway locked carol out")
	}
	l.Failed("::1", "dave", now)
	l.Failed("::1", "dave", now)
	if !l.Blocked("::1", "dave", now) {
		t.Fatal("a pair through loopback is not limited")
	}
	// IPv6: one /64 is one address.
	for i := 0; i < addrFactor*2; i++ {
		l.Failed(fmt.Sprintf("2001:db8:1:2::%x", i+1), fmt.Sprint("u", i), now)
	}
	if !l.Blocked("2001:db8:1:2:ffff::9", "eve", now) || l.Blocked("2001:db8:1:3::1", "eve", now) {
		t.Fatal("IPv6 not counted per /64")
	}
	if l.Blocked("192.0.2.1", "alice", now.Add(2*time.Minute)) {
		t.Fatal("not unblocked after refill")
	}
	l.Prune(now.Add(10 * time.Minute))
	if len(l.m) != 0 {
		t.Fatalf("%d entries left after pruning", len(l.m))
	}
	// The cap: past maxAuthEntries nothing new is tracked.
	for i := 0; i < maxAuthEntries+100; i++ {
		l.Failed("10.0.0.1", fmt.Sprint("n", i), now)
	}
	if len(l.m) > maxAuthEntries {
		t.Fatalf("%d entries, cap %d", len(l.m), maxAuthEntries)
	}
}

// TestLogSampler: a burst is logged, then one line a second, and the next
// line logged says how many were held back.
func TestLogSampler(t *testing.T) {
	now := time.Unix(0, 0)
	s := NewSampler(now)
	logged := 0
	for i := 0; i < 1000; i++ {
		if ok, _ := s.Allow(now); ok {
			logged++
		}
	}
	if logged != 20 {
		t.Fatalf("%d of 1000 lines at once logged, want the burst of 20", logged)
	}
	ok, held := s.Allow(now.Add(time.Second))
	if !ok || held != 980 {
		t.Fatalf("a second later: ok %v, held %d; want true, 980", ok, held)
	}
}

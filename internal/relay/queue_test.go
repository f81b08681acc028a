package relay

import (
	"fmt"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/proto"
)

func TestVoiceQueueDropOldest(t *testing.T) {
	var q voiceQueue
	q.init(3)
	for i := range 5 {
		dropped := q.push([]byte{byte(i)})
		if dropped != (i >= 3) {
			t.Fatalf("push %d: dropped=%v", i, dropped)
		}
	}
	if q.len() != 3 {
		t.Fatalf("len %d", q.len())
	}
	for want := 2; want < 5; want++ {
		if b := q.pop(); b == nil || b[0] != byte(want) {
			t.Fatalf("pop = %v, want %d", b, want)
		}
	}
	if q.pop() != nil {
		t.Fatal("pop from empty queue")
	}
	select {
	case <-q.notify:
	default:
		t.Fatal("no notification")
	}
}

func TestBucket(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBucket(10, 2, now)
	if !b.allow(now) || !b.allow(now) || b.allow(now) {
		t.Fatal("burst of 2 not enforced")
	}
	if !b.allow(now.Add(100 * time.Millisecond)) {
		t.Fatal("no refill after 100 ms at 10/s")
	}
}

// TestAuthLimiter: failures are limited per address and name, and per
// address over all names (not for loopback, where a gateway logs in many
// people); IPv6 counts per /64; the table stops growing at its cap.
func TestAuthLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := authLimiter{rate: 1.0 / 60, burst: 2, m: map[string]*bucket{}}
	if l.blocked("192.0.2.1", "alice", now) {
		t.Fatal("blocked before failing")
	}
	l.failed("192.0.2.1", "alice", now)
	l.failed("192.0.2.1", "alice", now)
	if !l.blocked("192.0.2.1", "alice", now) {
		t.Fatal("two failures did not block the pair")
	}
	if l.blocked("192.0.2.1", "bob", now) || l.blocked("192.0.2.2", "alice", now) {
		t.Fatal("another name or address blocked by alice's failures")
	}
	// Guessing names from one address: addrFactor*burst in all.
	for i := 0; i < addrFactor*2; i++ {
		l.failed("192.0.2.3", fmt.Sprint("user", i), now)
	}
	if !l.blocked("192.0.2.3", "somebody-else", now) {
		t.Fatal("many names from one address not limited")
	}
	// Loopback (a gateway on this machine): only the pairs.
	for i := 0; i < 50; i++ {
		l.failed("127.0.0.1", fmt.Sprint("user", i), now)
	}
	if l.blocked("127.0.0.1", "carol", now) {
		t.Fatal("failures of other people through the gateway locked carol out")
	}
	l.failed("::1", "dave", now)
	l.failed("::1", "dave", now)
	if !l.blocked("::1", "dave", now) {
		t.Fatal("a pair through loopback is not limited")
	}
	// IPv6: one /64 is one address.
	for i := 0; i < addrFactor*2; i++ {
		l.failed(fmt.Sprintf("2001:db8:1:2::%x", i+1), fmt.Sprint("u", i), now)
	}
	if !l.blocked("2001:db8:1:2:ffff::9", "eve", now) || l.blocked("2001:db8:1:3::1", "eve", now) {
		t.Fatal("IPv6 not counted per /64")
	}
	if l.blocked("192.0.2.1", "alice", now.Add(2*time.Minute)) {
		t.Fatal("not unblocked after refill")
	}
	l.prune(now.Add(10 * time.Minute))
	if len(l.m) != 0 {
		t.Fatalf("%d entries left after pruning", len(l.m))
	}
	// The cap: past maxAuthEntries nothing new is tracked.
	for i := 0; i < maxAuthEntries+100; i++ {
		l.failed("10.0.0.1", fmt.Sprint("n", i), now)
	}
	if len(l.m) > maxAuthEntries {
		t.Fatalf("%d entries, cap %d", len(l.m), maxAuthEntries)
	}
}

// TestLogSampler: a burst is logged, then one line a second, and the next
// line logged says how many were held back.
func TestLogSampler(t *testing.T) {
	now := time.Unix(0, 0)
	s := newLogSampler(now)
	logged := 0
	for i := 0; i < 1000; i++ {
		if ok, _ := s.allow(now); ok {
			logged++
		}
	}
	if logged != 20 {
		t.Fatalf("%d of 1000 lines at once logged, want the burst of 20", logged)
	}
	ok, held := s.allow(now.Add(time.Second))
	if !ok || held != 980 {
		t.Fatalf("a second later: ok %v, held %d; want true, 980", ok, held)
	}
}

func TestPresenceSkippedThenSnapshot(t *testing.T) {
	cert, err := certs.InMemory()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Cert: cert, Open: true, ControlQueue: 4000})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{r: r, id: 1, name: "slow"}
	s.ctl.init()
	r.sessions[1], r.byName["slow"] = s, s
	big := make([]byte, 1500) // over a quarter of the limit
	s.send(big)
	r.mu.Lock()
	r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceOnline, User: proto.UserInfo{Session: 2, Name: "x"}})
	r.mu.Unlock()
	if got := s.ctl.popAll(nil); len(got) != 1 || !s.staleHint.Load() {
		t.Fatalf("queue %d messages, stale %v", len(got), s.staleHint.Load())
	}
	r.refreshPresence(s)
	got := s.ctl.popAll(nil)
	if len(got) != 1 || s.staleHint.Load() {
		t.Fatalf("after refresh: %d messages, stale %v", len(got), s.staleHint.Load())
	}
	m, err := proto.ParseMessage(got[0][proto.FrameHeaderLen:])
	if p, ok := m.(*proto.Presence); err != nil || !ok || len(p.Users) != 1 || p.Users[0].Name != "slow" {
		t.Fatalf("snapshot %+v %v", m, err)
	}
}

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"":               ":4275",
		":4275":          ":4275",
		":0":             ":0",
		"127.0.0.1":      "127.0.0.1:4275",
		"127.0.0.1:5000": "127.0.0.1:5000",
		" 127.0.0.1 ":    "127.0.0.1:4275",
		"::1":            "[::1]:4275",
		"[::1]":          "[::1]:4275",
		"[::1]:5000":     "[::1]:5000",
		"::":             "[::]:4275",
		"intercom.lan":   "intercom.lan:4275",
		"localhost:4276": "localhost:4276",
		"0.0.0.0":        "0.0.0.0:4275",
	} {
		got, err := ListenAddr(in)
		if err != nil || got != want {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"127.0.0.1:x", "127.0.0.1:70000", "host:-1", "[::1", "a:b:c:d"} {
		if got, err := ListenAddr(in); err == nil {
			t.Errorf("ListenAddr(%q) = %q, want an error", in, got)
		}
	}
}

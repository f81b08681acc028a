package relay

import (
	"testing"
	"time"
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
	l := authLimiter{rate: 1.0 / 60, burst: 2, m: map[string]*bucket{}}
	if l.blocked("a", now) {
		t.Fatal("blocked before failing")
	}
	l.failed("a", now)
	l.failed("a", now)
	if !l.blocked("a", now) || l.blocked("b", now) {
		t.Fatal("limiter")
	}
	if l.blocked("a", now.Add(2*time.Minute)) {
		t.Fatal("not unblocked after refill")
	}
	l.prune(now.Add(3 * time.Minute))
	if len(l.m) != 0 {
		t.Fatal("not pruned")
	}
}

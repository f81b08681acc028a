package client

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestProbeThroughRelay: the relay echoes every probe; the figures add up.
func TestProbeThroughRelay(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	alice := mustDial(t, r, "alice", "", "")
	var replies atomic.Int64
	const n = 20
	p, err := alice.Probe(ctx, ProbeConfig{Count: n, Interval: 10 * time.Millisecond, Wait: time.Minute,
		OnReply: func(int, time.Duration) { replies.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if p.Sent != n || p.Received != n || p.Loss() != 0 || replies.Load() != n || p.Duplicates != 0 {
		t.Fatalf("probes: %+v (%d replies seen)", p, replies.Load())
	}
	if !(0 < p.RTTMin && p.RTTMin <= p.RTTMedian && p.RTTMedian <= p.RTTP95 && p.RTTP95 <= p.RTTMax) {
		t.Errorf("round trips out of order: %+v", p)
	}
	if m := p.MouthToEar(20 * time.Millisecond); m < 46*time.Millisecond+p.RTTMedian {
		t.Errorf("mouth to ear %v below frame + look-ahead + devices + path", m)
	}
	if got := r.Stats().Probes; got != n {
		t.Errorf("relay echoed %d probes, want %d", got, n)
	}
	// One run at a time; a second after the first is fine.
	if _, err := alice.Probe(ctx, ProbeConfig{Count: 1, Wait: time.Minute}); err != nil {
		t.Errorf("second run: %v", err)
	}
}

func TestPathStatsLossAndJitter(t *testing.T) {
	run := &probeRun{sentAt: make([]time.Time, 5), rtt: []time.Duration{10, -1, 14, 12, 20}}
	for i := range run.sentAt {
		run.sentAt[i] = time.Unix(1, 0)
	}
	p := run.stats()
	if p.Sent != 5 || p.Received != 4 || p.Loss() != 0.2 {
		t.Errorf("%+v", p)
	}
	// Consecutive pairs only: (14,12) and (12,20): mean of 2 and 8.
	if p.Jitter != 5 || p.RTTMin != 10 || p.RTTMax != 20 || p.RTTMedian != 14 {
		t.Errorf("%+v", p)
	}
}

// TestNoAlarmsNotWaitedFor: a client with NoAlarms (a recorder) hears of
// an alarm but the relay does not wait for it: with nobody else online the
// alarm is over at once.
func TestNoAlarmsNotWaitedFor(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	rec, err := dialRelay(t, r.Addr, r.Fingerprint, "recorder", "", "", func(c *Config) { c.NoAlarms = true })
	if err != nil {
		t.Fatal(err)
	}
	alice := mustDial(t, r, "alice", "", "")
	if err := alice.Alarm(ctx, "fire"); err != nil {
		t.Fatal(err)
	}
	waitMsg(t, ctx, rec, func(m *proto.Ring) bool { return m.Text == "fire" })
	if ack := waitMsg(t, ctx, alice, func(m *proto.AlarmAck) bool { return true }); !ack.Over || ack.Name != "" {
		t.Errorf("the alarm waited for the recorder: %+v", ack)
	}
}

package main

import (
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestRingAlarmVerb: talk ring --alarm raises an alarm, prints each
// station's acknowledgement and ends once every station has acknowledged.
func TestRingAlarmVerb(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	bob, bobEv := dialClient(ctx, t, r, "bob", "", "lobby")
	carol, carolEv := dialClient(ctx, t, r, "carol", "", "lobby")
	done := make(chan talkResult, 1)
	go func() { done <- runTalk(ctx, t, r, "ring", "--user", "alice", "--alarm", "fire", "in", "bay", "4") }()
	ring := waitEvent(ctx, t, bobEv, func(m *proto.Ring) bool { return m.Flags&proto.RingAlarm != 0 })
	if ring.Text != "fire in bay 4" || ring.FromName != "alice" {
		t.Fatalf("bob's alarm: %+v", ring)
	}
	if err := bob.AckAlarm(ring.Alarm); err != nil {
		t.Fatal(err)
	}
	// carol sees bob's acknowledgement before she acknowledges herself.
	ack := waitEvent(ctx, t, carolEv, func(m *proto.AlarmAck) bool { return m.Name == "bob" })
	if ack.Pending != 1 || ack.Over {
		t.Fatalf("carol saw %+v", ack)
	}
	if err := carol.AckAlarm(ring.Alarm); err != nil {
		t.Fatal(err)
	}
	var res talkResult
	select {
	case res = <-done:
	case <-ctx.Done():
		t.Fatal("talk ring --alarm did not end after every station acknowledged")
	}
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"alarm raised", "bob acknowledged the alarm (1 station(s) still ringing)", "carol acknowledged the alarm; every station has now"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("no %q in:\n%s", want, res.stderr)
		}
	}
}

package main

import (
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/relaytest"
)

func TestPingVerb(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	res := runTalk(ctx, t, r, "ping", "--user", "alice", "--duration", "200ms", "--interval", "20ms")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"round trip     min", "loss ", "jitter ", "control stream round trip", "estimated mouth-to-ear"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("no %q in:\n%s", want, res.stdout)
		}
	}
	if !strings.Contains(res.stderr, "sending 10 probes of 100 bytes") {
		t.Errorf("stderr: %s", res.stderr)
	}
	if got := r.Stats().Probes; got == 0 {
		t.Error("the relay echoed no probe")
	}
	res = runTalk(ctx, t, r, "ping", "--user", "alice", "--size", "5")
	if res.code == 0 || !strings.Contains(res.stderr, "--size must be between 16 and") {
		t.Errorf("bad size: %d %s", res.code, res.stderr)
	}
	res = runTalk(ctx, t, r, "ping", "--user", "alice", "--interval", "0s")
	if res.code == 0 || !strings.Contains(res.stderr, "--interval must be") {
		t.Errorf("bad interval: %d %s", res.code, res.stderr)
	}
}

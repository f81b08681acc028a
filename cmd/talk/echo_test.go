package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/internal/wav"
)

// TestEchoVerb: talk echo sends a click track to the relay alone and
// records the playback: every click comes back, and bob in the same
// channel hears nothing of it.
func TestEchoVerb(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	dir := t.TempDir()
	clicks := audiotest.ClickTrack(48000, 1500*time.Millisecond, 200*time.Millisecond, 700*time.Millisecond, 1300*time.Millisecond)
	var b bytes.Buffer
	if err := wav.Encode(&b, 48000, 1, clicks); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "clicks.wav")
	if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	bob, bobEvents := dialClient(ctx, t, r, "bob", "", "lobby")
	_ = bobEvents
	out := filepath.Join(dir, "back.wav")
	res := runTalk(ctx, t, r, "echo", "--user", "alice", "--out", out, in)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "recorded") {
		t.Errorf("stderr: %s", res.stderr)
	}
	a, err := wav.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	pcm, err := wav.ToMono48k(a)
	if err != nil {
		t.Fatal(err)
	}
	if got := audiotest.FindClicks(pcm, 48000, 0.25, 200*time.Millisecond); len(got) != 3 {
		t.Errorf("found %d clicks in the echo, want 3 (at %v)", len(got), got)
	}
	if n := r.Stats().Echoes; n != 1 {
		t.Errorf("relay played %d echo tests back, want 1", n)
	}
	if st := bob.Stats(); st.VoiceReceived != 0 {
		t.Errorf("bob received %d frames of alice's echo test", st.VoiceReceived)
	}
}

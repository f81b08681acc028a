package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/wav"
)

// v1Commit is the last commit whose talk speaks only protocol version 1
// (before the wire format became extensible, version 2). Boxes on walls run
// binaries like it; every newer relay must keep serving them.
const v1Commit = "2270f871cca16fda75e3dc0781efd4360be427bf"

// buildV1Talk builds talk from v1Commit into bin/talk-v1. It skips the test
// when this clone does not have that commit (a shallow clone).
func buildV1Talk(t *testing.T, ctx context.Context) string {
	t.Helper()
	root, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git clone, cannot build the v1 talk: %v", err)
	}
	repo := strings.TrimSpace(string(root))
	if err := exec.CommandContext(ctx, "git", "-C", repo, "cat-file", "-e", v1Commit+"^{commit}").Run(); err != nil {
		t.Skipf("commit %s (the last v1 talk) is not in this clone (shallow?): fetch the full history to run this test", v1Commit[:7])
	}
	src := t.TempDir()
	archive := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive --format=tar "$2" | tar -x -C "$3"`, "sh", repo, v1Commit, src)
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("extracting %s: %v\n%s", v1Commit[:7], err, out)
	}
	name := "talk-v1"
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, name), "./cmd/talk")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the v1 talk: %v\n%s", err, out)
	}
	t.Cleanup(func() { os.Remove(filepath.Join(bin, name)) })
	return name
}

// TestV1TalkOnNewRelay is issue 11's check of step 0: a talk binary built
// from the last v1 commit logs in to today's relay, lists who is online,
// hears today's talk and is heard by it, and texts; all next to today's
// clients (which speak version 2 on the same relay).
func TestV1TalkOnNewRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	ctx := testCtx(t, 5*time.Minute)
	old := buildV1Talk(t, ctx)
	file := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16}, audiotest.Speech(t, speechText), 48000)
	ref := readMono(t, file)
	r := startRelay(t, ctx, true, "", nil)

	// Both hear each other: a v1 and a v2 recorder, a v2 then a v1 sender.
	for _, sender := range []struct{ binary, user string }{{"talk", "newsender"}, {old, "oldsender"}} {
		oldRec := r.newRecorderBin(t, old, "oldrec-"+sender.user, "", "lobby")
		newRec := r.newRecorder(t, "newrec-"+sender.user, "", "lobby")
		oldRec.waitLine(ctx, 0, reRecording)
		newRec.waitLine(ctx, 0, reRecording)
		s := r.talkBin(t, sender.binary, r.addr, "send", sender.user, "", "lobby", file)
		if code := s.wait(ctx); code != 0 {
			t.Fatalf("%s send exited %d:\n%s", sender.binary, code, s.text())
		}
		for _, rec := range []*recorder{oldRec, newRec} {
			rec.untilSilent(ctx, sender.user)
			if code := rec.interrupt(ctx); code != 0 {
				t.Fatalf("%s exited %d:\n%s", rec.name, code, rec.text())
			}
		}
		t.Run(sender.user+"-to-v1", func(t *testing.T) {
			t.Logf("v1 recorder: %s", oldRec.playoutStats())
			audiotest.Judge(t, "", ref, readMono(t, oldRec.out), 48000, 0.9)
		})
		t.Run(sender.user+"-to-v2", func(t *testing.T) {
			t.Logf("v2 recorder: %s", newRec.playoutStats())
			audiotest.Judge(t, "", ref, readMono(t, newRec.out), 48000, 0.9)
		})
	}

	// Presence and texts across versions.
	newRec := r.startRecorder(t, ctx, "carol", "", "ops")
	who := r.talkBin(t, old, r.addr, "who", "oldwho", "", "lobby")
	if code := who.wait(ctx); code != 0 {
		t.Fatalf("v1 talk who exited %d:\n%s", code, who.text())
	}
	if out := who.text(); !regexp.MustCompile(`ops\s+carol`).MatchString(out) || !regexp.MustCompile(`lobby\s+oldwho \(you\)`).MatchString(out) {
		t.Errorf("v1 talk who:\n%s", out)
	}
	text := r.talkBin(t, old, r.addr, "text", "oldbox", "", "ops", "hello", "from", "the", "wall")
	if code := text.wait(ctx); code != 0 {
		t.Fatalf("v1 talk text exited %d:\n%s", code, text.text())
	}
	newRec.waitLine(ctx, 0, regexp.MustCompile(`TEXT from oldbox to ops: hello from the wall`))
	newRec.interrupt(ctx)
}

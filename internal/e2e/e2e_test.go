// Package e2e runs Hark end to end with real processes: the relay and talk
// binaries are built into a temporary directory, started on loopback, and
// WAV files go in at one end and come out at the other.
//
// It needs espeak-ng and sox (for speech) besides the build tools.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/wav"
)

const speechText = "Hello from the hark intercom. One two three."

// The recorders in these tests use talk record's default, the adaptive
// jitter buffer, as a person would. These tests start a dozen processes at
// once on a 2-core machine, often shared with other work: scheduling stalls
// of 50-250 ms happen. The buffer rides them out without shifting the
// recording in time (it changes its delay only in pauses, and the recorder
// lets the packets queued during its own stalls in before the ticks it
// missed); what a stall costs is its own audio.

// channelsJSON makes a channels file with n push-to-talk channels c0…
// plus lobby (default) and ops (open).
func channelsJSON(n int) string {
	var b strings.Builder
	b.WriteString(`{"default": "lobby", "channels": [{"name": "lobby"}, {"name": "ops", "mode": "open"}`)
	for i := range n {
		fmt.Fprintf(&b, `, {"name": "c%d"}`, i)
	}
	b.WriteString("]}")
	return b.String()
}

// readMono reads a WAV file as 48 kHz mono.
func readMono(t *testing.T, path string) []int16 {
	t.Helper()
	a, err := wav.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	pcm, err := wav.ToMono48k(a)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// TestSendRecordEveryFormat sends speech in every WAV format, each from its
// own sender into its own channel, all at once, and compares each
// recording with what the file holds.
func TestSendRecordEveryFormat(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 90*time.Second)
	speech := audiotest.Speech(t, speechText)
	r := startRelay(t, ctx, true, channelsJSON(len(audiotest.WAVFormats)), nil)

	type run struct {
		file string
		ref  []int16
		rec  *recorder
		send *proc
	}
	runs := make([]*run, len(audiotest.WAVFormats))
	for i, f := range audiotest.WAVFormats {
		file := audiotest.WriteWAV(t, f.F, speech, audiotest.SpeechRate)
		runs[i] = &run{file: file, ref: readMono(t, file)}
	}
	// Recorders first (in parallel: each waits only for its own join).
	for i := range audiotest.WAVFormats {
		runs[i].rec = r.newRecorder(t, fmt.Sprintf("rec%d", i), "", fmt.Sprintf("c%d", i))
	}
	for i, ru := range runs {
		ru.rec.waitLine(ctx, 0, reRecording)
		ru.send = r.talk(t, "send", fmt.Sprintf("sender%d", i), "", fmt.Sprintf("c%d", i), ru.file)
		// Start the next sender once this one is on the air, so that
		// process start-ups (the busiest moments) do not all pile up.
		ru.send.waitLine(ctx, 0, reSample0)
	}
	for i, ru := range runs {
		if code := ru.send.wait(ctx); code != 0 {
			t.Fatalf("%s: talk send exited %d:\n%s", audiotest.WAVFormats[i].Name, code, ru.send.text())
		}
	}
	for i, ru := range runs {
		ru.rec.untilSilent(ctx, fmt.Sprintf("sender%d", i))
		if code := ru.rec.interrupt(ctx); code != 0 {
			t.Fatalf("%s: talk record exited %d after Ctrl-C:\n%s", audiotest.WAVFormats[i].Name, code, ru.rec.text())
		}
	}
	for i, f := range audiotest.WAVFormats {
		t.Run(f.Name, func(t *testing.T) {
			t.Logf("%s: %s; recorder %s", f.Name, f.F, runs[i].rec.playoutStats())
			audiotest.Judge(t, "", runs[i].ref, readMono(t, runs[i].rec.out), 48000, 0.9)
		})
	}
}

var reBusy = regexp.MustCompile(`busy: alice is talking`)

// TestBusyFloor: a second sender during a transmission is refused with who
// is talking and exits non-zero; the first transmission is undisturbed.
func TestBusyFloor(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 60*time.Second)
	r := startRelay(t, ctx, true, "", nil)
	speech := audiotest.Speech(t, speechText)
	file := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16}, speech, 48000)
	other := audiotest.WriteWAV(t, wav.Format{Rate: 16000, Channels: 1, Bits: 16}, audiotest.Speech(t, "Interruption attempt."), 48000)

	rec := r.startRecorder(t, ctx, "listener", "", "lobby")
	alice := r.talk(t, "send", "alice", "", "lobby", file)
	rec.waitLine(ctx, 0, regexp.MustCompile(`alice is talking`))
	bob := r.talk(t, "send", "bob", "", "lobby", other)
	code := bob.wait(ctx)
	if code == 0 {
		t.Fatalf("bob's send during alice's transmission succeeded:\n%s", bob.text())
	}
	if !reBusy.MatchString(bob.text()) {
		t.Errorf("bob's refusal does not say who is talking:\n%s", bob.text())
	}
	t.Logf("bob (exit %d): %s", code, bob.text())
	if code := alice.wait(ctx); code != 0 {
		t.Fatalf("alice's send exited %d:\n%s", code, alice.text())
	}
	rec.untilSilent(ctx, "alice")
	rec.interrupt(ctx)
	// alice's transmission is undisturbed.
	t.Logf("recorder: %s", rec.playoutStats())
	audiotest.Judge(t, "", speech, readMono(t, rec.out), 48000, 0.9)
}

// TestRingTextAcrossChannels: a ring reaches a session in another channel;
// a private text reaches its user.
func TestRingTextAcrossChannels(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 30*time.Second)
	r := startRelay(t, ctx, true, "", nil)
	rec := r.startRecorder(t, ctx, "carol", "", "ops")
	ring := r.talk(t, "ring", "alice", "", "lobby", "lunch", "is", "ready")
	if code := ring.wait(ctx); code != 0 {
		t.Fatalf("talk ring exited %d:\n%s", code, ring.text())
	}
	rec.waitLine(ctx, 0, regexp.MustCompile(`RING from alice: lunch is ready`))
	text := r.talk(t, "text", "alice", "", "lobby", "--to", "carol", "see", "you")
	if code := text.wait(ctx); code != 0 {
		t.Fatalf("talk text exited %d:\n%s", code, text.text())
	}
	rec.waitLine(ctx, 0, regexp.MustCompile(`TEXT from alice to you \(private\): see you`))
	who := r.talk(t, "who", "dave", "", "lobby")
	if code := who.wait(ctx); code != 0 {
		t.Fatalf("talk who exited %d:\n%s", code, who.text())
	}
	out := who.text()
	if !regexp.MustCompile(`ops\s+carol`).MatchString(out) || !regexp.MustCompile(`lobby\s+dave \(you\)`).MatchString(out) {
		t.Errorf("talk who:\n%s", out)
	}
	nobody := r.talk(t, "text", "alice", "", "lobby", "--to", "nobody", "hi")
	if code := nobody.wait(ctx); code == 0 || !strings.Contains(nobody.text(), "nobody is not online") {
		t.Errorf("text to an absent user: exit %d\n%s", code, nobody.text())
	}
	rec.interrupt(ctx)
}

// TestPageAndRoles: a page is heard in every channel, over someone
// talking; a user without the page role is refused; a wrong password is
// refused clearly.
func TestPageAndRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 60*time.Second)
	r := startRelay(t, ctx, false, "", map[string][2]string{
		"boss": {"b0ss", "page"}, "bob": {"b0b", ""}, "l1": {"l1pw", ""}, "l2": {"l2pw", ""},
	})
	long := audiotest.Speech(t, "This is Bob talking for a while in the lobby, on and on, before the page comes.")
	page := audiotest.Speech(t, "Attention please. This is a page.")
	bobFile := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16}, long, 48000)
	pageFile := audiotest.WriteWAV(t, wav.Format{Rate: 44100, Channels: 2, Bits: 16}, page, 48000)
	pageRef := readMono(t, pageFile)

	// Refusals first.
	wrong := r.talk(t, "who", "bob", "nope", "")
	if code := wrong.wait(ctx); code == 0 || !strings.Contains(wrong.text(), "wrong user name or password for bob at "+r.addr) {
		t.Errorf("wrong password: exit %d\n%s", code, wrong.text())
	}
	denied := r.talk(t, "page", "bob", "b0b", "", pageFile)
	if code := denied.wait(ctx); code == 0 || !strings.Contains(denied.text(), "bob is not allowed to page") {
		t.Errorf("page without the role: exit %d\n%s", code, denied.text())
	}

	lobby := r.startRecorder(t, ctx, "l1", "l1pw", "lobby")
	// The ops recorder also checks talk record --buffer: a fixed floor.
	ops := r.startRecorder(t, ctx, "l2", "l2pw", "ops", "--buffer", "300ms")
	bob := r.talk(t, "send", "bob", "b0b", "lobby", bobFile)
	lobby.waitLine(ctx, 0, regexp.MustCompile(`bob is talking`))
	boss := r.talk(t, "page", "boss", "b0ss", "lobby", pageFile)
	if code := boss.wait(ctx); code != 0 {
		t.Fatalf("page exited %d:\n%s", code, boss.text())
	}
	ops.untilSilent(ctx, "boss")
	bob.wait(ctx)
	lobby.untilSilent(ctx, "bob")
	ops.interrupt(ctx)
	lobby.interrupt(ctx)
	t.Logf("bob's send during the page: %s", bob.text())
	for _, rec := range []*recorder{ops, lobby} {
		t.Run(filepath.Base(rec.out), func(t *testing.T) {
			audiotest.Judge(t, "", pageRef, readMono(t, rec.out), 48000, 0.9)
		})
	}
	if d, ok := targetDelay(ops.playoutStats()); !ok || d < 300*time.Millisecond {
		t.Errorf("talk record --buffer 300ms: target delay %v (found: %v), want at least 300ms: %s", d, ok, ops.playoutStats())
	}
	if !strings.Contains(ops.text(), "PAGE from boss") {
		t.Errorf("ops recorder did not report the page:\n%s", ops.text())
	}
}

// TestRecordingValidWhenInterrupted: Ctrl-C in the middle of a
// transmission leaves a valid WAV file.
func TestRecordingValidWhenInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 30*time.Second)
	r := startRelay(t, ctx, true, "", nil)
	rec := r.startRecorder(t, ctx, "rec", "", "lobby")
	file := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16}, audiotest.Speech(t, speechText), 48000)
	send := r.talk(t, "send", "alice", "", "lobby", file)
	rec.waitLine(ctx, 0, reHearing)
	if code := rec.interrupt(ctx); code != 0 {
		t.Fatalf("record exited %d:\n%s", code, rec.text())
	}
	a, err := wav.ReadFile(rec.out)
	if err != nil {
		t.Fatalf("recording interrupted mid-transmission is not a valid WAV: %v", err)
	}
	if a.SampleRate != 48000 || a.Channels != 1 || a.Frames() == 0 {
		t.Errorf("recording: %d Hz, %d channels, %d frames", a.SampleRate, a.Channels, a.Frames())
	}
	send.wait(ctx)
	// And --duration stops by itself with exactly that much audio.
	rec2 := r.startRecorder(t, ctx, "rec2", "", "lobby", "--duration", "700ms")
	if code := rec2.wait(ctx); code != 0 {
		t.Fatalf("record --duration exited %d:\n%s", code, rec2.text())
	}
	if n := len(readMono(t, rec2.out)); n != 33600 {
		t.Errorf("--duration 700ms recorded %d samples, want 33600", n)
	}
}

// TestTrustOnFirstUse: without --fingerprint the first connection records
// the relay in the known-relays file; a relay presenting another
// certificate at that address is refused loudly (exit 5), naming the file
// and line to edit.
func TestTrustOnFirstUse(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 30*time.Second)
	r := startRelay(t, ctx, true, "", nil)
	known := filepath.Join(t.TempDir(), "known_relays")
	who := func() *proc {
		return start(t, "talk", env(t, "HARK_KNOWN_RELAYS="+known, "HARK_RELAY="+r.addr, "HARK_USER=tofu"), "", "who")
	}
	first := who()
	if code := first.wait(ctx); code != 0 {
		t.Fatalf("first connection: exit %d\n%s", code, first.text())
	}
	b, err := os.ReadFile(known)
	if err != nil || !strings.Contains(string(b), r.addr+" "+r.fp) {
		t.Fatalf("known relays after the first connection: %q, %v", b, err)
	}
	if code := who().wait(ctx); code != 0 {
		t.Fatalf("second connection refused (exit %d)", code)
	}
	// The relay "changes" its certificate.
	os.WriteFile(known, []byte(r.addr+" SHA256:"+strings.Repeat("Q", 43)+"\n"), 0o600)
	changed := who()
	code := changed.wait(ctx)
	out := changed.text()
	if code != 5 || !strings.Contains(out, "HAS CHANGED") || !strings.Contains(out, known+", line 1") || !strings.Contains(out, r.fp) {
		t.Errorf("changed certificate: exit %d\n%s", code, out)
	}
}

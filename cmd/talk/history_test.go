package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/proto"
)

func historyRelay(t *testing.T, lobby string) *relaytest.Relay {
	t.Helper()
	st := relaytest.HistoryStore(t)
	if _, err := st.SetChannel("lobby", lobby); err != nil {
		t.Fatal(err)
	}
	r := relaytest.Start(t, relaytest.WithHistory(st))
	r.AddUser("alice", "pw", 0)
	r.AddUser("carol", "pw", 0)
	return r
}

// talk text to carol while she is offline waits; carol's talk history shows
// it once, marked new, with the time it was sent; the next listing does not
// mark it new, and a later login does not get it as missed.
func TestTextWaitsAndHistoryShowsItOnce(t *testing.T) {
	r := historyRelay(t, "history=text")
	ctx := testCtx(t)
	// carol has used the intercom before (her read position exists).
	if res := runTalk(ctx, t, r, "who", "--user", "carol", "--password", "pw"); res.code != 0 {
		t.Fatalf("who: %+v", res)
	}
	res := runTalk(ctx, t, r, "text", "--user", "alice", "--password", "pw", "--to", "carol", "call", "me")
	if res.code != 0 || !strings.Contains(res.stderr, "waiting: carol is offline") {
		t.Fatalf("text to offline carol: %+v", res)
	}
	res = runTalk(ctx, t, r, "history", "--user", "carol", "--password", "pw")
	if res.code != 0 {
		t.Fatalf("history: %+v", res)
	}
	re := regexp.MustCompile(`(?m)^new (\d+) +(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)  alice to you \(private\): call me$`)
	m := re.FindAllStringSubmatch(res.stdout, -1)
	if len(m) != 1 {
		t.Fatalf("carol's history lists the text %d times, want once marked new:\n%s", len(m), res.stdout)
	}
	res = runTalk(ctx, t, r, "history", "--user", "carol", "--password", "pw")
	if strings.Contains(res.stdout, "new ") || strings.Count(res.stdout, "call me") != 1 {
		t.Fatalf("second listing:\n%s", res.stdout)
	}
	// Her client logging in again misses nothing.
	c, err := client.Dial(ctx, client.Config{Relay: r.Addr, Fingerprint: r.Fingerprint, Name: "carol", Password: "pw",
		KnownRelaysFile: filepath.Join(t.TempDir(), "known")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if missed, _ := c.Missed(); len(missed) != 0 {
		t.Errorf("the text came again as missed: %+v", missed)
	}
	// An unknown name is refused in words.
	res = runTalk(ctx, t, r, "text", "--user", "alice", "--password", "pw", "--to", "nobody", "hello")
	if res.code == 0 || !strings.Contains(res.stderr, "nobody is not online, and the relay keeps texts") {
		t.Errorf("text to an unknown user: %+v", res)
	}
}

// talk send into a channel that keeps voice, nobody listening; talk play
// --out writes what was sent, and never overwrites a file without --force.
func TestSendThenPlayToFile(t *testing.T) {
	r := historyRelay(t, "history=voice")
	ctx := testCtx(t)
	speech := audiotest.SpeechFile(t, "the delivery is at the back door")
	if res := runTalk(ctx, t, r, "send", "--user", "alice", "--password", "pw", speech); res.code != 0 {
		t.Fatalf("send: %+v", res)
	}
	// The relay stores a transmission once it has ended, through its write
	// queue: list until it is there.
	reItem := regexp.MustCompile(`(?m)^(new|   ) (\d+) +.*alice talked in lobby for [0-9.]+s  \[talk play (\d+)\]$`)
	var m []string
	tick := time.NewTicker(50 * time.Millisecond) // not a login storm
	defer tick.Stop()
	for m == nil {
		res := runTalk(ctx, t, r, "history", "--user", "carol", "--password", "pw", "--channel", "lobby")
		if res.code != 0 || ctx.Err() != nil {
			t.Fatalf("no playable transmission in the history:\n%s%s", res.stdout, res.stderr)
		}
		if m = reItem.FindStringSubmatch(res.stdout); m != nil && m[2] != m[3] {
			t.Fatalf("the play hint names another number: %s", m[0])
		}
		if m == nil {
			<-tick.C
		}
	}
	m = m[1:]
	out := filepath.Join(t.TempDir(), "got.wav")
	if res := runTalk(ctx, t, r, "play", "--user", "carol", "--password", "pw", m[1], "--out", out); res.code != 0 || !strings.Contains(res.stderr, "wrote ") {
		t.Fatalf("play --out: %+v", res)
	}
	got, err := wav.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Format.Rate != 48000 || got.Format.Channels != 1 || got.Format.Bits != 16 {
		t.Errorf("format %v, want 48 kHz mono 16-bit", got.Format)
	}
	gotPCM, _ := wav.ToMono48k(got)
	ref, err := wav.ReadFile(speech)
	if err != nil {
		t.Fatal(err)
	}
	refPCM, _ := wav.ToMono48k(ref)
	audiotest.Judge(t, "", refPCM, gotPCM, 48000, 0.9)

	// The file exists now: refused without --force, written with it.
	before, _ := os.ReadFile(out)
	res := runTalk(ctx, t, r, "play", "--user", "carol", "--password", "pw", m[1], "--out", out)
	if res.code != exitUsage || !strings.Contains(res.stderr, "already exists") || !strings.Contains(res.stderr, "--force") {
		t.Errorf("play over an existing file: %+v", res)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Error("the existing file was changed")
	}
	if res := runTalk(ctx, t, r, "play", "--user", "carol", "--password", "pw", m[1], "--out", out, "--force"); res.code != 0 {
		t.Errorf("play --force: %+v", res)
	}
	// As Ogg Opus: the stored packets as they are.
	ogg := filepath.Join(t.TempDir(), "got.ogg")
	if res := runTalk(ctx, t, r, "play", "--user", "carol", "--password", "pw", m[1], "--out", ogg); res.code != 0 || !strings.Contains(res.stderr, "as Ogg Opus") {
		t.Errorf("play --out .ogg: %+v", res)
	}
	if b, err := os.ReadFile(ogg); err != nil || !strings.HasPrefix(string(b), "OggS") {
		t.Errorf("the .ogg file does not start an Ogg stream: %v", err)
	}
	// On the (null) sound card, through the playout.
	if res := runTalk(ctx, t, r, "play", "--user", "carol", "--password", "pw", "--audio-backend", "null", m[1]); res.code != 0 || !strings.Contains(res.stderr, "playing alice talked in lobby") {
		t.Errorf("play on the sound card: %+v", res)
	}
	// A number that is not there.
	if res := runTalk(ctx, t, r, "play", "--user", "carol", "--password", "pw", "9999", "--out", filepath.Join(t.TempDir(), "x.wav")); res.code == 0 || !strings.Contains(res.stderr, "no item 9999") {
		t.Errorf("play of an unknown number: %+v", res)
	}
}

func TestSetChannel(t *testing.T) {
	r := historyRelay(t, "history=off")
	r.AddUser("boss", "pw", proto.RoleAdmin)
	ctx := testCtx(t)
	res := runTalk(ctx, t, r, "set-channel", "--user", "boss", "--password", "pw", "lobby", "history=voice", "max-age=24h")
	if res.code != 0 || !strings.Contains(res.stdout, "lobby: ") || !strings.Contains(res.stdout, "history=voice") {
		t.Fatalf("set-channel: %+v", res)
	}
	res = runTalk(ctx, t, r, "set-channel", "--user", "alice", "--password", "pw", "lobby", "history=off")
	if res.code != exitAuth {
		t.Errorf("set-channel by a user without the admin role: %+v", res)
	}
	if res := runTalk(ctx, t, r, "set-channel", "--user", "boss", "--password", "pw", "lobby", "voice"); res.code != exitUsage {
		t.Errorf("a setting without =: %+v", res)
	}
}

// talk channels shows what each channel's rules let this user do, and talk
// send into a listen-only channel is refused in words with status 4.
func TestChannelsShowsRulesAndListenOnlyRefuses(t *testing.T) {
	r := historyRelay(t, "talk=alice max-talk=30s")
	ctx := testCtx(t)
	res := runTalk(ctx, t, r, "channels", "--user", "carol", "--password", "pw")
	if res.code != 0 {
		t.Fatalf("channels: %+v", res)
	}
	if !regexp.MustCompile(`(?m)^lobby \(default\) +ptt +text +30s +listen only$`).MatchString(res.stdout) {
		t.Errorf("carol's channels do not show lobby as listen only with 30s:\n%s", res.stdout)
	}
	res = runTalk(ctx, t, r, "channels", "--user", "alice", "--password", "pw")
	if !regexp.MustCompile(`(?m)^lobby \(default\) +ptt +text +30s +talk$`).MatchString(res.stdout) {
		t.Errorf("alice's channels do not show lobby as talk:\n%s", res.stdout)
	}
	in := audiotest.SpeechFile(t, "may I talk")
	res = runTalk(ctx, t, r, "send", "--user", "carol", "--password", "pw", in)
	if res.code != 4 || !strings.Contains(res.stderr, "only alice may talk in lobby") {
		t.Fatalf("carol's send into a listen-only channel: %+v", res)
	}
}

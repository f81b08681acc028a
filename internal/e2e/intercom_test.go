package e2e

import (
	"context"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
)

// TestListenToSeveralChannels: `talk record --listen ops,dock` in lobby
// records a transmission in each of the three channels; each part of the
// recording is the speech sent there.
func TestListenToSeveralChannels(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 90*time.Second)
	r := startRelay(t, ctx, true, `{"default": "lobby", "channels": [{"name": "lobby"}, {"name": "ops", "mode": "open"}, {"name": "dock"}]}`, nil)
	rec := r.newRecorder(t, "sup", "", "lobby", "--listen", "ops,dock")
	rec.waitLine(ctx, 0, regexp.MustCompile(`^recording channels lobby, ops, dock `))

	type part struct {
		channel, talker, text string
		ref                   []int16
		start                 time.Time
	}
	parts := []*part{
		{channel: "ops", talker: "otto", text: "Forklift two to the loading bay, please."},
		{channel: "dock", talker: "dora", text: "Truck seven has arrived at door three."},
		{channel: "lobby", talker: "lena", text: "A visitor is waiting at the front desk."},
	}
	from := 0
	for _, p := range parts {
		file := audiotest.SpeechFile(t, p.text)
		p.ref = readMono(t, file)
		send := r.talk(t, "send", p.talker, "", p.channel, file)
		if code := send.wait(ctx); code != 0 {
			t.Fatalf("%s's send in %s exited %d:\n%s", p.talker, p.channel, code, send.text())
		}
		p.start = send.sample0(ctx)
		// The recorder heard it and is silent again before the next.
		k := from
		for {
			j, m := rec.waitLine(ctx, k, reHearing)
			k = j + 1
			if m[1] == p.talker {
				break
			}
		}
		from, _ = rec.waitLine(ctx, k, reSilence)
	}
	if code := rec.interrupt(ctx); code != 0 {
		t.Fatalf("talk record exited %d:\n%s", code, rec.text())
	}
	got := readMono(t, rec.out)
	rec0 := rec.sample0(ctx)
	for _, p := range parts {
		t.Run(p.channel, func(t *testing.T) {
			// The part of the recording from just before the sender's
			// first sample to a second after its last.
			a := max(0, int(p.start.Sub(rec0).Seconds()*48000)-48000/5)
			b := min(len(got), a+len(p.ref)+48000)
			if a >= b {
				t.Fatalf("the recording (%d samples) ends before %s's transmission", len(got), p.talker)
			}
			audiotest.Judge(t, "", p.ref, got[a:b], 48000, 0.9)
		})
	}
}

// TestWhisperHeardByCalleeOnly: alice's `talk send --to bob` is heard by
// bob and not by carol in the same channel; bob is told who calls him; a
// call to someone offline is refused in words.
func TestWhisperHeardByCalleeOnly(t *testing.T) {
	r, ctx, file := heardByCalleesOnly(t, "bob", []string{"bob"}, []string{"carol"},
		"Bob, please come to room four. Only you.")
	off := r.talk(t, "send", "alice", "", "lobby", "--to", "zed", file)
	if code := off.wait(ctx); code == 0 {
		t.Fatalf("a call to someone offline succeeded:\n%s", off.text())
	}
	off.waitLine(ctx, 0, regexp.MustCompile(`zed is not online`))
	t.Logf("call to someone offline: %s", off.text())
}

// TestGroupCallHeardByCalleesOnly: talk send --to bob,carol is heard by
// bob and carol (each recording matches the speech) and not by dave in
// the same channel.
func TestGroupCallHeardByCalleesOnly(t *testing.T) {
	heardByCalleesOnly(t, "bob,carol", []string{"bob", "carol"}, []string{"dave"},
		"Bob and Carol, please come to the front desk.")
}

// heardByCalleesOnly runs alice's `talk send --to to` of a spoken line
// with recorders for callees and others in lobby: each callee is told who
// calls and hears the line (envelope correlation ≥ 0.9), the others hear
// nothing. It returns the relay, the test's context and the speech file.
func heardByCalleesOnly(t *testing.T, to string, callees, others []string, line string) (*relayProc, context.Context, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 90*time.Second)
	r := startRelay(t, ctx, true, "", nil)
	recs := map[string]*recorder{}
	for _, name := range append(slices.Clone(callees), others...) {
		recs[name] = r.startRecorder(t, ctx, name, "", "lobby")
	}
	file := audiotest.SpeechFile(t, line)
	ref := readMono(t, file)

	send := r.talk(t, "send", "alice", "", "lobby", "--to", to, file)
	if code := send.wait(ctx); code != 0 {
		t.Fatalf("alice's call exited %d:\n%s", code, send.text())
	}
	send.waitLine(ctx, 0, regexp.MustCompile(`sent .* as a call to `+regexp.QuoteMeta(to)))
	for _, name := range callees {
		rec := recs[name]
		rec.waitLine(ctx, 0, regexp.MustCompile(`CALL alice → you`))
		k, _ := rec.waitLine(ctx, 0, regexp.MustCompile(`msg=hearing talkers="?alice`))
		k, _ = rec.waitLine(ctx, k, regexp.MustCompile(`call alice → you ended`))
		rec.waitLine(ctx, k, reSilence)
	}
	for _, rec := range recs {
		rec.interrupt(ctx)
	}
	for _, name := range callees {
		audiotest.Judge(t, name, ref, readMono(t, recs[name].out), 48000, 0.9)
	}
	for _, name := range others {
		rec := recs[name]
		if reHearing.MatchString(rec.text()) {
			t.Errorf("%s heard something:\n%s", name, rec.text())
		}
		peak := 0
		for _, s := range readMono(t, rec.out) {
			peak = max(peak, int(s), -int(s))
		}
		if peak > 100 {
			t.Errorf("%s's recording is not silent (peak %d): they heard the call", name, peak)
		}
	}
	return r, ctx, file
}

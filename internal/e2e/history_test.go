package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
)

// TestHistoryTextAndReplay (issue 11, as a new user would try it, with the
// real relay and talk binaries): a private text to carol while she is
// offline is accepted and waits; carol's talk history shows it once, with
// the time it was sent, and not as new again afterwards. A transmission
// sent into a channel that keeps voice, with nobody listening, comes back
// from talk play --out as the same speech.
func TestHistoryTextAndReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 90*time.Second)
	r := startRelay(t, ctx, false, "", map[string][2]string{"alice": {"apw", ""}, "carol": {"cpw", ""}})
	set := start(t, "relay", env(t), "", "channel", "set", "lobby", "history=voice", "--data", r.data)
	if code := set.wait(ctx); code != 0 {
		t.Fatalf("relay channel set: exit %d\n%s", code, set.text())
	}

	// carol has logged in once before (the relay knows where she is).
	who := r.talk(t, "who", "carol", "cpw", "")
	if code := who.wait(ctx); code != 0 {
		t.Fatalf("talk who exited %d:\n%s", code, who.text())
	}
	text := r.talk(t, "text", "alice", "apw", "", "--to", "carol", "the", "parcel", "is", "here")
	if code := text.wait(ctx); code != 0 || !strings.Contains(text.text(), "waiting: carol is offline") {
		t.Fatalf("talk text to offline carol exited %d:\n%s", code, text.text())
	}
	sentAt := time.Now()

	// alice talks in lobby (history=voice); nobody listens.
	speech := audiotest.SpeechFile(t, speechText)
	send := r.talk(t, "send", "alice", "apw", "lobby", speech)
	if code := send.wait(ctx); code != 0 {
		t.Fatalf("talk send exited %d:\n%s", code, send.text())
	}

	// carol looks: the text once, new, at the time alice sent it; and the
	// transmission, which the relay stores once it has ended.
	reText := regexp.MustCompile(`(?m)^new +\d+ +(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)  alice to you \(private\): the parcel is here$`)
	reVoice := regexp.MustCompile(`(?m)^(?:new|   ) +(\d+) +.*alice talked in lobby for [0-9.]+s  \[talk play (\d+)\]$`)
	var id string
	first := true
	for id == "" {
		h := r.talk(t, "history", "carol", "cpw", "")
		if code := h.wait(ctx); code != 0 {
			t.Fatalf("talk history exited %d:\n%s", code, h.text())
		}
		out := h.text()
		if first {
			m := reText.FindAllStringSubmatch(out, -1)
			if len(m) != 1 {
				t.Fatalf("carol's first talk history lists the text %d times as new, want once:\n%s", len(m), out)
			}
			at, err := time.ParseInLocation("2006-01-02 15:04:05", m[0][1], time.Local)
			if err != nil || at.Sub(sentAt) > time.Second || sentAt.Sub(at) > 10*time.Second {
				t.Errorf("the text is listed at %s; it was sent at %s", m[0][1], sentAt.Format(time.TimeOnly))
			}
			first = false
		} else if strings.Contains(out, "new ") && reText.MatchString(out) {
			t.Fatalf("the text is new again in a later listing:\n%s", out)
		}
		if strings.Count(out, "the parcel is here") != 1 {
			t.Fatalf("the text is listed %d times:\n%s", strings.Count(out, "the parcel is here"), out)
		}
		if m := reVoice.FindStringSubmatch(out); m != nil {
			id = m[1]
		}
		if ctx.Err() != nil {
			t.Fatalf("the transmission never showed up in the history:\n%s", out)
		}
	}

	got := filepath.Join(t.TempDir(), "got.wav")
	play := r.talk(t, "play", "carol", "cpw", "", id, "--out", got)
	if code := play.wait(ctx); code != 0 {
		t.Fatalf("talk play exited %d:\n%s", code, play.text())
	}
	audiotest.Judge(t, "", readMono(t, speech), readMono(t, got), 48000, 0.9)
}

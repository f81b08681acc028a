package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/wav"
)

// TestBrowserToTalkPresses: one page (WebCodecs Opus, over WebTransport
// and over the websocket) talks twice to `talk record`. The first press
// opens the microphone; the page keeps it open, so the second press finds
// it ready (it is not opened again) and the header shows "Mic ready ✕".
// Each click the page captured during a press is matched to the click in
// the recording, and its mouth-to-ear is logged per press (the figure for
// a first and a later press). Then "Mic ready ✕" closes the microphone,
// the next press opens it again, and without a press for the idle time the
// page closes it by itself. The page's first tone is played (silently) at
// login, before the first press: as that press's permit tone it held the
// page for 30-130 ms while the first transmission started.
func TestBrowserToTalkPresses(t *testing.T) {
	for _, tr := range []string{"webtransport", "websocket"} {
		t.Run(tr, func(t *testing.T) {
			needChromium(t)
			if tr == "webtransport" {
				testPresses(t, startWTStack(t), tr)
			} else {
				testPresses(t, startStack(t), tr)
			}
		})
	}
}

func testPresses(t *testing.T, st *stack, transport string) {
	// A click every 500 ms from 300 ms, over and over (the fake microphone
	// loops the file): every press has clicks, wherever it starts.
	const spacing = 500 * time.Millisecond
	var at []time.Duration
	for c := 300 * time.Millisecond; c < 4*time.Second; c += spacing {
		at = append(at, c)
	}
	mic := filepath.Join(t.TempDir(), "clicks.wav")
	f, err := os.Create(mic)
	if err != nil {
		t.Fatal(err)
	}
	if err := wav.Encode(f, 48000, 1, audiotest.ClickTrack(48000, 4*time.Second, at...)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "heard.wav")
	rec := startTalk(t, st, "record", "listener", "-v", "--out", out)
	rec.waitLine(0, reRecording)
	sample0 := rec.sample0()

	b := newBrowserMic(t, mic, "", 1280, 800)
	b.login(st.base+"/?path=webcodecs", "web", "")
	b.waitFor(`window.harkTest && harkTest.state().channel === 'lobby'`)
	if tr := run(b, chromedp.Evaluate[string](`harkTest.state().transport`)); tr != transport {
		t.Fatalf("the page uses %q, want %q", tr, transport)
	}
	if run(b, chromedp.Evaluate[bool](`harkTest.state().mic || !document.getElementById('micOff').classList.contains('hidden')`)) {
		t.Fatal("the microphone is open (or shown open) before the first press")
	}
	// The page's first tone is played (silently) at login, not as the
	// first press's permit tone: it cost the first press 30-130 ms.
	b.waitFor(`harkTest.state().stats.tones >= 1`)

	line := 0
	press := func(hold time.Duration) {
		t.Helper()
		cap0 := run(b, chromedp.Evaluate[int](`harkTest.state().stats.capSamples`))
		run(b, chromedp.Action[chromedp.Void](keyAction(input.DispatchKeyEventTypeKeyDown)))
		b.waitFor(`harkTest.state().floor === 'talking'`)
		b.waitFor(fmt.Sprintf(`harkTest.state().stats.capSamples >= %d`, cap0+int(48000*hold/time.Second)))
		run(b, chromedp.Action[chromedp.Void](keyAction(input.DispatchKeyEventTypeKeyUp)))
		for {
			j, m := rec.waitLine(line, reHearing)
			line = j + 1
			if strings.Contains(m[1], "web") {
				break
			}
		}
		j, _ := rec.waitLine(line, reSilence)
		line = j + 1
		b.waitFor(`harkTest.state().floor === 'idle'`)
	}
	press(1500 * time.Millisecond)
	b.waitFor(`harkTest.state().mic && !document.getElementById('micOff').classList.contains('hidden')`)
	b.screenshot("desktop-mic-ready.png")
	press(1500 * time.Millisecond)
	if n := run(b, chromedp.Evaluate[int](`harkTest.state().stats.micOpens`)); n != 1 {
		t.Errorf("the microphone was opened %d times for two presses, want once (kept open between presses)", n)
	}
	rec.cmd.Process.Signal(os.Interrupt)
	if code := rec.wait(); code != 0 {
		t.Fatalf("talk record exited with %d", code)
	}

	// Mouth-to-ear per press: each click the page captured while the key
	// was down, to the first click in the recording 0-500 ms after it.
	type window struct{ from, to float64 }
	var presses []window
	evs := run(b, chromedp.Evaluate[[]struct {
		Type string  `json:"type"`
		At   float64 `json:"at"`
	}](`harkTest.events().filter(e => e.type === 'press' || e.type === 'release')`))
	for _, e := range evs {
		if e.Type == "press" {
			presses = append(presses, window{from: e.At})
		} else if n := len(presses); n > 0 {
			presses[n-1].to = e.At
		}
	}
	if len(presses) != 2 {
		t.Fatalf("the page logged %d presses, want 2", len(presses))
	}
	// What a person says between the first press and the microphone
	// opening is not captured at all (the figures below cannot see it: the
	// fake microphone's file starts when it opens).
	gap := run(b, chromedp.Evaluate[float64](`(() => { const l = harkTest.events(); const p = l.find(e => e.type === 'press'), m = l.find(e => e.type === 'mic'); return m.at - p.at; })()`))
	t.Logf("press 1 over %s: the microphone was open %.0f ms after the press", transport, gap)
	capOn := run(b, chromedp.Evaluate[[]float64](`harkTest.captureOnsets()`))
	heard := audiotest.FindClicks(readRecording(t, out), 48000, clickThreshold, 300*time.Millisecond)
	skipped := run(b, chromedp.Evaluate[int](`harkTest.state().stats.startSkipped`))
	for i, p := range presses {
		var m2e []time.Duration
		for _, c := range capOn {
			if c < p.from || c > p.to {
				continue
			}
			mouth := wallMs(c)
			for _, h := range heard {
				if d := sample0.Add(h).Sub(mouth); d >= 0 && d < spacing {
					m2e = append(m2e, d.Round(100*time.Microsecond))
					break
				}
			}
		}
		what := "the microphone opens"
		if i > 0 {
			what = "the microphone is open"
		}
		if len(m2e) == 0 {
			t.Errorf("press %d (%s) over %s: none of its clicks was heard", i+1, what, transport)
			continue
		}
		sorted := append([]time.Duration(nil), m2e...)
		sort.Slice(sorted, func(a, b int) bool { return sorted[a] < sorted[b] })
		t.Logf("press %d (%s) over %s: mouth-to-ear browser → talk record: first click %v, median %v of %d clicks %v",
			i+1, what, transport, m2e[0], sorted[len(sorted)/2], len(m2e), m2e)
	}
	t.Logf("over %s: quiet frames the page left out at the starts of the presses (late from the page's start): %d", transport, skipped)

	// "Mic ready ✕" closes it; a press opens it again; the idle countdown
	// closes it after that press.
	b.eval(`document.getElementById('micOff').click()`)
	b.waitFor(`!harkTest.state().mic && document.getElementById('micOff').classList.contains('hidden') && harkTest.events().some(e => e.type === 'micClosed' && e.why === 'button')`)
	b.eval(`harkTest.micIdle(200)`)
	run(b, chromedp.Action[chromedp.Void](keyAction(input.DispatchKeyEventTypeKeyDown)))
	b.waitFor(`harkTest.state().floor === 'talking' && harkTest.state().mic && harkTest.state().stats.micOpens === 2`)
	run(b, chromedp.Action[chromedp.Void](keyAction(input.DispatchKeyEventTypeKeyUp)))
	b.waitFor(`!harkTest.state().mic && harkTest.events().some(e => e.type === 'micClosed' && e.why === 'idle') && document.getElementById('micOff').classList.contains('hidden')`)
}

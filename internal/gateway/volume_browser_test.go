package gateway

import (
	"fmt"
	"math"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hark-intercom/hark/internal/audiotest"
)

func rms(pcm []int16) float64 {
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(len(pcm), 1)))
}

// TestBrowserMutesOneTalker: a person's volume button in the list mutes
// that talker for this page alone (frames still arrive, nothing is
// played), survives a reload (kept per name), and a second tap brings the
// talker back at half volume.
func TestBrowserMutesOneTalker(t *testing.T) {
	st := startStack(t)
	cl := dialCLI(t, st, "cli")
	ann := newBrowser(t, micFile, 1280, 800)
	ann.login(st.base+"/", "ann", "")
	ann.waitFor(`[...document.querySelectorAll('#users li')].map(l => l.dataset.name).join(',') === 'ann,cli'`)
	if n := run(ann, chromedp.Evaluate[int](`document.querySelectorAll('#users li.self button.vol').length`)); n != 0 {
		t.Fatalf("ann has a volume button for herself")
	}
	ann.eval(`document.querySelector('#users li[data-name="cli"] button.vol').click()`) // full -> half
	ann.eval(`document.querySelector('#users li[data-name="cli"] button.vol').click()`) // half -> muted
	ann.waitFor(`HarkIntercom.test.gain('cli') === 0 && document.querySelector('#users li[data-name="cli"]').classList.contains('muted') && document.getElementById('log').textContent.includes('cli is muted for you')`)
	ann.screenshot("desktop-muted-talker.png")

	// A reload keeps it: the setting follows the name.
	ann.login(st.base+"/", "ann", "")
	ann.waitFor(`harkTest.state().channel === 'lobby' && document.querySelector('#users li[data-name="cli"] button.vol') && HarkIntercom.test.gain('cli') === 0`)

	src := sourcePCM(t)[:48000*2]
	ann.eval(`harkTest.mute(); harkTest.startRecording()`)
	cl.talk(t, src)
	ann.waitFor(`harkTest.state().stats.mutedFrames > 50 && harkTest.state().talkers.length === 0`)
	pcm := ann.stopRecording()
	if lvl := rms(pcm); lvl > 30 {
		t.Fatalf("a muted talker was played: RMS %.0f", lvl)
	}

	// One more tap: back at full volume; the page plays cli again.
	ann.eval(`document.querySelector('#users li[data-name="cli"] button.vol').click()`)
	ann.waitFor(`HarkIntercom.test.gain('cli') === 1`)
	muted := run(ann, chromedp.Evaluate[int](`harkTest.state().stats.mutedFrames`))
	drained := run(ann, chromedp.Evaluate[int](`harkTest.state().stats.drained`))
	ann.eval(`harkTest.startRecording()`)
	cl.talk(t, src)
	ann.waitFor(fmt.Sprintf(`harkTest.state().talkers.length === 0 && harkTest.state().stats.drained > %d`, drained))
	if now := run(ann, chromedp.Evaluate[int](`harkTest.state().stats.mutedFrames`)); now != muted {
		t.Errorf("%d frames muted after the talker was turned up again", now-muted)
	}
	pcm = ann.stopRecording()
	audiotest.Judge(t, "", src, pcm, 48000, 0.5)
}

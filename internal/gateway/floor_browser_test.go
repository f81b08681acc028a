package gateway

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserCutByPage: the page is on the air when someone pages
// everyone: its floor (client.Floor's states, mirrored by app.js) goes to
// "cut", the button says so and nothing more is sent; the release makes
// it idle again.
func TestBrowserCutByPage(t *testing.T) {
	st := startStack(t) // open: everyone may page
	boss := dialCLI(t, st, "boss")
	b := newBrowser(t, micFile, 1280, 800)
	b.login(st.base+"/", "web", "")
	b.waitFor(`window.harkTest && harkTest.state().channel === 'lobby'`)
	b.eval(`harkTest.press()`)
	b.waitFor(`harkTest.state().floor === 'talking' && harkTest.state().stats.sentFrames > 10`)
	done := make(chan struct{})
	go func() { defer close(done); boss.page(t, sourcePCM(t)[:48000*2]) }()
	b.waitFor(`harkTest.state().floor === 'cut' && !harkTest.state().sending && document.querySelector('#ptt .ptt-label').textContent === 'Cut off' && harkTest.events().some(e => e.type === 'cut' && e.cause === 'preempted')`)
	sent := run(b, chromedp.Evaluate[int](`harkTest.state().stats.sentFrames`))
	<-done
	if now := run(b, chromedp.Evaluate[int](`harkTest.state().stats.sentFrames`)); now > sent+2 {
		t.Errorf("the cut page sent %d more frames", now-sent)
	}
	b.eval(`harkTest.release()`)
	b.waitFor(`harkTest.state().floor === 'idle' && document.querySelector('#ptt .ptt-label').textContent === 'Hold to talk'`)
}

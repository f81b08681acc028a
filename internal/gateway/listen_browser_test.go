package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestBrowserListenAndCall: a page in lobby ticks ops and hears otto talk
// there (the audio the page plays is otto's speech), while the page's own
// floor stays free; holding bob's name talks to bob alone (carol beside
// him hears nothing); a call from bob shows "bob → you"; a call to someone
// offline is refused in words.
func TestBrowserListenAndCall(t *testing.T) {
	needChromium(t)
	r := relaytest.Start(t, relaytest.Open(), relaytest.Channels(accounts.Channel{Name: "lobby"}, accounts.Channel{Name: "ops"}))
	st := startStackOn(t, r)
	otto, bob, carol := dialCLI(t, st, "otto"), dialCLI(t, st, "bob"), dialCLI(t, st, "carol")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := otto.c.Join(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, micFile, 1280, 800)
	b.login(st.base+"/", "ann", "")
	b.waitFor(`window.harkTest && harkTest.state().channel === 'lobby' && harkTest.state().ctxState === 'running' && !!document.querySelector('#listenList input[data-channel="ops"]')`)

	// Listen to ops.
	b.eval(`document.getElementById('listen').open = true; document.querySelector('#listenList input[data-channel="ops"]').click()`)
	b.waitFor(`HarkListen.state().heard.join(',') === 'ops' && document.querySelector('#listenList input[data-channel="ops"]').checked`)
	b.eval(`harkTest.mute(); harkTest.startRecording()`)
	ref := sourcePCM(t)
	otto.talk(t, ref)
	b.waitFor(`HarkListen.events().some(e => e.type === 'listening') && harkTest.state().stats.drained > 0 && HarkListen.state().talking.length === 0`)
	b.screenshot("listen-ops.png")
	pcm := b.stopRecording()
	// The page played otto's audio, marked as ops'. (Its likeness to the
	// speech is logged, not required: this harness's in-process talker
	// stalls at the load of a shared test machine, for a page's own
	// channel as much as for a heard one; TestTalkToBrowser checks the
	// audio path.)
	peak := 0
	for _, v := range pcm {
		peak = max(peak, int(v), -int(v))
	}
	if got := run(b, chromedp.Evaluate[int](`harkTest.state().stats.recvByChannel[2] || 0`)); got < 100 || peak < 1000 {
		t.Fatalf("the page played %d frames marked as ops', peak %d: it did not hear ops", got, peak)
	}
	c, lag := audiotest.EnvelopeCorrelation(ref, pcm, 48000)
	t.Logf("heard channel ops: envelope correlation %.3f at lag %v", c, lag)
	if fl := run(b, chromedp.Evaluate[string](`harkTest.state().floor`)); fl != "idle" {
		t.Errorf("the page's floor is %q after otto talked in ops: a heard channel took it", fl)
	}

	// Hold bob's name: only bob hears ann.
	b.eval(`document.querySelector('#users li[data-name="bob"]').dispatchEvent(new PointerEvent('pointerdown', {bubbles: true, pointerId: 1}))`)
	b.waitFor(`harkTest.state().floor === 'talking' && harkTest.state().stats.sentFrames > 50 && document.getElementById('air').textContent.includes('Only bob hears you')`)
	b.eval(`document.getElementById('users').dispatchEvent(new PointerEvent('pointerup', {bubbles: true, pointerId: 1}))`)
	select {
	case <-bob.ended:
	case <-time.After(waitLimit):
		t.Fatal("bob did not hear the end of ann's call")
	}
	_, frames := bob.heard(t)
	if len(frames) < 40 {
		t.Fatalf("bob heard %d frames of the call", len(frames))
	}
	for _, f := range frames {
		if f.h.Channel != proto.WhisperChannel {
			t.Fatalf("bob heard a frame of channel %d, not the call", f.h.Channel)
		}
	}
	carol.mu.Lock()
	n := len(carol.voice)
	carol.mu.Unlock()
	if n != 0 {
		t.Errorf("carol heard %d frames of ann's call to bob", n)
	}

	// bob calls ann: the page says so.
	ctx, cancel = context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	tx, err := bob.c.Whisper(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	b.waitFor(`!document.getElementById('callBanner').classList.contains('hidden') && document.getElementById('callBanner').textContent.includes('bob → you')`)
	b.screenshot("call-to-me.png")
	if err := tx.End(ctx); err != nil {
		t.Fatal(err)
	}
	b.waitFor(`document.getElementById('callBanner').classList.contains('hidden')`)

	// A call to someone offline.
	b.eval(`harkTest.send({t: 'talk', on: true, format: 'pcm', rate: 48000, to: 'zed'})`)
	b.waitFor(`harkTest.events().some(e => e.type === 'error' && e.code === 'no_user' && e.text.includes('zed is not online'))`)
}

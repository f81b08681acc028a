package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hark-intercom/hark/proto"
)

// TestBrowserGroupCall: on the websocket, a page ticks bob and carol in
// its list and holds "Hold to call": bob and carol hear the call and dave
// beside them does not; while dave calls bob, the page's call is refused
// with who calls whom in words; once carol left (still ticked, shown as
// offline beside the button) the call is refused saying she is not online;
// ticking "everyone with the page role" calls them all.
func TestBrowserGroupCall(t *testing.T) {
	needChromium(t)
	testBrowserGroupCall(t, startStack(t), "websocket")
}

// TestWebTransportGroupCall is TestBrowserGroupCall with the page on
// WebTransport (web/wt.js speaks GroupCallStart to the relay itself).
func TestWebTransportGroupCall(t *testing.T) {
	needChromium(t)
	testBrowserGroupCall(t, startWTStack(t), "webtransport")
}

func testBrowserGroupCall(t *testing.T, st *stack, transport string) {
	bob, carol, dave := dialCLI(t, st, "bob"), dialCLI(t, st, "carol"), dialCLI(t, st, "dave")
	b := newBrowser(t, micFile, 1280, 800)
	b.login(st.base+"/", "ann", "")
	b.waitFor(`window.harkTest && harkTest.state().channel === 'lobby' && ['bob', 'carol', 'dave'].every(n => !!document.querySelector('#users input[data-pick="' + n + '"]'))`)
	if tr := run(b, chromedp.Evaluate[string](`harkTest.state().transport`)); tr != transport {
		t.Fatalf("the page uses %q, want %q", tr, transport)
	}
	press := `document.getElementById('callGroup').dispatchEvent(new PointerEvent('pointerdown', {bubbles: true, pointerId: 1}))`
	release := `document.getElementById('callGroup').dispatchEvent(new PointerEvent('pointerup', {bubbles: true, pointerId: 1}))`

	// Tick bob and carol, hold the button: only they hear ann.
	b.eval(`document.querySelector('#users input[data-pick="bob"]').click(); document.querySelector('#users input[data-pick="carol"]').click()`)
	b.waitFor(`HarkListen.state().picked.join(',') === 'bob,carol' && document.getElementById('callGroup').textContent === 'Hold to call bob and carol'`)
	b.eval(press)
	b.waitFor(`harkTest.state().floor === 'talking' && harkTest.state().stats.sentFrames > 50 && document.getElementById('air').textContent === 'Only bob and carol hear you' && /you → (bob, carol|carol, bob)/.test(document.getElementById('callBanner').textContent)`)
	b.screenshot("group-call.png")
	b.eval(release)
	for _, c := range []struct {
		name string
		cli  *cli
	}{{"bob", bob}, {"carol", carol}} {
		select {
		case <-c.cli.ended:
		case <-time.After(waitLimit):
			t.Fatalf("%s did not hear the end of ann's group call", c.name)
		}
		_, frames := c.cli.heard(t)
		if len(frames) < 40 {
			t.Fatalf("%s heard %d frames of the group call", c.name, len(frames))
		}
		for _, f := range frames {
			if f.h.Channel != proto.WhisperChannel {
				t.Fatalf("%s heard a frame of channel %d, not the call", c.name, f.h.Channel)
			}
		}
	}
	dave.mu.Lock()
	n := len(dave.voice)
	dave.mu.Unlock()
	if n != 0 {
		t.Errorf("dave heard %d frames of ann's call to bob and carol", n)
	}
	b.waitFor(`harkTest.state().floor === 'idle' && document.getElementById('callBanner').classList.contains('hidden')`)

	// dave calls bob: ann's call to bob and carol is refused, in words.
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	tx, err := dave.c.Whisper(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	b.eval(press)
	b.waitFor(`harkTest.state().floor === 'busy' && document.getElementById('banner').textContent === 'Your call did not go through: dave is calling bob. Try again when they finish.' && document.getElementById('callGroup').textContent === 'Not now'`)
	b.eval(release)
	if err := tx.End(ctx); err != nil {
		t.Fatal(err)
	}

	// carol leaves: still ticked, shown as offline; the call says why it
	// did not go through.
	carol.c.Close()
	b.waitFor(`!document.querySelector('#users li[data-name="carol"]') && document.getElementById('callGroup').textContent === 'Hold to call bob and carol (offline)' && harkTest.state().floor === 'idle'`)
	b.eval(press)
	b.waitFor(`harkTest.events().some(e => e.type === 'error' && e.code === 'no_user' && e.text.startsWith('Your call did not go through: carol is not online')) && document.getElementById('banner').textContent.includes('carol is not online') && harkTest.state().floor === 'refused'`)
	b.screenshot("group-call-refused.png")
	b.eval(release)
	b.waitFor(`harkTest.state().floor === 'idle'`)

	// Everyone with the page role (everyone here): dave hears it too.
	b.eval(`document.querySelector('#users input[data-pick="bob"]').click(); document.querySelector('#group input[data-role="role:page"]').click()`)
	b.waitFor(`HarkListen.state().picked.join(',') === 'carol,role:page' && !!document.querySelector('#group input[data-role="role:page"]:checked')`)
	b.eval(`document.querySelector('#group input[data-pick="carol"]').click()`) // her tick beside the button, as she is offline
	b.waitFor(`document.getElementById('callGroup').textContent === 'Hold to call those with the page role'`)
	b.eval(press)
	b.waitFor(`harkTest.state().floor === 'talking' && harkTest.state().stats.sentFrames > 10 && document.getElementById('air').textContent === 'Only those with the page role hear you'`)
	b.eval(release)
	select {
	case <-dave.ended:
	case <-time.After(waitLimit):
		t.Fatal("dave did not hear ann's call to everyone with the page role")
	}
}

package gateway

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/history"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestBrowserHistory: ann was away while bob talked in lobby (which keeps
// voice) and texted; when she logs in, the page shows the channel as
// recorded, what she missed under a "while you were away" divider with a
// play button for the transmission, and plays it through the page's
// player (its output tap hears bob's speech).
func TestBrowserHistory(t *testing.T) {
	needChromium(t)
	hs := relaytest.HistoryStore(t)
	if _, err := hs.SetChannel("lobby", "history=voice"); err != nil {
		t.Fatal(err)
	}
	r := relaytest.Start(t, relaytest.Open(), relaytest.WithHistory(hs))
	st := startStackOn(t, r)

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	bob, src := annWasAway(ctx, t, st)

	b := newBrowser(t, micFile, 1280, 800)
	b.login(st.base+"/", "ann", "")
	b.waitFor(`window.HarkHistory && HarkHistory.test.state().mode === 'voice' && !document.getElementById('recorded').classList.contains('hidden') && document.getElementById('recorded').textContent.includes('recorded')`)
	b.waitFor(`HarkHistory.test.state().dividers.some(d => d.startsWith('While you were away (2)'))`)
	b.waitFor(`HarkHistory.test.state().items.some(i => i.playable && i.text.includes('bob talked for')) && document.getElementById('log').textContent.includes('did you hear that?')`)
	b.screenshot("desktop-history.png")
	id := run(b, chromedp.Evaluate[int](`HarkHistory.test.state().items.find(i => i.playable).id`))

	// Play it.
	b.waitFor(`harkTest.state().ctxState === 'running'`)
	b.eval(`harkTest.mute(); harkTest.startRecording()`)
	b.eval(fmt.Sprintf(`document.querySelector('#log li[data-id="%d"] button.play').click()`, id))
	b.waitFor(`HarkHistory.test.events().some(e => e.type === 'replay' && e.state === 'playing')`)
	b.waitFor(`HarkHistory.test.events().some(e => e.type === 'replay' && e.state === 'done') && harkTest.state().stats.drained > 0`)
	pcm := b.stopRecording()
	audiotest.Judge(t, "", src[:len(src)/960*960], pcm, 48000, 0.9)

	// A transmission ann hears live gets its play button once it is stored.
	bob.talk(t, src[:48000])
	b.waitFor(`HarkHistory.test.state().items.filter(i => i.playable).length === 2`)
}

// TestBrowserWaitingText: alice writes "@carol …" while carol is offline;
// the page says it waits; after alice comes back (a new login) the page
// lists it as still waiting, and says when carol's login delivered it.
func TestBrowserWaitingText(t *testing.T) {
	needChromium(t)
	hs := relaytest.HistoryStore(t)
	r := relaytest.Start(t, relaytest.WithHistory(hs))
	r.AddUser("alice", "apw", 0)
	r.AddUser("carol", "cpw", 0)
	st := startStackOn(t, r)

	b := newBrowser(t, micFile, 1280, 800)
	b.login(st.base+"/", "alice", "apw")
	b.waitFor(`window.HarkHistory && HarkHistory.test.state().enabled && harkTest.state().channel === 'lobby'`)
	b.eval(`document.getElementById('text').value = '@carol the parcel is here'; document.getElementById('textForm').requestSubmit()`)
	b.waitFor(`document.getElementById('log').textContent.includes('carol is offline: your message waits')`)

	// alice comes back later: the page lists what still waits.
	b.login(st.base+"/", "alice", "apw")
	b.waitFor(`window.HarkHistory && HarkHistory.test.state().dividers.some(d => d.startsWith('Your private messages still waiting for someone to log in (1)'))`)
	b.waitFor(`HarkHistory.test.state().items.some(i => i.text.includes('the parcel is here') && i.text.includes('waiting: carol has not logged in since'))`)
	b.screenshot("desktop-waiting.png")

	// carol logs in: the page says it was delivered.
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	carol, err := client.Dial(ctx, client.Config{Relay: r.Addr, Fingerprint: r.Fingerprint, Name: "carol", Password: "cpw",
		KnownRelaysFile: filepath.Join(t.TempDir(), "known")})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	b.waitFor(`document.getElementById('log').textContent.includes('Your message to carol was delivered') && !HarkHistory.test.state().items.some(i => i.text.includes('waiting: carol'))`)
}

// A channel whose rules let the user only listen: the page shows it on the
// talk button and in the channel list, and a press gets the relay's words.
// When an admin opens the channel, the page says so and the button is back.
func TestBrowserListenOnly(t *testing.T) {
	needChromium(t)
	hs := relaytest.HistoryStore(t)
	if _, err := hs.SetChannel("lobby", "talk=role:admin"); err != nil {
		t.Fatal(err)
	}
	r := relaytest.Start(t, relaytest.WithHistory(hs))
	r.AddUser("carol", "cpw", 0)
	st := startStackOn(t, r)

	b := newBrowser(t, micFile, 390, 844)
	b.login(st.base+"/", "carol", "cpw")
	b.waitFor(`harkTest.state().channel === 'lobby' && document.querySelector('#ptt .ptt-label').textContent === 'Listen only'`)
	b.waitFor(`[...document.getElementById('channel').options].some(o => o.textContent.includes('lobby') && o.textContent.includes('(listen only)'))`)
	b.screenshot("phone-listen-only.png")
	b.eval(`harkTest.press()`)
	b.waitFor(`document.body.textContent.includes('only admins may talk in lobby')`)
	b.eval(`harkTest.release()`)

	if _, err := hs.SetChannel("lobby", "talk=everyone"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(`document.getElementById('log').textContent.includes('You may talk in lobby again.') && document.querySelector('#ptt .ptt-label').textContent === 'Hold to talk'`)
}

// annWasAway sets up what ann missed: she has used the intercom before (the
// relay knows where she stopped reading), then, while she is away, bob
// talks (stored: lobby keeps voice) and texts. It returns bob and what he
// said. Shared by TestBrowserHistory and TestEnginesHistory.
func annWasAway(ctx context.Context, t *testing.T, st *stack) (*cli, []int16) {
	t.Helper()
	first := dialCLI(t, st, "ann")
	// ann's read position is stored by her login's catch-up, which the
	// relay runs from a worker and skips for a session already gone: leave
	// only once it came (a Ping was not enough on a loaded machine; her
	// next login then counted as her first, and nothing was "missed").
	if _, _, err := first.c.WaitMissed(ctx); err != nil {
		t.Fatal(err)
	}
	first.c.Close()

	bob := dialCLI(t, st, "bob")
	src := sourcePCM(t)
	bob.talk(t, src)
	// The relay stores a transmission once it has ended: wait for it, so
	// that it is among what ann missed (asking every 50 ms: the relay
	// limits how fast a session may ask).
	relaytest.Poll(t, "the transmission stored", 50*time.Millisecond, func() bool {
		items, _, err := bob.c.History(ctx, proto.HistoryQuery{Kinds: history.PlayableKinds})
		if err != nil {
			t.Fatal(err)
		}
		return len(items) > 0
	})
	if _, err := bob.c.SendText(ctx, "", "did you hear that?"); err != nil {
		t.Fatal(err)
	}
	return bob, src
}

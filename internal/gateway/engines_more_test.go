package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// The Chromium-only browser tests of reconnecting, paging and history
// replay (browser_test.go, history_browser_test.go), in every engine
// (engines_test.go): a failure names the engine. Audio that a CLI user
// sends is known exactly, so what the page plays of it is judged in every
// engine; audio from the page's microphone is speech in Chromium and
// Firefox and the mock capture device's tone in WebKitGTK (see
// engines_test.go), so there the test asks that it arrived.

// speechFloor is the realigned envelope correlation with source.wav that
// speech through a browser must reach: generous, because the machine the
// tests run on may be busy (PulseAudio's microphone glitches under load).
const speechFloor = 0.5

// judgeSpeech fails the test, naming the engine, unless got is
// source.wav's speech with at least speechFloor correlation.
func judgeSpeech(t *testing.T, engine, what string, src, got []int16) {
	t.Helper()
	a := audiotest.EnvelopeAlignment(src, got, 48000)
	t.Logf("[%s] %s: %.2f s, realigned envelope correlation with source.wav %.3f (delay %v)", engine, what, float64(len(got))/48000, a.Corr, a.Lag)
	if a.Corr < speechFloor {
		t.Errorf("[%s] %s: correlation with source.wav %.3f, want ≥ %.1f (%.2f s at RMS %.0f)\n%s", engine, what, a.Corr, speechFloor, float64(len(got))/48000, rmsOf(got), a)
	}
}

// judgePlayed stops the page's output recording and judges it with
// judgeSpeech; the page's counters are logged with it (its player's
// underruns and trims say whether a low score is the audio arriving late
// on a loaded machine).
func (p *enginePage) judgePlayed(what string, src []int16) {
	p.t.Helper()
	pcm := p.stopRecording()
	var stats json.RawMessage
	p.eval(`harkTest.state().stats`, &stats)
	p.t.Logf("[%s] the page's counters: %s", p.name, stats)
	judgeSpeech(p.t, p.name, what, src, pcm)
}

// restartableGateway is a gateway that can be stopped and started again on
// the same address, as a restarted gateway process is.
type restartableGateway struct {
	t    *testing.T
	cfg  Config
	addr string
	srv  *Server
	done chan error
}

func startRestartableGateway(t *testing.T, r *relaytest.Relay) *restartableGateway {
	t.Helper()
	g := &restartableGateway{t: t, cfg: stackConfig(t, r), addr: "127.0.0.1:0"}
	g.start()
	t.Cleanup(g.stop)
	return g
}

func (g *restartableGateway) start() {
	g.t.Helper()
	srv, err := New(g.cfg)
	if err != nil {
		g.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", g.addr)
	if err != nil {
		g.t.Fatalf("listening on %s: %v", g.addr, err)
	}
	g.addr = ln.Addr().String()
	g.srv, g.done = srv, make(chan error, 1)
	go func() { g.done <- srv.Serve(context.Background(), ln) }()
}

// stop closes the gateway (every page is told it is restarting) and waits
// until it has stopped.
func (g *restartableGateway) stop() {
	if g.srv == nil {
		return
	}
	g.srv.Close()
	<-g.done
	g.srv = nil
}

// TestEnginesReconnect: in each engine, the page comes back by itself
// after the two outages an intercom has. The gateway restarts (on the same
// address): the page says the gateway is restarting and that it is offline
// (the talk button says so too), then is back in its channel. The relay
// dies without a word (kill -9): the page says the intercom stopped
// answering, then, with the relay back, is in its channel again and shows
// a text sent after the restart.
func TestEnginesReconnect(t *testing.T) {
	for _, name := range engines {
		t.Run(name, func(t *testing.T) {
			r := relaytest.Start(t, relaytest.Open())
			g := startRestartableGateway(t, r)
			st := &stack{relay: r, base: "http://" + g.addr}
			p := newEngine(t, name)
			p.login(st.base+"/", "ann", "")
			p.waitFor(`harkTest.state().channel === 'lobby' && harkTest.state().conn.includes('ok')`)

			// The gateway restarts.
			g.stop()
			p.waitFor(`harkTest.state().conn.includes('wait') && document.getElementById('banner').textContent.includes('The web gateway is restarting') && harkTest.events().some(e => e.type === 'bye' && e.code === 'shutdown') && document.querySelector('#ptt .ptt-label').textContent === 'Offline'`)
			p.screenshot(name + "-phone-reconnecting.png")
			g.start()
			p.waitFor(`harkTest.state().conn.includes('ok') && document.getElementById('banner').classList.contains('hidden') && harkTest.state().channel === 'lobby' && document.querySelector('#ptt .ptt-label').textContent === 'Hold to talk'`)

			// The relay is killed.
			r.Kill(t)
			// "stopped answering" first, then each failed retry's "the relay is
			// not running there": a slow page may see only the second
			// (WebKitGTK missed the first once in a fresh-clone make test).
			p.waitFor(`harkTest.state().conn.includes('wait') && /stopped answering|not running/.test(document.getElementById('banner').textContent) && document.querySelector('#ptt .ptt-label').textContent === 'Offline'`)
			r.Restart(t)
			p.waitFor(`harkTest.state().conn.includes('ok') && harkTest.state().channel === 'lobby'`)
			cl := dialCLI(t, st, "cli")
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if err := cl.c.Text(ctx, "", "after the restart"); err != nil {
				t.Fatalf("[%s] %v", name, err)
			}
			p.waitFor(`document.getElementById('log').textContent.includes('after the restart')`)
		})
	}
}

// TestEnginesPaging: in each engine, paging everyone both ways, and the
// role in words. A user without the page role has no page button, and the
// gateway refuses her forged page request saying she lacks the role. A
// CLI user pages (`talk page`): the page shows who is paging everyone and
// plays it (judged against source.wav in every engine: the CLI's audio is
// known). A user with the role holds the page button: the page says she
// is paging everyone, and a CLI user in another channel hears it: speech
// from Chromium's and Firefox's microphone (judged), the mock tone from
// WebKitGTK's (it must arrive, not silence).
//
// One browser per engine plays both users, one after the other (a second
// browser of each engine would double the test's load); the page button
// is held with pointer events sent to it (see enginePage.pointer).
func TestEnginesPaging(t *testing.T) {
	for _, name := range engines {
		t.Run(name, func(t *testing.T) {
			r := relaytest.Start(t)
			r.AddUser("boss", "pw", proto.RolePage)
			r.AddUser("ann", "pw", 0)
			r.AddUser("pager", "pw", proto.RolePage)
			r.AddUser("ops", "pw", 0)
			st := startStackOn(t, r)
			pager := dialCLIAs(t, st, client.Config{Name: "pager", Password: "pw"})
			ops := dialCLIAs(t, st, client.Config{Name: "ops", Password: "pw", Channel: "ops"})
			src := sourcePCM(t)
			hidden := `document.getElementById('page').classList.contains('hidden')`

			p := newEngine(t, name)
			p.login(st.base+"/", "ann", "pw")
			p.waitFor(`harkTest.state().channel === 'lobby' && ` + hidden + ` && harkTest.state().users.map(u => u.name).sort().join(',') === 'ann,ops,pager'`)

			// A forged page request from ann is refused in words.
			p.eval(`harkTest.send({t: 'talk', on: true, format: 'pcm', rate: 48000, page: true})`, nil)
			p.waitFor(`harkTest.events().some(e => e.type === 'error' && e.code === 'forbidden') && document.getElementById('banner').textContent.includes('page role')`)

			// The CLI pages; the page shows it and plays it.
			p.waitFor(`harkTest.state().ctxState === 'running'`)
			p.eval(`(harkTest.mute(), harkTest.startRecording())`, nil) // the page's chime would be in the recording
			pagerDone := make(chan struct{})
			go func() { defer close(pagerDone); pager.page(t, src) }()
			p.waitFor(`document.getElementById('banner').className.includes('page') && document.getElementById('banner').textContent === 'pager is paging everyone' && harkTest.events().some(e => e.type === 'page' && e.from === 'pager' && e.on)`)
			p.screenshot(name + "-phone-paged.png")
			<-pagerDone
			p.waitFor(`document.getElementById('banner').classList.contains('hidden') && harkTest.state().talkers.length === 0 && (harkTest.state().stats.drained > 0 || harkTest.state().stats.wavPlayed > 0)`)
			p.judgePlayed("the page played pager's page", src)

			// boss (the page role) holds the page button; ops, in another
			// channel, hears it.
			p.login(st.base+"/", "boss", "pw")
			p.waitFor(`harkTest.state().channel === 'lobby' && harkTest.state().conn.includes('ok') && !` + hidden)
			played := p.playMic()
			p.pointer("page", "pointerdown")
			p.waitFor(`harkTest.state().floor === 'talking' && document.getElementById('air').textContent === 'You are paging everyone' && document.getElementById('page').classList.contains('live')`)
			p.screenshot(name + "-phone-paging.png")
			p.waitMicPlayed(played, len(src))
			p.pointer("page", "pointerup")
			p.waitFor(`!harkTest.state().pressed && document.getElementById('air').textContent !== 'You are paging everyone'`)
			select {
			case <-ops.ended:
			case <-time.After(2 * waitLimit):
				t.Fatalf("[%s] the CLI user in ops heard no end of boss's page", name)
			}
			pcm, frames := ops.heard(t)
			if p.wav {
				judgeSpeech(t, name, fmt.Sprintf("ops heard boss's page (%d frames)", len(frames)), src, pcm)
			} else if rms := rmsOf(pcm); len(pcm) < len(src) || rms < 100 {
				t.Errorf("[%s] ops heard %.2f s at RMS %.0f of boss's page (the mock microphone's tone): want %.2f s, not silence", name, float64(len(pcm))/48000, rms, float64(len(src))/48000)
			} else {
				t.Logf("[%s] ops heard boss's page (%d frames): %.2f s of the mock microphone's tone at RMS %.0f", name, len(frames), float64(len(pcm))/48000, rms)
			}
		})
	}
}

// TestEnginesHistory: in each engine, ann was away while bob talked in
// lobby (which keeps voice) and texted; when she logs in, the page shows
// what she missed under a "while you were away" divider with a play
// button for the transmission, and the page's player plays it (its output
// is judged against bob's speech in every engine).
func TestEnginesHistory(t *testing.T) {
	for _, name := range engines {
		t.Run(name, func(t *testing.T) {
			hs := relaytest.HistoryStore(t)
			if _, err := hs.SetChannel("lobby", "history=voice"); err != nil {
				t.Fatal(err)
			}
			r := relaytest.Start(t, relaytest.Open(), relaytest.WithHistory(hs))
			st := startStackOn(t, r)

			ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
			defer cancel()
			bob, src := annWasAway(ctx, t, st)

			p := newEngine(t, name)
			p.login(st.base+"/", "ann", "")
			p.waitFor(`window.HarkHistory && HarkHistory.test.state().mode === 'voice' && !document.getElementById('recorded').classList.contains('hidden') && document.getElementById('recorded').textContent.includes('recorded')`)
			p.waitFor(`HarkHistory.test.state().dividers.some(d => d.startsWith('While you were away (2)'))`)
			p.waitFor(`HarkHistory.test.state().items.some(i => i.playable && i.text.includes('bob talked for')) && document.getElementById('log').textContent.includes('did you hear that?')`)
			p.screenshot(name + "-phone-history.png")
			var id int
			p.eval(`HarkHistory.test.state().items.find(i => i.playable).id`, &id)

			// Play it from the timeline.
			p.waitFor(`harkTest.state().ctxState === 'running'`)
			p.eval(`(harkTest.mute(), harkTest.startRecording())`, nil)
			p.eval(fmt.Sprintf(`document.querySelector('#log li[data-id="%d"] button.play').click()`, id), nil)
			p.waitFor(`HarkHistory.test.events().some(e => e.type === 'replay' && e.state === 'playing')`)
			p.waitFor(`HarkHistory.test.events().some(e => e.type === 'replay' && e.state === 'done') && (harkTest.state().stats.drained > 0 || harkTest.state().stats.wavPlayed > 0)`)
			p.judgePlayed("the page replayed bob's transmission", src[:len(src)/960*960])

			// A transmission ann hears live gets its play button once it is stored.
			bob.talk(t, src[:48000])
			p.waitFor(`HarkHistory.test.state().items.filter(i => i.playable).length === 2`)
		})
	}
}

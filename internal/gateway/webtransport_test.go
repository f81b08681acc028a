package gateway

import (
	"context"
	"fmt"
	"testing"

	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
)

// startWTStack starts a relay with WebTransport and a gateway that offers
// it to pages.
func startWTStack(t *testing.T) *stack {
	t.Helper()
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) { c.WebTransport = true }))
	return startStackOn(t, r, func(c *Config) {
		c.WebTransport = &RelayWebTransport{Relay: r.Addr, Fingerprint: r.Fingerprint}
	})
}

// TestWebTransportBrowserToTalk: where the relay and the gateway offer
// WebTransport, Chromium's page wins the race with it, talks straight to the
// relay (WebCodecs Opus in datagrams), and talk record hears the speech.
func TestWebTransportBrowserToTalk(t *testing.T) {
	needChromium(t)
	testBrowserToTalkOn(t, startWTStack(t), "webcodecs", "webtransport")
}

// TestWebTransportTalkToBrowser: talk send talks; the page, on
// WebTransport, decodes the datagrams with WebCodecs and plays the speech.
func TestWebTransportTalkToBrowser(t *testing.T) {
	needChromium(t)
	testTalkToBrowserOn(t, startWTStack(t), "pcm", "webtransport")
}

// TestWebTransportEngines: with WebTransport offered, each engine's page
// picks its path (WebTransport where the engine has it and WebCodecs Opus
// and it works; the websocket otherwise, e.g. WebKitGTK, and shows it in the
// header), and on that path sees who is online, texts both ways, talks to a
// CLI user and hears one.
func TestWebTransportEngines(t *testing.T) {
	for _, name := range engines {
		t.Run(name, func(t *testing.T) {
			st := startWTStack(t)
			cl := dialCLI(t, st, "cli")
			p := newEngine(t, name)
			p.open(st.base + "/")
			p.waitFor(`window.harkTest !== undefined`)
			var caps struct{ WebTransport, Decoder, Encoder bool }
			p.eval(`(async () => ({WebTransport: !!window.WebTransport,
  Decoder: !!(window.AudioDecoder && (await AudioDecoder.isConfigSupported({codec: 'opus', sampleRate: 48000, numberOfChannels: 1})).supported),
  Encoder: !!(window.AudioEncoder && (await AudioEncoder.isConfigSupported({codec: 'opus', sampleRate: 48000, numberOfChannels: 1})).supported)}))()`, &caps)
			p.eval(`harkTest.login('web', '')`, nil)
			p.waitFor(`harkTest.state().channel === 'lobby' && [...document.querySelectorAll('#users li')].map(l => l.dataset.name).join(',') === 'cli,web'`)
			var tr, shown string
			p.eval(`harkTest.state().transport`, &tr)
			p.eval(`document.getElementById('transport').textContent`, &shown)
			var why []struct{ Use, Why string }
			p.eval(`harkTest.events().filter(e => e.type === 'transport')`, &why)
			t.Logf("[%s] has WebTransport %v, WebCodecs Opus decoder %v, encoder %v: the page uses %s (shown %q; %+v)", name, caps.WebTransport, caps.Decoder, caps.Encoder, tr, shown, why)
			switch {
			case name == "chromium" && tr != "webtransport":
				t.Fatalf("[%s] the page uses %q, want webtransport", name, tr)
			case !(caps.WebTransport && caps.Decoder && caps.Encoder) && tr != "websocket":
				t.Fatalf("[%s] the engine lacks WebTransport or WebCodecs Opus, yet the page uses %q", name, tr)
			case tr != "webtransport" && tr != "websocket":
				t.Fatalf("[%s] the page uses %q", name, tr)
			}
			if want := map[string]string{"webtransport": "WebTransport", "websocket": "WebSocket"}[tr]; shown != want {
				t.Errorf("[%s] the header shows %q, want %q", name, shown, want)
			}

			// Text both ways.
			p.eval(`(document.getElementById('text').value = 'hello over `+tr+`', document.getElementById('textForm').requestSubmit())`, nil)
			p.waitFor(`document.getElementById('log').textContent.includes('web: hello over ` + tr + `')`)
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if err := cl.c.Text(ctx, "", "hello from the CLI"); err != nil {
				t.Fatal(err)
			}
			p.waitFor(`document.getElementById('log').textContent.includes('hello from the CLI')`)

			// Talk: 1.5 s of the microphone reaches the CLI user.
			p.playMic()
			cap0 := 0
			p.eval(`harkTest.state().stats.capSamples`, &cap0)
			p.eval(`harkTest.press()`, nil)
			p.waitFor(`harkTest.state().floor === 'granted'`)
			p.waitFor(fmt.Sprintf(`harkTest.state().stats.capSamples >= %d`, cap0+48000*3/2))
			p.eval(`harkTest.release()`, nil)
			<-cl.ended
			pcm, frames := cl.heard(t)
			if rms := rmsOf(pcm); len(pcm) < 48000 || rms < 100 {
				t.Errorf("[%s] over %s the CLI heard %d frames, %.2f s at RMS %.0f: want 1 s or more, not silence", name, tr, len(frames), float64(len(pcm))/48000, rms)
			} else {
				t.Logf("[%s] over %s the CLI heard %d frames, %.2f s, RMS %.0f", name, tr, len(frames), float64(len(pcm))/48000, rms)
			}

			// Hear: the CLI talks; the page shows it and plays it.
			stop, done := make(chan struct{}), make(chan struct{})
			go func() { defer close(done); talkUntil(t, cl, sourcePCM(t), stop) }()
			p.waitFor(`document.getElementById('air').textContent.includes('cli is talking') && harkTest.state().stats.recvFrames >= 25`)
			close(stop)
			<-done
			p.waitFor(`harkTest.state().talkers.length === 0`)
		})
	}
}

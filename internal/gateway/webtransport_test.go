package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/quic-go/quic-go"

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
			p.waitFor(`harkTest.state().floor === 'talking'`)
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

// The gateway hands pages the relay's WebTransport URL and the hash of the
// certificate the relay presents to browsers, after checking that the relay
// certificate it pins signed it; a relay it cannot check gets pages a 404
// (they use the websocket), counted.
func TestWebTransportInfo(t *testing.T) {
	st := startWTStack(t)
	get := func(host string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", st.base+WebTransportPath, nil)
		req.Host = host
		rsp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer rsp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(rsp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return rsp.StatusCode, m
	}
	code, m := get("192.0.2.7:8080")
	_, port, _ := net.SplitHostPort(st.relay.Addr)
	if code != 200 || m["url"] != "https://192.0.2.7:"+port+"/hark" {
		t.Fatalf("%d %v: want the relay's port on the host the browser used", code, m)
	}
	hashes, _ := m["hashes"].([]any)
	if len(hashes) != 1 {
		t.Fatalf("hashes %v", m["hashes"])
	}
	// The hash is that of the certificate a browser is shown.
	var leaf []byte
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	conn, err := quic.DialAddr(ctx, st.relay.Addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h3"},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error { leaf = raw[0]; return nil }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.CloseWithError(0, "")
	if want := base64.StdEncoding.EncodeToString(certs.WebTransportHash(leaf)); hashes[0] != want {
		t.Fatalf("hash %v, want %s", hashes[0], want)
	}

	// A gateway pinning another certificate refuses to vouch for it.
	wt := &RelayWebTransport{Relay: st.relay.Addr, Fingerprint: "SHA256:" + strings.Repeat("A", 43)}
	st2 := startStackOn(t, st.relay, func(c *Config) { c.WebTransport = wt })
	rsp, err := http.Get(st2.base + WebTransportPath)
	if err != nil {
		t.Fatal(err)
	}
	rsp.Body.Close()
	if rsp.StatusCode != http.StatusNotFound || wt.Failures() != 1 {
		t.Fatalf("status %d, failures %d: want 404 and 1", rsp.StatusCode, wt.Failures())
	}
}

// TestWebTransportRelayRestart: the relay restarts under a page on
// WebTransport: the page says so, comes back by itself on WebTransport
// (with the restarted relay's new certificate) and is in its channel again.
func TestWebTransportRelayRestart(t *testing.T) {
	st := startWTStack(t)
	b := newBrowser(t, micFile, 1280, 800)
	b.login(st.base+"/", "ann", "")
	b.waitFor(`harkTest.state().channel === 'lobby' && harkTest.state().transport === 'webtransport'`)
	st.relay.Stop(t)
	b.waitFor(`harkTest.state().conn.includes('wait') && harkTest.events().some(e => e.type === 'bye' && e.code === 'shutdown')`)
	st.relay.Restart(t)
	b.waitFor(`harkTest.state().conn.includes('ok') && harkTest.state().channel === 'lobby' && harkTest.state().transport === 'webtransport' &&
  harkTest.events().filter(e => e.type === 'transport' && e.use === 'webtransport').length === 2`)
}

package gateway

import (
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

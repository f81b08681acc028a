package gateway

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
)

// A request naming a host the gateway does not serve is refused, page and
// websocket alike (DNS rebinding: a hostile page whose name was pointed at
// the gateway); IP addresses, localhost, this machine's name and
// --allowed-host names are served.
func TestHostHeader(t *testing.T) {
	r := newFakeRelay()
	srv, url, addr := startGatewayAddr(t, r, func(c *Config) {
		c.AllowedHosts = []string{"Intercom.Example", "*.corp.example"}
	})
	_, port, _ := strings.Cut(addr, ":")
	get := func(host string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	hostname, _ := os.Hostname()
	for _, h := range []string{addr, "localhost:" + port, "[::1]:" + port, "intercom.example:" + port, "intercom.example.", "a.corp.example", hostname} {
		if code, body := get(h); code != http.StatusOK {
			t.Errorf("Host %q: %d %s", h, code, body)
		}
	}
	for _, h := range []string{"evil.example:" + port, "corp.example", "intercom.example.evil.example"} {
		code, body := get(h)
		if code != http.StatusForbidden {
			t.Errorf("Host %q: status %d, want 403", h, code)
		} else if !strings.Contains(body, "--allowed-host") {
			t.Errorf("Host %q: the refusal does not say what to do:\n%s", h, body)
		}
	}

	// The websocket of a rebound name is refused before any login.
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	evil := "evil.example:" + port
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Host: evil, HTTPHeader: http.Header{"Origin": {"http://" + evil}}})
	if err == nil {
		c.CloseNow()
		t.Fatal("a websocket for a rebound host name was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("rebound websocket: %v", err)
	}
	c, _, err = websocket.Dial(ctx, url, &websocket.DialOptions{Host: "intercom.example:" + port, HTTPHeader: http.Header{"Origin": {"http://intercom.example:" + port}}})
	if err != nil {
		t.Fatalf("allowed host: %v", err)
	}
	c.CloseNow()
	if got := counter(t, srv, "hark_gateway_bad_input_total", "host"); got != 4 {
		t.Errorf("refused hosts counted %v times, want 4", got)
	}
}

// counter reads one labelled counter from the server's metrics.
func counter(t *testing.T, srv *Server, name, label string) float64 {
	t.Helper()
	mfs, err := srv.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// Close says goodbye to every browser (a bye "shutdown" the page shows
// and reconnects after, then a going-away close) and returns once they
// are gone; Serve returns after that, so a stopping process tells its
// browsers first.
func TestShutdownSaysBye(t *testing.T) {
	r := newFakeRelay()
	srv, err := New(Config{Dialer: r})
	if err != nil {
		t.Fatal(err)
	}
	ln, url := listenLoopback(t)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln) }()
	var ws []*wsClient
	for _, name := range []string{"ann", "bob"} {
		w := dialWS(t, url, login(name))
		w.expect("joined", nil)
		ws = append(ws, w)
	}
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	for _, w := range ws {
		bye := w.expect("bye", nil)
		if bye["code"] != "shutdown" || !strings.Contains(bye["text"].(string), "restarting") {
			t.Errorf("bye %v", bye)
		}
		<-w.done
		if code := websocket.CloseStatus(w.err()); code != websocket.StatusGoingAway {
			t.Errorf("closed with %v (%v), want going away", code, w.err())
		}
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("%d sessions left after Close", n)
	}
	r.mu.Lock()
	left := len(r.sessions)
	r.mu.Unlock()
	if left != 0 {
		t.Errorf("%d relay sessions left open after Close", left)
	}
}

// The first login is not a reconnection: the browser gets one welcome and
// one joined, and no "Connected again.".
func TestFirstLoginSaysJoinedOnce(t *testing.T) {
	rl := relaytest.Start(t, relaytest.Open())
	st := startStackOn(t, rl)
	url := "ws" + strings.TrimPrefix(st.base, "http") + "/ws"
	w := dialWS(t, url, login("ann"))
	var seen []string
	// bob's arrival is a relay event that comes after everything the
	// login itself caused: once it is here, the login's events are too.
	bob := false
	timeout := time.After(waitLimit)
	for !bob {
		select {
		case m := <-w.json:
			seen = append(seen, m["t"].(string))
			if m["t"] == "welcome" && len(seen) == 1 {
				dialCLI(t, st, "bob")
			}
			if m["t"] == "user" && m["user"].(map[string]any)["name"] == "bob" {
				bob = true
			}
			if m["t"] == "state" {
				t.Errorf("the first login got a state message: %v", m)
			}
		case <-w.done:
			t.Fatal("closed")
		case <-timeout:
			t.Fatalf("bob never came; got %v", seen)
		}
	}
	count := map[string]int{}
	for _, s := range seen {
		count[s]++
	}
	if count["welcome"] != 1 || count["joined"] != 1 {
		t.Errorf("messages %v: want one welcome and one joined", seen)
	}
}

// A relay whose certificate is not the trusted one is explained to the
// browser as that, not as "not reachable", and logged for the operator.
func TestRelayCertificateChanged(t *testing.T) {
	rl := relaytest.Start(t, relaytest.Open())
	other, err := certs.InMemory()
	if err != nil {
		t.Fatal(err)
	}
	st := startStackOn(t, rl)
	st.gw.cfg.Dialer.(*ClientDialer).Fingerprint = certs.FingerprintOf(other)
	url := "ws" + strings.TrimPrefix(st.base, "http") + "/ws"
	w := dialWS(t, url, login("ann"))
	e := w.expect("error", nil)
	if e["code"] != "relay_cert" || !strings.Contains(e["text"].(string), "certificate") || strings.Contains(e["text"].(string), "reachable") {
		t.Errorf("error %v", e)
	}
}

// listenLoopback listens on a free loopback port; url is its websocket.
func listenLoopback(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "ws://" + ln.Addr().String() + "/ws"
}

// A name the relay cannot take is refused saying which characters are
// allowed; in open mode a name that is online is refused as such; neither
// is "wrong name or password".
func TestBrowserNameRefusals(t *testing.T) {
	rl := relaytest.Start(t, relaytest.Open())
	st := startStackOn(t, rl)
	url := "ws" + strings.TrimPrefix(st.base, "http") + "/ws"
	w := dialWS(t, url, login("ann smith"))
	e := w.expect("error", nil)
	if e["code"] != "bad_name" || e["text"] != `The user name "ann smith" contains ' ': use letters, digits and . _ - @ only.` {
		t.Errorf("bad name: %v", e)
	}
	ann := dialWS(t, url, login("ann"))
	ann.expect("welcome", nil)
	w = dialWS(t, url, login("ann"))
	e = w.expect("error", nil)
	if e["code"] != "name_taken" || !strings.Contains(e["text"].(string), "ann is already logged in") {
		t.Errorf("second ann: %v", e)
	}
	ann.send(map[string]any{"t": "ping", "n": 5})
	ann.expect("pong", nil) // the first ann is still there
}

// A relay that comes back with another certificate (here: after a
// restart, to a gateway that trusted the first one it met) is explained to
// the browser logging in again as that; a gateway session that loses its
// relay to a changed certificate while reconnecting says so too.
func TestRelayCertificateChangedOnRestart(t *testing.T) {
	serveRelay := func(addr string) (*relay.Relay, string, chan error) {
		t.Helper()
		cert, err := certs.InMemory()
		if err != nil {
			t.Fatal(err)
		}
		rl, err := relay.New(relay.Config{Cert: cert, Open: true, ShutdownGrace: time.Second, ByeLinger: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s again: %v", addr, err)
		}
		done := make(chan error, 1)
		go func() { done <- rl.Serve(context.Background(), pc); pc.Close() }()
		return rl, pc.LocalAddr().String(), done
	}
	first, addr, firstDone := serveRelay("127.0.0.1:0")
	// No fingerprint: trust on first use, as a gateway without --fingerprint.
	st := startStackOn(t, &relaytest.Relay{Addr: addr})
	url := "ws" + strings.TrimPrefix(st.base, "http") + "/ws"
	w := dialWS(t, url, login("ann"))
	w.expect("welcome", nil)
	first.Close()
	<-firstDone
	// The relay said it was shutting down: the page stays, reconnecting
	// (not a bye: the gateway's client comes back on its ticket).
	w.expect("state", func(m map[string]any) bool {
		return m["state"] == "reconnecting" && strings.Contains(m["text"].(string), "shutting down")
	})
	second, _, secondDone := serveRelay(addr)
	t.Cleanup(func() { second.Close(); <-secondDone })
	w = dialWS(t, url, login("ann"))
	if e := w.expect("error", nil); e["code"] != "relay_cert" || e["text"] != certChangedText {
		t.Errorf("login after the restart: %v", e)
	}

	// While reconnecting (a relay that crashed and came back with another
	// certificate), the link's state says the same.
	fr := newFakeRelay()
	_, furl := startGateway(t, fr, nil)
	fw := dialWS(t, furl, login("bob"))
	fw.expect("joined", nil)
	fr.mu.Lock()
	var fs *fakeSession
	for _, s := range fr.sessions {
		fs = s
	}
	fr.mu.Unlock()
	fs.events <- RelayEvent{Link: LinkReconnecting, Text: "lost", Err: &client.FingerprintError{Relay: "x", Want: "a", Got: "b"}}
	if m := fw.expect("state", nil); m["state"] != "reconnecting" || m["text"] != certChangedText {
		t.Errorf("state %v", m)
	}
}

package gateway

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/hark-intercom/hark/internal/relaytest"
)

// loginFrom logs in at the gateway from the local address from (a browser
// on another machine, as the gateway sees it) and returns the first answer
// ("welcome" or the error's code).
func loginFrom(t *testing.T, url, from, name, password string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	b, _ := json.Marshal(map[string]any{"t": "login", "name": name, "password": password})
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("login as %s from %s: %v", name, from, err)
		}
		var m struct{ T, Code string }
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.T {
		case "welcome":
			return "welcome"
		case "error":
			return m.Code
		}
	}
}

// Wrong passwords for carol from one browser lock carol out of that
// browser only, at the gateway; the relay behind it, which sees every
// browser come from the gateway's address, does not lock her out of the
// others (it did: five wrong passwords anywhere and nobody could log in as
// carol through the gateway).
func TestWrongPasswordsElsewhereDoNotLockOut(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("carol", "right", 0)
	st := startStackOn(t, r)
	url := "ws" + strings.TrimPrefix(st.base, "http") + "/ws"
	for i := range 6 {
		want := "auth"
		if i == 5 {
			want = "ratelimit" // the gateway stops that browser
		}
		if got := loginFrom(t, url, "127.0.0.2", "carol", "wrong"); got != want {
			t.Fatalf("wrong password %d from 127.0.0.2: %s, want %s", i+1, got, want)
		}
	}
	if got := loginFrom(t, url, "127.0.0.3", "carol", "right"); got != "welcome" {
		t.Errorf("carol from another browser with her password: %s, want welcome", got)
	}
	if s := r.Stats(); s.AuthFailures != 5 || s.AuthRateLimited != 0 {
		t.Errorf("relay: %d failures, %d refused as rate limited; want the 5 failures counted and nothing refused", s.AuthFailures, s.AuthRateLimited)
	}
}

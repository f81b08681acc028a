package gateway

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hark-intercom/hark/internal/relaytest"
)

// loginFrom logs in at the gateway from the local address from (a browser
// on another machine, as the gateway sees it) and returns the first answer
// ("welcome" or the error's code).
func loginFrom(t *testing.T, url, from, name, password string) string {
	t.Helper()
	code, err := tryLoginFrom(url, from, name, password)
	if err != nil {
		t.Fatalf("login as %s from %s: %v", name, from, err)
	}
	return code
}

// tryLoginFrom is loginFrom for any goroutine.
func tryLoginFrom(url, from, name, password string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return "", err
	}
	defer c.CloseNow()
	b, _ := json.Marshal(map[string]any{"t": "login", "name": name, "password": password})
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		return "", err
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return "", err
		}
		var m struct{ T, Code string }
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.T {
		case "welcome":
			return "welcome", nil
		case "error":
			return m.Code, nil
		}
	}
}

// Wrong passwords from one browser sent at once do not all pass the
// gateway's limit while the relay is still checking them: each takes its
// failure before the check (and gives it back unless it was wrong). Before,
// the limit saw only decided failures, and a flood of 500 from one address
// had hundreds of passwords checked by the relay through a limit of 20.
func TestConcurrentWrongPasswordsLimited(t *testing.T) {
	r := newFakeRelay()
	r.password = "secret"
	r.entered = make(chan struct{}, 16)
	r.gate = make(chan struct{})
	_, url := startGateway(t, r, nil)
	answers := make(chan string, 10)
	for range 10 {
		go func() {
			code, err := tryLoginFrom(url, "127.0.0.2", "ann", "wrong")
			if err != nil {
				code = err.Error()
			}
			answers <- code
		}()
	}
	for range 5 { // the limit: 5 per browser and name
		<-r.entered
	}
	tm := time.NewTimer(waitLimit)
	defer tm.Stop()
	for range 5 {
		select {
		case a := <-answers:
			if a != "ratelimit" {
				t.Fatalf("a login beyond the limit: %s, want ratelimit", a)
			}
		case <-tm.C:
			t.Fatal("the logins beyond the limit were not refused while 5 were being checked: they reached the relay")
		}
	}
	close(r.gate)
	for range 5 {
		if a := <-answers; a != "auth" {
			t.Errorf("a checked login: %s, want auth", a)
		}
	}
	if n := len(r.entered); n != 0 {
		t.Errorf("%d more logins reached the relay", n)
	}
	// A login with the right password gives its place back.
	if got := loginFrom(t, url, "127.0.0.3", "ann", "secret"); got != "welcome" {
		t.Errorf("ann from elsewhere: %s", got)
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

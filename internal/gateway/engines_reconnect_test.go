package gateway

import "testing"

// TestEnginesRelayRestart: in each engine, the relay restarts under the
// page (gracefully: every session is told). On WebTransport (Chromium,
// Firefox) the page's own session ends and the page comes back by itself;
// on the websocket (WebKitGTK) the gateway's relay client reconnects and
// the page says so. Either way the page ends up connected, in its channel,
// on the path it had, and a text from it arrives.
func TestEnginesRelayRestart(t *testing.T) {
	for _, name := range engines {
		t.Run(name, func(t *testing.T) {
			st := startWTStack(t)
			cl := dialCLI(t, st, "cli")
			p := newEngine(t, name)
			p.open(st.base + "/")
			p.waitFor(`window.harkTest !== undefined`)
			p.eval(`harkTest.login('web', '')`, nil)
			p.waitFor(`harkTest.state().channel === 'lobby' && harkTest.state().transport !== ''`)
			var tr string
			p.eval(`harkTest.state().transport`, &tr)
			st.relay.Stop(t)
			p.waitFor(`harkTest.state().conn.includes('wait')`)
			st.relay.Restart(t)
			cl.c.Close()
			dialCLI(t, st, "cli") // a CLI user at the restarted relay, for the page's roster
			p.waitFor(`harkTest.state().conn.includes('ok') && harkTest.state().channel === 'lobby' && harkTest.state().transport === '` + tr + `' &&
  [...document.querySelectorAll('#users li')].map(l => l.dataset.name).join(',') === 'cli,web'`)
			p.eval(`(document.getElementById('text').value = 'back on `+tr+`', document.getElementById('textForm').requestSubmit())`, nil)
			p.waitFor(`document.getElementById('log').textContent.includes('web: back on ` + tr + `')`)
			t.Logf("[%s] came back on %s after the relay restarted", name, tr)
		})
	}
}

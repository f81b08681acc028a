package client

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// A client given the three relays of a cluster moves to another one when
// its relay dies (kill -9: no goodbye), on its resume ticket (no password
// check), back in its channel, and what it sends afterwards reaches a
// listener at the third relay.
func TestClusterFailover(t *testing.T) {
	nodes := relaytest.StartCluster(t, 3)
	nodes[0].AddUser("alice", "pa", 0) // one users store for the cluster
	nodes[0].AddUser("bob", "pb", 0)
	ctx := testCtx(t)
	list := nodes[0].Addr + "," + nodes[1].Addr + "," + nodes[2].Addr
	alice := reconnecting(t, nodes[0].Relay, "alice", "pa", "lobby", func(c *Config) { c.Relay = list })
	if alice.Relay() != nodes[0].Addr {
		t.Fatalf("alice is at %s, want the first relay %s", alice.Relay(), nodes[0].Addr)
	}
	bob := nodes[2].Dial(t, "bob", "pb")
	bob.Join(t, "lobby")

	killed := time.Now()
	relaytest.KillNode(t, nodes[0])
	e := waitState(t, ctx, alice.events, StateReconnecting)
	waitState(t, ctx, alice.events, StateConnected)
	took := time.Since(killed)
	t.Logf("alice moved from %s to %s %v after the kill (lost: %v)", nodes[0].Addr, alice.Relay(), took.Round(time.Millisecond), e.Err)
	if alice.Relay() == nodes[0].Addr {
		t.Fatalf("alice is back at the dead relay")
	}
	if ch, ok := alice.Channel(); !ok || ch.Name != "lobby" {
		t.Errorf("alice is in %+v %v after the move, want lobby", ch, ok)
	}
	if st := alice.Stats(); st.Resumed != 1 {
		t.Errorf("alice's stats %+v: want the move on the resume ticket", st)
	}
	for _, n := range nodes[1:] {
		want := uint64(0)
		if n == nodes[2] {
			want = 1 // bob's login
		}
		if got := n.Stats().PasswordChecks; got != want {
			t.Errorf("relay %s checked %d passwords, want %d: alice's ticket from the dead relay should do", n.Addr, got, want)
		}
	}
	if err := alice.Text(ctx, "", "after the move"); err != nil {
		t.Fatal(err)
	}
	relaytest.Wait(t, bob, func(m *proto.Text) bool { return m.Text == "after the move" && m.FromName == "alice" })
}

// kill -9 of a relay with 50 sessions on it: every one is back at another
// relay of the cluster, in its channel, on its resume ticket, and hears a
// text sent after the failover.
func TestClusterFailoverMany(t *testing.T) {
	if testing.Short() {
		t.Skip("50 sessions")
	}
	n := 50
	if s := os.Getenv("HARK_FAILOVER_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	nodes := relaytest.StartCluster(t, 3)
	list := nodes[0].Addr + "," + nodes[1].Addr + "," + nodes[2].Addr
	type sess struct {
		c      *Client
		states chan stamped
		texts  chan string
	}
	var all []*sess
	for i := 0; i < n; i++ {
		name := "user" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		nodes[0].AddUser(name, "pw", 0)
		s := &sess{states: make(chan stamped, 64), texts: make(chan string, 64)}
		c, err := dialRelay(t, list, nodes[0].Fingerprint, name, "pw", "lobby", func(c *Config) {
			c.Reconnect = true
			// 50 clients, three relays and the race detector in one
			// process: at load 15 a 5 s attempt timed out in the set-up.
			c.DialTimeout = 20 * time.Second
			c.OnEvent = func(e Event) {
				if e.State != 0 {
					select {
					case s.states <- stamped{e, time.Now()}:
					default:
					}
				}
				if m, ok := e.Msg.(*proto.Text); ok {
					select {
					case s.texts <- m.Text:
					default:
					}
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		s.c = c.Client
		all = append(all, s)
	}
	nodes[1].AddUser("sender", "ps", 0)
	sender := nodes[1].Dial(t, "sender", "ps")
	sender.Join(t, "lobby")

	// A guard against a hang, not a figure: 50 clients, three relays and
	// the race detector share this process, and at load 18 some sessions
	// needed more than testCtx's 20 s (their backoff grows with each
	// attempt the busy relays time out). The time is logged below.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Each client tries the relays in order; on a busy machine a login at
	// A can time out and land at B, and such a session loses nothing when
	// A dies. Only the sessions at A are waited for (most of them, or the
	// test says why). Events from before the kill are not the failover.
	var atA []*sess
	for _, s := range all {
		for len(s.states) > 0 {
			<-s.states
		}
		if s.c.Relay() == nodes[0].Addr {
			atA = append(atA, s)
		}
	}
	if len(atA) < n/2 {
		t.Fatalf("only %d of %d sessions logged in at relay A, the first in their list", len(atA), n)
	}
	killed := time.Now()
	relaytest.KillNode(t, nodes[0])
	// When each noticed the loss (its first StateReconnecting) and when it
	// was connected again, after the kill.
	var noticed, back []time.Duration
	for _, s := range atA {
		var lostAt time.Time
		for {
			var e stamped
			select {
			case e = <-s.states:
			case <-ctx.Done():
				t.Fatalf("%s did not come back: %v", s.c.cfg.Name, s.c.State())
			}
			if e.State == StateReconnecting && lostAt.IsZero() {
				lostAt = e.at
			}
			// A Connected at the dead relay is a reconnection from before
			// the kill whose events came after the drain above (a busy
			// machine stalls sessions): not the failover.
			if !lostAt.IsZero() && e.State == StateConnected && s.c.Relay() != nodes[0].Addr {
				noticed = append(noticed, lostAt.Sub(killed))
				back = append(back, e.at.Sub(killed))
				break
			}
		}
		if s.c.Relay() == nodes[0].Addr {
			t.Errorf("%s is back at the dead relay", s.c.cfg.Name)
		}
		// Back on its ticket: every reconnection (under load a session
		// may reconnect more than once) resumed, none used the password.
		if st := s.c.Stats(); st.Resumed == 0 || st.Resumed != st.Reconnects {
			t.Errorf("%s: %+v, want every reconnection back on its ticket", s.c.cfg.Name, st)
		}
	}
	slices.Sort(noticed)
	slices.Sort(back)
	k := len(atA)
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	t.Logf("%d of %d sessions were at relay A; all back at relays B and C after the kill: noticed the loss after %s (median) to %s (last); connected again after %s (median) to %s (last)",
		k, n, ms(noticed[k/2]), ms(noticed[k-1]), ms(back[k/2]), ms(back[k-1]))
	sender.MustSend(t, &proto.Text{Text: "after the failover"})
	// Every session that stays connected gets the text. One that loses its
	// relay again before the text reaches it (on a busy machine a stalled
	// session reconnects) is not counted: a channel text said at another
	// relay is not in this relay's catch-up (each relay's history holds
	// what its own users said; README, "What is shared and what is not").
	got, away := 0, 0
	for _, s := range all {
	wait:
		for {
			select {
			case txt := <-s.texts:
				if txt == "after the failover" {
					got++
					break wait
				}
			case e := <-s.states:
				if e.State == StateReconnecting {
					t.Logf("%s lost its relay again before the text reached it", s.c.cfg.Name)
					away++
					break wait
				}
			case <-ctx.Done():
				t.Fatalf("%s did not get the text sent after the failover (state %v)", s.c.cfg.Name, s.c.State())
			}
		}
	}
	if got < len(all)/2 {
		t.Fatalf("only %d of %d sessions got the text sent after the failover (%d lost their relay again)", got, len(all), away)
	}
}

// stamped is an event with the time the test's OnEvent saw it.
type stamped struct {
	Event
	at time.Time
}

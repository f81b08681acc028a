package relay_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
	"golang.org/x/crypto/bcrypt"
)

// tryLogin logs in and returns the relay's refusal (nil if it let the
// client in, which is then closed).
func tryLogin(t *testing.T, r *relaytest.Relay, name, password string) *proto.Error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), relaytest.WaitTimeout)
	defer cancel()
	c, err := r.TryDial(ctx, name, password, relaytest.DialOptions{})
	if err == nil {
		c.Close()
		return nil
	}
	var pe *proto.Error
	if !errors.As(err, &pe) {
		t.Fatalf("login as %q: %v", name, err)
	}
	return pe
}

// In open mode nothing proves who a name belongs to: a name whose session
// answers is refused in words, and that session goes on.
func TestOpenModeNameTaken(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	events := make(chan client.Event, 100)
	alice, err := client.Dial(context.Background(), client.Config{
		Relay: r.Addr, Fingerprint: r.Fingerprint, Name: "alice", Channel: "lobby",
		KnownRelaysFile: filepath.Join(t.TempDir(), "known"),
		OnEvent: func(e client.Event) {
			select {
			case events <- e:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	e := tryLogin(t, r, "alice", "")
	if e == nil || e.Code != proto.CodeNameTaken || e.Text != "alice is already logged in: choose another name" {
		t.Fatalf("second alice: %+v", e)
	}
	if s := r.Stats(); s.Replaced != 0 || s.NameTaken != 1 || s.Sessions != 1 {
		t.Errorf("stats: replaced %d, name taken %d, sessions %d", s.Replaced, s.NameTaken, s.Sessions)
	}
	if err := alice.Err(); err != nil {
		t.Fatalf("alice was knocked off: %v", err)
	}
	// alice is still there: she hears bob arrive.
	bob := r.Dial(t, "bob", "")
	for ev := range events {
		if m, ok := ev.Msg.(*proto.PresenceChange); ok && m.Kind == proto.PresenceOnline && m.User.Name == "bob" {
			break
		}
	}
	bob.Close()
}

// A session whose client went away without a word (it answers nothing)
// does not keep its name: after OpenProbe the newer login replaces it, as
// a box that changed networks needs.
func TestOpenModeDeadSessionReplaced(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) { c.OpenProbe = 100 * time.Millisecond }))
	dead := r.Dial(t, "alice", "") // a raw client: it never answers a ping
	nw := r.Dial(t, "alice", "")
	bye := dead.WaitClosed(t)
	if bye == nil || bye.Code != proto.CodeReplaced {
		t.Fatalf("the dead session's bye: %+v", bye)
	}
	nw.Join(t, "lobby")
	if s := r.Stats(); s.Replaced != 1 || s.NameTaken != 0 || s.Sessions != 1 {
		t.Errorf("stats: replaced %d, name taken %d, sessions %d", s.Replaced, s.NameTaken, s.Sessions)
	}
}

// A name with a space or an emoji is refused saying which characters are
// allowed, not as a wrong password, with or without accounts.
func TestBadNameSaysWhy(t *testing.T) {
	for _, open := range []bool{true, false} {
		var r *relaytest.Relay
		if open {
			r = relaytest.Start(t, relaytest.Open())
		} else {
			r = relaytest.Start(t)
		}
		for _, name := range []string{"ann smith", "ann🎧"} {
			e := tryLogin(t, r, name, "pw")
			if e == nil || e.Code != proto.CodeBadName || !strings.Contains(e.Text, "use letters, digits and . _ - @ only") {
				t.Errorf("open=%v %q: %+v", open, name, e)
			}
		}
	}
}

// relay user del (another process editing the users file) ends the
// deleted user's live session within UserCheckEvery; others stay.
func TestUserDelEndsSession(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	// Cheap hashes: at the default cost under -race at load 17-27 bob's
	// second login (checked against a dummy hash) outlasted the wait.
	users, err := accounts.OpenCost(path, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) {
		c.Users = users
		c.UserCheckEvery = 10 * time.Millisecond
	}))
	admin, err := accounts.OpenCost(path, bcrypt.MinCost) // `relay user add/del` on the same file
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"alice", "bob"} {
		if err := admin.Add(n, "pw-"+n, 0); err != nil {
			t.Fatal(err)
		}
	}
	alice, bob := r.Dial(t, "alice", "pw-alice"), r.Dial(t, "bob", "pw-bob")
	if err := admin.Delete("bob"); err != nil {
		t.Fatal(err)
	}
	bye := bob.WaitClosed(t)
	if bye == nil || bye.Code != proto.CodeKicked || bye.Text != "your account was removed from this relay" {
		t.Fatalf("bob's bye: %+v", bye)
	}
	relaytest.Wait(t, alice, func(m *proto.PresenceChange) bool { return m.Kind == proto.PresenceOffline && m.User.Name == "bob" })
	if e := tryLogin(t, r, "bob", "pw-bob"); e == nil || e.Code != proto.CodeAuth {
		t.Errorf("bob logs in again: %+v", e)
	}
	select {
	case <-alice.Done():
		t.Fatal("alice's session ended too")
	default:
	}
}

// An admin's kick with a ban keeps the name out (in words, with the time
// left), also for a name that is not online; a kick without one does not.
func TestKickBan(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("root", "r", proto.RoleAdmin)
	r.AddUser("bob", "b", 0)
	r.AddUser("carol", "c", 0)
	a, b := r.Dial(t, "root", "r"), r.Dial(t, "bob", "b")
	a.MustSend(t, &proto.Kick{Name: "bob", Reason: "cool off", BanSeconds: 3600})
	bye := b.WaitClosed(t)
	if bye == nil || bye.Code != proto.CodeKicked || bye.Text != "an admin (root) disconnected you and banned you for 1h0m0s: cool off" {
		t.Fatalf("bob's bye: %+v", bye)
	}
	e := tryLogin(t, r, "bob", "b")
	if e == nil || e.Code != proto.CodeBanned || !strings.HasPrefix(e.Text, "an admin banned bob from this relay for ") {
		t.Fatalf("bob again: %+v", e)
	}
	// carol is not online: the ban still holds, and no error comes back.
	a.MustSend(t, &proto.Kick{Name: "carol", BanSeconds: 60})
	a.MustSend(t, &proto.Ping{Nonce: 9})
	for {
		m := a.Next(t)
		if e, ok := m.(*proto.Error); ok {
			t.Errorf("banning carol answered %+v", e)
		}
		if p, ok := m.(*proto.Pong); ok && p.Nonce == 9 {
			break
		}
	}
	if e := tryLogin(t, r, "carol", "c"); e == nil || e.Code != proto.CodeBanned {
		t.Errorf("carol: %+v", e)
	}
	// A kick without a ban lets the name back in.
	r.AddUser("dave", "d", 0)
	d := r.Dial(t, "dave", "d")
	a.MustSend(t, &proto.Kick{Name: "dave"})
	d.WaitClosed(t)
	if e := tryLogin(t, r, "dave", "d"); e != nil {
		t.Errorf("dave after a kick without a ban: %+v", e)
	}
	if s := r.Stats(); s.Banned != 2 {
		t.Errorf("banned logins counted %d, want 2", s.Banned)
	}
}

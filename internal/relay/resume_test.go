package relay_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// tryDial logs in with a ticket and returns the relay's refusal, if any.
func tryDial(t *testing.T, r *relaytest.Relay, name, password string, ticket []byte) (*relaytest.Client, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), relaytest.WaitTimeout)
	defer cancel()
	c, err := r.TryDial(ctx, name, password, relaytest.DialOptions{Ticket: ticket})
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func TestResumeTicket(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "pa", proto.RolePage)
	r.AddUser("bob", "pb", 0)
	a := r.Dial(t, "alice", "pa")
	tk := relaytest.Wait[*proto.Ticket](t, a, nil)
	if len(tk.Ticket) == 0 || tk.Lifetime != 24*3600 {
		t.Fatalf("ticket %+v", tk)
	}
	st := r.Stats()
	if st.PasswordChecks != 1 || st.Resumed != 0 {
		t.Fatalf("after a password login: %+v", st)
	}

	// A valid ticket logs in without a password check (the password sent
	// along is not even looked at), with the user's roles, and brings a
	// fresh ticket.
	a2, err := tryDial(t, r, "alice", "not checked", tk.Ticket)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if a2.Welcome.Roles != proto.RolePage {
		t.Errorf("resumed roles %v", a2.Welcome.Roles)
	}
	relaytest.Wait[*proto.Ticket](t, a2, nil)
	st = r.Stats()
	if st.PasswordChecks != 1 || st.Resumed != 1 || st.TicketsRefused != 0 {
		t.Fatalf("after a resume: %+v", st)
	}

	// Someone else's ticket, a forged one, or one of another name: refused,
	// and the password decides.
	if _, err := tryDial(t, r, "bob", "wrong", tk.Ticket); !isCode(err, proto.CodeAuth) {
		t.Errorf("bob with alice's ticket and a wrong password: %v", err)
	}
	forged := append([]byte(nil), tk.Ticket...)
	forged[len(forged)-1] ^= 1
	if _, err := tryDial(t, r, "alice", "pa", forged); err != nil {
		t.Errorf("forged ticket, right password: %v", err)
	}
	if _, err := tryDial(t, r, "alice", "wrong", forged); !isCode(err, proto.CodeAuth) {
		t.Errorf("forged ticket, wrong password: %v", err)
	}
	st = r.Stats()
	if st.TicketsRefused != 3 || st.PasswordChecks != 4 || st.Resumed != 1 {
		t.Errorf("after refused tickets: %+v", st)
	}

	// A new password ends the tickets issued before it.
	r.SetPassword("alice", "new", proto.RolePage)
	if _, err := tryDial(t, r, "alice", "pa", tk.Ticket); !isCode(err, proto.CodeAuth) {
		t.Errorf("old ticket and old password after a password change: %v", err)
	}
	if c, err := tryDial(t, r, "alice", "new", tk.Ticket); err != nil {
		t.Errorf("old ticket, new password: %v", err)
	} else {
		relaytest.Wait[*proto.Ticket](t, c, nil)
	}
}

func TestExpiredTicketFallsBackToPassword(t *testing.T) {
	// Tickets that expire in the second they are issued.
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) { c.TicketLifetime = time.Nanosecond }))
	r.AddUser("alice", "pa", 0)
	a := r.Dial(t, "alice", "pa")
	tk := relaytest.Wait[*proto.Ticket](t, a, nil)
	if _, err := tryDial(t, r, "alice", "wrong", tk.Ticket); !isCode(err, proto.CodeAuth) {
		t.Errorf("expired ticket, wrong password: %v", err)
	}
	if _, err := tryDial(t, r, "alice", "pa", tk.Ticket); err != nil {
		t.Errorf("expired ticket, right password: %v", err)
	}
	if st := r.Stats(); st.TicketsRefused != 2 || st.Resumed != 0 || st.PasswordChecks != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestTicketSurvivesRestart(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "pa", 0)
	a := r.Dial(t, "alice", "pa")
	tk := relaytest.Wait[*proto.Ticket](t, a, nil)
	r.Kill(t)
	r.Restart(t)
	if _, err := tryDial(t, r, "alice", "", tk.Ticket); err != nil {
		t.Fatalf("resume after restart: %v", err)
	}
	if st := r.Stats(); st.PasswordChecks != 0 || st.Resumed != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestOpenRelayIssuesNoTicket(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	a := r.Dial(t, "alice", "")
	a.Join(t, "lobby")
	relaytest.Wait[*proto.Presence](t, a, nil)
	for _, m := range a.Pending() {
		if _, ok := m.(*proto.Ticket); ok {
			t.Fatal("an open relay sent a ticket")
		}
	}
}

// A login that waits too long for a password check is refused as busy: a
// code the client retries, counted apart from wrong passwords.
func TestPasswordCheckBusy(t *testing.T) {
	users := &slowUsers{entered: make(chan struct{}, 1), release: make(chan struct{})}
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) {
		c.Users = users
		c.PasswordSlots = 1
		c.PasswordWait = time.Millisecond
	}))
	first := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), relaytest.WaitTimeout)
		defer cancel()
		c, err := r.TryDial(ctx, "alice", "pa", relaytest.DialOptions{})
		if err == nil {
			c.Close()
		}
		first <- err
	}()
	<-users.entered // alice holds the only slot
	_, err := tryDial(t, r, "bob", "pb", nil)
	close(users.release)
	if !isCode(err, proto.CodeUnavailable) {
		t.Errorf("second login while the slot is taken: %v", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first login: %v", err)
	}
	if st := r.Stats(); st.AuthBusy != 1 || st.AuthFailures != 0 || st.AuthRateLimited != 0 || st.PasswordChecks != 1 {
		t.Errorf("stats %+v", st)
	}
}

// slowUsers accepts any password, holding each check until release.
type slowUsers struct {
	entered chan struct{}
	release chan struct{}
}

func (u *slowUsers) Authenticate(name, password string) (proto.Role, error) {
	select {
	case u.entered <- struct{}{}:
	default:
	}
	<-u.release
	return 0, nil
}

func isCode(err error, code proto.Code) bool {
	var e *proto.Error
	return errors.As(err, &e) && e.Code == code
}

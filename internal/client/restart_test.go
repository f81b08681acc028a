package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// reconnecting dials name into channel with Reconnect and extra settings.
func reconnecting(t *testing.T, r *relaytest.Relay, name, password, channel string, mod func(*Config)) *testClient {
	t.Helper()
	c, err := dialRelay(t, r.Addr, r.Fingerprint, name, password, channel, func(c *Config) {
		c.Reconnect = true
		if mod != nil {
			mod(c)
		}
	})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// waitBack waits until c reconnected after a loss whose cause contains
// why (or one of its |-separated alternatives), and checks it is back in
// channel.
func waitBack(t *testing.T, ctx context.Context, c *testClient, why, channel string) {
	t.Helper()
	e := waitState(t, ctx, c.events, StateReconnecting)
	if e.Err == nil || !slices.ContainsFunc(strings.Split(why, "|"), func(w string) bool { return strings.Contains(e.Err.Error(), w) }) {
		t.Errorf("%s lost the connection because of %v, want %q", c.cfg.Name, e.Err, why)
	}
	waitState(t, ctx, c.events, StateConnected)
	if ch, ok := c.Channel(); !ok || ch.Name != channel {
		t.Errorf("%s is back in %+v %v, want %s", c.cfg.Name, ch, ok, channel)
	}
}

// A relay killed (no goodbye) and restarted on the same port with the same
// secret answers the clients' next ping with a stateless reset: they notice
// at once (not at QUIC's 20 s idle timeout: the ping timeout is set to a
// minute here, so the reset is the only way), log in again on their resume
// tickets without a password check, rejoin their channel, and hear a text
// sent after the restart.
func TestKilledRelayRestartedClientsResume(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "pa", 0)
	r.AddUser("bob", "pb", 0)
	ctx := testCtx(t)
	slowPing := func(c *Config) { c.PingTimeout = time.Minute }
	alice := reconnecting(t, r, "alice", "pa", "ops", slowPing)
	bob := reconnecting(t, r, "bob", "pb", "ops", slowPing)

	r.Kill(t)
	r.Restart(t)
	for _, c := range []*testClient{alice, bob} {
		// A packet sent in the moment the relay was down is answered by
		// the machine's "port unreachable" instead (connection refused):
		// noticed at once too.
		waitBack(t, ctx, c, "the relay restarted|nothing listens at its address", "ops")
		if st := c.Stats(); st.Resumed != 1 || st.Reconnects != 1 {
			t.Errorf("%s stats %+v", c.cfg.Name, st)
		}
	}
	if st := r.Stats(); st.PasswordChecks != 0 || st.Resumed != 2 || st.TicketsRefused != 0 {
		t.Errorf("restarted relay: %+v, want 2 resumed logins and no password check", st)
	}
	if err := bob.Text(ctx, "", "after the restart"); err != nil {
		t.Fatal(err)
	}
	waitMsg(t, ctx, alice, func(m *proto.Text) bool { return m.Text == "after the restart" && m.FromName == "bob" })
}

// A relay that falls silent (its host or its network is gone: nothing
// answers, not even the host's kernel) is noticed by the pings: nothing
// came back for PingTimeout. When it is reachable again, the client is
// back on its ticket.
func TestSilentRelayNoticed(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "pa", 0)
	px := r.NewProxy(t)
	ctx := testCtx(t)
	alice, err := dialRelay(t, px.Addr, r.Fingerprint, "alice", "pa", "lobby", func(c *Config) { c.Reconnect = true })
	if err != nil {
		t.Fatal(err)
	}
	px.Freeze(true)
	e := waitState(t, ctx, alice.events, StateReconnecting)
	if e.Err == nil || !strings.Contains(e.Err.Error(), "the relay stopped answering") {
		t.Fatalf("lost because of %v, want silence", e.Err)
	}
	if alice.Stats().SilentDrops != 1 {
		t.Errorf("stats %+v", alice.Stats())
	}
	px.Freeze(false)
	waitState(t, ctx, alice.events, StateConnected)
	if ch, ok := alice.Channel(); !ok || ch.Name != "lobby" {
		t.Errorf("back in %+v %v", ch, ok)
	}
	if st := r.Stats(); st.PasswordChecks != 1 || st.Resumed != 1 {
		t.Errorf("relay: %+v, want the first login's password check and the return on the ticket", st)
	}
}

// A relay whose program died while its host is up (kill -9, a crash) is
// noticed at once, not after PingTimeout: the host answers the client's
// next packet with ICMP "port unreachable", which the client's connected
// UDP socket reports. When the relay is back, so is the client.
func TestKilledRelayNoticedAtOnce(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "pa", 0)
	ctx := testCtx(t)
	alice := reconnecting(t, r, "alice", "pa", "lobby", func(c *Config) {
		c.PingTimeout = time.Hour // the pings would notice only after the test's deadline
	})
	r.Kill(t)
	e := waitState(t, ctx, alice.events, StateReconnecting)
	if !errors.Is(e.Err, errRelayGone) {
		t.Errorf("lost because of %v, want %v", e.Err, errRelayGone)
	}
	if alice.Stats().SilentDrops != 0 {
		t.Errorf("stats %+v: the pings noticed, not the refusal", alice.Stats())
	}
	r.Restart(t)
	waitState(t, ctx, alice.events, StateConnected)
	if ch, ok := alice.Channel(); !ok || ch.Name != "lobby" {
		t.Errorf("back in %+v %v", ch, ok)
	}
}

// A ticket the relay refuses (here forged) costs one password check: the
// client sent its password along and is back all the same, with a new
// ticket. Also a graceful restart (Bye, then the relay is away).
func TestRefusedTicketFallsBackToPassword(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "pa", 0)
	ctx := testCtx(t)
	alice := reconnecting(t, r, "alice", "pa", "ops", nil)
	alice.mu.Lock()
	if alice.ticket == nil {
		alice.mu.Unlock()
		t.Fatal("no ticket after login")
	}
	forged := append([]byte(nil), alice.ticket...)
	forged[len(forged)-1] ^= 1
	alice.ticket = forged
	alice.mu.Unlock()

	r.Stop(t)
	waitState(t, ctx, alice.events, StateReconnecting)
	r.Restart(t)
	waitState(t, ctx, alice.events, StateConnected)
	if ch, ok := alice.Channel(); !ok || ch.Name != "ops" {
		t.Errorf("back in %+v %v", ch, ok)
	}
	if st := r.Stats(); st.TicketsRefused != 1 || st.PasswordChecks != 1 || st.Resumed != 0 {
		t.Errorf("restarted relay: %+v", st)
	}
	alice.mu.Lock()
	fresh := alice.ticket
	alice.mu.Unlock()
	if string(fresh) == string(forged) {
		t.Error("no fresh ticket after the password login")
	}
}

// "Busy checking passwords" is not a wrong password: a client retries it.
func TestBusyLoginRetried(t *testing.T) {
	users := &holdUsers{entered: make(chan struct{}, 1), release: make(chan struct{})}
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) {
		c.Users = users
		c.PasswordSlots = 1
		c.PasswordWait = time.Millisecond
	}))
	ctx := testCtx(t)
	held := make(chan error, 1)
	go func() {
		c, err := r.TryDial(ctx, "first", "x", relaytest.DialOptions{})
		if err == nil {
			c.Close()
		}
		held <- err
	}()
	<-users.entered
	// The first attempt finds the slot taken; release it once the relay
	// has refused one.
	dialed := make(chan error, 1)
	var c *testClient
	go func() {
		var err error
		c, err = dialRelay(t, r.Addr, r.Fingerprint, "alice", "pa", "lobby", func(c *Config) { c.Reconnect = true })
		dialed <- err
	}()
	r.WaitStats(t, "a busy refusal", func(s relay.Stats) bool { return s.AuthBusy >= 1 })
	close(users.release)
	if err := <-dialed; err != nil {
		t.Fatalf("dial after a busy refusal: %v", err)
	}
	if ch, ok := c.Channel(); !ok || ch.Name != "lobby" {
		t.Errorf("in %+v %v", ch, ok)
	}
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.AuthFailures != 0 || st.AuthRateLimited != 0 {
		t.Errorf("busy counted as a failure: %+v", st)
	}
}

// holdUsers accepts any password; checks (of hold only, if set) wait until
// release.
type holdUsers struct {
	hold    string
	entered chan struct{}
	release chan struct{}
}

func (u *holdUsers) Authenticate(name, password string) (proto.Role, error) {
	if u.hold != "" && name != u.hold {
		return 0, nil
	}
	select {
	case u.entered <- struct{}{}:
	default:
	}
	<-u.release
	return 0, nil
}

// Backoff is "full jitter": anywhere from 0 to the doubled cap.
func TestBackoffFullJitter(t *testing.T) {
	c := &Client{cfg: Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}}
	for attempt, limit := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		limit *= time.Millisecond
		low := false
		for range 200 {
			d := c.backoff(attempt)
			if d < 0 || d > limit {
				t.Fatalf("attempt %d: %v outside [0, %v]", attempt, d, limit)
			}
			low = low || d < limit/4
		}
		if !low {
			t.Errorf("attempt %d: 200 waits all over a quarter of %v: not full jitter", attempt, limit)
		}
	}
}

// A login whose control stream is reset (the relay went away in the middle
// of it) fails as unreachable, and with Reconnect is tried again.
func TestLoginStreamResetEndsAttempt(t *testing.T) {
	f := newFakeRelay(t)
	f.mu.Lock()
	f.resetAuth = true
	f.mu.Unlock()
	_, err := dialFake(t, f, nil)
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want unreachable", err)
	}
}

// A login storm meets the relay's admission limit: while Config.MaxLogins
// logins are under way, a new connection is refused before its handshake
// (CONNECTION_REFUSED), which the client reports as "busy" and retries,
// instead of joining a queue of logins that all get slow. Once the login
// under way is over, the retry gets in.
func TestLoginRefusedWhileTooManyUnderWay(t *testing.T) {
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) {
		c.MaxLogins = 1
		c.LoginPlaceTime = time.Hour // (see TestAbandonedHandshakeFreesItsPlace)
	}))
	r.AddUser("alice", "pa", 0)
	ctx := testCtx(t)
	// A connection that never logs in holds the one place.
	qc, err := quic.DialAddr(ctx, r.Addr, r.ClientTLS(), &quic.Config{EnableDatagrams: true})
	if err != nil {
		t.Fatal(err)
	}
	defer qc.CloseWithError(0, "")

	_, err = dialRelay(t, r.Addr, r.Fingerprint, "alice", "pa", "lobby", nil)
	var re *RelayError
	if !errors.As(err, &re) || re.Code != proto.CodeUnavailable || !transient(err) {
		t.Fatalf("login while another is under way: %v, want a busy refusal to retry", err)
	}
	// (A client's first flight may take two packets, each refused.)
	refused := r.Stats().ConnRefused["busy"]
	if refused == 0 {
		t.Errorf("relay: refused %v, want busy refusals", r.Stats().ConnRefused)
	}

	dialed := make(chan error, 1)
	var c *testClient
	go func() {
		var err error
		c, err = dialRelay(t, r.Addr, r.Fingerprint, "alice", "pa", "lobby", func(c *Config) { c.Reconnect = true })
		dialed <- err
	}()
	r.WaitStats(t, "another busy refusal", func(s relay.Stats) bool { return s.ConnRefused["busy"] > refused })
	qc.CloseWithError(0, "")
	if err := <-dialed; err != nil {
		t.Fatalf("retry after the login under way was over: %v", err)
	}
	if ch, ok := c.Channel(); !ok || ch.Name != "lobby" {
		t.Errorf("in %+v %v", ch, ok)
	}
}

// A login waiting for a password check holds no place among the logins
// under way: a flood of wrong passwords queued for the checks does not
// keep others from being admitted (and then checked first: see the
// relay's password slots).
func TestPasswordWaitHoldsNoAdmission(t *testing.T) {
	users := &holdUsers{hold: "first", entered: make(chan struct{}, 1), release: make(chan struct{})}
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) {
		c.Users = users
		c.MaxLogins = 1
		c.PasswordSlots = 2
		c.PasswordWait = time.Minute
	}))
	t.Cleanup(sync.OnceFunc(func() { close(users.release) }))
	ctx := testCtx(t)
	go func() {
		if c, err := r.TryDial(ctx, "first", "x", relaytest.DialOptions{}); err == nil {
			c.Close()
		}
	}()
	<-users.entered
	if _, err := dialRelay(t, r.Addr, r.Fingerprint, "alice", "pa", "lobby", nil); err != nil {
		t.Fatalf("login while another waits on its password check: %v", err)
	}
	if st := r.Stats(); st.ConnRefused["busy"] != 0 {
		t.Errorf("relay refused %v", st.ConnRefused)
	}
}

// A relay that is shutting down no longer takes connections: one that
// arrives while it waits for its sessions to leave is not taken into a
// login that never comes (the client waited its whole dial timeout, then
// several seconds more to try again), it gets no answer and the client
// soon tries again.
func TestNoLoginWhileShuttingDown(t *testing.T) {
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) {
		c.ByeLinger = time.Minute // the stubborn session below keeps the relay shutting down
		c.ShutdownGrace = time.Minute
	}))
	r.AddUser("stubborn", "ps", 0)
	r.AddUser("alice", "pa", 0)
	ctx := testCtx(t)
	// A session that ignores the goodbye and does not close.
	qc, err := quic.DialAddr(ctx, r.Addr, r.ClientTLS(), &quic.Config{EnableDatagrams: true})
	if err != nil {
		t.Fatal(err)
	}
	defer qc.CloseWithError(0, "")
	st, err := qc.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	b, _ = proto.AppendMessage(b, proto.NewHello("stubborn"))
	b, _ = proto.AppendMessage(b, &proto.Auth{Name: "stubborn", Password: "ps"})
	if _, err := st.Write(b); err != nil {
		t.Fatal(err)
	}
	bye := make(chan struct{})
	welcome := make(chan struct{})
	go func() {
		rd := proto.NewReader(st)
		for {
			m, err := rd.Next()
			if err != nil {
				return
			}
			switch m.(type) {
			case *proto.Welcome:
				close(welcome)
			case *proto.Bye:
				close(bye)
				return
			}
		}
	}()
	<-welcome
	stopped := make(chan struct{})
	go func() { defer close(stopped); r.Stop(t) }()
	<-bye

	_, err = dialRelay(t, r.Addr, r.Fingerprint, "alice", "pa", "lobby", nil)
	if errors.Is(err, errLoginStalled) || !errors.Is(err, errNoAnswer) {
		t.Errorf("login while the relay shuts down: %v, want no answer (not a login left hanging)", err)
	}
	qc.CloseWithError(0, "")
	<-stopped
}

// Which failures show that the relay is up, so that the next attempt is
// patient with a slow handshake.
func TestRelayIsUp(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{errRefused, true},
		{&RelayError{Code: proto.CodeUnavailable, Text: "busy checking passwords"}, true},
		{&RelayError{Code: proto.CodeShutdown, Bye: true}, false},
		{&UnreachableError{Err: errNoAnswer}, false},
		{&UnreachableError{Err: fmt.Errorf("%w during login: %w", errLoginStalled, context.DeadlineExceeded)}, true},
		{errRestarted, true},
		{fmt.Errorf("sending ping to the relay: %w", &quic.StatelessResetError{}), true},
		{errors.New("the relay stopped answering: nothing from it for 2s"), false},
	} {
		if got := relayIsUp(c.err); got != c.want {
			t.Errorf("relayIsUp(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// After refusals before the handshake (the relay admits logins as fast as
// it finishes them) the wait stays short however many came; other
// failures keep doubling it.
func TestBackoffAfterRefusalsStaysShort(t *testing.T) {
	if got := backoffStep(40, errRefused); got != maxRefusedStep {
		t.Errorf("after 20 refusals: step %d, want %d", got, maxRefusedStep)
	}
	if got := backoffStep(40, &UnreachableError{Err: errNoAnswer}); got != 20 {
		t.Errorf("after silence: step %d, want 20", got)
	}
	if got := backoffStep(2, errRefused); got != 1 {
		t.Errorf("after one refusal: step %d, want 1", got)
	}
}

// Once the relay showed it is up, attempts stay patient (a busy relay
// answers late or its refusal is lost), until it says it is shutting down.
func TestPatienceSticks(t *testing.T) {
	noAnswer := &UnreachableError{Err: errNoAnswer}
	if stillPatient(false, noAnswer) {
		t.Error("patient after silence alone")
	}
	if !stillPatient(stillPatient(false, errRefused), noAnswer) {
		t.Error("a refusal, then no answer: impatient again")
	}
	if stillPatient(true, &RelayError{Code: proto.CodeShutdown, Bye: true}) {
		t.Error("still patient with a relay shutting down")
	}
}

// While nothing listens at the relay's port (it is restarting: its host
// answers "port unreachable"), the wait between attempts stays at most
// 2·MinBackoff during quickRetryFor, so a relay back after a second or two
// finds its clients within half a second; silence and refusals still grow
// it, and so does a relay down for longer.
func TestRedialWhileNothingListensStaysQuick(t *testing.T) {
	noListener := &UnreachableError{Err: fmt.Errorf("%w (%w at 127.0.0.1:9)", errNoAnswer, errNoListener)}
	growth := 0
	for range 30 {
		growth = redialGrowth(growth, noListener, time.Second)
	}
	if step := backoffStep(growth, noListener); step > 1 {
		t.Errorf("after 30 attempts nothing listened at: step %d (waits up to %v), want at most 1", step, DefaultMinBackoff<<step)
	}
	if g := redialGrowth(growth, noListener, quickRetryFor); g <= growth {
		t.Errorf("after %v the backoff does not grow: %d", quickRetryFor, g)
	}
	silent := &UnreachableError{Err: errNoAnswer}
	if g := redialGrowth(growth, silent, time.Second); g <= growth {
		t.Errorf("an unanswered attempt does not grow the backoff: %d", g)
	}
}

// The first attempt after a loss the relay's host told of (a stateless
// reset, "port unreachable") goes at once; after silence or a goodbye it
// waits its jittered backoff.
func TestFirstRedialAfterAnsweredLoss(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{errRestarted, true},
		{errRelayGone, true},
		{fmt.Errorf("control stream ended: %w", errRelayGone), true},
		{errors.New("the relay stopped answering: nothing from it for 2s"), false},
		{&RelayError{Code: proto.CodeShutdown, Bye: true}, false},
	} {
		if got := answeredLoss(c.err); got != c.want {
			t.Errorf("answeredLoss(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// Attempts answered with "port unreachable" (the relay is restarting) do
// not grow the next attempts' handshake timeout: the first attempt to the
// restarted relay, whose first packet may be lost while it starts, gives
// up after a second and tries again, not after the whole dial timeout.
// Attempts that got no answer at all still grow it.
func TestHandshakeTimeoutAfterNothingListens(t *testing.T) {
	noListener := &UnreachableError{Err: fmt.Errorf("%w (%w at 127.0.0.1:9)", errNoAnswer, errNoListener)}
	silentErr := &UnreachableError{Err: errNoAnswer}
	silent := 0
	for range 10 {
		if silentAttempt(noListener) {
			silent++
		}
	}
	if got := handshakeWait(DefaultDialTimeout, silent, false); got != minHandshakeIdle {
		t.Errorf("after 10 attempts nothing listened at: handshake timeout %v, want %v", got, minHandshakeIdle)
	}
	for range 6 {
		if silentAttempt(silentErr) {
			silent++
		}
	}
	if got := handshakeWait(DefaultDialTimeout, silent, false); got != DefaultDialTimeout {
		t.Errorf("after 6 unanswered attempts: handshake timeout %v, want %v", got, DefaultDialTimeout)
	}
	if got := handshakeWait(DefaultDialTimeout, 0, true); got != DefaultDialTimeout {
		t.Errorf("patient: %v", got)
	}
}

package client

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// earlessConn is a client's UDP socket that sends but hears nothing until
// hear is called: what reaches it meanwhile waits in the socket (a network
// that holds the relay's answers back). wrote is closed once the first
// packet has gone out.
type earlessConn struct {
	net.PacketConn
	wrote     chan struct{}
	wroteOnce sync.Once
	ears      chan struct{}
	earsOnce  sync.Once
}

func newEarlessConn(t *testing.T) *earlessConn {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &earlessConn{PacketConn: pc, wrote: make(chan struct{}), ears: make(chan struct{})}
	t.Cleanup(func() { c.Close() })
	return c
}

func (c *earlessConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(b, addr)
	c.wroteOnce.Do(func() { close(c.wrote) })
	return n, err
}

func (c *earlessConn) ReadFrom(b []byte) (int, net.Addr, error) {
	<-c.ears
	return c.PacketConn.ReadFrom(b)
}

// hear lets the client read what came (and comes) to its socket.
func (c *earlessConn) hear() { c.earsOnce.Do(func() { close(c.ears) }) }

func (c *earlessConn) Close() error {
	c.hear()
	return c.PacketConn.Close()
}

// startHandshake begins a QUIC handshake with the relay over pc and
// returns once its first packet is in the relay's socket (ahead of any
// connection begun after). The dial's result comes on the channel.
func startHandshake(ctx context.Context, t *testing.T, r *relaytest.Relay, pc *earlessConn) (*quic.Transport, chan dialResult) {
	t.Helper()
	addr, err := net.ResolveUDPAddr("udp", r.Addr)
	if err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: pc}
	t.Cleanup(func() {
		pc.Close() // first: the transport waits for its reader
		tr.Close()
	})
	done := make(chan dialResult, 1)
	go func() {
		conn, err := tr.Dial(ctx, addr, r.ClientTLS(), &quic.Config{EnableDatagrams: true, HandshakeIdleTimeout: time.Hour})
		done <- dialResult{conn, err}
	}()
	<-pc.wrote
	return tr, done
}

type dialResult struct {
	conn *quic.Conn
	err  error
}

// A client that gives up its handshake sends nothing more (a quic-go
// client whose dial timed out just stops; so does a phone that lost its
// network), so the relay's QUIC keeps the handshake until its login
// timeout. Before, that handshake kept its place among the relay's
// Config.MaxLogins logins under way all that time: a few of them (clients
// that gave up in a restart's login storm) refused every new login, seen
// as 7-8 s without a single login at a restarted relay. Now the place is
// given to the next login after Config.LoginPlaceTime, and a new client
// gets in while the relay still holds the abandoned handshake.
func TestAbandonedHandshakeFreesItsPlace(t *testing.T) {
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) {
		c.MaxLogins = 1
		c.LoginTimeout = time.Hour // the relay keeps the abandoned handshake all along
		c.LoginPlaceTime = 50 * time.Millisecond
	}))
	r.AddUser("alice", "pa", 0)
	ctx := testCtx(t)

	pc := newEarlessConn(t)
	dctx, giveUp := context.WithCancel(ctx)
	tr, dialed := startHandshake(dctx, t, r, pc)
	giveUp()
	if res := <-dialed; res.err == nil {
		res.conn.CloseWithError(0, "")
		t.Fatal("the handshake completed though its client heard nothing")
	}
	pc.Close() // the client and its socket are gone
	tr.Close()

	c, err := dialRelay(t, r.Addr, r.Fingerprint, "alice", "pa", "lobby", func(c *Config) { c.Reconnect = true })
	if err != nil {
		t.Fatalf("login after another client gave up its handshake: %v", err)
	}
	if ch, ok := c.Channel(); !ok || ch.Name != "lobby" {
		t.Errorf("in %+v %v", ch, ok)
	}
	// (The new client's own login may outlive its place too on a busy
	// machine.)
	if st := r.Stats(); st.LoginPlacesExpired == 0 {
		t.Errorf("relay: no login place expired, want the abandoned handshake's")
	}
}

// A slow client (its network holds the relay's answers back for longer
// than Config.LoginPlaceTime) loses its place among the logins under way
// but not its login: another client gets in meanwhile, and once the slow
// one hears the relay it finishes its handshake and logs in.
func TestSlowLoginOutlivesItsPlace(t *testing.T) {
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) {
		c.MaxLogins = 1
		c.LoginPlaceTime = 50 * time.Millisecond
		c.LoginTimeout = time.Hour // however long the test takes to let it hear
	}))
	r.AddUser("slow", "ps", 0)
	r.AddUser("alice", "pa", 0)
	ctx := testCtx(t)

	pc := newEarlessConn(t)
	_, dialed := startHandshake(ctx, t, r, pc)
	r.WaitStats(t, "the slow login's place given up", func(s relay.Stats) bool { return s.LoginPlacesExpired == 1 })

	// The place is free: no retry needed.
	c, err := dialRelay(t, r.Addr, r.Fingerprint, "alice", "pa", "lobby", nil)
	if err != nil {
		t.Fatalf("login while a slow one is under way without its place: %v", err)
	}
	c.Close()

	pc.hear()
	res := <-dialed
	if res.err != nil {
		t.Fatalf("the slow client's handshake: %v", res.err)
	}
	defer res.conn.CloseWithError(0, "")
	st, err := res.conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	b, _ = proto.AppendMessage(b, proto.NewHello("slow"))
	b, _ = proto.AppendMessage(b, &proto.Auth{Name: "slow", Password: "ps"})
	if _, err := st.Write(b); err != nil {
		t.Fatal(err)
	}
	rd := proto.NewReader(st)
	for {
		m, err := rd.Next()
		if err != nil {
			t.Fatalf("the slow client's login: %v", err)
		}
		if w, ok := m.(*proto.Welcome); ok {
			if w.Name != "slow" {
				t.Errorf("welcome %+v", w)
			}
			break
		}
		if e, ok := m.(*proto.Error); ok {
			t.Fatalf("the slow client's login refused: %+v", e)
		}
	}
}

// The relay's door grows while logins finish promptly: a restarted relay
// that admitted only Config.MaxLogins at a time idled while a thousand
// clients waited out random backoffs after refusals. Here one place to
// start with; after a prompt login a second login is admitted while a
// connection that never logs in holds the first (before: refused as busy).
func TestDoorGrowsWithPromptLogins(t *testing.T) {
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) {
		c.MaxLogins = 1
		c.MaxLoginsGrown = 2
		c.LoginPlaceTime = time.Hour // (see TestAbandonedHandshakeFreesItsPlace)
		c.PromptLogin = time.Hour    // every login here is prompt, however busy the machine
	}))
	r.AddUser("alice", "pa", 0)
	ctx := testCtx(t)
	if st := r.Stats(); st.LoginPlaces != 1 {
		t.Fatalf("the door starts with %d places, want Config.MaxLogins (1)", st.LoginPlaces)
	}
	c, err := dialRelay(t, r.Addr, r.Fingerprint, "alice", "pa", "lobby", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	r.WaitStats(t, "a second place after a prompt login", func(s relay.Stats) bool { return s.LoginPlaces == 2 })

	// A connection that never logs in holds one place.
	qc, err := quic.DialAddr(ctx, r.Addr, r.ClientTLS(), &quic.Config{EnableDatagrams: true})
	if err != nil {
		t.Fatal(err)
	}
	defer qc.CloseWithError(0, "")
	c, err = dialRelay(t, r.Addr, r.Fingerprint, "alice", "pa", "lobby", nil)
	if err != nil {
		t.Fatalf("login while one other is under way, with two places: %v", err)
	}
	c.Close()
	if st := r.Stats(); st.ConnRefused["busy"] != 0 || st.LoginPlacesMost != 2 {
		t.Errorf("relay: refused %v, at most %d places; want none refused and 2 places (Config.MaxLoginsGrown)", st.ConnRefused, st.LoginPlacesMost)
	}
}

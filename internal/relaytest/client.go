package relaytest

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/hark-intercom/hark/proto"
	"github.com/quic-go/quic-go"
)

// WaitTimeout bounds every wait of the raw client helpers. A wait that runs
// out fails the test; it is a safety net, not a timing assertion.
var WaitTimeout = 10 * time.Second

// Client is a bare protocol client for tests: it logs in and then exposes
// the control messages and voice datagrams it receives, in order. It is not
// the client library (internal/client); it does exactly what the test says
// and nothing more (no reconnects, no floor logic).
type Client struct {
	Conn    *quic.Conn
	Stream  *quic.Stream
	Welcome *proto.Welcome // the relay's welcome
	// Version is the protocol version negotiated with the relay; Send
	// encodes for it. Set during login, then read-only.
	Version uint16

	msgs  chan proto.Message // control messages after Welcome, in order
	voice chan []byte        // datagrams received (nil with NoVoiceReader)
	done  chan struct{}      // closed when both readers have stopped
	label string

	wmu sync.Mutex // serializes writes to Stream

	mu  sync.Mutex
	bye *proto.Bye // guarded by mu: the Bye received, if any
}

// DialOptions tune [Relay.DialWith].
type DialOptions struct {
	// NoVoiceReader leaves datagrams unread: the client stalls as a listener
	// (quic-go's receive queue fills and it drops).
	NoVoiceReader bool
	// Version makes the client speak only this protocol version (its Hello
	// names it as both lowest and highest); 0: every version proto speaks.
	Version uint16
	// Queue is the length of the message and voice buffers (0: 100000).
	Queue int
	// Addr dials this address instead of the relay's (e.g. a test proxy).
	Addr string
	// NoControlReader leaves the control stream unread after login: the
	// client stops reading the relay's messages.
	NoControlReader bool
	// Ticket is a resume ticket to present in Auth (see proto.Ticket).
	Ticket []byte
	// Away is Auth.Away: milliseconds the client says it was away.
	Away uint32
	// Without are features the client does not offer in its Hello (as an
	// older client would not).
	Without proto.Features
}

// Dial logs in as name with password and fails the test if it cannot. The
// client is closed by t.Cleanup.
func (r *Relay) Dial(t testing.TB, name, password string) *Client {
	t.Helper()
	return r.DialWith(t, name, password, DialOptions{})
}

// DialWith is Dial with options.
func (r *Relay) DialWith(t testing.TB, name, password string, o DialOptions) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	c, err := r.TryDial(ctx, name, password, o)
	if err != nil {
		t.Fatalf("login as %s: %v", name, err)
	}
	t.Cleanup(func() { c.Close(); CheckLeaks(t, c.label) })
	return c
}

// TryDial connects and logs in; a refusal is returned as the relay's
// *proto.Error. The caller closes the client.
func (r *Relay) TryDial(ctx context.Context, name, password string, o DialOptions) (*Client, error) {
	c := &Client{label: fmt.Sprintf("client-%d", seq.Add(1)), done: make(chan struct{})}
	var err error
	pprof.Do(ctx, pprof.Labels("hark_relaytest", c.label), func(ctx context.Context) {
		addr := r.Addr
		if o.Addr != "" {
			addr = o.Addr
		}
		err = c.login(ctx, addr, r, name, password, o)
	})
	if err != nil {
		if c.Conn != nil {
			c.Conn.CloseWithError(0, "login failed")
		}
		return nil, err
	}
	return c, nil
}

func (c *Client) login(ctx context.Context, addr string, r *Relay, name, password string, o DialOptions) error {
	conn, err := quic.DialAddr(ctx, addr, r.ClientTLS(), &quic.Config{
		EnableDatagrams: true, MaxIdleTimeout: 30 * time.Second, KeepAlivePeriod: 5 * time.Second,
	})
	if err != nil {
		return err
	}
	c.Conn = conn
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	c.Stream = st
	hello := proto.NewHello("relaytest")
	if o.Version != 0 {
		hello.Version, hello.MaxVersion = o.Version, o.Version
	}
	hello.Features &^= o.Without
	c.Version = proto.Version // Hello and Auth read the same in every version
	if err := c.Send(hello); err != nil {
		return err
	}
	if err := c.Send(&proto.Auth{Name: name, Password: password, Ticket: o.Ticket, Away: o.Away}); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		st.SetReadDeadline(dl)
	}
	rd := proto.NewReader(st)
	for c.Welcome == nil {
		m, err := rd.Next()
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *proto.Hello:
			v, _, ok := proto.Negotiate(hello, m)
			if !ok {
				lo, hi := m.Versions()
				return fmt.Errorf("the relay speaks protocol versions %d to %d, none of ours", lo, hi)
			}
			c.Version = v
			rd.SetVersion(v)
		case *proto.Welcome:
			c.Welcome = m
		case *proto.Error:
			return m
		default:
			return fmt.Errorf("unexpected %v during login", m.Type())
		}
	}
	st.SetReadDeadline(time.Time{})
	q := o.Queue
	if q == 0 {
		q = 100000
	}
	c.msgs = make(chan proto.Message, q)
	var wg sync.WaitGroup
	wg.Add(1)
	if o.NoControlReader {
		go func() {
			defer wg.Done()
			defer close(c.msgs)
			<-conn.Context().Done()
		}()
	} else {
		go c.readControl(&wg, rd)
	}
	if !o.NoVoiceReader {
		c.voice = make(chan []byte, q)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b, err := conn.ReceiveDatagram(context.Background())
				if err != nil {
					return
				}
				select {
				case c.voice <- b:
				default:
				}
			}
		}()
	}
	go func() { wg.Wait(); close(c.done) }()
	return nil
}

// Session is the client's session id.
func (c *Client) Session() uint32 { return c.Welcome.Session }

// Send writes one control message, encoded for the negotiated version.
func (c *Client) Send(m proto.Message) error {
	b, err := proto.AppendMessageFor(nil, m, c.Version)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	// A relay that stopped reading this stream (flow control full) would
	// otherwise block the test until go test's timeout, naming nothing.
	c.Stream.SetWriteDeadline(time.Now().Add(WaitTimeout))
	defer c.Stream.SetWriteDeadline(time.Time{})
	_, err = c.Stream.Write(b)
	return err
}

// SendRawControl writes bytes as they are to the control stream (for
// malformed-message tests).
func (c *Client) SendRawControl(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.Stream.Write(b)
	return err
}

// MustSend writes one control message or fails the test.
func (c *Client) MustSend(t testing.TB, m proto.Message) {
	t.Helper()
	if err := c.Send(m); err != nil {
		t.Fatalf("send %v: %v", m.Type(), err)
	}
}

// SendVoice sends one voice datagram.
func (c *Client) SendVoice(h proto.VoiceHeader, payload []byte) error {
	return c.Conn.SendDatagram(proto.AppendVoice(nil, h, payload))
}

// SendRaw sends any bytes as a datagram.
func (c *Client) SendRaw(b []byte) error { return c.Conn.SendDatagram(b) }

// Next returns the next control message, failing the test after WaitTimeout
// or when the connection ends.
func (c *Client) Next(t testing.TB) proto.Message {
	t.Helper()
	tm := time.NewTimer(WaitTimeout)
	defer tm.Stop()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			t.Fatalf("connection ended while waiting for a message: %v", context.Cause(c.Conn.Context()))
		}
		return m
	case <-tm.C:
		t.Fatalf("no control message within %v", WaitTimeout)
	}
	return nil
}

// Wait reads control messages until one of type T for which match (if not
// nil) returns true, and returns it. Messages read before it are discarded.
// It fails the test after WaitTimeout.
func Wait[T proto.Message](t testing.TB, c *Client, match func(T) bool) T {
	t.Helper()
	var zero T
	tm := time.NewTimer(WaitTimeout)
	defer tm.Stop()
	var skipped []string
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				t.Fatalf("connection ended while waiting for %T (skipped %v): %v", zero, skipped, context.Cause(c.Conn.Context()))
			}
			if v, ok := m.(T); ok && (match == nil || match(v)) {
				return v
			}
			skipped = append(skipped, fmt.Sprintf("%v%+v", m.Type(), m))
		case <-tm.C:
			t.Fatalf("no %T within %v; skipped %v", zero, WaitTimeout, skipped)
			return zero
		}
	}
}

// Pending returns the control messages already received, without waiting.
func (c *Client) Pending() []proto.Message {
	var out []proto.Message
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				return out
			}
			out = append(out, m)
		default:
			return out
		}
	}
}

// RecvVoice returns the next voice datagram parsed, failing the test after
// WaitTimeout or if it does not parse.
func (c *Client) RecvVoice(t testing.TB) (proto.VoiceHeader, []byte) {
	t.Helper()
	b := c.RecvRaw(t)
	h, p, err := proto.ParseVoice(b)
	if err != nil {
		t.Fatalf("received a bad voice datagram: %v", err)
	}
	return h, p
}

// RecvRaw returns the next datagram.
func (c *Client) RecvRaw(t testing.TB) []byte {
	t.Helper()
	if c.voice == nil {
		t.Fatal("RecvRaw on a client dialled with NoVoiceReader")
	}
	tm := time.NewTimer(WaitTimeout)
	defer tm.Stop()
	select {
	case b := <-c.voice:
		return b
	case <-tm.C:
		t.Fatalf("no datagram within %v", WaitTimeout)
	}
	return nil
}

// VoicePending is the number of datagrams received and not yet read.
func (c *Client) VoicePending() int { return len(c.voice) }

// Join joins a channel and returns the relay's Joined.
func (c *Client) Join(t testing.TB, channel string) *proto.Joined {
	t.Helper()
	c.MustSend(t, &proto.Join{Channel: channel})
	return Wait[*proto.Joined](t, c, nil)
}

// Bye returns the Bye the relay sent, or nil.
func (c *Client) Bye() *proto.Bye {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bye
}

// Done is closed when the client's readers stopped (the connection ended).
func (c *Client) Done() <-chan struct{} { return c.done }

// WaitClosed waits until the connection ended and returns the Bye if one
// came (or nil), failing the test after WaitTimeout.
func (c *Client) WaitClosed(t testing.TB) *proto.Bye {
	t.Helper()
	tm := time.NewTimer(WaitTimeout)
	defer tm.Stop()
	select {
	case <-c.done:
	case <-tm.C:
		t.Fatalf("connection still open after %v", WaitTimeout)
	}
	return c.Bye()
}

// Close closes the connection and waits for the client's goroutines.
func (c *Client) Close() {
	c.Conn.CloseWithError(0, "client closed")
	<-c.done
}

// readControl reads control messages into c.msgs until the stream ends; it
// closes the connection after a Bye.
func (c *Client) readControl(wg *sync.WaitGroup, rd *proto.Reader) {
	defer wg.Done()
	defer close(c.msgs)
	conn := c.Conn
	for {
		m, err := rd.Next()
		if err != nil {
			if proto.IsFramingError(err) || errors.Is(err, context.Canceled) || conn.Context().Err() != nil {
				return
			}
			continue
		}
		if b, ok := m.(*proto.Bye); ok {
			c.mu.Lock()
			c.bye = b
			c.mu.Unlock()
		}
		select {
		case c.msgs <- m:
		default: // a test that lets this overflow does not read messages
		}
		if _, ok := m.(*proto.Bye); ok {
			conn.CloseWithError(0, "bye received")
			return
		}
	}
}

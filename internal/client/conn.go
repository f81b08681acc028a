package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/hark-intercom/hark/internal/knownrelays"
	"github.com/hark-intercom/hark/proto"
)

// QUIC settings of the client's connection. The idle timeout is a backstop:
// the pings (Config.PingTimeout) notice a silent relay much sooner.
const (
	keepAlivePeriod = 5 * time.Second
	maxIdleTimeout  = 20 * time.Second
	// minHandshakeIdle ends a first connection attempt when nothing came
	// back from the relay for this long during the QUIC handshake, so that
	// an attempt made while the relay was down does not wait out QUIC's
	// growing retransmission intervals (0.3, 0.6, 1.2 s…): the next
	// attempt starts afresh. It doubles with each failed attempt after
	// the fourth.
	minHandshakeIdle = time.Second
	// pingPadding pads pings so the packet carrying one is over the 42
	// bytes below which quic-go sends no stateless reset (see proto.Ping).
	pingPadding = 24
)

// conn is one QUIC connection to the relay, from login to loss. A Client
// replaces it on reconnection.
type conn struct {
	qc          *quic.Conn
	st          *quic.Stream
	rd          *proto.Reader
	welcome     proto.Welcome
	joined      proto.ChannelInfo
	inChannel   bool
	fingerprint string
	early       []proto.Message // received during the handshake; handled by install
	preJoin     bool            // install is handling early messages that predate Joined
	// version is the protocol version negotiated in Hello (proto.Negotiate);
	// write encodes for it. Set by handshake, then read-only.
	version uint16
	// features are the features both sides offered (proto.Negotiate). Set
	// by handshake, then read-only.
	features proto.Features
	// presenceParts gathers a presence snapshot that comes in parts (More
	// set on all but the last). Used only by Client.handle, which runs for
	// one conn on one goroutine at a time (install, then the reader).
	presenceParts []proto.UserInfo
	resumed       bool // the login presented a resume ticket

	heard atomic.Int64 // unix ns when anything last came from the relay
	// The last pings' nonces and send times (unix ns), by nonce % 8.
	pingNonces [8]atomic.Uint64
	pingTimes  [8]atomic.Int64

	wmu  sync.Mutex // guards writes to st and wbuf
	wbuf []byte

	sendq chan sendItem // voice datagrams for sendLoop

	errMu sync.Mutex // guards err
	err   error      // why the connection ended (first cause wins)

	once    sync.Once
	done    chan struct{} // closed when the connection is finished
	stopped chan struct{} // closed when all its goroutines have returned
	wg      sync.WaitGroup
}

// sendItem is a voice datagram to send, or (flush != nil) a marker closed
// when everything queued before it has been handed to QUIC.
type sendItem struct {
	buf   *[]byte
	flush chan struct{}
}

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, proto.VoiceHeaderLen+proto.MaxVoicePayload)
	return &b
}}

// connect makes one connection: QUIC+TLS with the fingerprint check, Hello,
// Auth, Welcome and Join. The returned conn is not started. silent counts
// the failed attempts before this one that the relay did not answer at
// all (see handshakeWait). patient says the relay is known to
// be up (it answered the last attempt, or ended the last connection with a
// stateless reset): the QUIC handshake then gets all of DialTimeout, since
// a relay that is up and slow to answer is busy, and abandoning a
// handshake it has begun only makes it do another one.
func (c *Client) connect(ctx context.Context, silent int, patient bool) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()

	var vmu sync.Mutex // guards verifyErr, seen, tofu (set on quic's goroutine)
	var verifyErr error
	var seen string
	var tofu bool
	host, _, _ := net.SplitHostPort(c.Relay())
	tlsConf := &tls.Config{
		// Chain verification is replaced by the fingerprint check in
		// VerifyConnection, which runs on every handshake: a relay whose
		// certificate is neither pinned nor recorded-or-new is refused.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS13,
		NextProtos:         []string{proto.ALPN},
		VerifyConnection: func(cs tls.ConnectionState) error {
			vmu.Lock()
			defer vmu.Unlock()
			if len(cs.PeerCertificates) == 0 {
				verifyErr = fmt.Errorf("the relay at %s presented no certificate", c.Relay())
				return verifyErr
			}
			seen = knownrelays.Fingerprint(cs.PeerCertificates[0].Raw)
			tofu, verifyErr = c.checkFingerprint(seen)
			return verifyErr
		},
	}
	if net.ParseIP(host) == nil {
		tlsConf.ServerName = host
	}
	handshakeIdle := handshakeWait(c.cfg.DialTimeout, silent, patient)
	qc, err := dialQUIC(ctx, c.Relay(), tlsConf, &quic.Config{
		EnableDatagrams:      true,
		KeepAlivePeriod:      keepAlivePeriod,
		MaxIdleTimeout:       maxIdleTimeout,
		HandshakeIdleTimeout: handshakeIdle,
	})
	vmu.Lock()
	vErr, fp, isNew := verifyErr, seen, tofu
	vmu.Unlock()
	if err != nil {
		if vErr != nil {
			return nil, vErr
		}
		var te *quic.TransportError
		var ht *quic.HandshakeTimeoutError
		var it *quic.IdleTimeoutError
		if ctx.Err() != nil && parentDone(ctx) {
			return nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ht) || errors.As(err, &it) {
			err = errNoAnswer
		} else if errors.As(err, &te) && te.Remote && te.ErrorCode == quic.ConnectionRefused {
			// The relay is up and refused before the handshake: too many
			// logins under way (or it is shutting down).
			return nil, errRefused
		} else if errors.As(err, &te) && te.ErrorCode.IsCryptoError() {
			err = fmt.Errorf("TLS handshake failed (is it a Hark relay speaking %s?): %w", proto.ALPN, err)
		}
		return nil, &UnreachableError{Relay: c.Relay(), Err: err}
	}
	if !qc.ConnectionState().SupportsDatagrams.Remote {
		qc.CloseWithError(0, "datagrams needed")
		return nil, &UnreachableError{Relay: c.Relay(), Err: errors.New("the relay does not accept QUIC datagrams, which carry voice")}
	}
	cn := &conn{
		qc:          qc,
		fingerprint: fp,
		sendq:       make(chan sendItem, c.cfg.SendQueue),
		done:        make(chan struct{}),
		stopped:     make(chan struct{}),
	}
	if err := c.handshake(ctx, cn, fp, isNew); err != nil {
		qc.CloseWithError(0, "")
		return nil, err
	}
	return cn, nil
}

// handshakeWait is the QUIC handshake idle timeout of an attempt after
// silent attempts that the relay did not answer at all (see connect):
// minHandshakeIdle for the first four, then doubling up to dialTimeout;
// all of dialTimeout when patient.
func handshakeWait(dialTimeout time.Duration, silent int, patient bool) time.Duration {
	if patient {
		return dialTimeout
	}
	return min(dialTimeout, minHandshakeIdle<<min(max(silent-3, 0), 8))
}

// silentAttempt reports whether a failed attempt got no answer at all
// from the relay in its handshake time: those grow the next attempts'
// handshake timeout. An attempt answered with "port unreachable" (nothing
// listens: the relay is restarting) does not: it failed at once, and
// counting it made the first attempt to the restarted relay wait up to
// the whole dial timeout when its first packet was lost in the moment the
// relay was starting (seen: 5 s of a SIGTERM restart's 7.6 s).
func silentAttempt(err error) bool {
	return errors.Is(err, errNoAnswer) && !errors.Is(err, errNoListener)
}

// errRestarted: the relay answered with a stateless reset (it restarted).
var errRestarted = errors.New("the relay restarted (it no longer knew this connection)")

// errLoginStalled: the QUIC handshake was done, the login did not finish.
var errLoginStalled = errors.New("the relay stopped answering")

// errNoAnswer: the relay did not answer the QUIC handshake at all.
var errNoAnswer = errors.New("no answer")

// errRefused: the relay refused the connection before the handshake
// (QUIC's CONNECTION_REFUSED). Transient: the client retries.
var errRefused = &RelayError{Code: proto.CodeUnavailable,
	Text: "it is busy with other logins (or shutting down): trying again in a moment"}

// closedByRelay returns the relay's own reason when it closed qc with a
// code (a Bye in QUIC's CONNECTION_CLOSE: shutting down, say), else nil.
func closedByRelay(qc *quic.Conn, err error) error {
	var ae *quic.ApplicationError
	if !errors.As(err, &ae) && !errors.As(context.Cause(qc.Context()), &ae) {
		return nil
	}
	if !ae.Remote || ae.ErrorCode == 0 {
		return nil
	}
	return &RelayError{Code: proto.Code(ae.ErrorCode), Text: ae.ErrorMessage, Bye: true}
}

// parentDone reports whether ctx ended because its parent did (the caller
// gave up), rather than by the dial timeout.
func parentDone(ctx context.Context) bool {
	return context.Cause(ctx) == context.Canceled
}

// checkFingerprint decides whether a presented fingerprint is trusted.
// tofu is true when the relay is new and will be recorded after login.
func (c *Client) checkFingerprint(got string) (tofu bool, err error) {
	if want := c.cfg.Fingerprint; want != "" {
		if !strings.HasPrefix(want, "SHA256:") {
			want = "SHA256:" + want
		}
		if strings.TrimRight(want, "=") != got {
			return false, &FingerprintError{Relay: c.Relay(), Want: c.cfg.Fingerprint, Got: got}
		}
		return false, nil
	}
	known, err := c.known.Check(c.Relay(), got)
	var me *knownrelays.MismatchError
	if errors.As(err, &me) {
		return false, &FingerprintError{Relay: c.Relay(), Want: me.Known.Fingerprint, Got: got, Known: me}
	}
	if err != nil {
		return false, err
	}
	return !known, nil
}

func (c *Client) handshake(ctx context.Context, cn *conn, fp string, tofu bool) error {
	st, err := cn.qc.OpenStreamSync(ctx)
	if err != nil {
		return &UnreachableError{Relay: c.Relay(), Err: err}
	}
	cn.st = st
	cn.rd = proto.NewReader(st)
	cn.version = proto.Version // Hello and Auth read the same in every version
	if dl, ok := ctx.Deadline(); ok {
		st.SetDeadline(dl)
	}
	hello := proto.NewHello(c.cfg.Software)
	if c.cfg.NoAlarms {
		hello.Features &^= proto.FeatureAlarm
	}
	if err := cn.write(hello); err != nil {
		if rerr := closedByRelay(cn.qc, err); rerr != nil {
			return rerr
		}
		return &UnreachableError{Relay: c.Relay(), Err: err}
	}
	auth := &proto.Auth{Name: c.cfg.Name, Password: c.cfg.Password}
	c.mu.Lock()
	if c.ticket != nil && time.Now().Before(c.ticketUntil) {
		// The relay skips the password check for a valid ticket, and
		// checks the password sent along otherwise.
		auth.Ticket = c.ticket
		cn.resumed = true
	}
	if !c.awayFrom.IsZero() {
		// A reconnection: the relay sends what was said meanwhile.
		auth.Away = uint32(min(max(time.Since(c.awayFrom), time.Millisecond)/time.Millisecond, math.MaxUint32))
	}
	c.mu.Unlock()
	if err := cn.write(auth); err != nil {
		return &UnreachableError{Relay: c.Relay(), Err: err}
	}
	// next reads until one of the wanted types, keeping others for later.
	next := func(step string, want ...proto.MsgType) (proto.Message, error) {
		for {
			m, err := cn.rd.Next()
			if err != nil {
				// Only a message that did not parse leaves the stream
				// usable; anything else (the connection closed, reset
				// by a restarted relay, timed out) ends the attempt.
				if rerr := closedByRelay(cn.qc, err); rerr != nil {
					return nil, rerr
				}
				if proto.IsFramingError(err) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) ||
					isStreamGone(err) || cn.qc.Context().Err() != nil {
					return nil, &UnreachableError{Relay: c.Relay(), Err: fmt.Errorf("%w during %s: %w", errLoginStalled, step, err)}
				}
				c.badMessages.Add(1)
				c.log.Warn("bad message from the relay skipped", "err", err)
				continue
			}
			switch m := m.(type) {
			case *proto.Error:
				if step == "join" && m.About != proto.TypeJoin && m.About != 0 {
					cn.early = append(cn.early, m)
					continue
				}
				return m, nil
			case *proto.Bye:
				return nil, &RelayError{Code: m.Code, Text: m.Text, Bye: true}
			}
			for _, t := range want {
				if m.Type() == t {
					return m, nil
				}
			}
			cn.early = append(cn.early, m)
		}
	}
	m, err := next("login", proto.TypeHello)
	if err != nil {
		return err
	}
	if e, ok := m.(*proto.Error); ok {
		return c.errorFor(e, "log in")
	}
	relayHello := m.(*proto.Hello)
	v, feats, ok := proto.Negotiate(hello, relayHello)
	if !ok {
		// The relay refuses first; this is for one that does not.
		lo, hi := relayHello.Versions()
		return &RelayError{Code: proto.CodeVersion, About: proto.TypeHello, Text: fmt.Sprintf(
			"the relay speaks protocol versions %d to %d and this program %d to %d: update the older of the two",
			lo, hi, proto.MinVersion, proto.Version)}
	}
	cn.version = v
	cn.features = feats
	cn.rd.SetVersion(v)
	if v != proto.Version {
		c.log.Info("the relay is older than this program: speaking its protocol version", "version", v, "ours", proto.Version, "relay_software", relayHello.Software)
	}
	m, err = next("login", proto.TypeWelcome)
	if err != nil {
		return err
	}
	if e, ok := m.(*proto.Error); ok {
		return c.errorFor(e, "log in")
	}
	cn.welcome = *m.(*proto.Welcome)
	// The relay accepted the login: the session exists. Give the join the
	// time of a request rather than what is left of the dial timeout; a
	// busy relay answers late, and abandoning the session now would only
	// make it do the login again.
	st.SetDeadline(time.Now().Add(c.cfg.RequestTimeout))
	if tofu {
		if err := c.known.Add(c.Relay(), fp); err != nil {
			c.log.Warn("could not record the relay's fingerprint", "err", err)
		} else {
			c.log.Warn("trusting a relay seen for the first time; fingerprint recorded",
				"fingerprint", fp, "file", c.known.Path())
		}
	}

	c.mu.Lock()
	channel := c.channel
	c.mu.Unlock()
	if channel == "" {
		channel = cn.welcome.DefaultChannel
	}
	if channel == "" {
		return nil
	}
	if err := cn.write(&proto.Join{Channel: channel}); err != nil {
		return &UnreachableError{Relay: c.Relay(), Err: err}
	}
	m, err = next("join", proto.TypeJoined)
	if err != nil {
		return err
	}
	if e, ok := m.(*proto.Error); ok {
		c.mu.Lock()
		c.welcome = cn.welcome // for the channel list in the message
		c.mu.Unlock()
		return c.joinError(channel, e)
	}
	cn.joined = m.(*proto.Joined).ChannelInfo
	cn.inChannel = true
	st.SetDeadline(time.Time{})
	c.sendMonitor(cn)
	return nil
}

// sendMonitor asks a new connection's relay for the monitored channels;
// its answer is handled with the other messages (Client.handle).
func (c *Client) sendMonitor(cn *conn) {
	c.mu.Lock()
	mon := c.monitor
	c.mu.Unlock()
	if len(mon) == 0 {
		return
	}
	if cn.features&proto.FeatureMonitor == 0 {
		c.log.Warn("the relay cannot let you listen to other channels (it is older than this program)", "channels", mon)
		return
	}
	if err := cn.write(&proto.Monitor{Channels: mon}); err != nil {
		c.log.Warn("could not ask to listen to other channels", "err", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// write frames and sends one control message.
func (cn *conn) write(m proto.Message) error {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	b, err := proto.AppendMessageFor(cn.wbuf[:0], m, cn.version)
	if err != nil {
		return err
	}
	cn.wbuf = b
	if _, err := cn.st.Write(b); err != nil {
		return fmt.Errorf("sending %v to the relay: %w", m.Type(), err)
	}
	return nil
}

// setCause records why the connection ends, unless a cause is known.
func (cn *conn) setCause(err error) {
	if errors.Is(err, syscall.ECONNREFUSED) {
		err = errRelayGone // in words, without the socket's addresses
	}
	cn.errMu.Lock()
	if cn.err == nil {
		cn.err = err
	}
	cn.errMu.Unlock()
}

func (cn *conn) cause() error {
	cn.errMu.Lock()
	defer cn.errMu.Unlock()
	return cn.err
}

// close ends the connection (idempotent).
func (cn *conn) close(code quic.ApplicationErrorCode, why string) {
	cn.once.Do(func() {
		cn.setCause(errors.New("connection closed"))
		close(cn.done)
		cn.qc.CloseWithError(code, why)
	})
}

// start runs the connection's goroutines.
func (cn *conn) start(c *Client) {
	cn.wg.Add(4)
	go cn.readLoop(c)
	go cn.datagramLoop(c)
	go cn.sendLoop(c)
	go cn.pingLoop(c)
	go func() {
		cn.wg.Wait()
		close(cn.stopped)
	}()
}

func (cn *conn) readLoop(c *Client) {
	defer cn.wg.Done()
	for {
		m, err := cn.rd.Next()
		if err != nil {
			if proto.IsFramingError(err) || cn.qc.Context().Err() != nil || isStreamGone(err) {
				var ae *quic.ApplicationError
				var sr *quic.StatelessResetError
				cause := context.Cause(cn.qc.Context())
				if errors.As(cause, &sr) || errors.As(err, &sr) {
					cn.setCause(errRestarted)
				}
				if errors.As(cause, &ae) && ae.Remote && ae.ErrorCode != 0 {
					// The relay closed with a bye code; its Bye message, if
					// it arrived, was recorded first.
					cn.setCause(&RelayError{Code: proto.Code(ae.ErrorCode), Text: ae.ErrorMessage, Bye: true})
				}
				cn.setCause(fmt.Errorf("control stream ended: %w", err))
				cn.close(0, "")
				return
			}
			cn.heard.Store(time.Now().UnixNano())
			c.badMessages.Add(1)
			c.log.Warn("bad message from the relay skipped", "err", err)
			continue
		}
		// Something came. (The error that ends the connection is no sign
		// of life: heard also says since when the client was away, see
		// Client.awayFrom.)
		cn.heard.Store(time.Now().UnixNano())
		c.handle(cn, m)
	}
}

func isStreamGone(err error) bool {
	var se *quic.StreamError
	var ae *quic.ApplicationError
	var te *quic.TransportError
	var ie *quic.IdleTimeoutError
	var sr *quic.StatelessResetError
	return errors.As(err, &se) || errors.As(err, &ae) || errors.As(err, &te) || errors.As(err, &ie) ||
		errors.As(err, &sr) || isTimeout(err)
}

func (cn *conn) datagramLoop(c *Client) {
	defer cn.wg.Done()
	ctx := cn.qc.Context()
	for {
		b, err := cn.qc.ReceiveDatagram(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		cn.heard.Store(now.UnixNano())
		if len(b) > 0 && proto.DatagramKind(b[0]) == proto.KindProbe {
			c.probeReply(b, now)
			continue
		}
		h, payload, err := proto.ParseVoice(b)
		if err != nil {
			c.voiceBad.Add(1)
			continue
		}
		c.voiceRecv.Add(1)
		if c.cfg.OnVoice != nil {
			c.cfg.OnVoice(h, payload, time.Now())
		}
	}
}

func (cn *conn) sendLoop(c *Client) {
	defer cn.wg.Done()
	for {
		select {
		case <-cn.done:
			for {
				select {
				case it := <-cn.sendq:
					if it.flush != nil {
						close(it.flush)
					} else {
						bufPool.Put(it.buf)
					}
				default:
					return
				}
			}
		case it := <-cn.sendq:
			if it.flush != nil {
				close(it.flush)
				continue
			}
			if err := cn.qc.SendDatagram(*it.buf); err != nil {
				c.voiceDrop.Add(1)
				var tl *quic.DatagramTooLargeError
				if errors.As(err, &tl) {
					c.log.Warn("voice frame too large for the path; dropped", "bytes", len(*it.buf), "max", tl.MaxDatagramPayloadSize)
				}
			} else {
				c.voiceSent.Add(1)
			}
			bufPool.Put(it.buf)
		}
	}
}

// enqueue queues a datagram without blocking, dropping the oldest waiting
// one when the queue is full.
func (cn *conn) enqueue(c *Client, buf *[]byte) {
	for range 2 {
		select {
		case cn.sendq <- sendItem{buf: buf}:
			return
		default:
		}
		select {
		case old := <-cn.sendq:
			if old.flush != nil {
				close(old.flush)
			} else {
				bufPool.Put(old.buf)
				c.voiceDrop.Add(1)
			}
		default:
		}
	}
	bufPool.Put(buf)
	c.voiceDrop.Add(1)
}

// flush waits until everything queued so far has been handed to QUIC.
func (cn *conn) flush(ctx context.Context) error {
	ch := make(chan struct{})
	select {
	case cn.sendq <- sendItem{flush: ch}:
	case <-cn.done:
		return ErrConnectionLost
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ch:
		return nil
	case <-cn.done:
		return ErrConnectionLost
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pingLoop pings the relay every PingInterval and gives the connection up
// when nothing at all (message, datagram, QUIC packet) came from the relay
// for PingTimeout: a relay that crashed, hangs, or whose network is gone. A
// relay that restarted answers a ping with a stateless reset, which ends
// the connection at once (see readLoop).
func (cn *conn) pingLoop(c *Client) {
	defer cn.wg.Done()
	iv, base := c.cfg.PingInterval, c.cfg.PingTimeout
	now := time.Now()
	cn.heard.Store(now.UnixNano())
	nextPing := now.Add(iv)
	t := time.NewTimer(iv)
	defer t.Stop()
	// QUIC packets count as a sign of life too: a relay whose program is
	// slow (a login storm on a small machine) still acknowledges the
	// pings at once from its QUIC stack; only a relay that is gone does not.
	var packets uint64
	var sw stallWatch
	wakeAt := nextPing
	for {
		select {
		case <-cn.done:
			return
		case <-t.C:
		}
		now = time.Now()
		if p := cn.qc.ConnectionStats().PacketsReceived; p != packets {
			packets = p
			cn.heard.Store(now.UnixNano())
		}
		heard := time.Unix(0, cn.heard.Load())
		// A relay (or a machine) that answered slowly lately gets up to
		// twice PingTimeout, so a busy relay is not abandoned, which
		// would only add logins to its load.
		timeout := min(max(base, 4*time.Duration(c.slowRTT.Load())), 2*base)
		// Time this process did not run (the timer fired late) is not
		// the relay's silence: what it sent meanwhile may be unread yet.
		excused, recheck := sw.late(heard, wakeAt, now)
		timeout += excused
		if silent := now.Sub(heard); silent >= timeout {
			c.silentDrops.Add(1)
			cn.setCause(fmt.Errorf("the relay stopped answering: nothing from it for %v", silent.Round(time.Millisecond)))
			cn.close(0, "no answer")
			return
		}
		if !now.Before(nextPing) {
			n := c.pingNonce.Add(1)
			c.lastPingNo.Store(n)
			c.lastPingAt.Store(now.UnixNano())
			cn.pingTimes[n%8].Store(now.UnixNano())
			cn.pingNonces[n%8].Store(n)
			if err := cn.write(&proto.Ping{Nonce: n, Padding: pingPadding}); err != nil {
				cn.setCause(err)
				cn.close(0, "")
				return
			}
			// Nothing heard since the last ping: probe faster. Each probe
			// is another chance for a restarted relay to answer with a
			// stateless reset (it drops some when many arrive at once).
			if now.Sub(heard) > iv {
				nextPing = now.Add(iv / 4)
			} else {
				nextPing = now.Add(iv)
			}
		}
		wake := heard.Add(timeout)
		if nextPing.Before(wake) {
			wake = nextPing
		}
		if recheck && wake.Sub(now) < iv/4 {
			// Give the readers a moment to catch up after a stall.
			wake = now.Add(iv / 4)
		}
		wakeAt = wake
		t.Reset(wake.Sub(now))
	}
}

// stallSlack is how late a ping-loop timer may fire before the lateness
// counts as a stall of this process rather than scheduling noise.
const stallSlack = 100 * time.Millisecond

// stallWatch tells a client's own stall from a silent relay. When the
// process (or its machine) does not run for a while, the ping loop's timer
// fires late and what the relay sent meanwhile may still be unread in the
// socket: counting that time as the relay's silence made starved clients
// (1000 in one load-generator process on a busy machine) give up live
// sessions and log in again, more work for everyone (stalls of 6–10 s were
// seen at load 18 on two cores). So the lateness of each timer is excused
// from the silence since the last sign of life: a relay that is really
// gone is still noticed once the timeout has passed in time this process
// ran (each look adds to the silence more than the excuse: the part of
// its interval that was on time).
// The zero value is ready; used by one goroutine.
type stallWatch struct {
	since   time.Time     // the sign of life the excuse counts from
	excused time.Duration // stalled time excused since then
}

// late accounts for a timer due at due that fired at now, with the last
// sign of life at heard, and returns how much stalled time is excused from
// the silence since heard and whether this timer was late (then the caller
// should look again shortly, once the readers ran).
func (w *stallWatch) late(heard, due, now time.Time) (excused time.Duration, recheck bool) {
	if !heard.Equal(w.since) {
		w.since, w.excused = heard, 0
	}
	l := now.Sub(due)
	if l > stallSlack {
		// Only the stall after the last sign of life counts.
		if due.Before(heard) {
			l = now.Sub(heard)
		}
		w.excused += l
		recheck = true
	}
	return w.excused, recheck
}

// handle processes one control message from the relay: it answers a
// waiting request, updates state and queues an event.
// maxCallNames bounds Client.callNames.
const maxCallNames = 64

func (c *Client) handle(cn *conn, m proto.Message) {
	if p, ok := m.(*proto.Presence); ok {
		// A snapshot may come in parts: act on the whole.
		if p.More {
			cn.presenceParts = append(cn.presenceParts, p.Users...)
			return
		}
		if cn.presenceParts != nil {
			m = &proto.Presence{Users: append(cn.presenceParts, p.Users...)}
			cn.presenceParts = nil
		}
	}
	c.mu.Lock()
	var w *waiter
	partial := false
	for i, x := range c.waiters {
		if x.cn == cn && x.match(m) {
			w = x
			if x.partial != nil && x.partial(m) {
				x.parts = append(x.parts, m)
				partial = true
			} else {
				c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			}
			break
		}
	}
	c.mu.Unlock()
	if partial {
		return
	}
	if w != nil {
		w.ch <- m // cap 1, one send per waiter
	}
	if w == nil && c.handleHistory(cn, m) {
		return
	}

	switch m := m.(type) {
	case *proto.Ticket:
		if len(m.Ticket) > 0 && m.Lifetime > 0 {
			c.mu.Lock()
			c.ticket = m.Ticket
			// A little less than the relay says: our clock counts from
			// when it arrived.
			life := time.Duration(m.Lifetime) * time.Second
			c.ticketUntil = time.Now().Add(life - life/16)
			c.mu.Unlock()
		}
	case *proto.Ping:
		if err := cn.write(&proto.Pong{Nonce: m.Nonce}); err != nil {
			c.log.Debug("pong not sent", "err", err)
		}
	case *proto.Pong:
		if i := m.Nonce % 8; cn.pingNonces[i].Load() == m.Nonce {
			rtt := time.Now().UnixNano() - cn.pingTimes[i].Load()
			c.rtt.Store(rtt)
			old := c.slowRTT.Load()
			c.slowRTT.Store(max(rtt, old-old/8))
		}
	case *proto.Presence:
		c.mu.Lock()
		c.roster.Apply(m)
		if !cn.preJoin {
			select {
			case <-c.presenceReady:
			default:
				close(c.presenceReady)
			}
		}
		c.mu.Unlock()
		c.events.push(Event{Msg: m})
	case *proto.PresenceChange:
		c.mu.Lock()
		c.roster.Apply(m)
		c.mu.Unlock()
		c.events.push(Event{Msg: m})
	case *proto.Talking:
		c.mu.Lock()
		c.roster.Apply(m)
		if t := c.ending; t != nil && !m.Talking && !t.page && m.Session == t.session {
			t.confirmEnd()
		}
		c.mu.Unlock()
		c.events.push(Event{Msg: m})
	case *proto.Joined:
		c.mu.Lock()
		if c.cur == cn {
			c.joined = m.ChannelInfo
			c.inChannel = true
			c.channel = m.Name
			c.roster.Apply(m)
		}
		c.mu.Unlock()
		c.events.push(Event{Msg: m})
	case *proto.Page:
		c.mu.Lock()
		if t := c.ending; t != nil && !m.Active && t.page && m.From == t.session {
			t.confirmEnd()
		}
		c.mu.Unlock()
		c.events.push(Event{Msg: m})
	case *proto.Text, *proto.Ring, *proto.AlarmAck:
		c.events.push(Event{Msg: m})
	case *proto.Monitoring:
		c.mu.Lock()
		if c.cur == cn || c.cur == nil {
			c.monitored = m.Channels
		}
		c.mu.Unlock()
		c.events.push(Event{Msg: m})
	case *proto.Whisper:
		c.mu.Lock()
		if m.Active {
			if c.callNames == nil || len(c.callNames) >= maxCallNames {
				c.callNames = make(map[uint32]string) // bounded: only recent calls matter
			}
			c.callNames[m.From], c.callNames[m.To] = m.FromName, m.ToName
		}
		if t := c.ending; t != nil && !m.Active && t.whisper && m.From == t.session {
			t.confirmEnd()
		}
		c.mu.Unlock()
		c.events.push(Event{Msg: m})
	case *proto.History:
		c.rememberItems(m.Items)
		if w == nil && m.Flags&proto.HistoryAway != 0 {
			// Transmissions said while reconnecting: the front end plays
			// them (history.AwayPlayer).
			c.events.push(Event{Msg: m})
		}
		if w == nil && m.Flags&proto.HistoryMissed != 0 {
			c.mu.Lock()
			c.hist.missed = append(c.hist.missed, m.Items...)
			c.hist.missedMore = m.More
			if c.cur == cn {
				select {
				case <-c.hist.missedReady:
				default:
					close(c.hist.missedReady)
				}
			}
			c.mu.Unlock()
			c.events.push(Event{Msg: m})
		}
	case *proto.Error:
		if w != nil {
			return
		}
		if m.About == proto.TypeFloorRelease || m.About == proto.TypePageStop {
			c.log.Debug("relay: release refused (the end flag already released)", "text", m.Text)
			return
		}
		c.mu.Lock()
		tx := c.tx
		c.mu.Unlock()
		attrs := []any{"code", int(m.Code), "text", m.Text}
		if m.About != 0 {
			attrs = append(attrs, "about", m.About.String())
		}
		switch cut := cutError(m); {
		case tx != nil && cut != nil:
			// Send and End report it to the caller.
			tx.cut(cut)
			c.log.Info("transmission cut off by the relay", attrs...)
		case tx != nil && (m.About == proto.TypeFloorRequest || m.About == proto.TypePageStart):
			tx.cut(&RelayError{Code: m.Code, About: m.About, Text: m.Text})
			c.log.Warn("relay reported an error", attrs...)
		default:
			c.log.Warn("relay reported an error", attrs...)
		}
		c.events.push(Event{Msg: m})
	case *proto.Bye:
		cn.setCause(&RelayError{Code: m.Code, Text: m.Text, Bye: true})
		c.log.Info("relay ended the session", "code", int(m.Code), "text", m.Text)
		c.events.push(Event{Msg: m})
	default:
		if w == nil {
			c.log.Debug("unexpected message from the relay ignored", "type", m.Type())
		}
	}
}

// Package client is Hark's client library: it connects to a relay over QUIC,
// logs in, joins a channel, sends and receives voice, and reports what
// happens (presence, talkers, text, rings, pages, connection state). The
// `talk` command and the gateway (one Client per browser user) both use it.
//
// # Trust
//
// The relay's certificate is checked by fingerprint, never by nothing:
// either Config.Fingerprint pins it, or the known-relays file (see package
// knownrelays) records it on first use and refuses loudly when it changes.
//
// # Concurrency
//
// A Client is safe for concurrent use. Requests that wait for the relay's
// answer (Join, Talk, Page, Text, Ring, Sessions, Kick) are serialised.
// Events are delivered in order to Config.OnEvent on one goroutine of their
// own; voice is delivered to Config.OnVoice on the datagram reader goroutine
// (see the contract there). Neither handler is ever called with a lock held.
//
// # Reconnection
//
// With Config.Reconnect the client redials after a lost connection, with
// exponential backoff and full jitter, logs in again and rejoins the channel
// it was in. It keeps trying until Close (or MaxAttempts). A session the
// relay ended on purpose (kicked, or replaced by a login of the same name
// elsewhere) is not resumed.
//
// A lost connection is noticed within Config.PingTimeout: the client pings
// the relay every PingInterval on the control stream (four times as often
// while a ping is unanswered) and gives the connection up when nothing at
// all came from the relay for PingTimeout. A relay that restarted with its
// session secret answers the next ping at once with a QUIC stateless reset
// (the pings are padded so that it can).
//
// The relay gives a logged-in client a resume ticket (proto.Ticket), kept
// in memory; a reconnection presents it with the password and the relay
// then skips the password check, so a restart of a relay with many users
// costs it no password hashing.
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/knownrelays"
	"github.com/hark-intercom/hark/proto"
)

// Defaults for Config fields left zero.
const (
	DefaultMinBackoff     = 250 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 10 * time.Second
	DefaultPingInterval   = time.Second
	DefaultPingTimeout    = 2 * time.Second
	DefaultEventQueue     = 1024
	DefaultSendQueue      = 32
)

// Config configures Dial. Name is required; everything else has a default.
type Config struct {
	// Relay is "host:port" or "host" (port proto.DefaultPort), or several
	// of them separated by commas: the relays of one cluster (see
	// `relay --cluster`). The client connects to the first that answers
	// and, when its relay dies or cannot be reached, moves on to the next
	// (with its resume ticket: no password check), at once rather than
	// after a backoff. With several relays PingInterval and PingTimeout
	// default to 400 ms and 1 s, so a dead relay is left within about
	// 1.5 s.
	Relay string
	// Name and Password log in. An open relay ignores the password.
	Name     string
	Password string
	// Channel to join after login; "" joins the relay's default channel.
	Channel string
	// Monitor names channels to hear besides the joined one from the
	// start (see Client.Monitor); a relay without the feature ignores it
	// (logged).
	Monitor []string

	// Fingerprint pins the relay's certificate ("SHA256:…", as `relay
	// fingerprint` prints it). When "", the known-relays file decides:
	// a relay seen before must present the recorded fingerprint; a new
	// one is trusted and recorded (trust on first use).
	Fingerprint string
	// KnownRelaysFile is the known-relays file; "" means
	// knownrelays.DefaultPath() (~/.config/hark/known_relays).
	KnownRelaysFile string

	// Software describes this client in the Hello, e.g. "talk 0.1".
	Software string
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger

	// OnEvent receives events in order, on a goroutine of its own. It may
	// take its time: events queue up to EventQueue and then the oldest are
	// dropped (and counted in Stats). nil discards events.
	OnEvent func(Event)
	// EventQueue bounds the event queue; 0 means DefaultEventQueue.
	EventQueue int
	// ManualRead stops the client from telling the relay, after OnEvent
	// returned, that the user has seen the history and texts it delivered
	// (see Event): a front end that shows them later or elsewhere (the
	// gateway, once the browser has them) calls MarkRead itself.
	ManualRead bool
	// NoAlarms leaves proto.FeatureAlarm out of the Hello: the relay does
	// not wait for this client to acknowledge alarms (it still hears of
	// them). For clients nobody can acknowledge from (talk record).
	NoAlarms bool

	// OnVoice receives every voice frame from the relay, on the datagram
	// reader goroutine. It MUST NOT block (hand the frame to a buffer, e.g.
	// a jitter buffer, and return) and MUST copy opus if it keeps it: the
	// slice is reused after OnVoice returns. nil discards voice.
	OnVoice func(h proto.VoiceHeader, opus []byte, arrival time.Time)

	// SendQueue bounds the voice frames waiting to be handed to QUIC; when
	// it is full the oldest waiting frame is dropped (and counted). 0 means
	// DefaultSendQueue.
	SendQueue int

	// Reconnect makes the client redial after a lost connection (and makes
	// Dial retry while the relay is unreachable) until Close. A redial the
	// relay refuses for the name or password (an *AuthError: the password
	// was changed or the user removed meanwhile) ends the client: retrying
	// with the same password cannot succeed.
	Reconnect bool
	// MinBackoff and MaxBackoff bound the wait between attempts: the client
	// waits a random time between 0 and MinBackoff·2ⁿ, capped at
	// MaxBackoff ("full jitter": clients that lost the relay together do
	// not come back together), where n counts the failed attempts so far,
	// attempts that got no answer at all (the relay is down) by halves.
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts stops reconnecting after that many failed attempts in a
	// row; 0 means forever.
	MaxAttempts int

	// DialTimeout bounds one connection attempt, login and join included;
	// 0 means DefaultDialTimeout. It should exceed the relay's wait for a
	// password check (3 s by default), after which the relay answers
	// "busy" and the client retries. An attempt also ends when nothing
	// came back from the relay during the QUIC handshake for 1 s on the
	// first four attempts, then doubling with each attempt that got no
	// answer at all up to DialTimeout (a relay that is down; "port
	// unreachable" answers do not count): QUIC repeats its first packet at
	// growing intervals, so a fresh attempt reaches a relay that came back
	// sooner.
	DialTimeout time.Duration
	// RequestTimeout bounds requests whose context has no deadline; 0 means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// PingInterval is how often the client pings the relay on the control
	// stream (it measures the round trip, see Stats); 0 means
	// DefaultPingInterval. QUIC keep-alives run as well.
	PingInterval time.Duration
	// PingTimeout gives the connection up (and, with Reconnect, redials)
	// when nothing came from the relay for this long; 0 means
	// DefaultPingTimeout. At least twice PingInterval. A relay whose
	// recent answers were slow gets up to twice as long: a busy
	// relay is not abandoned (reconnecting would add to its load).
	PingTimeout time.Duration
}

// Stats are counters of a Client. All are cumulative since Dial.
type Stats struct {
	VoiceSent        uint64        // voice datagrams handed to QUIC
	VoiceSendDropped uint64        // dropped: send queue full or QUIC refused
	VoiceReceived    uint64        // voice datagrams delivered to OnVoice
	VoiceMalformed   uint64        // datagrams that did not parse (dropped)
	EventsDropped    uint64        // events dropped because OnEvent lagged
	BadMessages      uint64        // control messages that did not parse (skipped)
	Reconnects       uint64        // successful reconnections
	Resumed          uint64        // logins that presented a resume ticket (the relay may still have checked the password)
	SilentDrops      uint64        // connections given up because the relay stopped answering (PingTimeout)
	RTT              time.Duration // last ping round trip (0 before the first)
}

// Client is a connection to a relay. Create it with Dial.
type Client struct {
	cfg    Config
	log    *slog.Logger
	relays []string     // host:port of each relay, in the order given
	relayN atomic.Int32 // index in relays of the relay in use or being tried
	known  *knownrelays.File
	events *eventQueue

	life   context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // supervisor and connection goroutines

	reqMu   sync.Mutex // serialises request/answer exchanges
	fetchMu sync.Mutex // serialises Fetch (which does not hold reqMu)
	readMu  sync.Mutex // serialises HistoryRead writes (sendRead)
	reqNo   atomic.Uint32

	mu            sync.Mutex // guards the fields below
	cur           *conn      // nil while reconnecting
	state         State
	closed        bool
	closeErr      error  // why the client closed (nil after Close)
	channel       string // channel to be in (rejoined after reconnect)
	joined        proto.ChannelInfo
	inChannel     bool
	welcome       proto.Welcome
	roster        Roster            // who is online, from the current connection's presence messages
	callNames     map[uint32]string // sessions named by call notices (proto.Whisper), for Name until presence names them
	presenceReady chan struct{}     // closed when a snapshot arrived after the last join
	waiters       []*waiter
	tx            *Transmission       // the transmission on the air, if any
	ending        *Transmission       // a transmission whose end the relay has not confirmed yet
	seq           uint16              // next voice sequence number
	ts            uint32              // next voice timestamp
	fingerprint   string              // the relay's, as verified
	ticket        []byte              // resume ticket from the relay, or nil
	ticketUntil   time.Time           // when ticket expires (by our clock)
	awayFrom      time.Time           // while reconnecting: when the lost connection last heard from the relay (proto.Auth.Away)
	features      proto.Features      // agreed with the relay on the current (or last) connection
	monitor       []string            // channels to monitor (sent again after a reconnection)
	monitored     []proto.ChannelInfo // the monitored channels as the relay last confirmed them
	hist          historyState

	pingNonce  atomic.Uint64
	lastPingAt atomic.Int64 // unix ns of the last keep-alive ping
	lastPingNo atomic.Uint64
	rtt        atomic.Int64
	// slowRTT is a decaying maximum of the ping round trips (ns), kept
	// across connections: a relay that was slow gets more time before a
	// connection is given up, also right after a reconnection.
	slowRTT     atomic.Int64
	voiceSent   atomic.Uint64
	voiceDrop   atomic.Uint64
	voiceRecv   atomic.Uint64
	voiceBad    atomic.Uint64
	badMessages atomic.Uint64
	reconnects  atomic.Uint64
	resumed     atomic.Uint64
	silentDrops atomic.Uint64
	probe       atomic.Pointer[probeRun] // the running Probe, if any
}

// waiter is a request waiting for the relay's answer.
type waiter struct {
	cn    *conn
	match func(proto.Message) bool
	ch    chan proto.Message // cap 1
	// partial, if set, says which matching messages are parts of a longer
	// answer: they are appended to parts (guarded by Client.mu) and the
	// waiter stays until a matching message that is not partial.
	partial func(proto.Message) bool
	parts   []proto.Message
}

// Dial connects to the relay, logs in and joins Config.Channel (or the
// relay's default channel). It returns typed errors a caller can explain:
// *AuthError, *FingerprintError, *UnreachableError, *RelayError (for
// example an unknown channel). With Config.Reconnect it keeps retrying while
// the relay is unreachable, until ctx ends; refusals are returned at once.
//
// ctx bounds only the dial; the Client lives until Close.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Name == "" {
		return nil, errors.New("a user name is needed to log in to the relay")
	}
	relays, err := NormalizeAddrs(cfg.Relay)
	if err != nil {
		return nil, err
	}
	relay := strings.Join(relays, ",")
	if len(relays) > 1 {
		if cfg.PingInterval <= 0 {
			cfg.PingInterval = 400 * time.Millisecond
		}
		if cfg.PingTimeout <= 0 {
			cfg.PingTimeout = time.Second
		}
	}
	if cfg.Fingerprint != "" {
		if err := certs.CheckFingerprint(cfg.Fingerprint); err != nil {
			return nil, err
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	setDefaults(&cfg)
	c := &Client{
		cfg:           cfg,
		log:           cfg.Logger.With("relay", relay, "user", cfg.Name),
		relays:        relays,
		channel:       cfg.Channel,
		monitor:       slices.Clone(cfg.Monitor),
		presenceReady: make(chan struct{}),
		seq:           uint16(rand.Uint32()),
		ts:            rand.Uint32(),
	}
	if cfg.Fingerprint == "" {
		path := cfg.KnownRelaysFile
		if path == "" {
			if path, err = knownrelays.DefaultPath(); err != nil {
				return nil, err
			}
		}
		c.known = knownrelays.Open(path)
	}
	c.events = newEventQueue(cfg.OnEvent, cfg.EventQueue)
	if !cfg.ManualRead {
		c.events.after = c.afterEvent
	}
	go c.events.run()
	c.life, c.cancel = context.WithCancel(context.Background())
	c.setState(StateConnecting, nil)

	var cn *conn
	growth, silent := 0, 0
	patient := false
	for attempt := 0; ; attempt++ {
		cn, err = c.connect(ctx, silent, patient)
		if err == nil {
			break
		}
		if silentAttempt(err) {
			silent++
		}
		patient = stillPatient(patient, err)
		if !cfg.Reconnect || !transient(err) || ctx.Err() != nil ||
			(cfg.MaxAttempts > 0 && attempt+1 >= cfg.MaxAttempts) {
			c.shutdown(err)
			return nil, err
		}
		growth += growthAfter(err)
		d := c.backoff(backoffStep(growth, err))
		if c.nextRelay() && (attempt+1)%len(c.relays) != 0 {
			d = 0 // another relay: at once, until each was tried
		}
		c.log.Warn("relay unreachable; retrying", "err", err, "in", d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			c.shutdown(err)
			return nil, err
		}
	}
	c.install(cn)
	c.wg.Add(1)
	go c.supervise(cn)
	return c, nil
}

func setDefaults(cfg *Config) {
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = DefaultPingTimeout
	}
	cfg.PingTimeout = max(cfg.PingTimeout, 2*cfg.PingInterval)
	if cfg.EventQueue <= 0 {
		cfg.EventQueue = DefaultEventQueue
	}
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = DefaultSendQueue
	}
	if cfg.Software == "" {
		cfg.Software = "hark client"
	}
}

// NormalizeAddrs splits a comma-separated list of relay addresses and
// normalizes each (NormalizeAddr).
func NormalizeAddrs(list string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" && strings.Contains(list, ",") {
			continue
		}
		n, err := NormalizeAddr(a)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no relay address given (host or host:port)")
	}
	return out, nil
}

// NormalizeAddr returns addr as host:port, adding proto.DefaultPort when
// addr has no port.
func NormalizeAddr(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("no relay address given (host or host:port)")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		h := addr
		if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
			h = h[1 : len(h)-1]
		}
		return net.JoinHostPort(h, strconv.Itoa(proto.DefaultPort)), nil
	}
	if host == "" {
		return "", fmt.Errorf("relay address %q has no host", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return "", fmt.Errorf("relay address %q: port must be a number from 1 to 65535", addr)
	}
	return addr, nil
}

// backoff returns the wait before retry number attempt (0-based): a random
// time from 0 to MinBackoff doubled attempt times, capped at MaxBackoff
// (full jitter).
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.MinBackoff
	for i := 0; i < attempt && d < c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxBackoff)
	return rand.N(d + 1)
}

// growthAfter says how much a failed attempt grows the backoff (two steps
// double it): a relay that answered and refused (busy, shutting down)
// doubles it, so clients spread out; an attempt that got no answer at all
// (the relay is down) or a refusal because the relay is shutting down
// (most likely for a restart) grows it half as fast: it cost the relay nothing,
// it already waited for the handshake timeout, and a relay that comes back
// after a short outage must find its clients soon.
func growthAfter(err error) int {
	var re *RelayError
	if errors.Is(err, errNoAnswer) || errors.As(err, &re) && re.Code == proto.CodeShutdown {
		// Down, or on its way down for a restart: it will be back.
		return 1
	}
	return 2
}

// relayIsUp reports whether a failed attempt (or a lost connection) shows
// the relay is up, so that the next attempt is patient with a slow
// handshake (see connect): it refused as busy, or the QUIC handshake was
// done before the attempt failed, or it ended the connection with a
// stateless reset (it restarted and is back). Not when it did not answer,
// and not when it is shutting down: those attempts stay short, to find it
// soon once it is back.
func relayIsUp(err error) bool {
	var re *RelayError
	if errors.As(err, &re) {
		return re.Code != proto.CodeShutdown
	}
	var sr *quic.StatelessResetError
	if errors.As(err, &sr) || errors.Is(err, errRestarted) {
		return true
	}
	var ue *UnreachableError
	return errors.As(err, &ue) && errors.Is(err, errLoginStalled)
}

// quickRetryFor is how long after a loss the client keeps retrying a
// relay whose host says nothing listens at its port at most 2·MinBackoff
// apart (500 ms by default): a relay restarting (crashed and started again
// by its supervisor, or updated) is back within seconds, and each attempt
// before costs it nothing. Later the backoff grows as usual.
const quickRetryFor = 15 * time.Second

// answeredLoss reports whether a connection was lost because the relay's
// host answered: a stateless reset (the relay restarted and no longer
// knows the connection) or "port unreachable" (the relay program is not
// running). The first reconnection attempt after such a loss goes at once:
// the clients of a relay learn it at their own ping times, spread over a
// ping interval, so no jitter is needed to spread them out, and a relay
// that restarted is back.
func answeredLoss(err error) bool {
	return errors.Is(err, errRestarted) || errors.Is(err, errRelayGone)
}

// redialGrowth returns the backoff growth (see growthAfter) after a failed
// reconnection attempt, elapsed after the loss. While nothing listens at
// the relay's port (it is restarting) during the first quickRetryFor, the
// wait stays at most 2·MinBackoff: each such attempt costs the relay
// nothing, and it must find its clients soon once it is back.
func redialGrowth(growth int, err error, elapsed time.Duration) int {
	growth += growthAfter(err)
	if errors.Is(err, errNoListener) && elapsed < quickRetryFor {
		growth = min(growth, 2)
	}
	return growth
}

// maxRefusedStep caps the backoff after a refusal before the handshake
// (errRefused): MinBackoff·2³, 2 s by default. Such a refusal costs the
// relay one small packet, and it admits logins as fast as it finishes
// them, so clients that wait longer only come back later than they could
// (after a restart of a thousand sessions, the last ones waited up to
// half a minute).
const maxRefusedStep = 3

// backoffStep is the exponent for Client.backoff after failures that grew
// the backoff by growth (see growthAfter), the last of them last.
func backoffStep(growth int, last error) int {
	if errors.Is(last, errRefused) {
		return min(growth/2, maxRefusedStep)
	}
	return growth / 2
}

// stillPatient says whether the next attempt is patient (see connect)
// after a failed one: once the relay showed it is up it stays so for the
// rest of the attempts (an attempt that then got no answer met a busy
// relay, or one whose refusal was dropped, not one that is down), until
// it says it is shutting down.
func stillPatient(patient bool, err error) bool {
	var re *RelayError
	if errors.As(err, &re) && re.Code == proto.CodeShutdown {
		return false
	}
	return patient || relayIsUp(err)
}

// transient reports whether a failed connection attempt may succeed if
// tried again unchanged: the relay was unreachable, busy checking other
// passwords, full, or shutting down.
func transient(err error) bool {
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return true
	}
	var re *RelayError
	return errors.As(err, &re) && (re.Code == proto.CodeUnavailable || re.Code == proto.CodeShutdown)
}

func (c *Client) setState(s State, err error) {
	c.mu.Lock()
	if c.state == s || c.state == StateClosed {
		c.mu.Unlock()
		return
	}
	c.state = s
	c.mu.Unlock()
	c.events.push(Event{State: s, Err: err})
}

// install makes cn the current connection.
func (c *Client) install(cn *conn) {
	c.mu.Lock()
	c.cur = cn
	c.welcome = cn.welcome
	c.roster.SetSelf(cn.welcome.Session)
	c.joined = cn.joined
	c.inChannel = cn.inChannel
	if cn.inChannel {
		c.channel = cn.joined.Name
	}
	c.fingerprint = cn.fingerprint
	c.features = cn.features
	c.hist.missed, c.hist.missedMore = nil, false // this connection's catch-up follows
	c.awayFrom = time.Time{}
	c.hist.missedReady = make(chan struct{})
	c.mu.Unlock()
	if cn.resumed {
		c.resumed.Add(1)
	}
	// Messages that came during login, before the reader runs (so they
	// are handled in order). A presence snapshot among them predates the
	// join: the one that follows Joined completes Who.
	cn.preJoin = cn.inChannel
	for _, m := range cn.early {
		c.handle(cn, m)
	}
	cn.early = nil
	cn.preJoin = false
	cn.start(c)
	c.setState(StateConnected, nil)
	c.historyInstalled(cn)
	c.log.Info("connected", "session", cn.welcome.Session, "channel", cn.joined.Name)
}

// supervise waits for the connection to end and, with Reconnect, makes a
// new one; otherwise it closes the client.
func (c *Client) supervise(cn *conn) {
	defer c.wg.Done()
	for {
		select {
		case <-cn.done:
		case <-c.life.Done():
			cn.close(0, "bye")
			<-cn.stopped
			return
		}
		<-cn.stopped
		err := cn.cause()
		c.mu.Lock()
		if c.cur == cn {
			c.cur = nil
		}
		if c.awayFrom.IsZero() {
			c.awayFrom = time.Unix(0, cn.heard.Load())
		}
		tx := c.tx
		c.tx = nil
		c.inChannel = false
		c.mu.Unlock()
		if tx != nil {
			tx.lost()
		}
		if c.life.Err() != nil {
			return
		}
		var re *RelayError
		final := errors.As(err, &re) && re.Bye && (re.Code == proto.CodeKicked || re.Code == proto.CodeReplaced)
		if !c.cfg.Reconnect || final {
			// Reported to the caller as StateClosed and Err: info only.
			c.log.Info("connection to the relay ended", "err", err)
			c.shutdown(err)
			return
		}
		// Reported to the caller as StateReconnecting: info only.
		c.log.Info("connection to the relay lost; reconnecting", "err", err)
		c.setState(StateReconnecting, err)
		moved := c.nextRelay()
		next := c.redial(moved, relayIsUp(err) && !moved, err)
		if next == nil {
			return
		}
		c.reconnects.Add(1)
		c.install(next)
		cn = next
	}
}

// redial retries until it connects, the client closes or MaxAttempts fail.
// It returns nil in the latter two cases (after shutting down). moved says
// the client just moved to another relay of the cluster (tried at once);
// patient says the relay is known to be up (see connect); lost is why the
// connection was lost.
func (c *Client) redial(moved, patient bool, lost error) *conn {
	growth, silent := 0, 0 // silent: attempts the relay did not answer (see connect)
	var last error
	start := time.Now()
	for attempt := 0; ; attempt++ {
		d := c.backoff(backoffStep(growth, last))
		if moved && attempt < len(c.relays)-1 {
			d = 0 // another relay of the cluster: at once, until each was tried
		}
		if attempt == 0 && answeredLoss(lost) {
			d = 0
		}
		c.log.Debug("reconnecting", "attempt", attempt+1, "after", d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.life.Done():
			t.Stop()
			return nil
		}
		c.mu.Lock()
		c.presenceReady = make(chan struct{})
		c.mu.Unlock()
		cn, err := c.connect(c.life, silent, patient)
		if err == nil {
			return cn
		}
		if silentAttempt(err) {
			silent++
		}
		patient = stillPatient(patient, err)
		if c.life.Err() != nil {
			return nil
		}
		lvl := slog.LevelWarn
		var ae *AuthError
		var fe *FingerprintError
		if errors.As(err, &ae) || errors.As(err, &fe) {
			lvl = slog.LevelError
		}
		growth = redialGrowth(growth, err, time.Since(start))
		last = err
		c.log.Log(context.Background(), lvl, "reconnect failed", "attempt", attempt+1, "err", err)
		if ae != nil {
			c.shutdown(err)
			return nil
		}
		c.events.push(Event{State: StateReconnecting, Err: err})
		if moved = c.nextRelay(); moved {
			patient = false // known of the relay before, not of this one
		}
		if c.cfg.MaxAttempts > 0 && attempt+1 >= c.cfg.MaxAttempts {
			c.shutdown(fmt.Errorf("gave up reconnecting after %d attempts: %w", attempt+1, err))
			return nil
		}
	}
}

// shutdown marks the client closed and stops event delivery.
func (c *Client) shutdown(err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.closeErr = err
	c.mu.Unlock()
	c.setState(StateClosed, err)
	c.failOutbox(ErrClosed)
	c.events.close()
	if c.cancel != nil {
		c.cancel()
	}
}

// Close ends an active transmission, leaves the relay and waits for the
// client's goroutines, including the last call of OnEvent. It is safe to
// call more than once.
func (c *Client) Close() error {
	c.mu.Lock()
	tx := c.tx
	c.mu.Unlock()
	if tx != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		tx.End(ctx)
		cancel()
	}
	c.shutdown(nil)
	c.wg.Wait()
	<-c.events.done
	return nil
}

// Done is closed when the client has closed (Close, or the relay ended the
// session and it will not reconnect). Err then says why.
func (c *Client) Done() <-chan struct{} { return c.life.Done() }

// Err returns why the client closed: nil while open and after Close, else
// the cause (for example a *RelayError for a kick).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// State returns the connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Relay returns the address (host:port) of the relay in use, or being
// tried while reconnecting.
func (c *Client) Relay() string { return c.relays[c.relayN.Load()] }

// nextRelay moves on to the next relay of Config.Relay; false when there
// is only one.
func (c *Client) nextRelay() bool {
	if len(c.relays) < 2 {
		return false
	}
	n := (c.relayN.Load() + 1) % int32(len(c.relays))
	c.relayN.Store(n)
	c.log.Info("trying another relay", "relay", c.relays[n])
	return true
}

// Fingerprint returns the relay certificate's fingerprint, as verified.
func (c *Client) Fingerprint() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fingerprint
}

// Welcome returns the relay's welcome of the current (or last) connection:
// session id, name, roles, channels.
func (c *Client) Welcome() proto.Welcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.welcome
	w.Channels = slices.Clone(w.Channels)
	return w
}

// Channel returns the channel the client is in; ok is false when in none
// (including while reconnecting).
func (c *Client) Channel() (ch proto.ChannelInfo, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joined, c.inChannel
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		VoiceSent:        c.voiceSent.Load(),
		VoiceSendDropped: c.voiceDrop.Load(),
		VoiceReceived:    c.voiceRecv.Load(),
		VoiceMalformed:   c.voiceBad.Load(),
		EventsDropped:    c.events.droppedCount(),
		BadMessages:      c.badMessages.Load(),
		Reconnects:       c.reconnects.Load(),
		Resumed:          c.resumed.Load(),
		SilentDrops:      c.silentDrops.Load(),
		RTT:              time.Duration(c.rtt.Load()),
	}
}

func (c *Client) current() (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.cur == nil {
		return nil, ErrNotConnected
	}
	return c.cur, nil
}

// request sends m and waits for the first message match accepts. When
// barrier is set it also sends a Ping and treats the Pong as success (for
// requests the relay does not acknowledge): the relay handles a session's
// messages in order, so an Error about m comes before the Pong.
func (c *Client) request(ctx context.Context, m proto.Message, match func(proto.Message) bool, barrier bool) (proto.Message, error) {
	r, _, err := c.requestParts(ctx, m, match, nil, barrier)
	return r, err
}

// requestParts is request for answers in several messages: those partial
// accepts are collected and returned with the final one.
func (c *Client) requestParts(ctx context.Context, m proto.Message, match, partial func(proto.Message) bool, barrier bool) (proto.Message, []proto.Message, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.RequestTimeout)
		defer cancel()
	}
	c.reqMu.Lock()
	defer c.reqMu.Unlock()
	cn, err := c.current()
	if err != nil {
		return nil, nil, err
	}
	var nonce uint64
	if barrier {
		nonce = c.pingNonce.Add(1)
		inner := match
		match = func(r proto.Message) bool {
			if p, ok := r.(*proto.Pong); ok && p.Nonce == nonce {
				return true
			}
			return inner(r)
		}
	}
	what := "ping"
	if m != nil {
		what = m.Type().String()
	}
	w := &waiter{cn: cn, match: match, partial: partial, ch: make(chan proto.Message, 1)}
	c.mu.Lock()
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if i := slices.Index(c.waiters, w); i >= 0 {
			c.waiters = slices.Delete(c.waiters, i, i+1)
		}
		c.mu.Unlock()
	}()
	if m != nil {
		if err := cn.write(m); err != nil {
			return nil, nil, err
		}
	}
	if barrier {
		if err := cn.write(&proto.Ping{Nonce: nonce}); err != nil {
			return nil, nil, err
		}
	}
	select {
	case r := <-w.ch:
		c.mu.Lock()
		parts := w.parts
		c.mu.Unlock()
		return r, parts, nil
	case <-cn.done:
		return nil, nil, fmt.Errorf("%s request: %w", what, ErrNotConnected)
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("no answer from the relay to the %s request: %w", what, ctx.Err())
	}
}

func isErrorAbout(m proto.Message, t proto.MsgType) bool {
	e, ok := m.(*proto.Error)
	return ok && e.About == t
}

// Join moves the client to the named channel ("" for the relay's default);
// after a reconnect it rejoins that channel.
func (c *Client) Join(ctx context.Context, channel string) (proto.ChannelInfo, error) {
	if channel == "" {
		channel = c.Welcome().DefaultChannel
	}
	c.mu.Lock()
	c.presenceReady = make(chan struct{})
	c.mu.Unlock()
	r, err := c.request(ctx, &proto.Join{Channel: channel}, func(m proto.Message) bool {
		_, ok := m.(*proto.Joined)
		return ok || isErrorAbout(m, proto.TypeJoin)
	}, false)
	if err != nil {
		return proto.ChannelInfo{}, err
	}
	if e, ok := r.(*proto.Error); ok {
		return proto.ChannelInfo{}, c.joinError(channel, e)
	}
	return r.(*proto.Joined).ChannelInfo, nil
}

func (c *Client) joinError(channel string, e *proto.Error) error {
	if e.Code == proto.CodeNoChannel {
		names := []string{}
		for _, ch := range c.Welcome().Channels {
			names = append(names, ch.Name)
		}
		return &RelayError{Code: e.Code, About: e.About,
			Text: fmt.Sprintf("there is no channel %q on the relay (channels: %s)", channel, strings.Join(names, ", "))}
	}
	return c.errorFor(e, "join "+channel)
}

// Leave takes the client out of its channel; it stays logged in.
func (c *Client) Leave(ctx context.Context) error {
	r, err := c.request(ctx, &proto.Leave{}, func(m proto.Message) bool {
		return isErrorAbout(m, proto.TypeLeave)
	}, true)
	if err != nil {
		return err
	}
	if e, ok := r.(*proto.Error); ok {
		return c.errorFor(e, "leave")
	}
	c.mu.Lock()
	c.inChannel = false
	c.channel = ""
	c.mu.Unlock()
	return nil
}

// Name returns the name of an online session (a talker), or "" when the
// client does not know it. Safe for concurrent use.
func (c *Client) Name(session uint32) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.roster.Name(session); n != "" {
		return n
	}
	// A call's voice can come before the relay's presence list names the
	// caller (presence is sent in batches); the call notice named it.
	return c.callNames[session]
}

// Who returns everyone online (name, channel, talking), sorted by channel
// and name. It waits for the relay's presence snapshot after the last join.
func (c *Client) Who(ctx context.Context) ([]proto.UserInfo, error) {
	c.mu.Lock()
	ready := c.presenceReady
	c.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.RequestTimeout)
		defer cancel()
	}
	select {
	case <-ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("no presence list from the relay: %w", ctx.Err())
	case <-c.life.Done():
		return nil, ErrClosed
	}
	c.mu.Lock()
	users := c.roster.Users()
	c.mu.Unlock()
	slices.SortFunc(users, func(a, b proto.UserInfo) int {
		if a.Channel != b.Channel {
			if a.Channel < b.Channel {
				return -1
			}
			return 1
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return int(a.Session) - int(b.Session)
	})
	return users, nil
}

// Text sends a text message to the client's channel, or to one user when to
// is not "". It returns when the relay has taken it (or refused it); see
// SendText for the acknowledgement (delivered or waiting) and for texts sent
// while reconnecting.
func (c *Client) Text(ctx context.Context, to, text string) error {
	_, err := c.SendText(ctx, to, text)
	return err
}

// Ring rings every station on the relay, with an optional message.
func (c *Client) Ring(ctx context.Context, text string) error {
	r, err := c.request(ctx, &proto.Ring{Text: text}, func(m proto.Message) bool { return isErrorAbout(m, proto.TypeRing) }, true)
	if err != nil {
		return err
	}
	if e, ok := r.(*proto.Error); ok {
		return c.errorFor(e, "ring")
	}
	return nil
}

// Sessions lists the relay's sessions (role admin).
func (c *Client) Sessions(ctx context.Context) ([]proto.SessionInfo, error) {
	// The relay may split the list over several messages: collect them
	// up to the Pong of a ping sent after the request.
	isList := func(m proto.Message) bool { _, ok := m.(*proto.Sessions); return ok }
	r, parts, err := c.requestParts(ctx, &proto.ListSessions{}, func(m proto.Message) bool {
		return isList(m) || isErrorAbout(m, proto.TypeListSessions)
	}, isList, true)
	if err != nil {
		return nil, err
	}
	if e, ok := r.(*proto.Error); ok {
		return nil, c.errorFor(e, "list sessions")
	}
	var list []proto.SessionInfo
	for _, p := range parts {
		list = append(list, p.(*proto.Sessions).Sessions...)
	}
	return list, nil
}

// Kick ends the named user's session (role admin).
func (c *Client) Kick(ctx context.Context, name, reason string) error {
	return c.KickFor(ctx, name, reason, 0)
}

// KickFor is Kick that also keeps name from logging in again for ban
// (whole seconds; 0 for no ban). With a ban, a name that is not online is
// banned without an error. A relay older than the ban field ends the
// session and ignores the ban.
func (c *Client) KickFor(ctx context.Context, name, reason string, ban time.Duration) error {
	secs := uint32(min(max(ban, 0)/time.Second, math.MaxUint32))
	r, err := c.request(ctx, &proto.Kick{Name: name, Reason: reason, BanSeconds: secs}, func(m proto.Message) bool { return isErrorAbout(m, proto.TypeKick) }, true)
	if err != nil {
		return err
	}
	if e, ok := r.(*proto.Error); ok {
		if e.Code == proto.CodeNoUser {
			return &RelayError{Code: e.Code, About: e.About, Text: fmt.Sprintf("%s is not online", name)}
		}
		return c.errorFor(e, "kick users")
	}
	return nil
}

// Ping measures the round trip to the relay over the control stream.
func (c *Client) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	_, err := c.request(ctx, nil, func(proto.Message) bool { return false }, true)
	return time.Since(start), err
}

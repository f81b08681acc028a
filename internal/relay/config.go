package relay

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/proto"
)

// Authenticator checks a user name and password and returns the user's roles.
// A wrong name or password is an error; the relay tells the client only
// "wrong user name or password". *accounts.Store implements it. It must be
// safe for concurrent use.
type Authenticator interface {
	Authenticate(name, password string) (proto.Role, error)
}

// Credentials is implemented by an [Authenticator] that lets the relay
// accept resume tickets (see [proto.Ticket]): Credential returns a user's
// roles and a stamp that changes whenever the user's password does, without
// hashing anything, or an error for a user that does not exist. It must be
// fast and safe for concurrent use. *accounts.Store implements it. Without
// it the relay issues no tickets and every login checks the password.
type Credentials interface {
	Credential(name string) (roles proto.Role, stamp string, err error)
}

// Config configures a [Relay]. The zero value of every field but Cert (and
// Users, unless Open) picks the documented default.
type Config struct {
	// Cert is the TLS certificate the relay presents. Required.
	Cert tls.Certificate
	// Users checks passwords. Required unless Open.
	Users Authenticator
	// Open accepts any valid name without a password, for a quick start on a
	// trusted network. In open mode every session gets the page role (so
	// everyone can try a page) and nobody gets admin, and a name that is
	// online is refused (CodeNameTaken): nothing proves that the new login
	// is the same person, so "newest login wins" would let anyone knock
	// anyone off by typing their name. A session that does not answer a
	// Ping within OpenProbe is dead and is replaced.
	Open bool
	// Channels are the channels; zero: accounts.DefaultChannels().
	Channels accounts.Channels

	// Listen is the UDP address for ListenAndServe, HOST:PORT, HOST (port
	// proto.DefaultPort) or :PORT (every interface); default ":4275". See
	// ListenAddr.
	Listen string
	// WebTransport also accepts browsers on the UDP port: HTTP/3 (ALPN
	// "h3") with WebTransport sessions at WebTransportPath, speaking the
	// same protocol (see webtransport.go). Off by default.
	WebTransport bool

	// MaxTalk is the longest transmission (ptt floor, open-channel talker or
	// page) before the relay cuts it with Error{CodeTooLong}. Default 60 s;
	// negative: no limit.
	MaxTalk time.Duration
	// FloorTimeout frees a floor (and ends a talker or a page) when no frame
	// arrived from the talker for this long. Default 600 ms.
	FloorTimeout time.Duration
	// GrantTimeout is how long a floor granted by FloorRequest stays held
	// before the first frame arrives. Default 2 s.
	GrantTimeout time.Duration

	// VoiceQueue is each listener's voice queue length in datagrams (drop
	// oldest when full). Default 64.
	VoiceQueue int
	// ControlQueue bounds each session's outgoing control queue in bytes; a
	// session whose queue overflows is closed (it does not read). Presence
	// changes are skipped for a session whose queue holds over a quarter of
	// this, and it gets a fresh Presence snapshot once its queue drained.
	// Default 1 MiB.
	ControlQueue int

	// VoiceRate and VoiceBurst limit voice datagrams per session (per
	// second, and bucket size). Default 200/s, burst 100.
	VoiceRate, VoiceBurst float64
	// ControlRate and ControlBurst limit control messages per session.
	// Default 50/s, burst 100.
	ControlRate, ControlBurst float64
	// RingRate, RingBurst, TextRate and TextBurst limit rings and texts per
	// session, under the control rate: both reach many people, and every
	// box logs them. Defaults: a ring per 5 s, burst 3; 2 texts/s, burst 10.
	RingRate, RingBurst, TextRate, TextBurst float64
	// AuthFailures failed logins are allowed per remote IP address and user
	// name in a burst, then one more per AuthFailureEvery; four times as
	// many per address over all names, except from loopback (a gateway on
	// the same machine, which limits per browser). IPv6 counts per /64.
	// From loopback failures are counted but refuse nothing unless
	// LimitLoopback: every browser comes from the gateway's address, so
	// five wrong passwords for a name from one browser would lock the
	// name out of every browser; the gateway limits them per browser, and
	// names that failed lately get password checks last (see
	// passwordSlots), so a flood from there cannot crowd out the others.
	// Defaults 5 and 10 s.
	AuthFailures     int
	AuthFailureEvery time.Duration
	// LimitLoopback limits failed logins from loopback per name as from
	// any other address (for a relay with no gateway on its machine, where
	// loopback is only local users).
	LimitLoopback bool

	// IdleTimeout closes a connection that sent nothing (not even a QUIC
	// keep-alive) for this long. Default 30 s. The relay sends keep-alives
	// every IdleTimeout/3.
	IdleTimeout time.Duration
	// LoginTimeout bounds the time from connection to a completed login.
	// Default 10 s.
	LoginTimeout time.Duration
	// PasswordWait is how long a login waits for a password check to run
	// (checks are slow on purpose and run on at most half the cores) before
	// it is refused as busy with CodeUnavailable, which clients retry after
	// a random backoff. Default 3 s, less than a client's dial timeout
	// (client.DefaultDialTimeout), so a client hears "busy" rather than
	// giving up itself.
	PasswordWait time.Duration
	// PasswordSlots is how many password checks run at once. Default half
	// the cores (at least one), leaving the rest to forwarding voice.
	PasswordSlots int

	// Secret keys the relay's QUIC stateless resets and its resume tickets;
	// at least 32 bytes (certs.LoadOrCreateSecret keeps one in the data
	// directory). Keep it across restarts: a restarted relay then answers
	// packets of the connections it had before with a stateless reset, so
	// clients notice the restart at once instead of at their idle timeout,
	// and accepts the tickets it issued before, so clients log in again
	// without a password check. nil: a random secret for this process.
	Secret []byte
	// Cluster, if set, joins the relay to a cluster of relays sharing
	// channels, floors, presence, texts, rings and pages (see cluster.go;
	// a *cluster.Cluster). Give the cluster's shared secret as Secret so
	// that resume tickets are valid at every relay. The caller closes it
	// after the relay.
	Cluster Cluster
	// TicketLifetime is how long a resume ticket is accepted. A session
	// gets a fresh ticket when half of it has passed. Default 24 h.
	TicketLifetime time.Duration
	// ByeLinger is how long the relay waits, after its last message (Bye or
	// a login error), for the client to close before closing itself. Default 1 s.
	ByeLinger time.Duration
	// MaxLogins is how many connections may be between their first
	// packet and the end of their login (or the start of their wait for a
	// password check) at once; more are refused at
	// once with QUIC's CONNECTION_REFUSED (no handshake work) and their
	// clients retry after a backoff. A login storm (a restart) then
	// admits what the relay can finish promptly instead of making every
	// login slow enough for clients to give up and start over. Default 16
	// per core, at least 16. It is where the door starts and the fewest
	// places it has: logins that finish promptly open more (see
	// MaxLoginsGrown).
	MaxLogins int
	// MaxLoginsGrown is the most logins the door lets be under way at
	// once: each login over within PromptLogin of its first packet adds
	// a place, up to this; each slower one takes a quarter of the places
	// away, down to MaxLogins. Default 8·MaxLogins.
	MaxLoginsGrown int
	// PromptLogin is how quickly a login must be over (from its first
	// packet to its welcome, or to its wait for a password check) to open
	// another place at the door. Default LoginPlaceTime/8 (250 ms).
	PromptLogin time.Duration
	// LoginPlaceTime is how long a connection keeps its place among the
	// MaxLogins at most. A login that takes longer waits on its network or
	// on a client that went away, not on the relay: quic-go cannot tell
	// the relay that a client gave up a handshake (a client that times
	// out sends nothing), and keeps it until LoginTimeout, so without this
	// a few abandoned handshakes would refuse every login for that long.
	// The connection itself goes on: a slow phone on a bad network still
	// logs in, only without holding a place. Counted in
	// hark_relay_login_places_expired_total. Default 2 s (logins under
	// way finish in well under a second even in a restart's login storm),
	// at most LoginTimeout.
	LoginPlaceTime time.Duration
	// ShutdownGrace bounds a graceful shutdown. Default 3 s.
	ShutdownGrace time.Duration
	// MaxSessions refuses logins beyond this many sessions with
	// CodeUnavailable. Default 10000.
	MaxSessions int
	// OpenProbe is how long, in open mode, the relay waits for the session
	// holding a name to answer a Ping when someone else logs in with the
	// name: one that answers keeps it (the login is refused), one that
	// does not is dead (its client went away without a word, e.g. a box
	// that changed networks) and the newer login replaces it. Default 1 s.
	OpenProbe time.Duration
	// UserCheckEvery is how often the relay asks Users (when it is a
	// UserList) whether users were deleted, to end their sessions.
	// Default 1 s.
	UserCheckEvery time.Duration

	// History keeps texts, private texts for offline accounts, rings, pages
	// and (in channels with history=voice) transmissions, and the channels'
	// settings (mode, history, limits), which the relay reads at New and
	// follows while it runs. nil: the relay keeps nothing (as before
	// history existed). The relay does not close it: close it after Serve
	// returned, which commits what the relay queued.
	History *store.Store

	// Software is sent in Hello; default "hark-relay".
	Software string
	// Logger receives the relay's logs; nil: discard.
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if len(c.Cert.Certificate) == 0 {
		return errors.New("relay: Config.Cert is required")
	}
	if !c.Open && c.Users == nil {
		return errors.New("relay: Config.Users is required unless Config.Open")
	}
	if len(c.Channels.List) == 0 {
		c.Channels = accounts.DefaultChannels()
	}
	if len(c.Channels.List) >= int(proto.PageChannel) {
		return fmt.Errorf("relay: too many channels (%d)", len(c.Channels.List))
	}
	found := false
	for _, ch := range c.Channels.List {
		if ch.Name == c.Channels.Default {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("relay: default channel %q is not among the channels", c.Channels.Default)
	}
	dur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	num := func(f *float64, def float64) {
		if *f <= 0 {
			*f = def
		}
	}
	integer := func(i *int, def int) {
		if *i <= 0 {
			*i = def
		}
	}
	listen, err := ListenAddr(c.Listen)
	if err != nil {
		return err
	}
	c.Listen = listen
	dur(&c.MaxTalk, 60*time.Second)
	dur(&c.FloorTimeout, 600*time.Millisecond)
	dur(&c.GrantTimeout, 2*time.Second)
	integer(&c.VoiceQueue, 64)
	integer(&c.ControlQueue, 1<<20)
	num(&c.VoiceRate, 200)
	num(&c.VoiceBurst, 100)
	num(&c.ControlRate, 50)
	num(&c.ControlBurst, 100)
	num(&c.RingRate, 0.2)
	num(&c.RingBurst, 3)
	num(&c.TextRate, 2)
	num(&c.TextBurst, 10)
	integer(&c.AuthFailures, 5)
	dur(&c.AuthFailureEvery, 10*time.Second)
	dur(&c.IdleTimeout, 30*time.Second)
	dur(&c.LoginTimeout, 10*time.Second)
	dur(&c.PasswordWait, 3*time.Second)
	integer(&c.PasswordSlots, max(1, runtime.GOMAXPROCS(0)/2))
	dur(&c.TicketLifetime, 24*time.Hour)
	if c.Secret == nil {
		c.Secret = make([]byte, 32)
		rand.Read(c.Secret)
	} else if len(c.Secret) < 32 {
		return fmt.Errorf("relay: Config.Secret is %d bytes; it needs at least 32", len(c.Secret))
	}
	dur(&c.ByeLinger, time.Second)
	dur(&c.ShutdownGrace, 3*time.Second)
	integer(&c.MaxLogins, max(16, 16*runtime.GOMAXPROCS(0)))
	dur(&c.LoginPlaceTime, min(2*time.Second, c.LoginTimeout))
	integer(&c.MaxLoginsGrown, 8*c.MaxLogins)
	dur(&c.PromptLogin, c.LoginPlaceTime/8)
	integer(&c.MaxSessions, 10000)
	dur(&c.UserCheckEvery, time.Second)
	dur(&c.OpenProbe, time.Second)
	if c.Software == "" {
		c.Software = "hark-relay"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// ListenAddr returns the UDP address to listen on for addr as a person
// writes it: "" is every interface on proto.DefaultPort, a host or IP
// address without a port ("127.0.0.1", "::1", "[::1]", "intercom.lan")
// gets proto.DefaultPort, and "HOST:PORT" or ":PORT" are kept (port 0
// picks a free one).
func ListenAddr(addr string) (string, error) {
	def := strconv.Itoa(proto.DefaultPort)
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return ":" + def, nil
	}
	bare := addr
	if len(bare) > 1 && bare[0] == '[' && bare[len(bare)-1] == ']' {
		bare = bare[1 : len(bare)-1]
	}
	if ip := net.ParseIP(bare); ip != nil {
		return net.JoinHostPort(ip.String(), def), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if strings.ContainsAny(addr, ":[]") {
			return "", fmt.Errorf("listen address %q: write HOST:PORT, HOST or :PORT (e.g. 127.0.0.1:%s, 127.0.0.1 or :%s)", addr, def, def)
		}
		return net.JoinHostPort(addr, def), nil
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("listen address %q: the port must be a number from 0 to 65535", addr)
	}
	return net.JoinHostPort(host, port), nil
}

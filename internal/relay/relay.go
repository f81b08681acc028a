package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/limit"
	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/proto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// Relay is the voice relay server. Make one with [New], run it with
// [Relay.Serve] or [Relay.ListenAndServe], stop it with [Relay.Close] or by
// cancelling Serve's context. All methods are safe for concurrent use.
type Relay struct {
	cfg      Config
	c        counters
	reg      *prometheus.Registry
	auth     *limit.Logins
	refusals *limit.Sampler // samples the log lines of refused logins
	hashing  *passwordSlots // password checks at a time (Config.PasswordSlots)
	keys     keys           // from cfg.Secret: stateless resets, resume tickets
	creds    Credentials    // cfg.Users, if it can check tickets; nil: no tickets
	bans     bans           // names an admin banned for a while

	channels []*channel          // immutable after New, in config order (voice id i+1)
	chByName map[string]*channel // immutable after New
	chByID   map[uint16]*channel // immutable after New

	hist *history      // nil without Config.History
	cs   *clusterState // nil without Config.Cluster (cluster.go)

	// stopping is set when a graceful shutdown begins: new connections
	// are refused (see admit.go). loggingIn counts the connections
	// admitted whose login is not over; door says how many may be.
	stopping  atomic.Bool
	loggingIn atomic.Int64
	door      *loginDoor

	done chan struct{} // closed when Serve returns
	pres presenceState // presence news waiting to be sent (see presence.go)

	mu       sync.Mutex
	sessions map[uint32]*session // guarded by mu
	byName   map[string]*session // guarded by mu
	page     *pageState          // guarded by mu: the page on the air, or nil
	alarms   alarms              // guarded by mu: the alarms ringing
	nextID   uint32              // guarded by mu
	addr     net.Addr            // guarded by mu
	served   bool                // guarded by mu
	closing  bool                // guarded by mu: shutting down, no new logins
	cancel   context.CancelFunc  // guarded by mu: cancels Serve
}

// channel is one configured channel. info's Name and ID are immutable;
// the rest of info and the other fields are guarded by Relay.mu, except
// hset and recVoice, which the voice path and the recorder read without it.
type channel struct {
	info proto.ChannelInfo

	hset     atomic.Pointer[store.ChannelSettings] // history settings (nil without a store)
	recVoice atomic.Bool                           // history=voice: its transmissions are recorded
	rules    atomic.Pointer[chanRules]             // who may talk and listen (nil: everyone); stored under Relay.mu

	// members is replaced, never modified, when someone joins or leaves, so
	// the voice path may range over a copy of the slice header outside the lock.
	// Set it with setMembers, which also publishes it to live (read by the
	// voice fast path without the lock).
	members []*session
	live    atomic.Pointer[[]*session]
	// monitors are the sessions that monitor the channel (proto.Monitor);
	// listeners are members and then the monitors that are not members,
	// rebuilt by refreshListeners (monitor.go) and published to live.
	// Both are replaced, never modified in place, guarded by Relay.mu.
	monitors  []*session
	listeners []*session

	// ptt floor
	holder        *session
	holderSince   time.Time // when the floor was taken
	holderLast    time.Time // last frame (or the grant)
	holderGranted bool      // granted by FloorRequest and no frame yet

	// open channel: who is talking
	talkers map[*session]*talkState
}

type talkState struct {
	since, last time.Time
	granted     bool
}

type pageState struct {
	s           *session
	since, last time.Time
	granted     bool // no frame yet
}

// New checks cfg and makes a relay. It does not listen yet.
func New(cfg Config) (*Relay, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	r := &Relay{
		cfg:      cfg,
		chByName: map[string]*channel{},
		chByID:   map[uint16]*channel{},
		sessions: map[uint32]*session{},
		byName:   map[string]*session{},
		done:     make(chan struct{}),
		auth:     limit.NewLogins(cfg.AuthFailures, cfg.AuthFailureEvery),
		refusals: limit.NewSampler(time.Now()),
		hashing:  newPasswordSlots(cfg.PasswordSlots),
		keys:     deriveKeys(cfg.Secret),
		door:     newLoginDoor(cfg.MaxLogins, cfg.MaxLoginsGrown, cfg.PromptLogin),
		pres:     presenceState{kick: make(chan struct{}, 1)},
	}
	if c, ok := cfg.Users.(Credentials); ok && !cfg.Open {
		r.creds = c
	}
	for i, c := range cfg.Channels.List {
		if err := accounts.CheckName("channel", c.Name); err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		if r.chByName[c.Name] != nil {
			return nil, fmt.Errorf("relay: channel %q is configured twice", c.Name)
		}
		ch := &channel{info: proto.ChannelInfo{Name: c.Name, ID: uint16(i + 1), Mode: c.Mode}, talkers: map[*session]*talkState{}}
		r.channels = append(r.channels, ch)
		r.chByName[c.Name] = ch
		r.chByID[ch.info.ID] = ch
	}
	if cfg.History != nil {
		if err := r.openHistory(cfg.History); err != nil {
			return nil, err
		}
	}
	r.reg = prometheus.NewRegistry()
	if r.hist != nil {
		r.reg.MustRegister(newHistoryCollector(r))
	}
	r.reg.MustRegister(newCollector(r), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.initCluster()
	return r, nil
}

// Metrics returns the relay's own Prometheus registry (relay counters, Go
// runtime and process metrics), for promhttp.HandlerFor.
func (r *Relay) Metrics() *prometheus.Registry { return r.reg }

// Stats returns a snapshot of the relay's counters.
func (r *Relay) Stats() Stats {
	s := r.c.snapshot()
	r.mu.Lock()
	s.Sessions = len(r.sessions)
	s.LoginPlaces, s.LoginPlacesMost = int(r.door.places()), int(r.door.most.Load())
	for _, ss := range r.sessions {
		s.VoiceQueueDepth += ss.voice.len()
	}
	r.mu.Unlock()
	return s
}

// Fingerprint returns the fingerprint clients pin (see package certs).
func (r *Relay) Fingerprint() string { return certs.FingerprintOf(r.cfg.Cert) }

// Addr returns the address the relay listens on, or nil before Serve.
func (r *Relay) Addr() net.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// ListenAndServe listens on Config.Listen (UDP) and serves until ctx is
// cancelled or Close is called.
func (r *Relay) ListenAndServe(ctx context.Context) error {
	pc, err := net.ListenPacket("udp", r.cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on UDP %s: %w", r.cfg.Listen, err)
	}
	defer pc.Close()
	return r.Serve(ctx, pc)
}

// Serve runs the relay on pconn until ctx is cancelled or Close is called,
// then shuts down gracefully: every session gets Bye{CodeShutdown} and up to
// Config.ShutdownGrace to leave. Serve does not close pconn. It may be called
// once.
func (r *Relay) Serve(ctx context.Context, pconn net.PacketConn) error {
	r.mu.Lock()
	if r.served {
		r.mu.Unlock()
		return errors.New("relay: Serve called twice")
	}
	r.served = true
	ctx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	r.addr = pconn.LocalAddr()
	r.mu.Unlock()
	defer close(r.done)
	defer cancel()

	// The stateless reset key comes from the secret kept across restarts:
	// a restarted relay answers the old connections' packets with a
	// reset, and their clients reconnect at once.
	tr := &quic.Transport{Conn: pconn, Tracer: udpTracer{&r.c}, StatelessResetKey: &r.keys.reset, ConnContext: r.admit}
	qconf := &quic.Config{
		EnableDatagrams:       true,
		MaxIdleTimeout:        r.cfg.IdleTimeout,
		KeepAlivePeriod:       r.cfg.IdleTimeout / 3,
		HandshakeIdleTimeout:  r.cfg.LoginTimeout,
		MaxIncomingStreams:    1,
		MaxIncomingUniStreams: -1,
	}
	tlsConf := certs.ServerConfig(r.cfg.Cert, proto.ALPN)
	var wg sync.WaitGroup
	var wt *wtServer
	if r.cfg.WebTransport {
		wt = r.newWTServer(ctx, &wg)
		tlsConf = wt.tlsConfig()
		wtQUICConfig(qconf)
	}
	ln, err := tr.Listen(tlsConf, qconf)
	if err != nil {
		tr.Close()
		return fmt.Errorf("relay: %w", err)
	}
	r.cfg.Logger.Info("relay listening", "addr", pconn.LocalAddr().String(), "fingerprint", r.Fingerprint(),
		"open", r.cfg.Open, "channels", len(r.channels), "webtransport", r.cfg.WebTransport)

	wg.Add(2)
	go func() {
		defer wg.Done()
		r.sweep(ctx)
	}()
	go func() {
		defer wg.Done()
		r.refreshTickets(ctx)
	}()
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.watchUsers(ctx)
	}()
	go func() {
		defer wg.Done()
		r.watchDirect(ctx)
	}()
	if r.hist != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.hist.run(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.presenceLoop(ctx)
	}()
	if r.cs != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.runCluster(ctx)
		}()
	}
	nonQUICDone := make(chan struct{})
	go func() {
		defer close(nonQUICDone)
		r.countNonQUIC(ctx, tr)
	}()
	for {
		conn, err := ln.Accept(ctx)
		if err != nil {
			if ctx.Err() == nil {
				// The socket failed (or was closed under the relay).
				r.cfg.Logger.Error("relay: cannot accept connections any more; stopping", "err", err)
			}
			break
		}
		if wt != nil && conn.ConnectionState().TLS.NegotiatedProtocol == http3.NextProtoH3 {
			// A browser's HTTP/3 connection lives on after its logins (each
			// WebTransport session logs in on its own): it leaves admission
			// now, or it would hold a place as long as the page is open.
			loginOver(conn.Context())
			go wt.serve(conn) // a browser: its sessions join wg
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.handleConn(ctx, quicConn{conn})
		}()
	}
	cancel() // stops sweep and refreshTickets also when the socket failed

	// Graceful shutdown: refuse new connections (those that finished
	// their handshake meanwhile too), say goodbye, give clients a moment,
	// then cut.
	r.stopping.Store(true)
	ln.Close() // handshakes under way are refused, new ones get no answer
	refused := make(chan struct{})
	go func() { defer close(refused); r.refuseQueued(ln) }()
	r.mu.Lock()
	r.closing = true
	n := len(r.sessions)
	for _, s := range r.sessions {
		s.bye(proto.CodeShutdown, "the relay is shutting down")
	}
	r.mu.Unlock()
	r.cfg.Logger.Info("relay shutting down", "sessions", n)
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	t := time.NewTimer(r.cfg.ShutdownGrace)
	select {
	case <-allDone:
	case <-t.C:
		r.cfg.Logger.Warn("shutdown grace period over: closing remaining connections")
	}
	t.Stop()
	if wt != nil {
		wt.close()
	}
	<-refused
	tr.Close()
	<-allDone
	<-nonQUICDone
	r.cfg.Logger.Info("relay stopped")
	return nil
}

// Close stops a running relay gracefully and waits for Serve to return. It
// is a no-op on a relay that was never served.
func (r *Relay) Close() error {
	r.mu.Lock()
	cancel, served := r.cancel, r.served
	r.mu.Unlock()
	if !served {
		return nil
	}
	if cancel != nil {
		cancel()
	}
	<-r.done
	return nil
}

// encodeFor frames m for a peer speaking protocol version v; it logs and
// returns nil if m breaks a limit (a bug).
func (r *Relay) encodeFor(m proto.Message, v uint16) []byte {
	b, err := proto.AppendMessageFor(nil, m, v)
	if err != nil {
		r.cfg.Logger.Error("cannot encode a control message", "type", m.Type().String(), "err", err)
		return nil
	}
	return b
}

// encodeLogin frames a message sent before a version is agreed (Hello,
// Error): those read the same in every version.
func (r *Relay) encodeLogin(m proto.Message) []byte { return r.encodeFor(m, proto.Version) }

// frame is one control message for several sessions, encoded once for each
// protocol version spoken among them (the encoding of a message may differ
// by version: see proto.AppendMessageFor). Used under r.mu; the zero value
// is not usable: see Relay.frame.
type frame struct {
	r    *Relay
	m    proto.Message
	enc  [proto.Version + 1][]byte // by version, encoded on first use
	done [proto.Version + 1]bool
}

func (r *Relay) frame(m proto.Message) *frame { return &frame{r: r, m: m} }

// bytesFor returns the message framed for version v (nil if it cannot be
// encoded, which was logged). The bytes are shared: never modify them.
func (f *frame) bytesFor(v uint16) []byte {
	if !f.done[v] {
		f.enc[v], f.done[v] = f.r.encodeFor(f.m, v), true
	}
	return f.enc[v]
}

// isLoopback reports whether ip (as remoteIP returns it) is a loopback
// address: a gateway or a local user on the relay's machine.
func isLoopback(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && a.Unmap().IsLoopback()
}

func remoteIP(a net.Addr) string {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

// logRefusal logs a refused login unless refusals come too fast to log
// each (see limit.Sampler); the next line logged says how many were not.
func (r *Relay) logRefusal(log *slog.Logger, lvl slog.Level, msg string, args ...any) {
	ok, held := r.refusals.Allow(time.Now())
	if !ok {
		return
	}
	if held > 0 {
		args = append(args, "not_logged_before_this", held)
	}
	log.Log(context.Background(), lvl, msg, args...)
}

// handleConn runs one connection: login, then the control loop.
func (r *Relay) handleConn(ctx context.Context, conn sessConn) {
	s, rd := r.login(ctx, conn)
	if s == nil {
		return
	}
	if qc, ok := conn.(quicConn); ok && r.cfg.WebTransport {
		go refuseExtraStreams(qc.Conn) // the stream limits allow more for browsers
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); s.writeLoop() }()
	go func() { defer wg.Done(); s.voiceLoop() }()
	go func() { defer wg.Done(); s.readDatagrams() }()

	code, text := r.readControl(s, rd)
	r.mu.Lock()
	r.removeLocked(s)
	r.mu.Unlock()
	s.bye(code, text)
	wg.Wait()
	s.log.Info("session ended", "code", uint16(code), "reason", text)
}

// login runs Hello and Auth and registers the session; it returns nil (after
// telling the client why) when the login fails.
func (r *Relay) login(ctx context.Context, conn sessConn) (*session, *proto.Reader) {
	defer loginOver(conn.Context())
	log := r.cfg.Logger.With("addr", conn.RemoteAddr().String())
	lctx, cancel := context.WithTimeout(ctx, r.cfg.LoginTimeout)
	defer cancel()
	stream, err := conn.acceptControl(lctx)
	if err != nil {
		conn.CloseWithError(quic.ApplicationErrorCode(proto.CodeIdle), "no control stream opened in time")
		return nil, nil
	}
	fail := func(code proto.Code, about proto.MsgType, text string) (*session, *proto.Reader) {
		b := r.encodeLogin(&proto.Error{Code: code, About: about, Text: text})
		closeAfterError(ctx, conn, stream, b, code, text, r.cfg.ByeLinger)
		return nil, nil
	}
	stream.SetReadDeadline(time.Now().Add(r.cfg.LoginTimeout))
	rd := proto.NewReader(stream)
	m, err := rd.Next()
	if err != nil {
		log.Debug("login: no hello", "err", err)
		return fail(proto.CodeBadMessage, proto.TypeHello, "expected hello: "+err.Error())
	}
	hello, ok := m.(*proto.Hello)
	if !ok {
		return fail(proto.CodeBadMessage, m.Type(), fmt.Sprintf("the first message must be hello, not %v", m.Type()))
	}
	ours := proto.NewHello(r.cfg.Software)
	if r.hist == nil {
		// No store: nothing to catch up on and no text to acknowledge.
		ours.Features &^= proto.FeatureHistory
	}
	version, features, ok := proto.Negotiate(ours, hello)
	if !ok {
		lo, hi := hello.Versions()
		r.logRefusal(log, slog.LevelInfo, "login refused: protocol version", "lowest", lo, "highest", hi, "software", hello.Software)
		return fail(proto.CodeVersion, proto.TypeHello, versionRefusal(lo, hi))
	}
	rd.SetVersion(version)
	if b := r.encodeLogin(ours); b != nil {
		if _, err := stream.Write(b); err != nil {
			conn.CloseWithError(quic.ApplicationErrorCode(proto.CodeInternal), "write failed")
			return nil, nil
		}
	}
	m, err = rd.Next()
	if err != nil {
		return fail(proto.CodeBadMessage, proto.TypeAuth, "expected auth: "+err.Error())
	}
	auth, ok := m.(*proto.Auth)
	if !ok {
		return fail(proto.CodeBadMessage, m.Type(), fmt.Sprintf("expected auth after hello, not %v", m.Type()))
	}
	ip := remoteIP(conn.RemoteAddr())
	if r.auth.Blocked(ip, auth.Name, time.Now()) && (r.cfg.LimitLoopback || !isLoopback(ip)) {
		r.c.authLimited.Add(1)
		r.logRefusal(log, slog.LevelWarn, "login refused: too many failed logins from this address", "user", auth.Name)
		return fail(proto.CodeRateLimit, proto.TypeAuth, "too many failed logins from your address: wait a minute and try again")
	}
	if err := accounts.CheckName("user", auth.Name); err != nil {
		r.c.authFailures.Add(1)
		r.auth.Failed(ip, auth.Name, time.Now())
		return fail(proto.CodeBadName, proto.TypeAuth, err.Error())
	}
	if text, banned := r.bans.check(auth.Name, time.Now()); banned {
		r.c.banned.Add(1)
		r.logRefusal(log, slog.LevelInfo, "login refused: banned", "user", auth.Name)
		return fail(proto.CodeBanned, proto.TypeAuth, text)
	}
	var roles proto.Role
	stamp, resumed := "", false
	if r.cfg.Open {
		roles = proto.RolePage
	} else {
		if len(auth.Ticket) > 0 {
			roles, stamp, resumed = r.resume(log, auth)
		}
		if !resumed {
			// Waiting for a password check costs nothing: the login
			// no longer counts against Config.MaxLogins, so a flood of
			// wrong passwords queued there does not keep every other
			// login from being admitted.
			loginOver(conn.Context())
			var code proto.Code
			var text string
			if roles, code, text = r.checkPassword(ctx, log, ip, auth); code != proto.CodeOK {
				return fail(code, proto.TypeAuth, text)
			}
		}
	}
	stream.SetReadDeadline(time.Time{})
	// Made before taking the lock: it may read the users file.
	ticket := r.ticketFor(auth.Name, stamp, time.Now())

	s := &session{
		r: r, name: auth.Name, roles: roles, addr: conn.RemoteAddr().String(), since: time.Now(),
		version: version, features: features, software: hello.Software,
		conn: conn, stream: stream,
		closing: make(chan struct{}),
		abort:   make(chan struct{}),
	}
	s.voice.init(r.cfg.VoiceQueue)
	s.ringLim = limit.NewBucket(r.cfg.RingRate, r.cfg.RingBurst, time.Now())
	s.textLim = limit.NewBucket(r.cfg.TextRate, r.cfg.TextBurst, time.Now())
	s.ctl.init()

	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return fail(proto.CodeShutdown, proto.TypeAuth, "the relay is shutting down")
	}
	old := r.byName[s.name]
	node, remote := r.remoteNodeLocked(s.name) // at another relay of a cluster
	if r.cfg.Open && (old != nil || remote) {
		// Nothing proves who this is: newest-wins would let anyone
		// knock anyone off (see Config.Open). Unless the session with
		// the name is dead (its client went away without a word), or
		// its relay is.
		r.mu.Unlock()
		var alive bool
		if old != nil {
			alive = r.answers(old)
		} else {
			alive = r.remoteNameAnswers(node, s.name)
		}
		if alive {
			r.c.nameTaken.Add(1)
			r.logRefusal(log, slog.LevelInfo, "login refused: the name is online (open mode)", "user", s.name, "other_relay", node)
			return fail(proto.CodeNameTaken, proto.TypeAuth, s.name+" is already logged in: choose another name")
		}
		r.mu.Lock()
		if r.closing {
			r.mu.Unlock()
			return fail(proto.CodeShutdown, proto.TypeAuth, "the relay is shutting down")
		}
		old = r.byName[s.name] // replaced below if still there
	}
	if old == nil && len(r.sessions) >= r.cfg.MaxSessions {
		r.mu.Unlock()
		log.Warn("login refused: relay full", "sessions", r.cfg.MaxSessions)
		return fail(proto.CodeUnavailable, proto.TypeAuth, "the relay is full: try again later")
	}
	if old == nil && r.clusterReplaceLocked(s.name) {
		// At another relay: newest wins there too (in open mode that
		// session did not answer).
		r.c.replaced.Add(1)
		log.Info("a session of this user at another relay is replaced by this login", "user", s.name)
	}
	if old != nil {
		// Newest wins where the password proved who it is: a box that
		// reconnects after a network change must not be locked out by its
		// own dead session.
		r.removeLocked(old)
		old.bye(proto.CodeReplaced, "you logged in from another place")
		r.c.replaced.Add(1)
		old.log.Info("session replaced by a newer login", "new_addr", s.addr)
	}
	s.id = r.newIDLocked()
	s.log = r.cfg.Logger.With("session", s.id, "user", s.name, "addr", s.addr, "protocol", s.version)
	s.sendMsg(&proto.Welcome{Session: s.id, Name: s.name, Roles: roles, Server: r.cfg.Software,
		DefaultChannel: r.cfg.Channels.Default, Channels: r.infosForLocked(s)})
	if ticket != nil {
		s.sendMsg(ticket)
		s.ticketAt = time.Now()
	}
	r.sessions[s.id] = s
	r.byName[s.name] = s
	r.sendPresenceLocked(s)
	r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceOnline, User: r.userInfoLocked(s)})
	if r.hist != nil {
		r.hist.loggedInLocked(s, time.Duration(auth.Away)*time.Millisecond)
	}
	r.mu.Unlock()
	r.c.logins.Add(1)
	s.log.Info("logged in", "roles", roles.String(), "software", s.software, "resumed", resumed)
	return s, rd
}

// versionRefusal tells a client that speaks protocol versions lo to hi why
// it cannot log in, and which side to update.
func versionRefusal(lo, hi uint16) string {
	span := func(lo, hi uint16) string {
		if lo == hi {
			return fmt.Sprintf("version %d", lo)
		}
		return fmt.Sprintf("versions %d to %d", lo, hi)
	}
	if lo > proto.Version {
		return fmt.Sprintf("your program is newer than this relay: it speaks protocol %s and the relay only %s: update the relay", span(lo, hi), span(proto.MinVersion, proto.Version))
	}
	return fmt.Sprintf("your program is too old for this relay: it speaks protocol %s and the relay %s: update your program", span(lo, hi), span(proto.MinVersion, proto.Version))
}

// checkPassword checks auth's password, waiting up to Config.PasswordWait
// for a password-check slot. It returns the user's roles, or a code other
// than CodeOK and the text to refuse the login with.
func (r *Relay) checkPassword(ctx context.Context, log *slog.Logger, ip string, auth *proto.Auth) (proto.Role, proto.Code, string) {
	// Password hashing is slow on purpose; a flood of logins from many
	// addresses must not take every core from forwarding voice. Names
	// that failed lately from this address wait behind the others.
	if !r.hashing.acquire(ctx, r.auth.Failing(ip, auth.Name, time.Now()), r.cfg.PasswordWait) {
		if ctx.Err() != nil {
			return 0, proto.CodeShutdown, "the relay is shutting down"
		}
		// Not a failure of the user's: counted and logged apart, and the
		// client retries after a random backoff.
		n := r.c.authBusy.Add(1)
		r.logRefusal(log, slog.LevelWarn, "login refused: busy checking other passwords (the client retries)",
			"user", auth.Name, "waited", r.cfg.PasswordWait, "busy_refusals_total", n)
		return 0, proto.CodeUnavailable, "the relay is busy checking other logins: try again in a moment"
	}
	r.c.passwordChecks.Add(1)
	roles, err := r.cfg.Users.Authenticate(auth.Name, auth.Password)
	r.hashing.release()
	if err != nil {
		r.c.authFailures.Add(1)
		r.auth.Failed(ip, auth.Name, time.Now())
		if !errors.Is(err, accounts.ErrAuth) {
			log.Error("login: cannot check the password", "user", auth.Name, "err", err)
			return 0, proto.CodeInternal, "the relay cannot check passwords right now: tell its operator"
		}
		r.logRefusal(log, slog.LevelInfo, "login refused: wrong user name or password", "user", auth.Name)
		return 0, proto.CodeAuth, "wrong user name or password"
	}
	return roles, proto.CodeOK, ""
}

// resume checks auth's resume ticket; ok is false (and the password is
// to be checked) when there is none that is valid.
func (r *Relay) resume(log *slog.Logger, auth *proto.Auth) (roles proto.Role, stamp string, ok bool) {
	if r.creds == nil {
		return 0, "", false
	}
	roles, stamp, err := r.creds.Credential(auth.Name)
	if err == nil {
		err = r.keys.checkTicket(auth.Ticket, auth.Name, stamp, time.Now())
	}
	if err != nil {
		r.c.ticketsRefused.Add(1)
		r.logRefusal(log, slog.LevelInfo, "resume ticket refused; checking the password instead", "user", auth.Name, "reason", err)
		return 0, "", false
	}
	r.c.resumed.Add(1)
	return roles, stamp, true
}

// ticketFor returns a Ticket message for name, or nil when the relay issues
// none (open mode, an Authenticator without Credentials, a user removed
// meanwhile). stamp is the user's credential stamp if known, else "".
func (r *Relay) ticketFor(name, stamp string, now time.Time) *proto.Ticket {
	if r.creds == nil {
		return nil
	}
	if stamp == "" {
		var err error
		if _, stamp, err = r.creds.Credential(name); err != nil {
			return nil
		}
	}
	life := r.cfg.TicketLifetime
	return &proto.Ticket{Ticket: r.keys.issueTicket(name, stamp, now, life), Lifetime: uint32(min(life/time.Second, 1<<32-1))}
}

// refreshTickets sends a fresh resume ticket to every session whose ticket
// is past half its lifetime, so that a session of any age can resume.
func (r *Relay) refreshTickets(ctx context.Context) {
	if r.creds == nil {
		return
	}
	life := r.cfg.TicketLifetime
	t := time.NewTicker(min(max(life/8, time.Second), time.Hour))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			var due []*session
			r.mu.Lock()
			for _, s := range r.sessions {
				if now.Sub(s.ticketAt) >= life/2 {
					s.ticketAt = now
					due = append(due, s)
				}
			}
			r.mu.Unlock()
			// Credential may read the users file: outside the lock.
			for _, s := range due {
				if m := r.ticketFor(s.name, "", now); m != nil {
					s.sendMsg(m)
				}
			}
		}
	}
}

// readControl reads and handles control messages until the stream ends; it
// returns the code and text to close the session with.
func (r *Relay) readControl(s *session, rd *proto.Reader) (proto.Code, string) {
	lim := limit.NewBucket(r.cfg.ControlRate, r.cfg.ControlBurst, time.Now())
	var lastWarn time.Time
	for {
		m, err := rd.Next()
		if err != nil {
			if errors.Is(err, proto.ErrFraming) {
				r.c.badMessages.Add(1)
				s.log.Info("closing session: control stream framing lost", "err", err)
				return proto.CodeBadMessage, "your control stream is not readable: " + err.Error()
			}
			if proto.IsFramingError(err) || errors.Is(err, net.ErrClosed) || isConnErr(err) {
				return proto.CodeOK, "goodbye"
			}
			r.c.badMessages.Add(1)
			s.sendMsg(&proto.Error{Code: proto.CodeBadMessage, Text: "the relay could not read your last message: " + err.Error()})
			continue
		}
		r.c.controlIn.Add(1)
		now := time.Now()
		s.heard.Store(now.UnixNano())
		if !lim.Allow(now) {
			r.c.controlLimited.Add(1)
			if now.Sub(lastWarn) > time.Second {
				lastWarn = now
				s.sendMsg(&proto.Error{Code: proto.CodeRateLimit, About: m.Type(), Text: "too many messages: some were dropped; slow down"})
			}
			continue
		}
		r.dispatch(s, m)
	}
}

func isConnErr(err error) bool {
	var ae *quic.ApplicationError
	var ie *quic.IdleTimeoutError
	var te *quic.TransportError
	var se *quic.StreamError
	return errors.As(err, &ae) || errors.As(err, &ie) || errors.As(err, &te) || errors.As(err, &se) ||
		isWTConnErr(err) || errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "closed")
}

// sweep ends floors, talkers and pages whose frames stopped or that ran too
// long. (The login limiter forgets old failures by itself.)
func (r *Relay) sweep(ctx context.Context) {
	iv := r.cfg.FloorTimeout / 4
	if r.cfg.MaxTalk > 0 && r.cfg.MaxTalk/4 < iv {
		iv = r.cfg.MaxTalk / 4
	}
	iv = min(max(iv, 2*time.Millisecond), 100*time.Millisecond)
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.mu.Lock()
			r.sweepLocked(now)
			r.mu.Unlock()
		}
	}
}

func (r *Relay) sweepLocked(now time.Time) {
	expired := func(since, last time.Time, granted bool, maxTalk time.Duration) (timeout, tooLong bool) {
		lim := r.cfg.FloorTimeout
		if granted {
			lim = r.cfg.GrantTimeout
		}
		if now.Sub(last) > lim {
			return true, false
		}
		return false, maxTalk > 0 && now.Sub(since) > maxTalk
	}
	for _, ch := range r.channels {
		maxTalk := r.maxTalk(ch)
		if h := ch.holder; h != nil {
			timeout, tooLong := expired(ch.holderSince, h.lastFrame(ch.holderLast), ch.holderGranted, maxTalk)
			if tooLong {
				r.cutLocked(h, maxTalk)
			}
			if timeout || tooLong {
				r.releaseLocked(ch)
			}
		}
		for s, t := range ch.talkers {
			timeout, tooLong := expired(t.since, s.lastFrame(t.last), t.granted, maxTalk)
			if tooLong {
				r.cutLocked(s, maxTalk)
			}
			if timeout || tooLong {
				r.talkerStopLocked(ch, s)
			}
		}
	}
	r.sweepCallsLocked(now)
	if p := r.page; p != nil {
		maxTalk := r.maxTalk(nil)
		timeout, tooLong := expired(p.since, p.last, p.granted, maxTalk)
		if tooLong {
			r.cutLocked(p.s, maxTalk)
		}
		if timeout || tooLong {
			r.endPageLocked()
		}
	}
}

// cutLocked tells a talker its transmission hit the maximum length max.
func (r *Relay) cutLocked(s *session, max time.Duration) {
	s.mustStart = true
	s.sendMsg(&proto.Error{Code: proto.CodeTooLong, Text: fmt.Sprintf("your transmission reached the maximum length of %v and was cut: release and press again", max)})
	s.log.Info("transmission cut at the maximum length", "max", max)
}

// maxMillis is FloorGrant.MaxMillis for a transmission in ch (nil: a page).
func (r *Relay) maxMillis(ch *channel) uint32 {
	return uint32(r.maxTalk(ch) / time.Millisecond)
}

// ---- tables (all under r.mu) ----

func (r *Relay) toAllLocked(f *frame) {
	for _, s := range r.sessions {
		s.sendFrame(f)
	}
}

func (ch *channel) sendAll(f *frame) {
	for _, s := range ch.members {
		s.sendFrame(f)
	}
}

func (r *Relay) isTalkingLocked(s *session) bool {
	if r.page != nil && r.page.s == s {
		return true
	}
	if ch := s.ch; ch != nil {
		if ch.holder == s {
			return true
		}
		if ch.talkers[s] != nil {
			return true
		}
	}
	return false
}

func (r *Relay) userInfoLocked(s *session) proto.UserInfo {
	u := proto.UserInfo{Session: s.id, Name: s.name, Talking: r.isTalkingLocked(s)}
	if s.ch != nil {
		u.Channel = s.ch.info.Name
	}
	return u
}

func (r *Relay) sortedSessionsLocked() []*session {
	l := make([]*session, 0, len(r.sessions))
	for _, s := range r.sessions {
		l = append(l, s)
	}
	sort.Slice(l, func(i, j int) bool { return l[i].id < l[j].id })
	return l
}

// removeLocked takes s out of every table and tells the others. Idempotent.
func (r *Relay) removeLocked(s *session) {
	if s.gone {
		return
	}
	s.gone = true
	if r.page != nil && r.page.s == s {
		r.endPageLocked()
	}
	r.alarmsGoneLocked(s)
	r.monitorGoneLocked(s)
	r.callGoneLocked(s)
	r.leaveLocked(s)
	delete(r.sessions, s.id)
	if r.byName[s.name] == s {
		delete(r.byName, s.name)
	}
	r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceOffline, User: proto.UserInfo{Session: s.id, Name: s.name}})
}

// leaveLocked takes s out of its channel, freeing what it held. It does not
// announce the move.
func (r *Relay) leaveLocked(s *session) {
	ch := s.ch
	if ch == nil {
		return
	}
	if r.hist != nil {
		r.hist.leftLocked(s, ch)
	}
	if ch.holder == s {
		r.releaseLocked(ch)
	}
	if ch.talkers[s] != nil {
		r.talkerStopLocked(ch, s)
	}
	m := make([]*session, 0, len(ch.members))
	for _, o := range ch.members {
		if o != s {
			m = append(m, o)
		}
	}
	ch.setMembers(m)
	s.ch = nil
}

func (r *Relay) talkingMsg(ch *channel, s *session, on, prio bool) *frame {
	return r.frame(&proto.Talking{Channel: ch.info.ID, Session: s.id, Name: s.name, Talking: on, Priority: prio})
}

// grantLocked gives ch's floor to s and announces it.
func (r *Relay) grantLocked(ch *channel, s *session, byRequest bool, now time.Time) {
	ch.holder, ch.holderSince, ch.holderLast, ch.holderGranted = s, now, now, byRequest
	s.mustStart = false
	r.c.floorGrants.Add(1)
	ch.sendListeners(r.talkingMsg(ch, s, true, false))
}

// releaseLocked frees ch's floor and announces it.
func (r *Relay) releaseLocked(ch *channel) {
	h := ch.holder
	if h == nil {
		return
	}
	ch.holder = nil
	h.withdrawPassLocked()
	r.clusterReleasedLocked(ch)
	ch.sendListeners(r.talkingMsg(ch, h, false, false))
}

func (r *Relay) talkerStartLocked(ch *channel, s *session, byRequest bool, now time.Time) *talkState {
	t := &talkState{since: now, last: now, granted: byRequest}
	ch.talkers[s] = t
	s.mustStart = false
	r.c.floorGrants.Add(1)
	ch.sendListeners(r.talkingMsg(ch, s, true, false))
	r.clusterTalkingLocked(ch, s, true)
	return t
}

func (r *Relay) talkerStopLocked(ch *channel, s *session) {
	if ch.talkers[s] == nil {
		return
	}
	delete(ch.talkers, s)
	s.withdrawPassLocked()
	ch.sendListeners(r.talkingMsg(ch, s, false, false))
	r.clusterTalkingLocked(ch, s, false)
}

// startPageLocked puts s on the air everywhere, pre-empting every talker.
func (r *Relay) startPageLocked(s *session, now time.Time) {
	r.page = &pageState{s: s, since: now, last: now, granted: true}
	r.c.pages.Add(1)
	r.c.floorGrants.Add(1)
	busy := r.frame(&proto.Error{Code: proto.CodeBusy, Text: "paged over by " + s.name})
	preempt := func(ch *channel, v *session) {
		v.mustStart = true
		if v != s {
			v.sendFrame(busy)
			v.log.Info("transmission pre-empted by a page", "pager", s.name)
		}
	}
	for _, ch := range r.channels {
		if h := ch.holder; h != nil {
			preempt(ch, h)
			r.releaseLocked(ch)
		}
		for v := range ch.talkers {
			preempt(ch, v)
			r.talkerStopLocked(ch, v)
		}
	}
	r.callsPreemptedLocked(s, busy)
	r.toAllLocked(r.frame(&proto.Page{From: s.id, FromName: s.name, Active: true}))
	for _, ch := range r.channels {
		ch.sendAll(r.talkingMsg(ch, s, true, true))
	}
	s.log.Info("page started")
}

// endPageLocked ends the page on the air.
func (r *Relay) endPageLocked() {
	p := r.page
	if p == nil {
		return
	}
	r.page = nil
	r.clusterPageEndedLocked()
	for _, ch := range r.channels {
		ch.sendAll(r.talkingMsg(ch, p.s, false, true))
	}
	r.toAllLocked(r.frame(&proto.Page{From: p.s.id, FromName: p.s.name, Active: false}))
	p.s.log.Info("page ended", "length", time.Since(p.since).Round(time.Millisecond))
}

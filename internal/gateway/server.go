package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/limit"
	"github.com/hark-intercom/hark/proto"
	"github.com/hark-intercom/hark/web"
)

// Config configures a gateway Server.
type Config struct {
	// Dialer logs browser users in at the relay. Required.
	Dialer Dialer
	// Logger receives the gateway's logs; nil discards them.
	Logger *slog.Logger
	// Registry receives the gateway's metrics; nil makes a private registry
	// (served by MetricsHandler either way).
	Registry *prometheus.Registry
	// TLS, when set, makes Serve speak HTTPS.
	TLS *tls.Config
	// Assets is the page to serve; nil means web.FS.
	Assets fs.FS
	// MaxClipBytes bounds a WAV clip upload and is the websocket read limit;
	// 0 means 10 MiB (about 100 s of 48 kHz 16-bit mono).
	MaxClipBytes int64
	// MaxSessions bounds concurrent browser sessions; 0 means 2000.
	MaxSessions int
	// AudioQueue is how many 20 ms frames may wait for a slow browser before
	// the oldest are dropped; 0 means 25 (0.5 s).
	AudioQueue int
	// OriginPatterns are extra hosts allowed to open the websocket from
	// another origin (see github.com/coder/websocket AcceptOptions).
	OriginPatterns []string
	// AllowedHosts are the host names (no port; "*.example.com" for every
	// name under example.com) by which browsers may reach the gateway,
	// besides those always allowed: IP addresses, localhost, this
	// machine's name and the DNS names of the TLS certificate. A request
	// naming any other host in its Host header is refused (403): a hostile
	// web page whose own name was made to point at the gateway (DNS
	// rebinding) would otherwise use it as if it were the intercom's page.
	AllowedHosts []string
	// CertDER is the gateway's self-signed certificate (DER), offered at
	// CertPath for phones to download, install and trust; nil offers none.
	CertDER []byte
	// WebTransport, when set, offers pages a WebTransport session straight
	// to the relay (at WebTransportPath); nil: pages use the websocket.
	WebTransport *RelayWebTransport
}

// Server serves the web page and the browsers' websockets.
// Create it with New; its methods are safe for concurrent use.
type Server struct {
	cfg  Config
	log  *slog.Logger
	reg  *prometheus.Registry
	m    *metrics
	http *http.Server
	mux  *http.ServeMux

	mu       sync.Mutex
	hubs     map[uint16]*hub       // guarded by mu
	sessions map[*session]struct{} // guarded by mu
	ln       net.Listener          // guarded by mu
	closed   bool                  // guarded by mu
	ctx      context.Context       // canceled at the end of Close
	stop     context.CancelFunc
	// closing is canceled when Close begins: logins stop, and every
	// session says bye to its browser and ends.
	closing    context.Context
	startClose context.CancelFunc
	closeDone  chan struct{}  // closed when Close has finished
	wg         sync.WaitGroup // session handlers

	hosts    map[string]bool // host names allowed besides IPs and localhost; read-only after New
	wildcard []string        // suffixes ".example.com" of "*.example.com" entries; read-only
	hostLog  *limit.Sampler  // samples the log lines of refused host names
	certLog  *limit.Sampler  // samples the log lines of a relay certificate that changed

	// Failed logins per browser address and name, and per address (see
	// limit.Logins; behind a reverse proxy on this machine, per name
	// only): the relay sees every browser come from the gateway, so the
	// gateway limits them (5, then one per 10 s); failedLog samples their
	// log lines.
	logins    *limit.Logins
	failedLog *limit.Sampler
}

// New makes a gateway server.
func New(cfg Config) (*Server, error) {
	if cfg.Dialer == nil {
		return nil, errors.New("gateway: Config.Dialer is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Assets == nil {
		cfg.Assets = web.FS
	}
	if cfg.MaxClipBytes <= 0 {
		cfg.MaxClipBytes = 10 << 20
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 2000
	}
	if cfg.AudioQueue <= 0 {
		cfg.AudioQueue = maxAudioQ
	}
	ctx, stop := context.WithCancel(context.Background())
	closing, startClose := context.WithCancel(ctx)
	s := &Server{
		cfg: cfg, log: cfg.Logger, reg: cfg.Registry, m: newMetrics(cfg.Registry),
		hubs: map[uint16]*hub{}, sessions: map[*session]struct{}{}, ctx: ctx, stop: stop,
		closing: closing, startClose: startClose, closeDone: make(chan struct{}),
		logins: limit.NewLogins(5, 10*time.Second), failedLog: limit.NewSampler(time.Now()),
		hostLog: limit.NewSampler(time.Now()), certLog: limit.NewSampler(time.Now()),
	}
	s.hosts, s.wildcard = allowedHosts(cfg)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/ws", s.serveWS)
	s.mux.HandleFunc(WebTransportPath, s.serveWebTransport)
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	if der := cfg.CertDER; der != nil {
		s.mux.HandleFunc(CertPath, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/x-x509-ca-cert") // phones offer to install it
			w.Header().Set("Content-Disposition", `attachment; filename="hark-gateway.crt"`)
			w.Write(der)
		})
	}
	files := http.FileServerFS(cfg.Assets)
	s.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if strings.HasSuffix(r.URL.Path, ".webmanifest") {
			w.Header().Set("Content-Type", "application/manifest+json")
		}
		files.ServeHTTP(w, r)
	}))
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         cfg.TLS,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	return s, nil
}

// Handler returns the gateway's HTTP handler (page, /ws, /healthz). It
// refuses requests for host names the gateway does not serve (see
// Config.AllowedHosts).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if host, ok := s.hostAllowed(r.Host); !ok {
			s.m.badInput.WithLabelValues("host").Inc()
			if ok, held := s.hostLog.Allow(time.Now()); ok {
				s.log.Warn("refused a request for a host name this gateway does not serve (add it with --allowed-host if people use it)",
					"host", host, "remote", r.RemoteAddr, "path", r.URL.Path, "not_logged_before_this", held)
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, "This Hark gateway does not answer to the name %q.\n"+
				"If that is how people reach it, its operator adds the name with --allowed-host %s.\n", host, host)
			return
		}
		s.mux.ServeHTTP(w, r)
	})
}

// allowedHosts collects the host names a Server serves besides IP
// addresses and localhost: cfg.AllowedHosts, this machine's name and the
// TLS certificates' DNS names.
func allowedHosts(cfg Config) (map[string]bool, []string) {
	hosts := map[string]bool{}
	var wild []string
	add := func(h string) {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		switch {
		case h == "":
		case strings.HasPrefix(h, "*."):
			wild = append(wild, h[1:])
		default:
			hosts[h] = true
		}
	}
	for _, h := range cfg.AllowedHosts {
		add(h)
	}
	if h, err := os.Hostname(); err == nil {
		add(h)
		if short, _, ok := strings.Cut(h, "."); ok {
			add(short)
		}
	}
	if cfg.TLS != nil {
		for _, c := range cfg.TLS.Certificates {
			leaf := c.Leaf
			if leaf == nil && len(c.Certificate) > 0 {
				leaf, _ = x509.ParseCertificate(c.Certificate[0])
			}
			if leaf != nil {
				for _, n := range leaf.DNSNames {
					add(n)
				}
			}
		}
	}
	return hosts, wild
}

// hostAllowed reports whether a request's Host header names the gateway,
// and returns the host name without its port. IP addresses are always
// allowed (a rebinding attack needs a name), and so is localhost (browsers
// resolve it and its subdomains to this machine themselves).
func (s *Server) hostAllowed(hostport string) (string, bool) {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	switch {
	case host == "":
		return host, false
	case isIP(host), host == "localhost", strings.HasSuffix(host, ".localhost"), s.hosts[host]:
		return host, true
	}
	for _, w := range s.wildcard {
		if strings.HasSuffix(host, w) {
			return host, true
		}
	}
	return host, false
}

// MetricsHandler serves the gateway's Prometheus metrics.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
}

// Serve serves on ln until ctx ends or Close is called. It returns nil after a
// clean shutdown, once Close has said goodbye to every browser.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.ctx.Done():
		}
	}()
	var err error
	if s.cfg.TLS != nil {
		err = s.http.ServeTLS(ln, "", "")
	} else {
		err = s.http.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		<-s.closeDone // the browsers are told before the process may exit
		return nil
	}
	return err
}

// Addr returns the listening address, nil before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// closeWait is how long Close waits for the browsers to take their bye
// before it cuts the rest off.
const closeWait = 5 * time.Second

// Close stops serving and ends every session: each browser gets a bye
// ("shutdown": the page says so and logs in again by itself when the
// gateway is back), its relay session ends, and the websocket is closed
// (going away). Close waits for that, up to closeWait, then cuts off what
// is left. Logins in progress are refused. Calls after the first wait for
// the first to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.closeDone
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	defer close(s.closeDone)
	s.startClose()
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	err := s.http.Shutdown(ctx) // no new connections; page requests finish
	// Websockets are hijacked connections, which Shutdown does not wait
	// for: wait for the sessions here.
	left := make(chan struct{})
	go func() { s.wg.Wait(); close(left) }()
	select {
	case <-left:
	case <-ctx.Done():
		s.log.Warn("some browsers did not take their goodbye in time; closing them", "sessions", s.Sessions())
	}
	s.stop()
	s.wg.Wait()
	return err
}

// Sessions returns the number of logged-in browser sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.OriginPatterns})
	if err != nil {
		s.log.Debug("websocket refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	// The read limit is the largest message we take at all (a WAV clip);
	// smaller limits per kind are applied while reading.
	conn.SetReadLimit(s.cfg.MaxClipBytes + 16)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close(websocket.StatusGoingAway, "the gateway is stopping")
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	log := s.log.With("remote", r.RemoteAddr)
	sess, err := s.login(s.closing, conn, remoteHost(r.RemoteAddr), log)
	if err != nil {
		if ok, held := s.failedLog.Allow(time.Now()); ok {
			log.Info("login failed", "err", err, "not_logged_before_this", held)
		}
		return
	}
	s.mu.Lock()
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
	s.m.sessions.Inc()
	log.Info("browser logged in", "name", sess.name, "session", sess.sessionID, "playback", sess.playback)
	sess.serve(s.ctx)
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
	s.m.sessions.Dec()
	log.Info("browser left", "name", sess.name, "audio_dropped", sess.out.droppedCount())
}

// login reads the browser's login message and logs it in at the relay.
func (s *Server) login(ctx context.Context, conn *websocket.Conn, ip string, log *slog.Logger) (*session, error) {
	fail := func(code, text string, status websocket.StatusCode) error {
		s.m.logins.WithLabelValues(code).Inc()
		wctx, cancel := context.WithTimeout(s.ctx, writeTimeout) // also while closing
		_ = conn.Write(wctx, websocket.MessageText, mustJSON(map[string]any{"t": "error", "code": code, "text": text}))
		cancel()
		conn.Close(status, truncate(text, 100))
		return errors.New(text)
	}
	lctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	typ, r, err := conn.Reader(lctx)
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("no login message: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxJSON+1))
	if err != nil {
		conn.CloseNow()
		return nil, err
	}
	var m clientMsg
	if typ != websocket.MessageText || len(b) > maxJSON || json.Unmarshal(b, &m) != nil || m.T != "login" {
		s.m.badInput.WithLabelValues("login").Inc()
		return nil, fail("login", "The first message must be a login. Reload the page.", websocket.StatusPolicyViolation)
	}
	if m.Name == "" || len(m.Name) > proto.MaxNameLen || !utf8.ValidString(m.Name) || len(m.Password) > proto.MaxPasswordLen {
		return nil, fail("auth", "Enter a name of 1 to 64 characters.", websocket.StatusPolicyViolation)
	}
	if err := accounts.CheckName("user", m.Name); err != nil {
		// Said as it is, not as "wrong name or password": the person
		// can fix it.
		return nil, fail("bad_name", sentence(err.Error()), websocket.StatusPolicyViolation)
	}
	s.mu.Lock()
	full := len(s.sessions) >= s.cfg.MaxSessions
	s.mu.Unlock()
	if full {
		return nil, fail("full", "The gateway is full. Try again later.", websocket.StatusTryAgainLater)
	}
	if len(m.Channel) > proto.MaxChannelLen {
		m.Channel = ""
	}
	// The failure is taken before the relay checks the password, and
	// given back unless it was a wrong password: logins from one browser
	// checked at the same time cannot all pass the limit.
	if !s.logins.Try(ip, m.Name, time.Now()) {
		return nil, fail("ratelimit", "Too many wrong passwords. Wait a minute, then try again.", websocket.StatusTryAgainLater)
	}
	rs, err := s.cfg.Dialer.Dial(lctx, m.Name, m.Password, m.Channel)
	var aerr *client.AuthError
	if !errors.As(err, &aerr) {
		s.logins.Refund(ip, m.Name, time.Now())
	}
	if err != nil {
		if aerr != nil {
			return nil, fail("auth", "Wrong name or password.", websocket.StatusPolicyViolation)
		}
		var rerr *client.RelayError
		if errors.As(err, &rerr) {
			return nil, fail(codeName(rerr.Code), "The intercom refused: "+rerr.Text, websocket.StatusPolicyViolation)
		}
		var ferr *client.FingerprintError
		if errors.As(err, &ferr) {
			if ok, held := s.certLog.Allow(time.Now()); ok {
				log.Error("the relay's certificate is not the one this gateway trusts, so no browser can log in: check the relay, then fix the gateway's --fingerprint or its known_relays file",
					"err", err, "not_logged_before_this", held)
			}
			return nil, fail("relay_cert", certChangedText, websocket.StatusTryAgainLater)
		}
		if s.closing.Err() != nil {
			return nil, fail("shutdown", shutdownText, websocket.StatusGoingAway)
		}
		log.Warn("cannot reach the relay for a browser login", "err", err)
		return nil, fail("relay", "The intercom server is not reachable right now. Try again in a moment.", websocket.StatusTryAgainLater)
	}
	s.m.logins.WithLabelValues("ok").Inc()
	w := rs.Welcome()
	sess := &session{
		srv: s, conn: conn, relay: rs, name: w.Name, sessionID: w.Session,
		out: newOutQueue(maxCtlQueue, s.cfg.AudioQueue), playback: "pcm",
		log: log.With("name", w.Name),
	}
	if m.Playback == "wav" {
		sess.playback = "wav"
	}
	return sess, nil
}

func (s *Server) joinHub(id uint16, sess *session) *hub {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubs[id]
	if h == nil {
		h = newHub(s, id)
		s.hubs[id] = h
		s.m.hubs.Inc()
	}
	h.add(sess)
	return h
}

func (s *Server) leaveHub(h *hub, sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.remove(sess) && s.hubs[h.id] == h {
		delete(s.hubs, h.id)
		s.m.hubs.Dec()
	}
}

// certChangedText tells a browser user that the gateway refuses the relay
// because its certificate changed.
const certChangedText = "The intercom server's identity (its certificate) is not the one this gateway knows, " +
	"so the gateway refuses to connect to it: the server may have been reinstalled, or something is " +
	"pretending to be it. Tell the intercom's administrator; you cannot fix this from the page."

// shutdownText is the bye a browser gets when the gateway stops.
const shutdownText = "The web gateway is restarting. The page logs you in again by itself when it is back."

// sentence capitalises s and ends it with a full stop, for the page.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// remoteHost is the address part of an http.Request's RemoteAddr.
func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// isIP reports whether host is an IP address (IPv6 with or without a zone).
func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

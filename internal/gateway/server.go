package gateway

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
	ctx      context.Context       // canceled by Close
	stop     context.CancelFunc
	wg       sync.WaitGroup // session handlers

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
	s := &Server{
		cfg: cfg, log: cfg.Logger, reg: cfg.Registry, m: newMetrics(cfg.Registry),
		hubs: map[uint16]*hub{}, sessions: map[*session]struct{}{}, ctx: ctx, stop: stop,
		logins: limit.NewLogins(5, 10*time.Second), failedLog: limit.NewSampler(time.Now()),
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/ws", s.serveWS)
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	files := http.FileServerFS(cfg.Assets)
	s.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	}))
	s.http = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         cfg.TLS,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	return s, nil
}

// Handler returns the gateway's HTTP handler (page, /ws, /healthz).
func (s *Server) Handler() http.Handler { return s.mux }

// MetricsHandler serves the gateway's Prometheus metrics.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
}

// Serve serves on ln until ctx ends or Close is called. It returns nil after a
// clean shutdown.
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

// Close stops serving and ends every session, waiting for them.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
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
	ctx := s.ctx
	sess, err := s.login(ctx, conn, remoteHost(r.RemoteAddr), log)
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
	sess.serve(ctx)
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
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
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
	s.mu.Lock()
	full := len(s.sessions) >= s.cfg.MaxSessions
	s.mu.Unlock()
	if full {
		return nil, fail("full", "The gateway is full. Try again later.", websocket.StatusTryAgainLater)
	}
	if len(m.Channel) > proto.MaxChannelLen {
		m.Channel = ""
	}
	if s.logins.Blocked(ip, m.Name, time.Now()) {
		return nil, fail("ratelimit", "Too many wrong passwords. Wait a minute, then try again.", websocket.StatusTryAgainLater)
	}
	rs, err := s.cfg.Dialer.Dial(lctx, m.Name, m.Password, m.Channel)
	if err != nil {
		var aerr *client.AuthError
		if errors.As(err, &aerr) {
			s.logins.Failed(ip, m.Name, time.Now())
			return nil, fail("auth", "Wrong name or password.", websocket.StatusPolicyViolation)
		}
		var rerr *client.RelayError
		if errors.As(err, &rerr) {
			return nil, fail(codeName(rerr.Code), "The intercom refused: "+rerr.Text, websocket.StatusPolicyViolation)
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

// remoteHost is the address part of an http.Request's RemoteAddr.
func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

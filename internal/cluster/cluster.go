// Package cluster joins several Hark relays into one intercom through NATS:
// an embedded nats-server in each relay with TLS routes between the relays
// (or an external NATS), never a protocol of our own.
//
// What crosses between relays:
//
//   - Voice: core NATS subjects hark.NAME.voice.CHANNEL (channel name in
//     hex) and hark.NAME.page. A relay publishes each frame of its own
//     talkers once, subscribes only to the channels its own sessions are
//     in, and never republishes what it received (the connection is
//     NoEcho, and received frames never reach the publish queue).
//     Publishing goes through a bounded drop-oldest queue drained by one
//     goroutine, so the relay's fan-out never waits for NATS.
//   - Floors: a JetStream key-value bucket (memory, replicated on up to
//     three relays). Taking a floor is Create (compare-and-set: only one
//     relay can create a key); the holder's relay renews it (Update with
//     the revision) every LeaseTTL/3; the bucket's max age is LeaseTTL, so
//     the floor of a relay that died frees itself within LeaseTTL. Every
//     relay watches the bucket to know who talks elsewhere.
//   - Presence: each relay puts its own sessions under its node name in a
//     second bucket (max age RosterTTL, renewed every RosterTTL/3); the
//     others watch it. A relay that dies disappears when it is counted
//     dead: no heartbeat (hark.NAME.alive, core NATS) and nothing on its
//     routes for PeerTimeout. Any relay seen (heartbeat, presence, floor
//     lease, route) is tracked, so it can be counted dead.
//   - Events (texts, rings, kicks, replaced logins, talkers in open
//     channels): hark.NAME.events, JSON with the proto message inside.
//   - Open-mode name probes: hark.NAME.probe.NODE (is your session of this
//     name alive?); no answer means that relay is dead.
//   - Status and round trips: hark.NAME.status (every relay answers),
//     hark.NAME.ping.NODE.
package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/proto"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config configures a relay's membership of a cluster. Either Listen (and
// Peers) for the embedded NATS server, or NATS for an external one.
type Config struct {
	// Name is the cluster's name: the same on every relay of the cluster
	// (letters, digits, - and _).
	Name string
	// Node is this relay's name, unique in the cluster. Default: the host
	// name and the cluster port.
	Node string
	// Listen is where the embedded NATS server listens for routes from the
	// other relays (host:port; port 0 picks a free one). Peers are the
	// other relays' route addresses (nats://host:port). Routes use TLS with
	// the cluster certificate in Keys.
	Listen string
	Peers  []string
	// NATS is the URL of an external NATS server or cluster to use instead
	// of an embedded one (JetStream must be enabled there).
	NATS string
	// DataDir is the relay's data directory: the embedded server keeps its
	// JetStream files in DataDir/nats and writes the address of its
	// loopback client port to DataDir/cluster-client.url while it runs
	// (read by `relay cluster status`).
	DataDir string
	// Keys is the cluster's key material (LoadKeys); required with the
	// embedded server.
	Keys Keys
	// Replicas of the floor and presence buckets. Default: 3, or fewer
	// when fewer relays are configured.
	Replicas int
	// VoiceQueue is how many frames may wait to be published (default
	// 512); beyond that the oldest is dropped and counted.
	VoiceQueue int
	// LeaseTTL is how long a floor lives without renewal (default 3 s;
	// renewed every LeaseTTL/3, and a renewal that gets no answer is
	// tried again while the lease may be alive, so a busy machine does not
	// cut a talker); RosterTTL the same for a relay's presence (default
	// 30 s: a relay's death is told by its silence, PeerTimeout, so the
	// whole list of its sessions is put again only every 10 s, not twice a
	// second: with 600 sessions that re-put cost the idle cluster a fifth
	// of a core). A relay that dies loses its floors and sessions when it
	// is counted dead (PeerTimeout).
	LeaseTTL, RosterTTL time.Duration
	// PeerTimeout is how long another relay may stay silent before it
	// counts as dead when nothing came on its routes either for as long
	// (its program died, or its machine or network vanished): its
	// sessions leave the presence and its floors are free (default 1 s;
	// while its routes still bring messages, 3 × PeerTimeout: see
	// expirePeers). Every relay says it is alive on core NATS every
	// PeerTimeout/5, so this does not wait for JetStream.
	PeerTimeout time.Duration
	// ReadyTimeout bounds how long New waits for the embedded server to
	// accept connections (default 10 s).
	ReadyTimeout time.Duration
	Logger       *slog.Logger
}

// Lease is who holds a floor (or the page).
type Lease struct {
	Session uint32 `json:"s"`
	Name    string `json:"n"`
	Node    string `json:"node"`
	Channel string `json:"c,omitempty"`
}

// Event is a control event for the other relays.
type Event struct {
	Kind string `json:"k"`
	Node string `json:"node"`           // the relay it came from (filled by Send)
	To   string `json:"to,omitempty"`   // a relay's node name; "" for every relay
	Name string `json:"name,omitempty"` // the user concerned (kick, replaced)
	Text string `json:"text,omitempty"`
	Msg  []byte `json:"m,omitempty"` // a proto message framed at proto.Version
	// At is when the newer login was made (replaced; Unix ns): a relay
	// whose own session of the name is newer still keeps it.
	At int64 `json:"at,omitempty"`
}

// Event kinds.
const (
	EventText     = "text"     // Msg: a proto.Text the origin relay filled in
	EventRing     = "ring"     // Msg: a proto.Ring
	EventKick     = "kick"     // end Name's session: Text says why (an admin)
	EventReplaced = "replaced" // Name logged in at the origin relay: end the older session
	EventTalking  = "talking"  // Msg: a proto.Talking in an open channel (Text: the channel's name)
)

// NodeStatus is what a relay says about itself in `relay cluster status`.
type NodeStatus struct {
	Node     string           `json:"node"`
	Sessions int              `json:"sessions"`
	Channels map[string]int   `json:"channels"` // local sessions per channel
	Routes   []string         `json:"routes,omitempty"`
	RTT      map[string]int64 `json:"rtt_us,omitempty"` // round trip to each peer, microseconds
	Dropped  uint64           `json:"voice_dropped"`
	// FloorLeader: this relay's NATS server leads the floor bucket's
	// raft group (embedded server only).
	FloorLeader bool `json:"floor_leader,omitempty"`
}

// Handler receives what comes from the other relays. Its methods are
// called on the cluster's goroutines (one at a time per kind) and must not
// block for long.
type Handler interface {
	// Voice is a frame of another relay's talker in channel ("" for a
	// page frame). frame is the handler's to keep.
	Voice(channel string, frame []byte)
	Event(ev Event)
	// Roster is another relay's sessions (all of them); users nil when
	// that relay left or died.
	Roster(node string, users []proto.UserInfo)
	// Floor says who holds a floor key at another relay, or nil when the
	// key is free.
	Floor(key string, l *Lease)
	// FloorLost: a lease this relay held could not be renewed (taken
	// over after a partition, or the cluster is unreachable).
	FloorLost(key string)
	// Status describes this relay for `relay cluster status`.
	Status() NodeStatus
	// NameAnswers reports whether this relay has a session named name
	// that answers a ping (open mode: another relay wants to know whether
	// the name is really taken). It may block for the relay's probe time.
	NameAnswers(name string) bool
}

// ErrNotReady is returned by AcquireFloor before the floor bucket exists
// (the cluster is still forming) or when NATS cannot be reached.
var ErrNotReady = errors.New("the relays' cluster is not ready")

// Cluster is one relay's membership of a cluster. Make it with New, hand
// it a Handler with Start, stop it with Close. Safe for concurrent use.
type Cluster struct {
	cfg     Config
	log     *slog.Logger
	srv     *server.Server // nil with an external NATS
	nc      *nats.Conn
	js      jetstream.JetStream
	prefix  string
	num     uint32
	token   string
	urlFile string

	q *voiceQueue

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ready  chan struct{}
	killed atomic.Bool

	floorKV  atomic.Pointer[kvBox]
	rosterKV atomic.Pointer[kvBox]

	h atomic.Pointer[handlerBox]

	rosterMu sync.Mutex // serialises applyRoster (watch and revive)

	mu           sync.Mutex
	want         map[string]bool               // guarded by mu: voice channels to subscribe
	subs         map[string]*nats.Subscription // guarded by mu
	held         map[string]*heldLease         // guarded by mu: leases this relay holds
	releasing    map[string]chan struct{}      // guarded by mu: releases under way
	roster       []byte                        // guarded by mu: our roster, JSON (nil: not set yet)
	rosterGen    uint64                        // guarded by mu
	peers        map[string]*peer              // guarded by mu: other relays seen in the roster bucket
	floorRev     map[string]uint64             // guarded by mu: the latest revision of each floor key this relay's watch saw
	floorShown   map[string]bool               // guarded by mu: floor keys the handler was told are held at another relay
	rewatch      chan struct{}                 // guarded by mu: closed (and replaced) to start the bucket watches again
	rewatching   bool                          // guarded by mu: rewatchWhenLed is running
	rewatchAgain bool                          // guarded by mu: another relay died meanwhile: once more after it
	subKick      chan struct{}
	rosterKick   chan struct{}

	st stats
}

type kvBox struct{ kv jetstream.KeyValue }
type handlerBox struct{ h Handler }

// heldLease is a lease this relay holds. mu serialises its renewal and
// its release, so that a release deletes the revision the last renewal
// made.
type heldLease struct {
	mu       sync.Mutex
	rev      uint64    // guarded by mu
	renewed  time.Time // guarded by mu: when rev was written
	released bool      // guarded by mu
	val      []byte
}

// peer is another relay, known from any sign of it: its heartbeat, its
// presence, a floor lease it holds or a NATS route to it. seen is when it
// last said it was alive (core NATS heartbeat or presence update); goneAt
// when it was counted dead. routeIn is how many messages this relay's
// server had received on its routes to it (summed over the route pool)
// when last looked at, routeHeard when that count last grew (or its route
// appeared): a relay whose machine vanished keeps its routes up for
// seconds but sends nothing on them.
type peer struct {
	seen       time.Time
	goneAt     time.Time
	routeHeard time.Time
	routeIn    int64
	rtt        time.Duration
	up         bool
	users      int
	gone       bool
	reviving   bool          // a revive is under way
	rev        uint64        // revision of the roster entry applied
	died       chan struct{} // closed when it is counted dead (replaced when it is back)
}

type stats struct {
	voiceOut, voiceIn, eventsOut, eventsIn atomic.Uint64
	acquired, refused, acquireErr, lost    atomic.Uint64
	publishErr                             atomic.Uint64
	rewatches                              atomic.Uint64 // restartWatches calls
}

// NodeNumber derives the 12-bit number (1..4095) that prefixes the session
// ids of a relay named node, so that session ids are unique in the cluster.
func NodeNumber(node string) uint32 {
	sum := sha256.Sum256([]byte(node))
	return binary.BigEndian.Uint32(sum[:4])%4095 + 1
}

// New joins the cluster: it starts the embedded NATS server (or connects to
// the external one) and returns at once; the floor and presence buckets
// are made in the background (Ready is closed then).
func New(cfg Config) (*Cluster, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Name == "" {
		return nil, errors.New("cluster: the cluster needs a name (--cluster NAME)")
	}
	for _, r := range cfg.Name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return nil, fmt.Errorf("cluster: the cluster name %q contains %q: use letters, digits, - and _ only", cfg.Name, r)
		}
	}
	if cfg.NATS == "" && cfg.Listen == "" {
		return nil, errors.New("cluster: give --cluster-listen (this relay's address for the other relays) or --nats URL (an external NATS)")
	}
	if cfg.VoiceQueue <= 0 {
		cfg.VoiceQueue = 512
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 3 * time.Second
	}
	if cfg.RosterTTL <= 0 {
		cfg.RosterTTL = 30 * time.Second
	}
	if cfg.PeerTimeout <= 0 {
		cfg.PeerTimeout = time.Second
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	if cfg.Node == "" {
		h, _ := os.Hostname()
		_, port, _ := net.SplitHostPort(cfg.Listen)
		cfg.Node = strings.Trim(h+"-"+port, "-")
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 3
		if cfg.NATS == "" {
			others := 0
			seen := map[string]bool{}
			for _, p := range cfg.Peers {
				if !isSelf(p, cfg.Listen) && !seen[p] {
					seen[p] = true
					others++
				}
			}
			cfg.Replicas = min(3, 1+others)
		}
	}
	c := &Cluster{
		cfg: cfg, log: cfg.Logger.With("cluster", cfg.Name, "node", cfg.Node),
		prefix: "hark." + cfg.Name + ".", num: NodeNumber(cfg.Node),
		q: newVoiceQueue(cfg.VoiceQueue), ready: make(chan struct{}),
		want: map[string]bool{}, subs: map[string]*nats.Subscription{}, held: map[string]*heldLease{},
		releasing: map[string]chan struct{}{}, peers: map[string]*peer{}, floorRev: map[string]uint64{}, floorShown: map[string]bool{},
		subKick: make(chan struct{}, 1), rosterKick: make(chan struct{}, 1), rewatch: make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	opts := []nats.Option{nats.Name("hark relay " + cfg.Node), nats.NoEcho(), nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				c.log.Warn("lost the connection to NATS; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { c.log.Info("connected to NATS again") }),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			c.log.Warn("NATS error (messages from other relays may have been lost)", "err", err)
		}),
	}
	var err error
	if cfg.NATS != "" {
		c.nc, err = nats.Connect(cfg.NATS, opts...)
		if err != nil {
			return nil, fmt.Errorf("cannot connect to NATS at %s: %w", cfg.NATS, err)
		}
	} else {
		if err := c.startServer(); err != nil {
			return nil, err
		}
		c.nc, err = nats.Connect("", append(opts, nats.InProcessServer(c.srv), nats.Token(c.token))...)
		if err != nil {
			c.srv.Shutdown()
			return nil, fmt.Errorf("cluster: cannot connect to the embedded NATS server: %w", err)
		}
	}
	c.js, err = jetstream.New(c.nc)
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) startServer() error {
	cfg := c.cfg
	if len(cfg.Keys.Cert.Certificate) == 0 {
		return errors.New("cluster: no cluster key material (run `relay cluster init`)")
	}
	host, port, err := splitListen(cfg.Listen)
	if err != nil {
		return fmt.Errorf("cluster: --cluster-listen %q: %w", cfg.Listen, err)
	}
	var routes []*url.URL
	for _, p := range cfg.Peers {
		if !strings.Contains(p, "://") {
			p = "nats://" + p
		}
		u, err := url.Parse(p)
		if err != nil || u.Host == "" {
			return fmt.Errorf("cluster: --peer %q is not an address like nats://relay2:6222", p)
		}
		routes = append(routes, u)
	}
	c.token = cfg.Keys.Token()
	store := filepath.Join(cfg.DataDir, "nats")
	opts := &server.Options{
		ServerName: cfg.Node,
		Host:       "127.0.0.1", Port: server.RANDOM_PORT, // loopback client port: this relay and `relay cluster status`
		Authorization:      c.token,
		NoSigs:             true,
		JetStream:          true,
		StoreDir:           store,
		JetStreamMaxMemory: 256 << 20,
		JetStreamMaxStore:  64 << 20,
		Cluster: server.ClusterOpts{
			Name: cfg.Name, Host: host, Port: port,
			TLSConfig: cfg.Keys.routeTLS(), TLSTimeout: 5,
			ConnectRetries: -1, // keep trying peers that are not up yet
			PingInterval:   time.Second, MaxPingsOut: 2,
		},
		Routes: routes,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("cluster: cannot start the embedded NATS server: %w", err)
	}
	ns.SetLoggerV2(&natsLog{c.log}, false, false, false)
	go ns.Start()
	if !ns.ReadyForConnections(cfg.ReadyTimeout) {
		ns.Shutdown()
		return fmt.Errorf("cluster: the embedded NATS server did not start within %v (is %s free?)", cfg.ReadyTimeout, cfg.Listen)
	}
	c.srv = ns
	if cfg.DataDir != "" {
		c.urlFile = filepath.Join(cfg.DataDir, clientInfoFile)
		b, _ := json.Marshal(ClientInfo{URL: ns.ClientURL(), Cluster: cfg.Name, Node: cfg.Node})
		if err := os.WriteFile(c.urlFile, b, 0o600); err != nil {
			c.log.Warn("cannot write the client address for `relay cluster status`", "file", c.urlFile, "err", err)
			c.urlFile = ""
		}
	}
	c.log.Info("cluster: embedded NATS server up", "routes_listen", ns.ClusterAddr().String(), "peers", strings.Join(cfg.Peers, ","))
	return nil
}

// isSelf reports whether the route URL peer is this relay's own listen
// address (an operator may list every relay, this one too, on each).
func isSelf(peer, listen string) bool {
	u, err := url.Parse(peer)
	if err != nil || !strings.Contains(peer, "://") {
		u = &url.URL{Host: peer}
	}
	ph, pp, err1 := net.SplitHostPort(u.Host)
	lh, lp, err2 := net.SplitHostPort(listen)
	if err1 != nil || err2 != nil || pp != lp {
		return false
	}
	if ph == lh {
		return true
	}
	local := map[string]bool{"localhost": true}
	if h, err := os.Hostname(); err == nil {
		local[h] = true
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				local[n.IP.String()] = true
			}
		}
	}
	if lip := net.ParseIP(lh); lh != "" && (lip == nil || !lip.IsUnspecified()) {
		return false // listening on one address, and the peer is another
	}
	return local[ph] || net.ParseIP(ph) != nil && net.ParseIP(ph).IsLoopback()
}

func splitListen(s string) (string, int, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	if n == 0 {
		n = server.RANDOM_PORT
	}
	if h == "" {
		h = "0.0.0.0"
	}
	return h, n, nil
}

// natsLog passes the embedded server's warnings and errors to the relay's
// log (its notices at debug level, but routes closed at info).
// Warnings that are expected are logged at debug or info level: the
// routes' certificate chain is not verified because the peer's
// certificate is pinned instead (Keys.routeTLS), and peers that are not
// up yet are retried.
type natsLog struct{ l *slog.Logger }

func (n *natsLog) Noticef(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	if strings.Contains(msg, "Router connection closed") && !strings.Contains(msg, "Duplicate Route") && !strings.Contains(msg, "Client Closed") {
		// A route to another relay closed, and why (not the duplicates
		// closed while the relays connect to each other): an operator
		// wants to see that.
		n.l.Info("nats: " + msg)
		return
	}
	n.l.Debug("nats: " + msg)
}
func (n *natsLog) Warnf(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	switch {
	case strings.Contains(msg, "will not be verified"), strings.Contains(msg, "Error trying to connect to route"):
		n.l.Debug("nats: " + msg)
	case strings.Contains(msg, "Waiting for routing"), strings.Contains(msg, "meta leader"), strings.Contains(msg, "Metalayer"):
		n.l.Info("nats: " + msg)
	default:
		n.l.Warn("nats: " + msg)
	}
}
func (n *natsLog) Fatalf(f string, a ...any) { n.l.Error("nats: " + fmt.Sprintf(f, a...)) }
func (n *natsLog) Errorf(f string, a ...any) { n.l.Warn("nats: " + fmt.Sprintf(f, a...)) }
func (n *natsLog) Debugf(f string, a ...any) {}
func (n *natsLog) Tracef(f string, a ...any) {}

// LeadsFloors reports whether this relay's embedded server leads the
// floor bucket's raft group (every floor's compare-and-set goes through
// that leader). False with an external NATS.
func (c *Cluster) LeadsFloors() bool {
	if c.srv == nil {
		return false
	}
	return c.srv.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, "KV_"+c.floorBucket())
}

func (c *Cluster) floorBucket() string  { return "hark-" + c.cfg.Name + "-floor" }
func (c *Cluster) rosterBucket() string { return "hark-" + c.cfg.Name + "-roster" }

// Node returns this relay's node name.
func (c *Cluster) Node() string { return c.cfg.Node }

// NodeNumber returns the number that prefixes this relay's session ids.
func (c *Cluster) NodeNumber() uint32 { return c.num }

// RouteAddr returns where the embedded server listens for routes (nil with
// an external NATS).
func (c *Cluster) RouteAddr() net.Addr {
	if c.srv == nil {
		return nil
	}
	return c.srv.ClusterAddr()
}

// Ready is closed once the floor and presence buckets are usable.
func (c *Cluster) Ready() <-chan struct{} { return c.ready }

// Start hands the cluster its handler and starts exchanging with the other
// relays. Call it once.
func (c *Cluster) Start(h Handler) {
	c.h.Store(&handlerBox{h})
	subs := []struct {
		subj string
		fn   nats.MsgHandler
	}{
		{c.prefix + "events", c.onEvent},
		{c.prefix + "page", func(m *nats.Msg) { c.st.voiceIn.Add(1); h.Voice("", m.Data) }},
		{c.prefix + "status", func(m *nats.Msg) {
			b, _ := json.Marshal(c.status())
			m.Respond(b)
		}},
		{c.prefix + "ping." + c.cfg.Node, func(m *nats.Msg) { m.Respond(nil) }},
		{c.prefix + "alive", c.onAlive},
		{c.prefix + "probe." + c.cfg.Node, func(m *nats.Msg) {
			go func() { // the ping waits for the client: not on the subscription's goroutine
				ans := []byte("free")
				if h.NameAnswers(string(m.Data)) {
					ans = []byte("taken")
				}
				m.Respond(ans)
			}()
		}},
	}
	for _, s := range subs {
		if _, err := c.nc.Subscribe(s.subj, s.fn); err != nil {
			c.log.Error("cluster: cannot subscribe", "subject", s.subj, "err", err)
		}
	}
	c.wg.Add(6)
	go func() { defer c.wg.Done(); c.aliveLoop() }()
	go func() { defer c.wg.Done(); c.publishLoop() }()
	go func() { defer c.wg.Done(); c.subscribeLoop() }()
	go func() { defer c.wg.Done(); c.setup() }()
	go func() { defer c.wg.Done(); c.renewLoop() }()
	go func() { defer c.wg.Done(); c.pingLoop() }()
}

func (c *Cluster) handler() Handler {
	if b := c.h.Load(); b != nil {
		return b.h
	}
	return nil
}

// Close leaves the cluster: this relay's floors and presence are deleted
// (the others see it at once rather than after the TTL), then the
// connection and the embedded server stop.
func (c *Cluster) Close() error {
	c.cancel()
	c.wg.Wait()
	if kv := c.rosterKV.Load(); kv != nil && !c.killed.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		kv.kv.Delete(ctx, nodeKey(c.cfg.Node))
		c.mu.Lock()
		held := c.held
		c.held = map[string]*heldLease{}
		c.mu.Unlock()
		if fk := c.floorKV.Load(); fk != nil {
			for k, h := range held {
				fk.kv.Delete(ctx, k, jetstream.LastRevision(h.rev))
			}
		}
		cancel()
	}
	if c.nc != nil {
		c.nc.Close()
	}
	if c.srv != nil {
		c.srv.Shutdown()
		c.srv.WaitForShutdown()
	}
	if c.urlFile != "" {
		os.Remove(c.urlFile)
	}
	return nil
}

// Kill ends the membership the way a crash does (for tests): the
// connection and the embedded server stop, nothing is deleted, and the
// other relays find out when this relay's leases and presence expire.
// Close after Kill does nothing more.
func (c *Cluster) Kill() {
	c.killed.Store(true)
	c.cancel()
	if c.srv != nil {
		// A crash hands no raft leadership over: the others must elect
		// new leaders after their election timeout, as after kill -9.
		stopRaftSilently(c.srv)
		c.srv.Shutdown()
	}
	c.nc.Close()
	c.wg.Wait()
}

// setup makes (or opens) the buckets, retrying until the cluster's
// JetStream is up, then watches them.
func (c *Cluster) setup() {
	floorCfg := jetstream.KeyValueConfig{Bucket: c.floorBucket(), History: 1, TTL: c.cfg.LeaseTTL,
		Storage: jetstream.MemoryStorage, Replicas: c.cfg.Replicas, LimitMarkerTTL: time.Second}
	rosterCfg := jetstream.KeyValueConfig{Bucket: c.rosterBucket(), History: 1, TTL: c.cfg.RosterTTL,
		Storage: jetstream.MemoryStorage, Replicas: c.cfg.Replicas, LimitMarkerTTL: time.Second, MaxValueSize: 1 << 20}
	open := func(cfg jetstream.KeyValueConfig) jetstream.KeyValue {
		wait := 100 * time.Millisecond
		var lastErr string
		for c.ctx.Err() == nil {
			ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
			kv, err := c.js.CreateOrUpdateKeyValue(ctx, cfg)
			cancel()
			if err == nil {
				return kv
			}
			var ae *jetstream.APIError
			if errors.As(err, &ae) && ae.ErrorCode == 10074 && cfg.Replicas > 1 { // "replicas > 1 not supported in non-clustered mode"
				// An external NATS that is one server (not clustered)
				// keeps one copy.
				c.log.Info("cluster: the NATS server is not clustered; the buckets keep one copy", "bucket", cfg.Bucket)
				cfg.Replicas = 1
				continue
			}
			if err.Error() != lastErr {
				c.log.Info("cluster: waiting for the relays' JetStream to form", "bucket", cfg.Bucket, "err", err)
				lastErr = err.Error()
			}
			select {
			case <-c.ctx.Done():
			case <-time.After(wait):
			}
			wait = min(wait*2, time.Second)
		}
		return nil
	}
	fkv := open(floorCfg)
	if fkv == nil {
		return
	}
	rkv := open(rosterCfg)
	if rkv == nil {
		return
	}
	c.floorKV.Store(&kvBox{fkv})
	c.rosterKV.Store(&kvBox{rkv})
	c.wg.Add(3)
	go func() { defer c.wg.Done(); c.watch(fkv, c.onFloor, c.floorsReplayed) }()
	go func() { defer c.wg.Done(); c.watch(rkv, c.onRoster, nil) }()
	go func() { defer c.wg.Done(); c.rosterLoop(rkv) }()
	close(c.ready)
	c.log.Info("cluster: ready", "replicas", c.cfg.Replicas)
}

// watch follows every key of kv until Close, calling fn for each update
// (and for each value there when it starts, then replayed, if not nil,
// with the keys that had one); it starts again when the watcher fails, and
// when another relay is counted dead (restartWatches).
func (c *Cluster) watch(kv jetstream.KeyValue, fn func(jetstream.KeyValueEntry), replayed func(keys map[string]bool)) {
	for c.ctx.Err() == nil {
		c.mu.Lock()
		restart := c.rewatch
		c.mu.Unlock()
		w, err := kv.WatchAll(c.ctx)
		if err != nil {
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		keys := map[string]bool{} // nil once the current values are replayed
	updates:
		for {
			select {
			case e, ok := <-w.Updates():
				if !ok {
					break updates
				}
				if e == nil { // the end of the current values
					if keys != nil && replayed != nil {
						replayed(keys)
					}
					keys = nil
					continue
				}
				if keys != nil && e.Operation() == jetstream.KeyValuePut {
					keys[e.Key()] = true
				}
				fn(e)
			case <-restart:
				break updates
			case <-c.ctx.Done():
				// The watcher closes Updates when its context ends, but
				// not always once the connection is closed under it
				// (Kill: TestClusterWatchAfterLeaderDeath hung 10 minutes
				// here in a loaded make test): do not wait for it.
				w.Stop()
				return
			}
		}
		w.Stop()
	}
}

// rewatchWhenLed restarts the bucket watches (restartWatches) once both
// buckets have a leader again: a relay died, and it may have led them (its
// death leaves the watches blind, and a watch made before a new leader is
// elected waits for it). One at a time; it gives up at Close.
func (c *Cluster) rewatchWhenLed() {
	c.mu.Lock()
	if c.rewatching {
		c.rewatchAgain = true
		c.mu.Unlock()
		return
	}
	c.rewatching = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.rewatching = false
		again := c.rewatchAgain
		c.rewatchAgain = false
		c.mu.Unlock()
		if again && c.ctx.Err() == nil {
			go c.rewatchWhenLed()
		}
	}()
	for c.ctx.Err() == nil {
		led := true
		for _, b := range []string{c.floorBucket(), c.rosterBucket()} {
			ctx, cancel := context.WithTimeout(c.ctx, 500*time.Millisecond)
			st, err := c.js.Stream(ctx, "KV_"+b) // answered by the bucket's leader
			cancel()
			if err != nil {
				led = false
				break
			}
			if ci := st.CachedInfo().Cluster; ci != nil && ci.Leader == "" {
				led = false
				break
			}
		}
		if led {
			c.restartWatches()
			return
		}
		select {
		case <-c.ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// restartWatches starts the bucket watches again. A watch is an ordered
// consumer that lives on one server (the bucket's leader when it was
// made); when that relay dies the watch delivers nothing until the NATS
// client misses its heartbeats (5 s apart, fixed in nats.go): 8-9 s in
// which this relay did not see floors taken or freed, or a page start, at
// the other relays. A new watch is made on a live server and first
// delivers every key's current value (a freed floor's delete marker too).
func (c *Cluster) restartWatches() {
	c.st.rewatches.Add(1)
	c.mu.Lock()
	close(c.rewatch)
	c.rewatch = make(chan struct{})
	c.mu.Unlock()
}

func floorKeyOf(channel string) string { return "f." + hex.EncodeToString([]byte(channel)) }

// FloorKey is the key of channel's floor; PageKey the page's.
func FloorKey(channel string) string { return floorKeyOf(channel) }

// PageKey is the key of the cluster-wide page (one pager at a time).
const PageKey = "page"

func nodeKey(node string) string { return "n." + hex.EncodeToString([]byte(node)) }

func (c *Cluster) onFloor(e jetstream.KeyValueEntry) {
	c.mu.Lock()
	if e.Revision() > c.floorRev[e.Key()] {
		c.floorRev[e.Key()] = e.Revision()
	}
	c.mu.Unlock()
	h := c.handler()
	if h == nil {
		return
	}
	switch e.Operation() {
	case jetstream.KeyValuePut:
		var l Lease
		if json.Unmarshal(e.Value(), &l) != nil || l.Node == c.cfg.Node {
			c.setShown(e.Key(), false)
			return
		}
		c.mu.Lock()
		p := c.peers[l.Node]
		if p == nil && l.Node != "" {
			// A floor held at a relay not heard of yet (it may have
			// died before this relay saw it): tracked, so that it is
			// counted dead after PeerTimeout of silence and the floor
			// freed then rather than when its lease runs out.
			p = c.newPeerLocked(l.Node, "a floor lease")
		}
		dead := p != nil && p.gone
		c.mu.Unlock()
		if dead {
			// A lease of a relay counted dead, not expired yet (a
			// watch started again replays it): nobody holds that
			// floor; the handler was told so when the relay died.
			c.setShown(e.Key(), false)
			return
		}
		c.setShown(e.Key(), true)
		h.Floor(e.Key(), &l)
	default:
		c.setShown(e.Key(), false)
		h.Floor(e.Key(), nil)
	}
}

// setShown records whether the handler was last told that key is held at
// another relay.
func (c *Cluster) setShown(key string, held bool) {
	c.mu.Lock()
	if held {
		c.floorShown[key] = true
	} else {
		delete(c.floorShown, key)
	}
	c.mu.Unlock()
}

// floorsReplayed: a new watch of the floor bucket delivered the current
// leases (keys). A floor the handler was told is held elsewhere and that
// is not among them was freed while the old watch was blind (its delete
// marker is gone too): the handler is told now, or it would refuse
// presses for a talker who let go long ago.
func (c *Cluster) floorsReplayed(keys map[string]bool) {
	var gone []string
	c.mu.Lock()
	for k := range c.floorShown {
		if !keys[k] {
			gone = append(gone, k)
			delete(c.floorShown, k)
		}
	}
	c.mu.Unlock()
	h := c.handler()
	if h == nil {
		return
	}
	for _, k := range gone {
		h.Floor(k, nil)
	}
}

type roster struct {
	Node  string           `json:"node"`
	Users []proto.UserInfo `json:"users"`
}

func (c *Cluster) onRoster(e jetstream.KeyValueEntry) { c.applyRoster(e, false) }

// applyRoster hands another relay's roster entry to the handler. alive:
// the relay was heard from after it was counted dead (its heartbeat), so
// its last roster is good again however old. Entries are applied one at a
// time and never older over newer.
func (c *Cluster) applyRoster(e jetstream.KeyValueEntry, alive bool) {
	c.rosterMu.Lock()
	defer c.rosterMu.Unlock()
	h := c.handler()
	if h == nil {
		return
	}
	b, _ := hex.DecodeString(strings.TrimPrefix(e.Key(), "n."))
	node := string(b)
	if node == c.cfg.Node {
		return
	}
	if e.Operation() != jetstream.KeyValuePut {
		c.log.Debug("cluster: roster removed", "peer", node, "op", e.Operation().String(), "rev", e.Revision())
		c.peerGone(node)
		h.Roster(node, nil)
		return
	}
	var r roster
	if json.Unmarshal(e.Value(), &r) != nil {
		return
	}
	if r.Users == nil {
		r.Users = []proto.UserInfo{}
	}
	c.mu.Lock()
	p := c.peers[node]
	if p != nil && (p.gone && !alive && e.Created().Before(p.goneAt) || e.Revision() < p.rev) {
		// A value written before the relay was counted dead (a watcher
		// that started again replays the bucket): not a sign of life. Or
		// older than the one applied.
		c.mu.Unlock()
		return
	}
	if p == nil {
		p = c.newPeerLocked(node, "its presence")
	} else if p.gone {
		c.log.Info("cluster: a relay is back", "peer", node)
		p.died = make(chan struct{})
	}
	p.seen, p.gone, p.users, p.rev = time.Now(), false, len(r.Users), e.Revision()
	c.mu.Unlock()
	h.Roster(node, r.Users)
}

// revive fetches the roster of a relay counted dead that was heard from
// again (or heard of for the first time), and applies it: the relay is
// back without waiting for its next roster renewal (RosterTTL/3).
func (c *Cluster) revive(node string) {
	defer func() {
		c.mu.Lock()
		if p := c.peers[node]; p != nil {
			p.reviving = false
		}
		c.mu.Unlock()
	}()
	box := c.rosterKV.Load()
	if box == nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	e, err := box.kv.Get(ctx, nodeKey(node))
	if c.ctx.Err() != nil {
		return
	}
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		// Alive with no presence put yet (or none left): back, with
		// no sessions, or its heartbeats would be ignored for good.
		c.mu.Lock()
		if p := c.peers[node]; p != nil && p.gone {
			p.gone, p.seen, p.died = false, time.Now(), make(chan struct{})
			c.log.Info("cluster: a relay is back (no sessions yet)", "peer", node)
		}
		c.mu.Unlock()
		return
	}
	if err != nil {
		return
	}
	c.applyRoster(e, true)
}

// newPeerLocked starts tracking relay node, seen now (c.mu held). Any
// sign of a relay makes it tracked, not only its presence: a relay that
// is not tracked is never counted dead, so its floor would stay held
// until its lease ran out (LeaseTTL) when this relay had missed its
// presence. how says how it was first seen, for the log.
func (c *Cluster) newPeerLocked(node, how string) *peer {
	now := time.Now()
	p := &peer{seen: now, routeHeard: now, died: make(chan struct{})}
	c.peers[node] = p
	c.log.Info("cluster: a relay joined", "peer", node, "seen_by", how)
	return p
}

func (c *Cluster) peerGone(node string) {
	c.mu.Lock()
	gone := false
	if p := c.peers[node]; p != nil && !p.gone {
		p.gone, p.up, p.users, p.goneAt = true, false, 0, time.Now()
		close(p.died)
		gone = true
		c.log.Warn("cluster: a relay left or stopped answering; its sessions and floors are released", "peer", node)
	}
	c.mu.Unlock()
	if gone {
		go c.rewatchWhenLed()
	}
}

// SetRoster replaces this relay's sessions as the other relays see them
// (published within about 50 ms, and renewed while the relay runs). It
// does not block.
func (c *Cluster) SetRoster(users []proto.UserInfo) {
	b, err := json.Marshal(roster{Node: c.cfg.Node, Users: users})
	if err != nil {
		return
	}
	c.mu.Lock()
	c.roster = b
	c.rosterGen++
	c.mu.Unlock()
	select {
	case c.rosterKick <- struct{}{}:
	default:
	}
}

// rosterLoop puts this relay's roster when it changed and every
// RosterTTL/3 (a put that fails is tried again 250 ms later).
func (c *Cluster) rosterLoop(kv jetstream.KeyValue) {
	t := time.NewTicker(c.cfg.RosterTTL / 3)
	defer t.Stop()
	var sent uint64
	var retry <-chan time.Time
	key := nodeKey(c.cfg.Node)
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.rosterKick:
		case <-retry:
		case <-t.C:
			sent = 0 // renew
		}
		retry = nil
		c.mu.Lock()
		b, gen := c.roster, c.rosterGen
		c.mu.Unlock()
		if b == nil || gen == sent {
			continue
		}
		ctx, cancel := context.WithTimeout(c.ctx, min(c.cfg.RosterTTL, 2*time.Second))
		_, err := kv.Put(ctx, key, b)
		cancel()
		if err != nil {
			c.st.publishErr.Add(1)
			c.log.Debug("cluster: cannot publish this relay's sessions; trying again", "err", err)
			retry = time.After(250 * time.Millisecond)
			continue
		}
		sent = gen
		select { // coalesce a burst of changes
		case <-c.ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// aliveLoop tells the other relays every PeerTimeout/5 that this one is
// alive, on core NATS: routes only, no JetStream, so the death of the
// relay that led a bucket does not make the others look dead too; and
// counts as dead the relays not heard of (expirePeers).
func (c *Cluster) aliveLoop() {
	iv := c.cfg.PeerTimeout / 5
	t := time.NewTicker(iv)
	defer t.Stop()
	subj, me := c.prefix+"alive", []byte(c.cfg.Node)
	last := time.Now()
	for {
		if err := c.nc.Publish(subj, me); err != nil && c.ctx.Err() == nil {
			c.st.publishErr.Add(1)
		}
		// A tick that comes late: this process did not run for a
		// while, and what the other relays sent meanwhile may not be
		// read yet.
		now := time.Now()
		c.expirePeers(now.Sub(last) > 2*iv)
		last = now
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// onAlive notes another relay's heartbeat. A relay counted dead that is
// heard again comes back with its sessions (revive); one not known yet is
// tracked from now on and its sessions fetched the same way.
func (c *Cluster) onAlive(m *nats.Msg) {
	node := string(m.Data)
	if node == c.cfg.Node {
		return
	}
	c.mu.Lock()
	p := c.peers[node]
	back := false
	if p == nil {
		// Heard before its presence was seen (or this relay's watch
		// missed it): tracked from now on, and its presence fetched.
		p = c.newPeerLocked(node, "its heartbeat")
		back = c.ctx.Err() == nil
	} else if !p.gone {
		p.seen = time.Now()
	} else {
		back = !p.reviving && c.ctx.Err() == nil
	}
	if back {
		p.reviving = true
	}
	c.mu.Unlock()
	if back {
		go c.revive(node)
	}
}

// expirePeers counts as dead the relays not heard of (heartbeat or
// presence) for PeerTimeout that also sent nothing on their routes for
// PeerTimeout, or have no route: a relay whose program died (its machine
// closed the routes' TCP connections at once), or whose machine or
// network vanished without a word (its routes stay up until the routes'
// own pings give up, 2-3 s, but nothing comes on them: every relay's
// server sends raft heartbeats or their answers every 100 ms, and every
// relay its own heartbeat every PeerTimeout/5). A relay whose heartbeats
// are late while its routes still bring messages is most likely busy (a
// login storm on a small machine): counting it dead would take its
// people off every presence list and put them back a moment later; it is
// counted dead after slowPeerFactor × PeerTimeout. stalled: this relay
// itself did not run for a while (its tick came late), so what came on
// the routes meanwhile may be unread: the routes' silence is not trusted
// on this call. With an external NATS no route is known: PeerTimeout.
func (c *Cluster) expirePeers(stalled bool) {
	now := time.Now()
	routes := c.routeTraffic()
	var gone []string
	c.mu.Lock()
	for n, in := range routes {
		if n == c.cfg.Node {
			continue
		}
		p := c.peers[n]
		if p == nil {
			p = c.newPeerLocked(n, "a NATS route")
		}
		if in != p.routeIn {
			p.routeIn, p.routeHeard = in, now
		}
	}
	for n, p := range c.peers {
		_, routed := routes[n]
		if !p.gone && peerDead(p, now, c.cfg.PeerTimeout, routed, stalled) {
			gone = append(gone, n)
		}
	}
	c.mu.Unlock()
	for _, n := range gone {
		c.rosterMu.Lock()
		c.peerGone(n)
		if h := c.handler(); h != nil {
			h.Roster(n, nil)
		}
		c.rosterMu.Unlock()
	}
}

// peerDead is expirePeers' rule for a live peer p at now: silent for
// timeout with no route, or with routes that brought nothing for timeout
// either (not trusted when stalled), or silent for slowPeerFactor ×
// timeout whatever its routes.
func peerDead(p *peer, now time.Time, timeout time.Duration, routed, stalled bool) bool {
	silent := now.Sub(p.seen)
	if silent <= timeout {
		return false
	}
	quiet := !routed || !stalled && now.Sub(p.routeHeard) > timeout
	return quiet || silent > slowPeerFactor*timeout
}

// PeerDown reports whether node may be dead: counted dead, never heard of,
// not heard of for PeerTimeout, or (embedded server) its route is down. A
// relay that shows another relay's talker on a floor asks the cluster
// (AcquireFloor) rather than refusing a press at once when the talker's
// relay is down: this relay may not have counted it dead yet while the
// others already freed and reused its floor. Safe for concurrent use; it
// takes no lock the handler holds.
func (c *Cluster) PeerDown(node string) bool {
	if node == c.cfg.Node {
		return false
	}
	c.mu.Lock()
	p := c.peers[node]
	down := p == nil || p.gone || time.Since(p.seen) > c.cfg.PeerTimeout
	c.mu.Unlock()
	if down {
		return true
	}
	if routes := c.routeTraffic(); routes != nil {
		if _, ok := routes[node]; !ok {
			return true
		}
	}
	return false
}

// slowPeerFactor: a relay whose routes still bring messages is counted
// dead after this many PeerTimeouts without a heartbeat.
const slowPeerFactor = 3

// routeTraffic returns, for each relay the embedded server has a route to
// (by node name), how many messages its server has received on the
// routes to it, summed over the route pool (nil with an external NATS).
// The counts only grow while a route lives; one closed and made again
// starts from 0, which is a change too.
func (c *Cluster) routeTraffic() map[string]int64 {
	if c.srv == nil {
		return nil
	}
	rz, err := c.srv.Routez(nil)
	if err != nil {
		return nil
	}
	m := map[string]int64{}
	for _, r := range rz.Routes {
		if r.RemoteName != "" {
			m[r.RemoteName] += r.InMsgs
		}
	}
	return m
}

// Listen says whether this relay has sessions in channel: only then does
// it subscribe to the channel's voice. It does not block.
func (c *Cluster) Listen(channel string, on bool) {
	c.mu.Lock()
	if on {
		c.want[channel] = true
	} else {
		delete(c.want, channel)
	}
	c.mu.Unlock()
	select {
	case c.subKick <- struct{}{}:
	default:
	}
}

func (c *Cluster) voiceSubject(channel string) string {
	return c.prefix + "voice." + hex.EncodeToString([]byte(channel))
}

func (c *Cluster) subscribeLoop() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.subKick:
		}
		c.mu.Lock()
		var add, del []string
		for ch := range c.want {
			if c.subs[ch] == nil {
				add = append(add, ch)
			}
		}
		for ch := range c.subs {
			if !c.want[ch] {
				del = append(del, ch)
			}
		}
		c.mu.Unlock()
		for _, ch := range del {
			c.mu.Lock()
			s := c.subs[ch]
			delete(c.subs, ch)
			c.mu.Unlock()
			s.Unsubscribe()
		}
		for _, ch := range add {
			s, err := c.nc.Subscribe(c.voiceSubject(ch), func(m *nats.Msg) {
				c.st.voiceIn.Add(1)
				if h := c.handler(); h != nil {
					h.Voice(ch, m.Data)
				}
			})
			if err != nil {
				c.log.Error("cluster: cannot subscribe to a channel's voice", "channel", ch, "err", err)
				continue
			}
			s.SetPendingLimits(4096, 8<<20)
			c.mu.Lock()
			c.subs[ch] = s
			c.mu.Unlock()
		}
		c.nc.Flush()
	}
}

// PublishVoice queues a frame of one of this relay's talkers for the other
// relays (channel "" for a page frame). It copies frame, never blocks and
// does not allocate; when the queue is full the oldest frame is dropped
// and counted.
func (c *Cluster) PublishVoice(channel string, frame []byte) { c.q.push(channel, frame) }

func (c *Cluster) publishLoop() {
	var buf [maxFrame]byte
	subjects := map[string]string{"": c.prefix + "page"}
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.q.kick:
		}
		for {
			ch, n, ok := c.q.pop(buf[:])
			if !ok {
				break
			}
			subj, found := subjects[ch]
			if !found {
				subj = c.voiceSubject(ch)
				subjects[ch] = subj
			}
			err := c.nc.Publish(subj, buf[:n])
			c.q.markSent()
			if err != nil {
				c.st.publishErr.Add(1)
				continue
			}
			c.st.voiceOut.Add(1)
		}
	}
}

// Send publishes ev to the other relays (ev.To one of them, or all).
func (c *Cluster) Send(ev Event) {
	ev.Node = c.cfg.Node
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	if err := c.nc.Publish(c.prefix+"events", b); err != nil {
		c.st.publishErr.Add(1)
		c.log.Warn("cluster: cannot send an event to the other relays", "kind", ev.Kind, "err", err)
		return
	}
	c.st.eventsOut.Add(1)
}

func (c *Cluster) onEvent(m *nats.Msg) {
	var ev Event
	if json.Unmarshal(m.Data, &ev) != nil || ev.Node == c.cfg.Node || ev.To != "" && ev.To != c.cfg.Node {
		return
	}
	c.st.eventsIn.Add(1)
	if h := c.handler(); h != nil {
		h.Event(ev)
	}
}

// acquireMax bounds AcquireFloor when its context has no deadline.
const acquireMax = 10 * time.Second

// acquireAttempt bounds each question AcquireFloor asks JetStream; it asks
// again while its context lasts. A relay whose machine vanished keeps its
// routes (and so its interest in the bucket's subjects) for 2-3 s: a
// question that goes to it is never answered, and waiting the whole
// context for it refused the press even though a new leader answered a
// moment later. A JetStream round trip takes a few milliseconds on a LAN
// and up to about 125 ms on a busy 2-core machine (BENCHMARKS.md).
const acquireAttempt = 250 * time.Millisecond

// AcquireFloor tries to take key for l with compare-and-set. ok is true
// when l holds it now (renewed by this relay until ReleaseFloor); else cur
// is who holds it. err is ErrNotReady (wrapped) when the cluster cannot
// decide. It blocks for a round trip through the cluster's JetStream.
func (c *Cluster) AcquireFloor(ctx context.Context, key string, l Lease) (cur Lease, ok bool, err error) {
	if _, ok := ctx.Deadline(); !ok {
		// It retries until ctx ends: never forever.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, acquireMax)
		defer cancel()
	}
	box := c.floorKV.Load()
	if box == nil {
		return Lease{}, false, ErrNotReady
	}
	l.Node = c.cfg.Node
	val, _ := json.Marshal(l)
	c.mu.Lock()
	rel := c.releasing[key]
	c.mu.Unlock()
	if rel != nil {
		select {
		case <-rel:
		case <-ctx.Done():
			return Lease{}, false, fmt.Errorf("%w: %v", ErrNotReady, ctx.Err())
		}
	}
	// A replica may answer Get with an older state than the Create saw
	// (KV reads go to any replica): try again a few times, a moment later.
	for try := 0; try < 20; try++ {
		if try > 1 {
			select {
			case <-ctx.Done():
				c.st.acquireErr.Add(1)
				return Lease{}, false, fmt.Errorf("%w: %v", ErrNotReady, ctx.Err())
			case <-time.After(time.Duration(try) * time.Millisecond):
			}
		}
		// Update at revision 0 creates the key only when it has no value
		// and no delete marker: unlike Create it asks nothing more when
		// the key is held (Create then reads the key, a second question
		// that may go unanswered); a delete marker is handled below.
		actx, acancel := context.WithTimeout(ctx, acquireAttempt)
		rev, err := box.kv.Update(actx, key, val, 0)
		acancel()
		if err == nil {
			c.took(key, rev, val)
			return l, true, nil
		}
		if !keyExists(err) {
			// No answer (a relay died and JetStream is electing a new
			// leader for the bucket): again until ctx ends.
			select {
			case <-ctx.Done():
				c.st.acquireErr.Add(1)
				return Lease{}, false, fmt.Errorf("%w: %v", ErrNotReady, err)
			case <-time.After(50 * time.Millisecond):
			}
			try = 0
			continue
		}
		actx, acancel = context.WithTimeout(ctx, acquireAttempt)
		e, gerr := box.kv.Get(actx, key)
		unanswered := actx.Err() != nil
		acancel()
		if errors.Is(gerr, jetstream.ErrKeyNotFound) || errors.Is(gerr, jetstream.ErrKeyDeleted) {
			// Free (a delete marker, or freed meanwhile): Create takes
			// a key over its delete marker.
			actx, acancel = context.WithTimeout(ctx, acquireAttempt)
			rev, err := box.kv.Create(actx, key, val)
			acancel()
			if err == nil {
				c.took(key, rev, val)
				return l, true, nil
			}
			continue
		}
		if gerr != nil && unanswered && ctx.Err() == nil {
			continue // no answer in time: asked again
		}
		if gerr != nil {
			c.st.acquireErr.Add(1)
			return Lease{}, false, fmt.Errorf("%w: %v", ErrNotReady, gerr)
		}
		c.mu.Lock()
		seen := c.floorRev[key]
		c.mu.Unlock()
		if e.Revision() < seen {
			// A replica behind this relay's own watch of the bucket
			// (seen after a leader change: a floor released a moment
			// ago was still there, and the press was refused "busy"
			// with the talker who had let go): ask again a moment later.
			select {
			case <-ctx.Done():
				c.st.acquireErr.Add(1)
				return Lease{}, false, fmt.Errorf("%w: %v", ErrNotReady, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
			try = 0
			continue
		}
		if json.Unmarshal(e.Value(), &cur) != nil {
			continue
		}
		if cur.Node == c.cfg.Node {
			c.mu.Lock()
			mine := c.held[key] != nil
			c.mu.Unlock()
			if !mine {
				// A lease of ours this relay no longer holds (its
				// release failed, or an Update whose answer did not
				// come in time went through): delete it, at its
				// revision, and try again. (Not taken as granted: a
				// replica behind may show a lease of ours from an
				// earlier press that another relay has replaced.)
				c.deleteAt(ctx, box.kv, key, e.Revision())
				continue
			}
		}
		if cur.Node != c.cfg.Node {
			// Count the relays not heard of as dead now rather than at
			// the next heartbeat tick (up to PeerTimeout/5 later): another
			// relay may have counted the holder's relay dead a moment ago
			// and granted this floor to someone who has let go since,
			// while this one still took the dead relay's talker for the
			// holder (seen in TestClusterFailoverManyProcs: "busy: user00"
			// 40 ms before this relay counted user00's relay dead).
			c.expirePeers(false)
		}
		c.mu.Lock()
		p := c.peers[cur.Node]
		dead := p != nil && p.gone
		c.mu.Unlock()
		if dead {
			// Held at a relay that died: its lease has not run out yet,
			// but nobody will renew it.
			c.deleteAt(ctx, box.kv, key, e.Revision())
			continue
		}
		c.st.refused.Add(1)
		return cur, false, nil
	}
	c.st.refused.Add(1)
	return Lease{Name: "someone"}, false, nil
}

// deleteAt deletes key at revision rev (if it is still there), asking
// for at most acquireAttempt; AcquireFloor asks the key again after it
// either way, so an unanswered delete only costs that wait.
func (c *Cluster) deleteAt(ctx context.Context, kv jetstream.KeyValue, key string, rev uint64) {
	actx, cancel := context.WithTimeout(ctx, acquireAttempt)
	defer cancel()
	kv.Delete(actx, key, jetstream.LastRevision(rev))
}

// took records that this relay holds key at revision rev with value val
// (renewed by renewLoop from now on).
func (c *Cluster) took(key string, rev uint64, val []byte) {
	c.mu.Lock()
	c.held[key] = &heldLease{rev: rev, val: val, renewed: time.Now()}
	c.mu.Unlock()
	c.st.acquired.Add(1)
}

// keyExists reports whether a Create failed because the key has a value:
// the server says so with "wrong last sequence", in one of two codes
// depending on whether the clustered stream checked it before or after
// proposing the write.
func keyExists(err error) bool {
	var ae *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		errors.As(err, &ae) && (ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// ReleaseFloor gives key back (if this relay holds it). It does not block:
// the delete runs in the background, and an AcquireFloor of the same key
// waits for it. The frames handed to PublishVoice before the call go to
// NATS before the delete (on the same connection, so in that order): the
// other relays may end a page when they see its lease go, and its last
// frames must not come after that (they would be dropped there).
func (c *Cluster) ReleaseFloor(key string) {
	mark := c.q.mark()
	c.mu.Lock()
	h := c.held[key]
	delete(c.held, key)
	if h == nil || c.releasing[key] != nil {
		c.mu.Unlock()
		return
	}
	done := make(chan struct{})
	c.releasing[key] = done
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() {
			c.mu.Lock()
			delete(c.releasing, key)
			c.mu.Unlock()
			close(done)
		}()
		box := c.floorKV.Load()
		if box == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.LeaseTTL)
		defer cancel()
		wctx, wcancel := context.WithTimeout(c.ctx, c.cfg.LeaseTTL) // the publisher stops at Close
		sent := c.q.waitSent(mark, wctx.Done())
		wcancel()
		if !sent && c.ctx.Err() == nil {
			c.log.Warn("cluster: the last voice frames before a floor's release were not published in time; releasing it anyway", "key", key)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.released = true
		// Asked again when unanswered (acquireAttempt: a question that
		// went to a relay whose machine vanished is never answered);
		// a "wrong last sequence" after that means an earlier delete
		// went through (or the lease ran out and was taken since).
		for try := 0; ; try++ {
			actx, acancel := context.WithTimeout(ctx, acquireAttempt)
			err := box.kv.Delete(actx, key, jetstream.LastRevision(h.rev))
			unanswered := actx.Err() != nil
			acancel()
			if err == nil || try > 0 && keyExists(err) {
				return
			}
			if !unanswered || ctx.Err() != nil {
				c.log.Warn("cluster: releasing a floor failed; the other relays show it held until its lease runs out", "key", key, "lease", c.cfg.LeaseTTL, "err", err)
				return
			}
		}
	}()
}

// renewLoop renews the leases this relay holds every LeaseTTL/3.
func (c *Cluster) renewLoop() {
	t := time.NewTicker(c.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		box := c.floorKV.Load()
		if box == nil {
			continue
		}
		c.mu.Lock()
		keys := make([]string, 0, len(c.held))
		for k := range c.held {
			keys = append(keys, k)
		}
		c.mu.Unlock()
		for _, k := range keys {
			c.mu.Lock()
			h := c.held[k]
			c.mu.Unlock()
			if h == nil {
				continue
			}
			h.mu.Lock()
			if h.released {
				h.mu.Unlock()
				continue
			}
			alive, err := c.renew(box.kv, k, h)
			h.mu.Unlock()
			if err != nil && alive {
				c.log.Debug("cluster: a floor's renewal got no answer; trying again", "key", k, "err", err)
			}
			c.mu.Lock()
			still := c.held[k] == h
			if !alive && still {
				delete(c.held, k)
			}
			c.mu.Unlock()
			if !alive && still && c.ctx.Err() == nil {
				c.st.lost.Add(1)
				c.log.Warn("cluster: lost a floor (it could not be renewed)", "key", k, "err", err)
				if hd := c.handler(); hd != nil {
					hd.FloorLost(k)
				}
			}
		}
	}
}

// renew renews lease h of key k once (h.mu held). It returns false when
// the lease is lost: another relay holds the key now, or the lease could
// be neither renewed nor taken again for LeaseTTL since its last renewal.
// A renewal without an answer in time (a busy machine, the bucket electing
// a leader) is tried again at the next tick while the lease may still be
// alive; a lease that expired meanwhile, with nobody else on the floor, is
// taken again; a renewal that was done but whose answer was lost is found
// by its value.
func (c *Cluster) renew(kv jetstream.KeyValue, k string, h *heldLease) (bool, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.LeaseTTL/3)
	defer cancel()
	rev, err := kv.Update(ctx, k, h.val, h.rev)
	if err == nil {
		h.rev, h.renewed = rev, time.Now()
		return true, nil
	}
	if keyExists(err) || errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		// The key changed since our revision: it expired, or an Update
		// of ours went through unanswered, or another relay holds it.
		e, gerr := kv.Get(ctx, k)
		switch {
		case errors.Is(gerr, jetstream.ErrKeyNotFound) || errors.Is(gerr, jetstream.ErrKeyDeleted):
			rev, cerr := kv.Create(ctx, k, h.val)
			if cerr == nil {
				h.rev, h.renewed = rev, time.Now()
				c.log.Info("cluster: a floor's lease had run out (no answer in time); taken again", "key", k)
				return true, nil
			}
			if keyExists(cerr) {
				return false, fmt.Errorf("another relay took the floor after its lease ran out: %w", cerr)
			}
			err = cerr
		case gerr == nil && string(e.Value()) == string(h.val):
			h.rev, h.renewed = e.Revision(), time.Now()
			return true, nil
		case gerr == nil:
			return false, fmt.Errorf("another relay holds the floor now: %w", err)
		default:
			err = gerr
		}
	}
	return time.Since(h.renewed) < c.cfg.LeaseTTL, err
}

// pingLoop measures the round trip to every other relay every 2 s.
func (c *Cluster) pingLoop() {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		var nodes []string
		for n, p := range c.peers {
			if !p.gone {
				nodes = append(nodes, n)
			}
		}
		c.mu.Unlock()
		for _, n := range nodes {
			start := time.Now()
			_, err := c.nc.Request(c.prefix+"ping."+n, nil, time.Second)
			rtt := time.Since(start)
			c.mu.Lock()
			if p := c.peers[n]; p != nil {
				p.up = err == nil
				if err == nil {
					p.rtt = rtt
				}
			}
			c.mu.Unlock()
		}
	}
}

// NameTaken asks relay node whether its session named name is alive. An
// answer within timeout decides; a relay that does not answer (it died,
// and its presence has not expired yet) leaves the name free. The
// question is given up as soon as node is counted dead: a relay whose
// machine vanished keeps its routes up, so the question goes unanswered
// until timeout, and every session coming from there would wait for it.
func (c *Cluster) NameTaken(node, name string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	defer cancel()
	c.mu.Lock()
	var died chan struct{}
	if p := c.peers[node]; p != nil {
		died = p.died
	}
	c.mu.Unlock()
	if died != nil {
		go func() {
			select {
			case <-died:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	m, err := c.nc.RequestWithContext(ctx, c.prefix+"probe."+node, []byte(name))
	if err != nil {
		c.log.Info("cluster: the relay holding a name did not answer; the name is taken over", "peer", node, "user", name, "err", err)
		return false
	}
	return string(m.Data) == "taken"
}

// PeerRTT returns the last measured round trip to each other relay.
func (c *Cluster) PeerRTT() map[string]time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]time.Duration{}
	for n, p := range c.peers {
		if !p.gone && p.up {
			m[n] = p.rtt
		}
	}
	return m
}

func (c *Cluster) status() NodeStatus {
	var st NodeStatus
	if h := c.handler(); h != nil {
		st = h.Status()
	}
	st.Node = c.cfg.Node
	st.Dropped = c.q.dropped.Load()
	st.FloorLeader = c.LeadsFloors()
	st.RTT = map[string]int64{}
	for n, d := range c.PeerRTT() {
		st.RTT[n] = d.Microseconds()
	}
	if c.srv != nil {
		if rz, err := c.srv.Routez(nil); err == nil {
			seen := map[string]bool{}
			for _, r := range rz.Routes {
				name := r.RemoteName
				if name == "" {
					name = net.JoinHostPort(r.IP, strconv.Itoa(r.Port))
				}
				if !seen[name] {
					seen[name] = true
					st.Routes = append(st.Routes, name)
				}
			}
			sort.Strings(st.Routes)
		}
	}
	return st
}

// Status asks every relay of the cluster for its status through nc (any
// connection to the cluster's NATS), collecting answers for wait.
func Status(nc *nats.Conn, name string, wait time.Duration) ([]NodeStatus, error) {
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("hark."+name+".status", inbox, nil); err != nil {
		return nil, err
	}
	var out []NodeStatus
	deadline := time.Now().Add(wait)
	for {
		m, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			break
		}
		var st NodeStatus
		if json.Unmarshal(m.Data, &st) == nil {
			out = append(out, st)
		}
	}
	return out, nil
}

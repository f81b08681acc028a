// Package impair is a real-time UDP impairment proxy for tests on loopback:
// it sits between clients and a UDP server (the QUIC relay), forwards
// datagrams both ways and applies internal/netsim models — delay, jitter,
// spikes, loss, bursts, reordering, duplication — to the directions it is
// told to. Kernel netem is not available on the test machines; this is how
// end-to-end tests see a bad network.
//
// Each client address gets its own upstream socket (so the server sees one
// peer per client, as QUIC needs) and its own seeded netsim links, seeded
// from Config.Seed in the order clients first appear.
//
// Use: p, err := impair.New(cfg); go p.Serve(ctx); dial p.Addr(); p.Close().
package impair

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hark-intercom/hark/internal/netsim"
)

// Direction selects which way impairments apply.
type Direction uint8

const (
	// Up is client → server.
	Up Direction = 1 << iota
	// Down is server → client.
	Down
	// Both directions.
	Both = Up | Down
)

// ModelFunc builds the netsim configuration for one direction of one
// client; it is called once per client and direction, so stateful models
// (Gilbert–Elliott, correlated jitter) are not shared. seed is derived from
// Config.Seed.
type ModelFunc func(seed uint64) netsim.Config

// Config configures New.
type Config struct {
	// Listen is the UDP address clients send to, e.g. "127.0.0.1:0".
	Listen string
	// Upstream is the server's UDP address, e.g. the relay's.
	Upstream string
	// Model makes the impairment of one direction of one client. nil
	// forwards untouched (a plain proxy).
	Model ModelFunc
	// Direction says which way Model applies; 0 means Both.
	Direction Direction
	// Seed makes runs repeatable.
	Seed int64
	// IdleTimeout forgets a client that has sent nothing for this long
	// (closing its upstream socket); 0 means 2 minutes.
	IdleTimeout time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

// Stats counts datagrams per direction.
type Stats struct {
	UpIn, UpOut, UpDropped       uint64
	DownIn, DownOut, DownDropped uint64
	Clients                      int
}

// Proxy is a running impairment proxy. Create it with New.
type Proxy struct {
	cfg      Config
	log      *slog.Logger
	ln       *net.UDPConn
	upstream *net.UDPAddr
	start    time.Time
	sched    *scheduler

	mu sync.Mutex
	// Guarded by mu:
	clients map[string]*client
	nextID  uint64
	stats   Stats
	closed  bool
	// changed, when a WaitStats caller asked for it, is closed at the
	// next change of stats (or Close) and set back to nil.
	changed chan struct{}

	serveOnce sync.Once
	wg        sync.WaitGroup
	done      chan struct{}
}

type client struct {
	addr *net.UDPAddr
	conn *net.UDPConn // connected to upstream
	up   *netsim.Link // nil = no impairment; used only by the listener goroutine
	down *netsim.Link // used only by this client's reader goroutine

	mu       sync.Mutex // guards lastSeen
	lastSeen time.Time
}

// New binds the listening socket and resolves the upstream address; the
// proxy forwards nothing until Serve runs.
func New(cfg Config) (*Proxy, error) {
	if cfg.Direction == 0 {
		cfg.Direction = Both
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	up, err := net.ResolveUDPAddr("udp", cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("impair: upstream address %q: %w", cfg.Upstream, err)
	}
	la, err := net.ResolveUDPAddr("udp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("impair: listen address %q: %w", cfg.Listen, err)
	}
	ln, err := net.ListenUDP("udp", la)
	if err != nil {
		return nil, fmt.Errorf("impair: listening on %s: %w", cfg.Listen, err)
	}
	p := &Proxy{
		cfg:      cfg,
		log:      log,
		ln:       ln,
		upstream: up,
		start:    time.Now(),
		clients:  make(map[string]*client),
		done:     make(chan struct{}),
	}
	p.sched = newScheduler()
	return p, nil
}

// Addr is the address clients should send to.
func (p *Proxy) Addr() net.Addr { return p.ln.LocalAddr() }

// Serve forwards datagrams until ctx is cancelled or Close is called. It
// returns nil after Close or cancellation. Call it once.
func (p *Proxy) Serve(ctx context.Context) error {
	first := false
	p.serveOnce.Do(func() { first = true })
	if !first {
		return errors.New("impair: Serve called twice")
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.wg.Add(1) // under mu, so never concurrent with Close's Wait at zero
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		p.sched.run(p.done)
	}()
	stop := context.AfterFunc(ctx, func() { p.Close() })
	defer stop()

	buf := make([]byte, 64*1024)
	lastReap := time.Now()
	for {
		n, from, err := p.ln.ReadFromUDP(buf)
		if err != nil {
			if p.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("impair: reading from clients: %w", err)
		}
		c, err := p.clientFor(from)
		if err != nil {
			p.log.Warn("impairment proxy cannot open a socket to the server for a client", "client", from, "err", err)
			continue
		}
		now := time.Now()
		c.mu.Lock()
		c.lastSeen = now
		c.mu.Unlock()
		p.forward(c.up, buf[:n], now, Up, func(b []byte) { _, _ = c.conn.Write(b) })
		if now.Sub(lastReap) > time.Second {
			lastReap = now
			p.reap(now)
		}
	}
}

// forward applies link (nil = none) to one datagram and schedules its
// copies; send is called later from the scheduler goroutine.
func (p *Proxy) forward(link *netsim.Link, data []byte, now time.Time, dir Direction, send func([]byte)) {
	var delays [2]time.Duration
	var ds []time.Duration
	if link == nil {
		ds = append(delays[:0], 0)
	} else {
		ds = link.Deliver(now.Sub(p.start), delays[:0])
	}
	p.mu.Lock()
	if dir == Up {
		p.stats.UpIn++
		p.stats.UpOut += uint64(len(ds))
		if len(ds) == 0 {
			p.stats.UpDropped++
		}
	} else {
		p.stats.DownIn++
		p.stats.DownOut += uint64(len(ds))
		if len(ds) == 0 {
			p.stats.DownDropped++
		}
	}
	p.notifyLocked()
	p.mu.Unlock()
	for _, d := range ds {
		cp := append([]byte(nil), data...)
		if d <= 0 {
			send(cp)
			continue
		}
		p.sched.add(now.Add(d), func() { send(cp) })
	}
}

func (p *Proxy) clientFor(from *net.UDPAddr) (*client, error) {
	key := from.String()
	p.mu.Lock()
	c := p.clients[key]
	if c != nil || p.closed {
		p.mu.Unlock()
		if c == nil {
			return nil, net.ErrClosed
		}
		return c, nil
	}
	id := p.nextID
	p.nextID++
	p.mu.Unlock()

	conn, err := net.DialUDP("udp", nil, p.upstream)
	if err != nil {
		return nil, err
	}
	c = &client{addr: from, conn: conn}
	if p.cfg.Model != nil {
		base := uint64(p.cfg.Seed)*1_000_003 + id*2
		if p.cfg.Direction&Up != 0 {
			c.up = netsim.NewLink(p.cfg.Model(base))
		}
		if p.cfg.Direction&Down != 0 {
			c.down = netsim.NewLink(p.cfg.Model(base + 1))
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		conn.Close()
		return nil, net.ErrClosed
	}
	p.clients[key] = c
	p.stats.Clients = len(p.clients)
	p.notifyLocked()
	p.wg.Add(1)
	p.mu.Unlock()
	p.log.Debug("impairment proxy: new client", "client", from)
	go p.readUpstream(c)
	return c, nil
}

// readUpstream forwards the server's datagrams for one client back to it.
func (p *Proxy) readUpstream(c *client) {
	defer p.wg.Done()
	buf := make([]byte, 64*1024)
	for {
		n, err := c.conn.Read(buf)
		if err != nil {
			return // closed by reap or Close
		}
		p.forward(c.down, buf[:n], time.Now(), Down, func(b []byte) { _, _ = p.ln.WriteToUDP(b, c.addr) })
	}
}

func (p *Proxy) reap(now time.Time) {
	var stale []*client
	p.mu.Lock()
	for k, c := range p.clients {
		c.mu.Lock()
		idle := now.Sub(c.lastSeen) > p.cfg.IdleTimeout
		c.mu.Unlock()
		if idle {
			delete(p.clients, k)
			stale = append(stale, c)
		}
	}
	p.stats.Clients = len(p.clients)
	p.notifyLocked()
	p.mu.Unlock()
	for _, c := range stale {
		c.conn.Close()
	}
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Stats returns the datagram counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// notifyLocked wakes the WaitStats callers; p.mu must be held.
func (p *Proxy) notifyLocked() {
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
}

// WaitStats waits until cond holds for the proxy's counters and returns
// them. The proxy reads and counts datagrams on its own goroutines, so a
// caller that has sent n datagrams must wait for the proxy to have read
// them (e.g. UpIn == n) before looking at what it did with them. It returns
// the last counters seen and an error if ctx ends or the proxy is closed
// first. cond is called with no lock held, on the caller's goroutine.
func (p *Proxy) WaitStats(ctx context.Context, cond func(Stats) bool) (Stats, error) {
	for {
		p.mu.Lock()
		s, closed := p.stats, p.closed
		if p.changed == nil {
			p.changed = make(chan struct{})
		}
		ch := p.changed
		p.mu.Unlock()
		if cond(s) {
			return s, nil
		}
		if closed {
			return s, errors.New("impair: proxy closed while waiting for its counters")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s, fmt.Errorf("impair: waiting for the proxy's counters (now %+v): %w", s, ctx.Err())
		}
	}
}

// Close stops the proxy, closes every socket and waits for its goroutines.
// Datagrams still held back by a delay are discarded. Safe to call more than
// once and concurrently with Serve.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.notifyLocked()
	conns := make([]*net.UDPConn, 0, len(p.clients))
	for _, c := range p.clients {
		conns = append(conns, c.conn)
	}
	p.clients = map[string]*client{}
	p.mu.Unlock()
	err := p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	close(p.done)
	p.wg.Wait()
	return err
}

// scheduler runs functions at given times from one goroutine.
type scheduler struct {
	mu    sync.Mutex
	items itemHeap // guarded by mu
	seq   uint64   // guarded by mu; keeps equal times in order
	wake  chan struct{}
}

type item struct {
	at  time.Time
	seq uint64
	fn  func()
}

type itemHeap []item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func newScheduler() *scheduler { return &scheduler{wake: make(chan struct{}, 1)} }

func (s *scheduler) add(at time.Time, fn func()) {
	s.mu.Lock()
	s.seq++
	heap.Push(&s.items, item{at: at, seq: s.seq, fn: fn})
	first := s.items[0].seq == s.seq
	s.mu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *scheduler) run(done <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var due []func()
	for {
		due = due[:0]
		now := time.Now()
		s.mu.Lock()
		for len(s.items) > 0 && !s.items[0].at.After(now) {
			due = append(due, heap.Pop(&s.items).(item).fn)
		}
		wait := time.Hour
		if len(s.items) > 0 {
			wait = s.items[0].at.Sub(now)
		}
		s.mu.Unlock()
		for _, fn := range due {
			fn()
		}
		if len(due) > 0 {
			continue
		}
		timer.Reset(wait)
		select {
		case <-done:
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// ParseModel parses a network description such as "loss=5%,burst=3,jitter=30ms"
// or a preset name ("wifi", "mobile", …); see netsim.ParseSpec. It is meant
// for a command-line flag.
func ParseModel(spec string) (ModelFunc, error) {
	f, err := netsim.ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	return ModelFunc(f), nil
}

// Start is New plus Serve on its own goroutine, for tests and in-process
// use: the proxy stops when ctx is cancelled or Close is called, and Close
// waits for it. Errors from Serve after a successful start are logged.
func Start(ctx context.Context, cfg Config) (*Proxy, error) {
	p, err := New(cfg)
	if err != nil {
		return nil, err
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := p.Serve(ctx); err != nil {
			p.log.Error("impairment proxy stopped", "err", err)
		}
	}()
	return p, nil
}

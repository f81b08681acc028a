package impair

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/netsim"
)

// echoServer echoes datagrams and counts them.
type echoServer struct {
	conn  *net.UDPConn
	mu    sync.Mutex
	got   int
	peers map[string]bool
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &echoServer{conn: c, peers: map[string]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.got++
			s.peers[from.String()] = true
			s.mu.Unlock()
			_, _ = c.WriteToUDP(buf[:n], from)
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return s
}

func startProxy(t *testing.T, cfg Config) *Proxy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return p
}

func dial(t *testing.T, p *Proxy) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, p.Addr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitStats waits until cond holds for p's counters and returns them; the
// 10 s bound is a safety net for a broken proxy, not a measurement.
func waitStats(t *testing.T, p *Proxy, cond func(Stats) bool) Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := p.WaitStats(ctx, cond)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readN reads up to n datagrams, giving up when none arrives for a while (a
// safety net for a broken proxy, not a measurement).
func readN(c *net.UDPConn, n int) (got [][]byte) {
	buf := make([]byte, 2048)
	for len(got) < n {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		k, err := c.Read(buf)
		if err != nil {
			return got
		}
		got = append(got, append([]byte(nil), buf[:k]...))
	}
	return got
}

func TestPlainForwardBothWays(t *testing.T) {
	srv := startEcho(t)
	p := startProxy(t, Config{Listen: "127.0.0.1:0", Upstream: srv.conn.LocalAddr().String()})
	a, b := dial(t, p), dial(t, p)
	for i := 0; i < 20; i++ {
		if _, err := a.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if got := readN(a, 1); len(got) != 1 || got[0][0] != byte(i) {
			t.Fatalf("echo %d: %v", i, got)
		}
	}
	if _, err := b.Write([]byte("b")); err != nil {
		t.Fatal(err)
	}
	if got := readN(b, 1); len(got) != 1 {
		t.Fatal("second client got no echo")
	}
	srv.mu.Lock()
	peers := len(srv.peers)
	srv.mu.Unlock()
	if peers != 2 {
		t.Errorf("server saw %d peers, want one per client (2)", peers)
	}
	if s := p.Stats(); s.UpIn != 21 || s.DownOut != 21 || s.Clients != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestLossOnlyUpstream(t *testing.T) {
	srv := startEcho(t)
	p := startProxy(t, Config{Listen: "127.0.0.1:0", Upstream: srv.conn.LocalAddr().String(), Seed: 1, Direction: Up,
		Model: func(seed uint64) netsim.Config { return netsim.Config{Seed: seed, Loss: netsim.Bernoulli{P: 0.5}} }})
	c := dial(t, p)
	const n = 200
	for i := 0; i < n; i++ {
		if _, err := c.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// The proxy's links are seeded deterministically: replay client 0's
	// upstream link to know exactly which datagrams it drops.
	model := func(seed uint64) netsim.Config { return netsim.Config{Seed: seed, Loss: netsim.Bernoulli{P: 0.5}} }
	link := netsim.NewLink(model(1 * 1_000_003))
	want := 0
	for i := 0; i < n; i++ {
		if len(link.Deliver(0, nil)) > 0 {
			want++
		}
	}
	got := readN(c, want)
	// The echoes can all be back before the proxy has read the last
	// datagrams (those it drops): wait until it has read all n.
	s := waitStats(t, p, func(s Stats) bool { return s.UpIn == n })
	if len(got) != want || s.UpIn != n || s.UpDropped != uint64(n-want) || s.DownDropped != 0 {
		t.Fatalf("client got %d echoes, want %d; stats %+v", len(got), want, s)
	}
	if want < 60 || want > 140 {
		t.Fatalf("%d of %d passed a 50%% loss", want, n)
	}
}

func TestDelayDownstream(t *testing.T) {
	srv := startEcho(t)
	const d = 30 * time.Millisecond
	p := startProxy(t, Config{Listen: "127.0.0.1:0", Upstream: srv.conn.LocalAddr().String(), Direction: Down,
		Model: func(seed uint64) netsim.Config { return netsim.Config{Seed: seed, Delay: netsim.Constant{D: d}} }})
	c := dial(t, p)
	start := time.Now()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := readN(c, 1); len(got) != 1 {
		t.Fatal("no echo")
	}
	// A lower bound only: the echo cannot come back before the delay.
	if el := time.Since(start); el < d {
		t.Fatalf("echo after %v, before the %v delay", el, d)
	}
}

func TestCloseIsIdempotentAndServeOnce(t *testing.T) {
	srv := startEcho(t)
	p, err := New(Config{Listen: "127.0.0.1:0", Upstream: srv.conn.LocalAddr().String()})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- p.Serve(context.Background()) }()
	c := dial(t, p)
	c.Write([]byte("x"))
	readN(c, 1)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Serve after Close = %v", err)
	}
	p.Close()
	if err := p.Serve(context.Background()); err == nil {
		t.Fatal("second Serve succeeded")
	}
}

func TestBadConfig(t *testing.T) {
	if _, err := New(Config{Listen: "127.0.0.1:0", Upstream: "nonsense:port:x"}); err == nil {
		t.Fatal("bad upstream accepted")
	}
	if _, err := ParseModel("loss=5%,burst=3,jitter=30ms"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"loss=500%", "bogus=1", "loss", "spike=300ms", "burst=0.5"} {
		if _, err := ParseModel(bad); err == nil {
			t.Errorf("ParseModel(%q) accepted", bad)
		}
	}
}

func TestStartAndCancel(t *testing.T) {
	srv := startEcho(t)
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Start(ctx, Config{Listen: "127.0.0.1:0", Upstream: srv.conn.LocalAddr().String(), Seed: 3,
		Model: func(seed uint64) netsim.Config {
			return netsim.Config{Seed: seed, Delay: netsim.Constant{D: time.Millisecond}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p)
	c.Write([]byte("x"))
	if got := readN(c, 1); len(got) != 1 {
		t.Fatal("no echo through a started proxy")
	}
	cancel()
	p.Close() // waits for Serve and every goroutine
	// Start then an immediate Close must not race either.
	p2, err := Start(context.Background(), Config{Listen: "127.0.0.1:0", Upstream: srv.conn.LocalAddr().String()})
	if err != nil {
		t.Fatal(err)
	}
	p2.Close()
}

// TestWaitStats: WaitStats returns as soon as the counters satisfy the
// condition, and with an error when the proxy closes or ctx ends first.
func TestWaitStats(t *testing.T) {
	srv := startEcho(t)
	p := startProxy(t, Config{Listen: "127.0.0.1:0", Upstream: srv.conn.LocalAddr().String()})
	c := dial(t, p)
	done := make(chan Stats)
	go func() {
		s, err := p.WaitStats(t.Context(), func(s Stats) bool { return s.UpIn == 3 })
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	for i := 0; i < 3; i++ {
		c.Write([]byte{byte(i)})
	}
	if s := <-done; s.UpIn != 3 {
		t.Fatalf("WaitStats returned %+v", s)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.WaitStats(ctx, func(s Stats) bool { return s.UpIn == 4 }); err == nil {
		t.Fatal("WaitStats with a cancelled context returned no error")
	}
	go func() {
		_, err := p.WaitStats(t.Context(), func(s Stats) bool { return s.UpIn == 4 })
		done <- Stats{Clients: -1}
		if err == nil {
			t.Error("WaitStats on a closed proxy returned no error")
		}
	}()
	p.Close()
	<-done
}

// Command mumbleload is a bounded load generator for Mumble-protocol voice
// relays (murmurd 1.3.x and anything speaking the same legacy protocol).
//
// N clients connect over TLS and stay in the root channel; M of them send one
// 20 ms Opus-sized frame every 20 ms (50 frames/s) for -duration; every client
// counts the frames it receives. The frame payload carries a send timestamp,
// so one-way latency through the relay is measured as well as loss.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	addr       string
	n, m       int
	duration   time.Duration
	transport  string
	password   string
	frameBytes int
	parallel   int
	connectTO  time.Duration
	settle     time.Duration
	drain      time.Duration
	ping       time.Duration
	serverPID  int
	prefix     string
}

// ---- stats ----

const (
	histBucket = 10 * time.Microsecond
	histSize   = 200000 // 2 s
)

type stats struct {
	base time.Time

	sent, recvUDP, recvTCP atomic.Uint64
	otherVoice, badDecrypt atomic.Uint64
	udpPingEcho, resyncs   atomic.Uint64
	tcpErrors, udpErrors   atomic.Uint64
	sendErrors             atomic.Uint64
	lateSends              atomic.Uint64 // sends more than 5 ms behind schedule

	hist     []atomic.Uint64
	overflow atomic.Uint64
	maxLat   atomic.Int64

	windowStart atomic.Int64 // ns since base; 0 = not started
	perSec      []atomic.Uint64
}

func newStats(maxSeconds int) *stats {
	return &stats{base: time.Now(), hist: make([]atomic.Uint64, histSize), perSec: make([]atomic.Uint64, maxSeconds+2)}
}

func (s *stats) recordLatency(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := int(d / histBucket)
	if i >= histSize {
		s.overflow.Add(1)
	} else {
		s.hist[i].Add(1)
	}
	for {
		m := s.maxLat.Load()
		if int64(d) <= m || s.maxLat.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

func (s *stats) recordSecond(now time.Duration) {
	ws := s.windowStart.Load()
	if ws == 0 {
		return
	}
	i := int((int64(now) - ws) / int64(time.Second))
	if i >= 0 && i < len(s.perSec) {
		s.perSec[i].Add(1)
	}
}

func (s *stats) percentile(p float64) time.Duration {
	var total uint64
	for i := range s.hist {
		total += s.hist[i].Load()
	}
	total += s.overflow.Load()
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(p * float64(total)))
	if want == 0 {
		want = 1
	}
	var acc uint64
	for i := range s.hist {
		acc += s.hist[i].Load()
		if acc >= want {
			return time.Duration(i+1) * histBucket // upper bound of the bucket
		}
	}
	return time.Duration(s.maxLat.Load())
}

// ---- /proc sampling ----

type procSample struct {
	cpu     time.Duration // utime+stime
	user    time.Duration
	sys     time.Duration
	rssKB   int64
	hwmKB   int64
	threads int64
	ok      bool
}

const clkTck = 100 // USER_HZ on Linux

func sampleProc(pid int) procSample {
	var ps procSample
	if pid <= 0 {
		return ps
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ps
	}
	s := string(b)
	j := strings.LastIndexByte(s, ')')
	if j < 0 {
		return ps
	}
	f := strings.Fields(s[j+1:])
	if len(f) < 13 {
		return ps
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	ps.user = time.Duration(ut) * time.Second / clkTck
	ps.sys = time.Duration(st) * time.Second / clkTck
	ps.cpu = ps.user + ps.sys
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			fs := strings.Fields(line)
			if len(fs) < 2 {
				continue
			}
			v, _ := strconv.ParseInt(fs[1], 10, 64)
			switch fs[0] {
			case "VmRSS:":
				ps.rssKB = v
			case "VmHWM:":
				ps.hwmKB = v
			case "Threads:":
				ps.threads = v
			}
		}
	}
	ps.ok = true
	return ps
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineBusy returns (busy, total) jiffies from /proc/stat.
func machineBusy() (uint64, uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line := strings.SplitN(string(b), "\n", 2)[0]
	f := strings.Fields(line)
	var total, idle uint64
	for i, x := range f[1:] {
		v, _ := strconv.ParseUint(x, 10, 64)
		if i < 8 { // user nice system idle iowait irq softirq steal
			total += v
		}
		if i == 3 || i == 4 {
			idle += v
		}
	}
	return total - idle, total
}

func mustLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return err
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s resolves to %s, which is not loopback; refusing", host, ip)
		}
	}
	return nil
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:64738", "server address (loopback only)")
	flag.IntVar(&cfg.n, "n", 50, "number of clients (all in the root channel)")
	flag.IntVar(&cfg.m, "m", 1, "number of clients that talk (send 50 frames/s)")
	flag.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long the talkers send")
	flag.StringVar(&cfg.transport, "transport", "udp", "voice path: udp (OCB2-AES128, as real clients) or tcp (UDPTunnel over TLS)")
	flag.StringVar(&cfg.password, "password", "", "server password")
	flag.IntVar(&cfg.frameBytes, "frame-bytes", 72, "Opus payload bytes per 20 ms frame (>= 19)")
	flag.IntVar(&cfg.parallel, "connect-parallel", 8, "concurrent connection handshakes")
	flag.DurationVar(&cfg.connectTO, "connect-timeout", 90*time.Second, "limit for connecting all clients")
	flag.DurationVar(&cfg.settle, "settle", 2*time.Second, "pause after all clients are connected")
	flag.DurationVar(&cfg.drain, "drain", 1*time.Second, "wait after the last frame is sent")
	flag.DurationVar(&cfg.ping, "ping", 5*time.Second, "TCP and UDP ping interval per client (real clients: 5s)")
	flag.IntVar(&cfg.serverPID, "server-pid", 0, "PID of the server to sample CPU and memory from /proc (optional)")
	flag.StringVar(&cfg.prefix, "name-prefix", "", "username prefix (default: ml<pid>-)")
	flag.Parse()

	switch {
	case cfg.n < 2 || cfg.n > 5000:
		fatal("-n must be in [2, 5000]")
	case cfg.m < 1 || cfg.m > cfg.n:
		fatal("-m must be in [1, n]")
	case cfg.duration <= 0 || cfg.duration > 10*time.Minute:
		fatal("-duration must be in (0, 10m]")
	case cfg.transport != "udp" && cfg.transport != "tcp":
		fatal("-transport must be udp or tcp")
	case cfg.frameBytes < payloadHeader || cfg.frameBytes > 1000:
		fatal(fmt.Sprintf("-frame-bytes must be in [%d, 1000]", payloadHeader))
	case cfg.parallel < 1 || cfg.parallel > 64:
		fatal("-connect-parallel must be in [1, 64]")
	case cfg.connectTO <= 0 || cfg.connectTO > 10*time.Minute:
		fatal("-connect-timeout must be in (0, 10m]")
	case cfg.ping < time.Second:
		fatal("-ping must be >= 1s")
	}
	if err := mustLoopback(cfg.addr); err != nil {
		fatal(err.Error())
	}
	if cfg.prefix == "" {
		cfg.prefix = fmt.Sprintf("ml%d-", os.Getpid())
	}

	// Hard bound on the whole run, whatever happens.
	budget := cfg.connectTO + cfg.settle + cfg.duration + cfg.drain + 30*time.Second
	time.AfterFunc(budget, func() {
		fmt.Fprintf(os.Stderr, "mumbleload: watchdog: run exceeded %v, exiting\n", budget)
		os.Exit(3)
	})

	st := newStats(int((cfg.duration + cfg.drain) / time.Second))
	fmt.Printf("mumbleload: addr=%s transport=%s n=%d m=%d duration=%v frame=%dB\n",
		cfg.addr, cfg.transport, cfg.n, cfg.m, cfg.duration, cfg.frameBytes)

	// ---- connect ----
	ctx, cancel := context.WithTimeout(context.Background(), cfg.connectTO)
	clients := make([]*client, cfg.n)
	errs := make([]error, cfg.n)
	sem := make(chan struct{}, cfg.parallel)
	var wg sync.WaitGroup
	var done atomic.Int64
	tc0 := time.Now()
	for i := 0; i < cfg.n; i++ {
		clients[i] = newClient(i, fmt.Sprintf("%s%04d", cfg.prefix, i), &cfg, st)
		wg.Add(1)
		go func(c *client) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[c.idx] = ctx.Err()
				return
			}
			errs[c.idx] = c.connect(ctx)
			<-sem
			if k := done.Add(1); k%50 == 0 {
				fmt.Printf("  connected %d/%d (%.1fs)\n", k, cfg.n, time.Since(tc0).Seconds())
			}
		}(clients[i])
	}
	wg.Wait()
	cancel()
	connectTime := time.Since(tc0)

	var live []*client
	failed := 0
	var firstErr error
	for i, c := range clients {
		if errs[i] != nil {
			failed++
			if firstErr == nil {
				firstErr = errs[i]
			}
			c.close()
			continue
		}
		live = append(live, c)
	}
	fmt.Printf("connect: %d/%d ok in %.2fs", len(live), cfg.n, connectTime.Seconds())
	if failed > 0 {
		fmt.Printf(" (%d failed; first error: %v)", failed, firstErr)
	}
	fmt.Println()
	if len(live) < 2 || len(live) < cfg.m {
		closeAll(clients)
		fatal("not enough clients connected")
	}

	// Keepalives for the whole measurement.
	runCtx, runCancel := context.WithCancel(context.Background())
	for i, c := range live {
		c.wg.Add(1)
		off := time.Duration(int64(cfg.ping) * int64(i) / int64(len(live)))
		go c.keepalive(runCtx, cfg.ping, off)
	}
	time.Sleep(cfg.settle)

	// ---- measure ----
	srv0 := sampleProc(cfg.serverPID)
	self0 := selfCPU()
	busy0, tot0 := machineBusy()
	frames := int(cfg.duration / (20 * time.Millisecond))
	t0 := time.Now()
	st.windowStart.Store(int64(t0.Sub(st.base)))
	var swg sync.WaitGroup
	for s := 0; s < cfg.m; s++ {
		swg.Add(1)
		go func(s int, c *client) {
			defer swg.Done()
			offset := time.Duration(int64(20*time.Millisecond) * int64(s) / int64(cfg.m))
			for k := 0; k < frames; k++ {
				due := t0.Add(offset + time.Duration(k)*20*time.Millisecond)
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				} else if -d > 5*time.Millisecond {
					st.lateSends.Add(1)
				}
				if err := c.sendVoice(uint16(s), k == frames-1); err != nil {
					st.sendErrors.Add(1)
					continue
				}
				st.sent.Add(1)
			}
		}(s, live[s])
	}
	swg.Wait()
	sendTime := time.Since(t0)
	time.Sleep(cfg.drain)
	window := time.Since(t0)
	srv1 := sampleProc(cfg.serverPID)
	self1 := selfCPU()
	busy1, tot1 := machineBusy()

	runCancel()
	closeAll(live)

	// ---- report ----
	sent := st.sent.Load()
	recv := st.recvUDP.Load() + st.recvTCP.Load()
	expected := sent * uint64(len(live)-1)
	loss := 0.0
	if expected > 0 {
		loss = 100 * (1 - float64(recv)/float64(expected))
	}
	fmt.Printf("window: %.2fs (sending %.2fs, drain %v)\n", window.Seconds(), sendTime.Seconds(), cfg.drain)
	fmt.Printf("frames sent:       %d (%d talkers x %d; %.1f frames/s per talker; late sends >5ms: %d; send errors: %d)\n",
		sent, cfg.m, frames, float64(sent)/float64(cfg.m)/sendTime.Seconds(), st.lateSends.Load(), st.sendErrors.Load())
	fmt.Printf("frames received:   %d (udp %d, tcp tunnel %d)\n", recv, st.recvUDP.Load(), st.recvTCP.Load())
	fmt.Printf("expected received: %d (= sent x (N-1) = %d x %d)\n", expected, sent, len(live)-1)
	fmt.Printf("loss:              %.3f %%\n", loss)
	// per-second receive rate over whole seconds inside the sending period
	full := int(sendTime / time.Second)
	minR, maxR := uint64(math.MaxUint64), uint64(0)
	for i := 0; i < full && i < len(st.perSec); i++ {
		v := st.perSec[i].Load()
		if v < minR {
			minR = v
		}
		if v > maxR {
			maxR = v
		}
	}
	if full == 0 {
		minR = 0
	}
	fmt.Printf("receive rate:      %.0f frames/s mean; per-second min %d, max %d\n",
		float64(recv)/sendTime.Seconds(), minR, maxR)
	fmt.Printf("latency send->recv (same host clock): p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		ms(st.percentile(0.50)), ms(st.percentile(0.90)), ms(st.percentile(0.99)), ms(st.percentile(0.999)), ms(time.Duration(st.maxLat.Load())))
	fmt.Printf("other: non-load voice frames %d, bad decrypts %d, udp ping echoes %d, crypt resyncs %d, tcp errors %d, udp errors %d\n",
		st.otherVoice.Load(), st.badDecrypt.Load(), st.udpPingEcho.Load(), st.resyncs.Load(), st.tcpErrors.Load(), st.udpErrors.Load())

	srvCPU := time.Duration(0)
	per1000 := 0.0
	if srv0.ok && srv1.ok {
		srvCPU = srv1.cpu - srv0.cpu
		if recv > 0 {
			per1000 = srvCPU.Seconds() / (float64(recv) / 1000)
		}
		fmt.Printf("server pid %d: cpu %.2fs (user %.2f, sys %.2f) in %.2fs = %.1f%% of one core; %.4f cpu-s per 1000 frames delivered\n",
			cfg.serverPID, srvCPU.Seconds(), (srv1.user - srv0.user).Seconds(), (srv1.sys - srv0.sys).Seconds(),
			window.Seconds(), 100*srvCPU.Seconds()/window.Seconds(), per1000)
		fmt.Printf("server memory: RSS %d kB (peak %d kB), threads %d\n", srv1.rssKB, srv1.hwmKB, srv1.threads)
	} else if cfg.serverPID > 0 {
		fmt.Printf("server pid %d: could not read /proc\n", cfg.serverPID)
	}
	selfUsed := self1 - self0
	fmt.Printf("load tool: cpu %.2fs = %.1f%% of one core\n", selfUsed.Seconds(), 100*selfUsed.Seconds()/window.Seconds())
	busyPct := 0.0
	if tot1 > tot0 {
		busyPct = 100 * float64(busy1-busy0) / float64(tot1-tot0)
	}
	fmt.Printf("machine: %.1f%% of all cores busy during the window\n", busyPct)
	fmt.Printf("RESULT transport=%s n=%d m=%d connected=%d sent=%d recv=%d expected=%d loss_pct=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f server_cpu_s=%.2f server_cpu_per_1000=%.4f server_rss_kb=%d tool_cpu_s=%.2f machine_busy_pct=%.1f\n",
		cfg.transport, cfg.n, cfg.m, len(live), sent, recv, expected, loss,
		msf(st.percentile(0.50)), msf(st.percentile(0.99)), msf(time.Duration(st.maxLat.Load())),
		srvCPU.Seconds(), per1000, srv1.rssKB, selfUsed.Seconds(), busyPct)
}

func closeAll(cs []*client) {
	for _, c := range cs {
		c.close()
	}
	done := make(chan struct{})
	go func() {
		for _, c := range cs {
			c.wg.Wait()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		fmt.Fprintln(os.Stderr, "mumbleload: some connections did not close within 5s")
	}
}

func ms(d time.Duration) string   { return fmt.Sprintf("%.2fms", msf(d)) }
func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fatal(msg string) {
	fmt.Fprintln(os.Stderr, "mumbleload:", msg)
	os.Exit(2)
}

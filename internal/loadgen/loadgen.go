// Package loadgen measures a running relay under load: N sessions in
// channels of Group (default 50) and M talkers, each sending synthetic voice
// frames at 50 frames/s, whose payload carries the send time so that every
// listener measures the forward latency. The relay runs as a separate
// process; its CPU time and resident memory are read from /proc/PID.
//
// The generator and the relay share the machine, so the latency figures
// include the generator's own scheduling delays: they are an upper bound for
// the relay's forwarding time.
//
// The generator is built to cost less per frame than the relay: talkers are
// spread evenly over the frame period (as independent people would be, and
// as the Mumble load tool does), the sessions of a channel share one UDP
// socket (one quic.Transport), and listeners record latency into one shared
// fixed histogram (no per-frame allocation). Result.ToolCPU says what the
// generator itself used.
//
// Frame payload layout (PayloadSize bytes, at least 16):
//
//	0  u64 send time, unix nanoseconds
//	8  u32 talker index
//	12 u32 frame index
//	16 filler up to PayloadSize
package loadgen

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/proto"
	"github.com/quic-go/quic-go"
)

// Config describes one load run.
type Config struct {
	Addr        string        // relay address HOST:PORT (or several, comma-separated: see cluster.go)
	Fingerprint string        // relay certificate fingerprint
	Sessions    int           // N
	Talkers     int           // M (≤ Sessions)
	Group       int           // sessions per channel; default 50
	Duration    time.Duration // how long talkers talk; default 20 s, at most 10 min
	FrameEvery  time.Duration // default 20 ms (50 frames/s)
	PayloadSize int           // bytes of "Opus" per frame; default 80 (≈ 32 kbit/s)
	Password    string        // for every session (open relays ignore it)
	UserPrefix  string        // session names are PREFIX0001…; default "load"
	PID         int           // relay process id for /proc figures; 0: none
	MorePIDs    []int         // the other relays' process ids (several relays: CPU added)
	MetricsURL  string        // relay /metrics URL to read drop counters; "" none
	Connectors  int           // logins in parallel; default 32
	Logger      *slog.Logger
}

// Result is what a run measured.
type Result struct {
	Sessions, Talkers, Channels int
	Duration                    time.Duration
	FramesSent                  uint64 // by all talkers
	Expected                    uint64 // FramesSent × (listeners in the talker's channel)
	Delivered                   uint64 // frames received by listeners
	LatencyP50, LatencyP99      time.Duration
	LatencyMax                  time.Duration
	// Relay process figures (zero without PID).
	RelayCPU      time.Duration // user+system CPU during the talking window
	CPUPerFrame   time.Duration // RelayCPU / Delivered
	RSSBefore     int64         // bytes, before the sessions logged in
	RSSAfter      int64         // bytes, at the end of the talking window
	RSSPerSession int64         // (RSSAfter − RSSBefore) / Sessions
	RelayDropped  map[string]float64
	// ToolCPU is this process's own user+system CPU during the talking
	// window (the generator; in tests also the in-process relay).
	ToolCPU         time.Duration
	RelayHeapInuse  float64 // go_memstats_heap_inuse_bytes at the end (with MetricsURL)
	RelayGoroutines float64 // go_goroutines at the end (with MetricsURL)
	// RelayFramesOut and RelayFramesDirect: datagrams the relay sent to
	// listeners since it started, and how many of them straight from the
	// fan-out (with MetricsURL).
	RelayFramesOut, RelayFramesDirect float64
	ControlMsgsRecvd                  uint64
	LoginTime                         time.Duration
	// Packets is how many QUIC packets the listeners received from the
	// relay during the talking window (their connections' counters; a few
	// carry control messages or acknowledgements only). Delivered/Packets
	// is how many frames QUIC packed into a packet: a relay that falls
	// behind packs more, and so spends less CPU per frame, which is why
	// CPU per packet is the figure to compare between runs at different
	// latencies.
	Packets uint64
}

// ChannelName is the name of channel g (0-based) as loadgen expects it.
func ChannelName(g int) string { return fmt.Sprintf("g%03d", g+1) }

// ChannelsJSON returns a relay channels file with the channels a run of n
// sessions in groups of size group needs: ptt channels when talkers ≤
// channels (one talker each), else open channels.
func ChannelsJSON(n, group, talkers int) string {
	if group <= 0 {
		group = 50
	}
	k := (n + group - 1) / group
	mode := "ptt"
	if talkers > k {
		mode = "open"
	}
	var b strings.Builder
	b.WriteString("{\"channels\": [\n")
	for g := range k {
		sep := ","
		if g == k-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  {\"name\": %q, \"mode\": %q}%s\n", ChannelName(g), mode, sep)
	}
	b.WriteString("]}\n")
	return b.String()
}

func (c *Config) defaults() error {
	if c.Group <= 0 {
		c.Group = 50
	}
	if c.Duration <= 0 {
		c.Duration = 20 * time.Second
	}
	if c.Duration > 10*time.Minute {
		return errors.New("duration over 10 minutes")
	}
	if c.FrameEvery <= 0 {
		c.FrameEvery = 20 * time.Millisecond
	}
	if c.PayloadSize < 16 {
		c.PayloadSize = 80
	}
	if c.UserPrefix == "" {
		c.UserPrefix = "load"
	}
	if c.Connectors <= 0 {
		c.Connectors = 32
	}
	if c.Sessions <= 0 || c.Sessions > 20000 {
		return fmt.Errorf("sessions must be 1..20000, not %d", c.Sessions)
	}
	if c.Talkers < 0 || c.Talkers > c.Sessions {
		return fmt.Errorf("talkers must be 0..sessions, not %d", c.Talkers)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

type sess struct {
	idx   int
	group int
	conn  *quic.Conn
	st    *quic.Stream
	chID  uint16
	id    uint32
	// version is the protocol version negotiated at login (read-only after).
	version uint16

	hist      *latHist // shared by every session of the run
	delivered atomic.Uint64
	ctlMsgs   atomic.Uint64
}

// Run performs one load run. It is bounded by cfg.Duration plus login and
// drain time, and by ctx.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	groups := (cfg.Sessions + cfg.Group - 1) / cfg.Group
	res := &Result{Sessions: cfg.Sessions, Talkers: cfg.Talkers, Channels: groups, Duration: cfg.Duration}
	if cfg.PID > 0 {
		rss, err := readRSS(cfg.PID)
		if err != nil {
			return nil, err
		}
		res.RSSBefore = rss
	}

	// One UDP socket (QUIC transport) per group spreads the receive load.
	var transports []*quic.Transport
	defer func() {
		for _, t := range transports {
			t.Close()
			t.Conn.Close()
		}
	}()
	for range groups {
		pc, err := net.ListenUDP("udp", &net.UDPAddr{})
		if err != nil {
			return nil, err
		}
		transports = append(transports, &quic.Transport{Conn: pc})
	}
	raddrs, err := relayAddrs(cfg.Addr)
	if err != nil {
		return nil, err
	}
	qconf := &quic.Config{EnableDatagrams: true, MaxIdleTimeout: 60 * time.Second, KeepAlivePeriod: 10 * time.Second}

	hist := newLatHist()
	ss := make([]*sess, cfg.Sessions)
	for i := range ss {
		ss[i] = &sess{idx: i, group: i / cfg.Group, hist: hist}
	}
	// Talkers: spread over the groups, one per group first.
	talkers := make([]*sess, 0, cfg.Talkers)
	for k := 0; len(talkers) < cfg.Talkers; k++ {
		for g := 0; g < groups && len(talkers) < cfg.Talkers; g++ {
			i := g*cfg.Group + k
			if i < cfg.Sessions && (i/cfg.Group) == g {
				talkers = append(talkers, ss[i])
			}
		}
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readers sync.WaitGroup
	defer func() {
		for _, s := range ss {
			if s.conn != nil {
				s.conn.CloseWithError(0, "load run over")
			}
		}
		cancel()
		readers.Wait()
	}()

	t0 := time.Now()
	sem := make(chan struct{}, cfg.Connectors)
	errs := make(chan error, cfg.Sessions)
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.login(runCtx, transports[s.group], raddrs[s.idx%len(raddrs)], qconf, cfg); err != nil {
				errs <- fmt.Errorf("session %d: %w", s.idx, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	res.LoginTime = time.Since(t0)
	log.Info("all sessions logged in and joined", "sessions", cfg.Sessions, "took", res.LoginTime.Round(time.Millisecond))
	for _, s := range ss {
		readers.Add(2)
		go func() { defer readers.Done(); s.readVoice(runCtx) }()
		go func() { defer readers.Done(); s.readControl() }()
	}

	cpu0 := relaysCPU(cfg)
	self0 := selfCPU()
	pkts0 := packetsReceived(ss)
	// Talk: talker ti starts ti/M of a frame period after the first, so the
	// relay sees frames spread over the period as from independent people.
	var sent atomic.Uint64
	var expected atomic.Uint64
	members := make([]int, groups)
	for _, s := range ss {
		members[s.group]++
	}
	start := time.Now()
	end := start.Add(cfg.Duration)
	var tw sync.WaitGroup
	for ti, s := range talkers {
		tw.Add(1)
		first := start.Add(cfg.FrameEvery * time.Duration(ti) / time.Duration(len(talkers)))
		go func() {
			defer tw.Done()
			n := s.talk(runCtx, ti, first, end, cfg)
			sent.Add(n)
			expected.Add(n * uint64(members[s.group]-1))
		}()
	}
	tw.Wait()
	// Let the last frames arrive (bounded).
	drain := time.NewTimer(500 * time.Millisecond)
	select {
	case <-drain.C:
	case <-ctx.Done():
	}
	cpu1 := relaysCPU(cfg)
	res.ToolCPU = selfCPU() - self0
	res.Packets = packetsReceived(ss) - pkts0
	if cfg.PID > 0 {
		res.RSSAfter, _ = readRSS(cfg.PID)
		res.RelayCPU = cpu1 - cpu0
		res.RSSPerSession = (res.RSSAfter - res.RSSBefore) / int64(cfg.Sessions)
	}
	if cfg.MetricsURL != "" {
		var g map[string]float64
		res.RelayDropped, g, _ = readMetrics(cfg.MetricsURL)
		res.RelayHeapInuse, res.RelayGoroutines = g["go_memstats_heap_inuse_bytes"], g["go_goroutines"]
		res.RelayFramesOut, res.RelayFramesDirect = g["hark_relay_frames_out_total"], g["hark_relay_frames_direct_total"]
	}
	// Stop the readers, then gather.
	for _, s := range ss {
		s.conn.CloseWithError(0, "load run over")
	}
	cancel()
	readers.Wait()

	for _, s := range ss {
		res.Delivered += s.delivered.Load()
		res.ControlMsgsRecvd += s.ctlMsgs.Load()
	}
	res.FramesSent, res.Expected = sent.Load(), expected.Load()
	if res.Delivered > 0 && res.RelayCPU > 0 {
		res.CPUPerFrame = res.RelayCPU / time.Duration(res.Delivered)
	}
	res.LatencyP50, res.LatencyP99, res.LatencyMax = hist.quantile(0.50), hist.quantile(0.99), hist.max()
	return res, nil
}

func (s *sess) login(ctx context.Context, tr *quic.Transport, raddr *net.UDPAddr, qconf *quic.Config, cfg Config) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var conn *quic.Conn
	for try := 1; ; try++ {
		var err error
		conn, err = tr.Dial(ctx, raddr, certs.PinnedClientConfig(cfg.Fingerprint, proto.ALPN), qconf)
		var te *quic.TransportError
		if err == nil {
			break
		}
		if !errors.As(err, &te) || !te.Remote || te.ErrorCode != quic.ConnectionRefused {
			return err
		}
		// Too many logins under way at the relay (its MaxLogins, 16
		// per core: fewer than Connectors on a relay pinned to one
		// core): try again soon, as the client library does.
		t := time.NewTimer(rand.N(min(time.Duration(try)*50*time.Millisecond, time.Second)))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("the relay kept refusing the connection (too many logins under way): %w", ctx.Err())
		}
	}
	s.conn = conn
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	s.st = st
	var b []byte
	hello := proto.NewHello("hark-loadgen")
	// Hello, Auth and Join read the same in every version: send them at once.
	b, _ = proto.AppendMessage(b, hello)
	b, _ = proto.AppendMessage(b, &proto.Auth{Name: fmt.Sprintf("%s%05d", cfg.UserPrefix, s.idx), Password: cfg.Password})
	b, _ = proto.AppendMessage(b, &proto.Join{Channel: ChannelName(s.group)})
	if _, err := st.Write(b); err != nil {
		return err
	}
	dl, _ := ctx.Deadline()
	st.SetReadDeadline(dl)
	defer st.SetReadDeadline(time.Time{})
	rd := proto.NewReader(st)
	for {
		m, err := rd.Next()
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *proto.Hello:
			v, _, ok := proto.Negotiate(hello, m)
			if !ok {
				lo, hi := m.Versions()
				return fmt.Errorf("the relay speaks protocol versions %d to %d and the load tool %d to %d: update the older of the two", lo, hi, proto.MinVersion, proto.Version)
			}
			s.version = v
			rd.SetVersion(v)
		case *proto.Welcome:
			s.id = m.Session
		case *proto.Error:
			return m
		case *proto.Bye:
			return fmt.Errorf("relay said bye: %s", m.Text)
		case *proto.Joined:
			s.chID = m.ID
			return nil
		}
	}
}

// readControl discards control messages (presence, talking) but keeps the
// stream read so the relay never sees a stalled client.
func (s *sess) readControl() {
	rd := bufio.NewReaderSize(s.st, 64<<10)
	r := proto.NewReader(rd)
	r.SetVersion(s.version)
	for {
		if _, err := r.Next(); err != nil {
			if proto.IsFramingError(err) || s.conn.Context().Err() != nil {
				return
			}
			continue
		}
		s.ctlMsgs.Add(1)
	}
}

func (s *sess) readVoice(ctx context.Context) {
	for {
		b, err := s.conn.ReceiveDatagram(ctx)
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		_, p, err := proto.ParseVoice(b)
		if err != nil || len(p) < 16 {
			continue
		}
		sentAt := int64(binary.BigEndian.Uint64(p))
		s.delivered.Add(1)
		s.hist.add(time.Duration(now - sentAt))
	}
}

// talk sends a frame at first and then every cfg.FrameEvery until end;
// returns frames sent. The schedule is fixed (frame i is due at first +
// i·FrameEvery): a late frame does not shift the ones after it.
func (s *sess) talk(ctx context.Context, ti int, first, end time.Time, cfg Config) uint64 {
	payload := make([]byte, cfg.PayloadSize)
	buf := make([]byte, 0, proto.VoiceHeaderLen+cfg.PayloadSize)
	dur := uint16(cfg.FrameEvery * 48000 / time.Second)
	t := time.NewTimer(time.Until(first))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return 0
	}
	var n uint64
	for i := 0; ; i++ {
		now := time.Now()
		due := first.Add(time.Duration(i+1) * cfg.FrameEvery)
		last := !due.Before(end)
		var f proto.VoiceFlags
		if i == 0 {
			f |= proto.FlagStart
		}
		if last {
			f |= proto.FlagEnd
		}
		binary.BigEndian.PutUint64(payload[0:], uint64(now.UnixNano()))
		binary.BigEndian.PutUint32(payload[8:], uint32(ti))
		binary.BigEndian.PutUint32(payload[12:], uint32(i))
		buf = proto.AppendVoice(buf[:0], proto.VoiceHeader{Flags: f, Channel: s.chID, Seq: uint16(i), Timestamp: uint32(i) * uint32(dur), Duration: dur}, payload)
		if err := s.conn.SendDatagram(buf); err == nil {
			n++
		}
		if last {
			return n
		}
		t.Reset(time.Until(due))
		select {
		case <-t.C:
		case <-ctx.Done():
			return n
		}
	}
}

// packetsReceived sums the QUIC packets the sessions' connections received.
func packetsReceived(ss []*sess) uint64 {
	var n uint64
	for _, s := range ss {
		n += s.conn.ConnectionStats().PacketsReceived
	}
	return n
}

// readCPU returns user+system CPU time of a process from /proc/PID/stat.
func readCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(s[i+1:])
	// After ")": state(3) ppid … utime is field 14, stime 15 (1-based overall).
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}

// readRSS returns VmRSS of a process in bytes.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				kb, err := strconv.ParseInt(f[1], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// readMetrics reads hark_relay_frames_dropped_total by reason and a few
// gauges from a relay's /metrics page.
func readMetrics(url string) (drops, gauges map[string]float64, err error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	gauges = map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	const pfx = `hark_relay_frames_dropped_total{reason="`
	for sc.Scan() {
		l := sc.Text()
		for _, g := range []string{"go_memstats_heap_inuse_bytes", "go_goroutines", "hark_relay_frames_out_total", "hark_relay_frames_direct_total"} {
			if f := strings.Fields(l); len(f) == 2 && f[0] == g {
				gauges[g], _ = strconv.ParseFloat(f[1], 64)
			}
		}
		if !strings.HasPrefix(l, pfx) {
			continue
		}
		rest := l[len(pfx):]
		j := strings.IndexByte(rest, '"')
		if j < 0 {
			continue
		}
		f := strings.Fields(rest[j:])
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil && v != 0 {
			out[rest[:j]] = v
		}
	}
	return out, gauges, sc.Err()
}

package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/proto"
)

// RestartConfig describes a restart run: a relay process (RelayBin) with
// Sessions password accounts, each logged in by a reconnecting client of
// package client in channels of Group, plus a real `talk record` (TalkBin)
// and an in-process sender in the first channel. For each signal the relay
// is stopped with it, restarted after Gap on the same port and data
// directory, and the run measures how long until every session is back in
// its channel and what the first channel lost of a text and 3 s of voice
// sent after the restart. The first channel keeps voice (history=voice),
// so that a session not back yet when the voice was sent is sent the
// transmission on its return (proto.HistoryAway): counted separately from
// what was lost.
//
// Everything runs on 127.0.0.1. The run is bounded: at most 5000 sessions,
// Settle per restart, and the caller's context.
type RestartConfig struct {
	RelayBin, TalkBin string
	// GatewayBin, if set, puts a gateway in front of the relay with one
	// websocket client (as the web page is) in the first channel.
	GatewayBin string
	Sessions   int              // default 1000
	Group      int              // sessions per channel; default 50
	Gap        time.Duration    // relay down time; default 1 s
	Signals    []syscall.Signal // default SIGKILL, then SIGTERM
	Settle     time.Duration    // longest wait for sessions to be back; default 60 s
	BcryptCost int              // password hash cost of the accounts; default bcrypt.DefaultCost
	Connectors int              // first logins in parallel; default 32
	// SendAfter is when, after the relay answers again, the sender sends
	// its text and voice (or as soon as it is back itself, if later).
	// Default 2 s: what is sent from then on must reach everyone.
	SendAfter time.Duration
	Dir       string // work directory; default a new temporary one, removed after
	// RelayCPUs, if set, runs the relay on these CPUs only (a taskset
	// list such as "0"); run the load generator itself with taskset on
	// the others to keep the two from taking each other's CPU.
	RelayCPUs string
	// RelayLogLevel is the relay's --log-level; default "warn".
	RelayLogLevel string
	Logger        *slog.Logger
}

// RestartResult is what one restart measured.
type RestartResult struct {
	Signal   string
	Sessions int
	// Back is the time from the relay answering again to the last session
	// logged in and back in its channel (BackFromStop: from the signal);
	// NotBack counts sessions still out after Settle.
	Back, BackFromStop time.Duration
	BackP50            time.Duration
	NotBack            int
	// Recorder is the `talk record` process: when it noticed the loss
	// (from the signal), and when it was back (from the relay answering).
	RecorderNoticed, RecorderBack time.Duration
	// Browser is the websocket client through the gateway (with
	// GatewayBin): when the gateway told it the relay was lost (from the
	// signal) and when it was back in its channel (from the relay
	// answering); whether the text came (live, or in the "missed" list)
	// and how much of the voice it played.
	Browser                     bool
	BrowserNoticed, BrowserBack time.Duration
	BrowserText, BrowserCaught  bool
	BrowserHeard                time.Duration
	// Sender timing (from the relay answering again).
	SenderBack, SentAt time.Duration
	// SenderErr says why the sender stopped early (its own connection
	// dropped again while the relay was busy, say); what it had sent is
	// still counted. Empty when it sent everything.
	SenderErr string
	TextSent  bool // the sender's text went out (TextsLost counts only then)
	// Texts and voice sent to the first channel after the restart: one
	// text and VoiceFrames frames, expected at Receivers members (load
	// sessions and talk record).
	Receivers int
	TextsLost int
	// TextsCaughtUp counts receivers that got the text not live but in
	// the catch-up the relay sends after a login (the session was not
	// back yet when it was sent): late, not lost.
	TextsCaughtUp  int
	VoiceFrames    int
	FramesExpected uint64 // at the load sessions of the first channel
	FramesReceived uint64
	// Load sessions of the first channel that missed part of the voice
	// live (they were not back yet) and were sent the transmission
	// afterwards, to play as missed while reconnecting
	// (proto.HistoryAway; the first channel keeps voice), and those that
	// missed part and were not though they were back (VoiceStillOut: not
	// back by the end of the round, so nothing could reach them).
	VoiceReplayed, VoiceNotReplayed, VoiceStillOut int

	RecorderText   bool
	RecorderHeard  time.Duration // non-silent audio in talk record's file after the restart
	RecorderVoice  time.Duration // what was sent
	PasswordChecks float64       // by the restarted relay (from its metrics)
	Resumed, Busy  float64
	TicketsRefused float64
	// From the restarted relay's metrics too: connections refused at the
	// door (too many logins under way), logins refused for a wrong name
	// or password, and logins that outlived their admission place (a
	// client that gave up its handshake, or a slow one).
	RefusedAtDoor, AuthFailures, PlacesExpired float64
	// DoorPlaces is the most logins the restarted relay let be under way
	// at once (its door grows while logins finish promptly).
	DoorPlaces float64
	// BackBySecond[i] is how many load sessions were back by i+1 s after
	// the relay answered again; LongestLull the longest time in which
	// none came back, between the first and the last.
	BackBySecond       []int
	LongestLull        time.Duration
	ClientsSilentDrops uint64 // load sessions that noticed by ping timeout
	// Noticed is when the load sessions noticed the loss (their state
	// left connected), from the signal: median and last.
	NoticedP50, NoticedMax time.Duration
	// GivenUpAgain counts load sessions that reconnected more than once
	// after the restart: they gave up a session they had logged in to.
	GivenUpAgain                int
	Logins                      float64 // logins at the restarted relay until the end of the round
	LoadAvgBefore, LoadAvgAfter string
}

func (c *RestartConfig) defaults() error {
	if c.RelayBin == "" || c.TalkBin == "" {
		return errors.New("restart run: the relay and talk binaries are needed")
	}
	if c.Sessions <= 0 {
		c.Sessions = 1000
	}
	if c.Sessions > 5000 {
		return fmt.Errorf("restart run: at most 5000 sessions, not %d", c.Sessions)
	}
	if c.Group <= 0 {
		c.Group = 50
	}
	if c.Gap <= 0 {
		c.Gap = time.Second
	}
	if len(c.Signals) == 0 {
		c.Signals = []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM}
	}
	if c.Settle <= 0 {
		c.Settle = time.Minute
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = bcrypt.DefaultCost
	}
	if c.Connectors <= 0 {
		c.Connectors = 32
	}
	if c.SendAfter <= 0 {
		c.SendAfter = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RelayLogLevel == "" {
		c.RelayLogLevel = "warn"
	}
	return nil
}

const restartPassword = "load-password"

// restartRun is the state of a run.
type restartRun struct {
	cfg RestartConfig
	log *slog.Logger
	dir string
	relayProc
	// clientLog receives the load clients' logs (clients.log in the work
	// directory: why each one lost the relay and how its reconnection went).
	clientLog *slog.Logger

	sess    []*loadSession
	sender  *client.Client
	browser *browser // with GatewayBin
	// text is what the sender sends this round (each round its own, so a
	// catch-up of an earlier round's text is not counted).
	text atomic.Pointer[string]

	// roundStart is when this round's relay answered again (unix ms): a
	// transmission of the sender from then on is the round's.
	roundStart atomic.Int64
}

// roundText is the text the sender sends this round.
func (r *restartRun) roundText() string {
	if p := r.text.Load(); p != nil {
		return *p
	}
	return ""
}

// isRoundText reports whether t is the text the sender sends this round.
func (r *restartRun) isRoundText(t string) bool {
	p := r.text.Load()
	return p != nil && *p == t
}

// loadSession is one reconnecting client.
type loadSession struct {
	c      *client.Client
	first  bool         // in the first channel: counts texts and voice
	text   atomic.Int32 // the round's text, received live
	caught atomic.Int32 // the round's text, received in a catch-up
	frames atomic.Uint64
	away   atomic.Int32 // the round's transmission, sent as said while it was away
}

// RunRestart performs the restart runs and returns one result per signal.
func RunRestart(ctx context.Context, cfg RestartConfig) ([]RestartResult, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &restartRun{cfg: cfg, log: cfg.Logger}
	if cfg.Dir == "" {
		d, err := os.MkdirTemp("", "hark-restart-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		r.dir = d
	} else {
		r.dir = cfg.Dir
	}
	if err := r.prepare(); err != nil {
		return nil, err
	}
	lf, err := os.Create(filepath.Join(r.dir, "clients.log"))
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	bw := bufio.NewWriterSize(lf, 1<<16)
	var bwMu sync.Mutex
	defer func() { bwMu.Lock(); bw.Flush(); bwMu.Unlock() }()
	r.clientLog = slog.New(slog.NewTextHandler(lockedWriter{&bwMu, bw}, nil))
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	defer r.stop()
	// The first channel keeps voice, so that what a session missed while
	// reconnecting can be sent to it (proto.HistoryAway). Set in the
	// running relay's store: it applies it within a second, long before
	// the first logins are done.
	if out, err := exec.Command(r.cfg.RelayBin, "channel", "set", ChannelName(0), "history=voice", "--data", filepath.Join(r.dir, "relay")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("relay channel set: %v: %s", err, out)
	}
	if err := r.login(ctx); err != nil {
		return nil, err
	}
	defer r.closeClients()
	if cfg.GatewayBin != "" {
		gw, err := startGateway(ctx, cfg.GatewayBin, r.dir, &r.relayProc)
		if err != nil {
			return nil, err
		}
		defer gw.stop()
		b, err := dialBrowser(ctx, "ws://"+gw.addr+"/ws", "browser", restartPassword, ChannelName(0))
		if err != nil {
			return nil, err
		}
		defer b.close()
		r.browser = b
	}
	var out []RestartResult
	for _, sig := range cfg.Signals {
		res, err := r.restart(ctx, sig)
		if err != nil {
			return out, err
		}
		out = append(out, *res)
	}
	return out, nil
}

// lockedWriter serialises writes to a buffered writer shared by clients.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func sessionName(i int) string { return fmt.Sprintf("load%05d", i) }

// prepare writes the accounts (one bcrypt hash shared by every account:
// the relay checks it like any other) and the channels file, and picks
// the relay's ports.
func (r *restartRun) prepare() error {
	names := []string{"recorder", "sender", "browser"}
	for i := range r.cfg.Sessions {
		names = append(names, sessionName(i))
	}
	r.relayProc = relayProc{bin: r.cfg.RelayBin, dir: r.dir, logLevel: r.cfg.RelayLogLevel, cpus: r.cfg.RelayCPUs}
	return r.relayProc.prepare(names, restartPassword, r.cfg.BcryptCost, ChannelsJSON(r.cfg.Sessions, r.cfg.Group, 0))
}

func (r *restartRun) clientConfig(name string) client.Config {
	return client.Config{
		Relay: r.addr, Name: name, Password: restartPassword, Fingerprint: r.fp,
		Channel: ChannelName(0), Software: "hark-loadgen restart", Reconnect: true,
		Logger: r.clientLog,
	}
}

// login logs every session in (the first time, with its password: these
// logins queue for the relay's password checks).
func (r *restartRun) login(ctx context.Context) error {
	t0 := time.Now()
	r.sess = make([]*loadSession, r.cfg.Sessions)
	sem := make(chan struct{}, r.cfg.Connectors)
	errs := make(chan error, r.cfg.Sessions)
	var wg sync.WaitGroup
	for i := range r.sess {
		s := &loadSession{first: i/r.cfg.Group == 0}
		r.sess[i] = s
		cfg := r.clientConfig(sessionName(i))
		cfg.Channel = ChannelName(i / r.cfg.Group)
		if s.first {
			cfg.OnEvent = func(e client.Event) {
				switch m := e.Msg.(type) {
				case *proto.Text:
					if m.FromName == "sender" && r.isRoundText(m.Text) {
						s.text.Add(1)
					}
				case *proto.History:
					for _, it := range m.Items {
						if it.From == "sender" && r.isRoundText(it.Text) {
							s.caught.Add(1)
						}
						if m.Flags&proto.HistoryAway != 0 && it.From == "sender" && it.Kind == proto.ItemVoice && it.Time >= r.roundStart.Load() {
							s.away.Add(1)
						}
					}
				}
			}
			cfg.OnVoice = func(proto.VoiceHeader, []byte, time.Time) { s.frames.Add(1) }
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// Bounded by the run's context: with every password to check
			// on one or two cores, some logins are refused as busy a few
			// times and back off.
			c, err := client.Dial(ctx, cfg)
			if err != nil {
				errs <- fmt.Errorf("%s: %w", cfg.Name, err)
				return
			}
			s.c = c
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	c, err := client.Dial(ctx, r.clientConfig("sender"))
	if err != nil {
		return fmt.Errorf("sender: %w", err)
	}
	r.sender = c
	var st client.Stats
	for _, s := range r.sess {
		x := s.c.Stats()
		st.Reconnects += x.Reconnects
		st.SilentDrops += x.SilentDrops
	}
	r.log.Info("all sessions logged in with their passwords", "sessions", r.cfg.Sessions, "took", time.Since(t0).Round(time.Millisecond),
		"reconnects_meanwhile", st.Reconnects, "of_which_silent_relay", st.SilentDrops)
	return nil
}

func (r *restartRun) closeClients() {
	var wg sync.WaitGroup
	for _, s := range r.sess {
		if s != nil && s.c != nil {
			wg.Go(func() { s.c.Close() })
		}
	}
	if r.sender != nil {
		r.sender.Close()
	}
	wg.Wait()
}

// recorder is a `talk record` process.
type recorder struct {
	cmd       *exec.Cmd
	out       string
	recording chan struct{} // closed when it said it records
	done      chan struct{} // closed when it has ended

	mu                sync.Mutex
	lost, back        time.Time // guarded by mu: when it lost the relay and was back
	lostSeen, backSet bool      // guarded by mu
	text              bool      // guarded by mu: it printed the round's text, live
	caught            bool      // guarded by mu: it printed the round's text as missed
}

func (r *restartRun) startRecorder(ctx context.Context, tag string) (*recorder, error) {
	rec := &recorder{out: filepath.Join(r.dir, "record-"+tag+".wav"), recording: make(chan struct{}), done: make(chan struct{})}
	rec.cmd = exec.Command(r.cfg.TalkBin, "record", "--relay", r.addr, "--fingerprint", r.fp,
		"--user", "recorder", "--password", restartPassword, "--channel", ChannelName(0),
		"--known-relays", filepath.Join(r.dir, "known_relays"), "--out", rec.out, "-v")
	stderr, err := rec.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(r.dir, "record-"+tag+".log"))
	if err != nil {
		return nil, err
	}
	if err := rec.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() {
		defer close(rec.done)
		defer logf.Close()
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			l := sc.Text()
			now := time.Now()
			fmt.Fprintf(logf, "%s %s\n", now.Format("15:04:05.000"), l)
			rec.mu.Lock()
			switch {
			case strings.HasPrefix(l, "recording channel"):
				once.Do(func() { close(rec.recording) })
			case strings.Contains(l, "connection to the relay lost") && !rec.lostSeen:
				rec.lostSeen, rec.lost = true, now
			case strings.Contains(l, "msg=connected") && rec.lostSeen && !rec.backSet:
				rec.backSet, rec.back = true, now
			case strings.Contains(l, "TEXT from sender") && strings.HasSuffix(l, ": "+r.roundText()):
				rec.text = true
			case strings.Contains(l, "missed: sender in ") && strings.HasSuffix(l, ": "+r.roundText()):
				rec.caught = true
			}
			rec.mu.Unlock()
		}
		rec.cmd.Wait()
	}()
	t := time.NewTimer(2 * time.Minute)
	defer t.Stop()
	select {
	case <-rec.recording:
		return rec, nil
	case <-rec.done:
		return nil, fmt.Errorf("talk record ended before recording (see %s)", logf.Name())
	case <-t.C:
	case <-ctx.Done():
	}
	rec.cmd.Process.Kill()
	<-rec.done
	return nil, errors.New("talk record did not start recording")
}

// stop ends talk record (as Ctrl-C does) and waits for it.
func (rec *recorder) stop() {
	rec.cmd.Process.Signal(os.Interrupt)
	select {
	case <-rec.done:
	case <-time.After(10 * time.Second):
		rec.cmd.Process.Kill()
		<-rec.done
	}
}

// pollEvery is how often the run looks at every session's state (a look
// at 1000 clients costs the load generator CPU its clients need; 20 ms is
// precise enough for figures in seconds).
const pollEvery = 20 * time.Millisecond

// back reports whether every session is logged in and in its channel.
func back(c *client.Client) bool {
	if c.State() != client.StateConnected {
		return false
	}
	_, ok := c.Channel()
	return ok
}

// restart stops the relay with sig, starts it again after Gap and measures.
func (r *restartRun) restart(ctx context.Context, sig syscall.Signal) (*RestartResult, error) {
	res := &RestartResult{Signal: sig.String(), Sessions: r.cfg.Sessions, LoadAvgBefore: loadAvg()}
	rec, err := r.startRecorder(ctx, strings.ReplaceAll(sig.String(), " ", "-"))
	if err != nil {
		return nil, err
	}
	defer rec.stop()
	text := "sent after the restart (" + sig.String() + ")"
	r.text.Store(&text)
	if r.browser != nil {
		r.browser.arm(text)
		res.Browser = true
	}
	for _, s := range r.sess {
		s.text.Store(0)
		s.caught.Store(0)
		s.frames.Store(0)
		s.away.Store(0)
	}
	// A session is back when it reconnected (the dead connection may
	// still look connected until the client notices) and is in its channel.
	var drops0 uint64
	base := make([]uint64, len(r.sess))
	for i, s := range r.sess {
		st := s.c.Stats()
		drops0 += st.SilentDrops
		base[i] = st.Reconnects
	}
	senderBase := r.sender.Stats().Reconnects
	isBack := func(c *client.Client, base uint64) bool { return c.Stats().Reconnects > base && back(c) }

	r.log.Info("stopping the relay", "signal", sig)
	stopAt := time.Now()
	if err := r.cmd.Process.Signal(sig); err != nil {
		return nil, err
	}
	// When each session noticed: its state left connected (or it was
	// back already between two looks).
	lostAt := make([]time.Time, len(r.sess))
	watchStop, watchDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watchDone)
		t := time.NewTicker(pollEvery)
		defer t.Stop()
		for left := len(r.sess); left > 0; {
			now := time.Now()
			for i, s := range r.sess {
				if lostAt[i].IsZero() && (s.c.State() != client.StateConnected || s.c.Stats().Reconnects > base[i]) {
					lostAt[i] = now
					left--
				}
			}
			select {
			case <-t.C:
			case <-watchStop:
				return
			}
		}
	}()
	stopWatch := sync.OnceFunc(func() { close(watchStop); <-watchDone })
	defer stopWatch()
	// Wait for the process to end (a graceful stop says goodbye first).
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		return nil, errors.New("the relay did not stop within 30 s")
	}
	r.cmd = nil
	down := time.NewTimer(r.cfg.Gap)
	select {
	case <-down.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	upAt := time.Now()
	r.roundStart.Store(upAt.UnixMilli())
	r.log.Info("relay answering again", "down_for", upAt.Sub(stopAt).Round(time.Millisecond))

	// Watch sessions come back; the sender sends at SendAfter (or when it
	// is back, if later).
	backAt := make([]time.Time, len(r.sess))
	left := len(r.sess)
	deadline := upAt.Add(r.cfg.Settle)
	senderBack := time.Time{}
	sent := make(chan sendResult, 1)
	sending := false
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for left > 0 || !sending {
		now := time.Now()
		if now.After(deadline) {
			break
		}
		for i, s := range r.sess {
			if backAt[i].IsZero() && isBack(s.c, base[i]) {
				backAt[i] = now
				left--
			}
		}
		if senderBack.IsZero() && isBack(r.sender, senderBase) {
			senderBack = now
		}
		if !sending && !senderBack.IsZero() && now.Sub(upAt) >= r.cfg.SendAfter {
			sending = true
			res.SentAt = now.Sub(upAt)
			go func() { sent <- r.send(ctx) }()
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	stopWatch()
	var noticed []time.Duration
	for _, t := range lostAt {
		if !t.IsZero() {
			noticed = append(noticed, t.Sub(stopAt))
		}
	}
	if len(noticed) > 0 {
		slices.Sort(noticed)
		res.NoticedP50, res.NoticedMax = noticed[len(noticed)/2], noticed[len(noticed)-1]
	}
	var last time.Time
	var backs []time.Duration
	for _, t := range backAt {
		if t.IsZero() {
			res.NotBack++
			continue
		}
		backs = append(backs, t.Sub(upAt))
		if t.After(last) {
			last = t
		}
	}
	if len(backs) > 0 {
		slices.Sort(backs)
		res.BackP50 = backs[len(backs)/2]
		res.BackBySecond = make([]int, max(backs[len(backs)-1], 0)/time.Second+1)
		for i, b := range backs {
			res.BackBySecond[max(b, 0)/time.Second]++
			if i > 0 {
				res.LongestLull = max(res.LongestLull, b-backs[i-1])
			}
		}
		for i := 1; i < len(res.BackBySecond); i++ {
			res.BackBySecond[i] += res.BackBySecond[i-1]
		}
	}
	if !last.IsZero() {
		res.Back, res.BackFromStop = last.Sub(upAt), last.Sub(stopAt)
	}
	if !senderBack.IsZero() {
		res.SenderBack = senderBack.Sub(upAt)
	}
	if sending {
		sr := <-sent
		if sr.err != nil {
			// A measurement, not a failure of the run: what was sent
			// is counted, and the reason is reported.
			res.SenderErr = sr.err.Error()
			r.log.Warn("the sender stopped early", "frames_sent", sr.frames, "err", sr.err)
		}
		res.VoiceFrames = sr.frames
		res.TextSent = sr.text
		res.RecorderVoice = time.Duration(sr.frames) * 20 * time.Millisecond
		// Let the last frames and the text arrive, and the transmission
		// be replayed to those that came back after it began (stored at
		// its end, then played in real time): bounded.
		time.Sleep(2*time.Second + time.Duration(sr.frames)*20*time.Millisecond)
	}
	for i, s := range r.sess {
		st := s.c.Stats()
		res.ClientsSilentDrops += st.SilentDrops
		if st.Reconnects > base[i]+1 {
			res.GivenUpAgain++
		}
		if !s.first {
			continue
		}
		res.Receivers++
		switch {
		case !res.TextSent, s.text.Load() > 0:
		case s.caught.Load() > 0:
			res.TextsCaughtUp++
		default:
			res.TextsLost++
		}
		res.FramesExpected += uint64(res.VoiceFrames) + 1 // and the end frame
		res.FramesReceived += s.frames.Load()
		if res.VoiceFrames > 0 && s.frames.Load() < uint64(res.VoiceFrames)+1 {
			switch {
			case s.away.Load() > 0:
				res.VoiceReplayed++
			case backAt[i].IsZero():
				res.VoiceStillOut++
			default:
				res.VoiceNotReplayed++
			}
		}
	}
	res.ClientsSilentDrops -= drops0
	rec.stop()
	res.Receivers++ // talk record
	rec.mu.Lock()
	if rec.lostSeen {
		res.RecorderNoticed = rec.lost.Sub(stopAt)
	}
	if rec.backSet {
		res.RecorderBack = rec.back.Sub(upAt)
	}
	res.RecorderText = rec.text
	caught := rec.caught
	rec.mu.Unlock()
	switch {
	case !res.TextSent || res.RecorderText:
	case caught:
		res.TextsCaughtUp++
	default:
		res.TextsLost++
	}
	if r.browser != nil {
		res.Receivers++
		lost, back, text, caught, heard := r.browser.round()
		if !lost.IsZero() {
			res.BrowserNoticed = lost.Sub(stopAt)
		}
		if !back.IsZero() {
			res.BrowserBack = back.Sub(upAt)
		}
		res.BrowserText, res.BrowserCaught, res.BrowserHeard = text, caught, heard
		switch {
		case !res.TextSent || text:
		case caught:
			res.TextsCaughtUp++
		default:
			res.TextsLost++
		}
	}
	res.RecorderHeard, _ = heard(rec.out)
	m, err := readCounters("http://" + r.metrics + "/metrics")
	if err == nil {
		res.PasswordChecks = m["hark_relay_password_checks_total"]
		res.Resumed = m["hark_relay_logins_resumed_total"]
		res.Busy = m["hark_relay_auth_busy_total"]
		res.TicketsRefused = m["hark_relay_tickets_refused_total"]
		res.Logins = m["hark_relay_logins_total"]
		res.RefusedAtDoor = m[`hark_relay_connections_refused_total{reason="busy"}`]
		res.AuthFailures = m["hark_relay_auth_failures_total"]
		res.PlacesExpired = m["hark_relay_login_places_expired_total"]
		res.DoorPlaces = m["hark_relay_login_places_most"]
	}
	res.LoadAvgAfter = loadAvg()
	return res, nil
}

type sendResult struct {
	text   bool // the text went out
	frames int
	err    error
}

// send sends a text and 3 s of a 440 Hz tone (real Opus) to the first
// channel as the sender.
func (r *restartRun) send(ctx context.Context) sendResult {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := r.sender.Text(ctx, "", *r.text.Load()); err != nil {
		return sendResult{err: err}
	}
	res := sendResult{text: true}
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960})
	if err != nil {
		res.err = err
		return res
	}
	tx, err := r.sender.Talk(ctx)
	if err != nil {
		res.err = err
		return res
	}
	pcm := make([]int16, 960)
	var pkt []byte
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for f := range 150 {
		for i := range pcm {
			pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(f*960+i)/48000))
		}
		if pkt, err = enc.Encode(pcm, pkt[:0]); err != nil {
			res.err = err
			return res
		}
		if err := tx.Send(pkt, 960); err != nil {
			res.err = err
			return res
		}
		res.frames++
		<-tick.C
	}
	res.err = tx.End(ctx)
	return res
}

// heard returns how much of a WAV file is not silence (20 ms blocks whose
// RMS is over 1% of full scale).
func heard(path string) (time.Duration, error) {
	a, err := wav.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if len(a.Samples) == 0 {
		return 0, nil
	}
	s := a.Samples[0]
	block := a.SampleRate / 50
	n := 0
	for i := 0; i+block <= len(s); i += block {
		var sum float64
		for _, v := range s[i : i+block] {
			sum += float64(v) * float64(v)
		}
		if math.Sqrt(sum/float64(block)) > 0.01 {
			n++
		}
	}
	return time.Duration(n) * 20 * time.Millisecond, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// readCounters reads the unlabelled metrics of a /metrics page.
func readCounters(url string) (map[string]float64, error) {
	out := map[string]float64{}
	err := scrapeMetrics(url, func(l string) {
		f := strings.Fields(l)
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	})
	return out, err
}

// scrapeMetrics fetches a /metrics page and hands each line to f.
func scrapeMetrics(url string, f func(line string)) error {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f(sc.Text())
	}
	return sc.Err()
}

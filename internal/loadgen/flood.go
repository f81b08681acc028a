package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/crypto/bcrypt"
)

// FloodConfig describes a login flood through the gateway (issue 10, item
// 3): a relay process (RelayBin) with Accounts password accounts and a
// gateway process (GatewayBin) in front of it, both on 127.0.0.1. Flooders
// open Attempts websocket logins with wrong passwords, spread evenly over
// Over, each as one of the accounts in turn, from the address 127.0.0.2;
// meanwhile RealUsers people log in with the right password from
// 127.0.0.1 again and again (log in, wait for the welcome, leave), half of
// them as accounts the flood also names. The run measures how long the
// real logins take, which of them fail and why, and what reached the relay.
//
// Bounded: at most 5000 attempts, Over at most a minute, and every login
// gets at most LoginWait.
type FloodConfig struct {
	RelayBin, GatewayBin string
	Accounts             int           // default 100
	RealUsers            int           // default 10
	Attempts             int           // wrong-password logins; default 500
	Over                 time.Duration // default 10 s
	BcryptCost           int           // default bcrypt.DefaultCost (the relay's own)
	LoginWait            time.Duration // longest wait for one login's answer; default 30 s
	// From is the flood's local address; default 127.0.0.2 (loopback:
	// the gateway limits it per name only, as browsers behind a proxy on
	// its machine; a distributed flood). A non-loopback address of this
	// machine shows the gateway's per-address limit too.
	From   net.IP
	Dir    string // work directory; default a new temporary one, removed after
	Logger *slog.Logger
}

// FloodResult is what a flood run measured.
type FloodResult struct {
	Attempts      int            // wrong-password logins made
	FloodAnswers  map[string]int // the flood's answers by the gateway's code ("auth", "ratelimit", …)
	FloodTook     time.Duration  // from the first flood login to the last answer
	RealLogins    int            // real logins made while the flood ran (and its answers came)
	RealOK        int
	RealFailed    map[string]int // failed real logins by the gateway's code
	RealLockedOut int            // real logins the relay refused for too many failures (the flood's, for this account)
	RealP50       time.Duration
	RealP99       time.Duration
	RealMax       time.Duration
	// The same for the real users whose names the flood also tried
	// (Named) and the others (Other): logins in, and their p50 and p99.
	NamedOK, OtherOK                       int
	NamedP50, NamedP99, OtherP50, OtherP99 time.Duration
	// What reached the relay (its counters after the run): password
	// checks, wrong passwords, logins refused as rate limited or busy,
	// connections refused before the handshake, successful logins.
	RelayPasswordChecks, RelayAuthFailures, RelayRateLimited, RelayBusy float64
	RelayConnRefused, RelayLogins                                       float64
	LoadAvgBefore, LoadAvgAfter                                         string
}

const (
	floodRight = "right-password"
	floodWrong = "wrong-password"
)

func (c *FloodConfig) defaults() error {
	if c.RelayBin == "" || c.GatewayBin == "" {
		return errors.New("flood run: the relay and gateway binaries are needed")
	}
	if c.Accounts <= 0 {
		c.Accounts = 100
	}
	if c.RealUsers <= 0 {
		c.RealUsers = 10
	}
	if c.RealUsers > c.Accounts {
		return fmt.Errorf("flood run: %d real users need as many accounts, not %d", c.RealUsers, c.Accounts)
	}
	if c.Attempts <= 0 {
		c.Attempts = 500
	}
	if c.Attempts > 5000 {
		return fmt.Errorf("flood run: at most 5000 attempts, not %d", c.Attempts)
	}
	if c.Over <= 0 {
		c.Over = 10 * time.Second
	}
	if c.Over > time.Minute {
		return fmt.Errorf("flood run: the flood lasts at most a minute, not %v", c.Over)
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = bcrypt.DefaultCost
	}
	if c.LoginWait <= 0 {
		c.LoginWait = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func floodAccount(i int) string { return fmt.Sprintf("user%03d", i) }

// realName is real user u's account: even ones are accounts the flood
// names (the lower half), odd ones accounts it does not (from the top).
func realName(cfg FloodConfig, u int) string {
	if u%2 == 1 {
		return floodAccount(cfg.Accounts - 1 - u/2)
	}
	return floodAccount(u / 2)
}

// RunFlood performs a flood run.
func RunFlood(ctx context.Context, cfg FloodConfig) (*FloodResult, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "hark-flood-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	rp := &relayProc{bin: cfg.RelayBin, dir: dir, logLevel: "info"}
	var names []string
	for i := range cfg.Accounts {
		names = append(names, floodAccount(i))
	}
	if err := rp.prepare(names, floodRight, cfg.BcryptCost, ChannelsJSON(cfg.Accounts, 50, 0)); err != nil {
		return nil, err
	}
	if err := rp.start(ctx); err != nil {
		return nil, err
	}
	defer rp.stop()
	gw, err := startGateway(ctx, cfg.GatewayBin, dir, rp)
	if err != nil {
		return nil, err
	}
	defer gw.stop()
	log := cfg.Logger
	url := "ws://" + gw.addr + "/ws"

	// Every real user logs in once before the flood: the baseline, and a
	// check that the set-up works.
	real := net.ParseIP("127.0.0.1")
	for u := range cfg.RealUsers {
		if code, _, err := wsLogin(ctx, url, real, realName(cfg, u), floodRight, cfg.LoginWait); err != nil || code != "" {
			return nil, fmt.Errorf("%s could not log in before the flood: %s %v", realName(cfg, u), code, err)
		}
	}
	res := &FloodResult{FloodAnswers: map[string]int{}, RealFailed: map[string]int{}, LoadAvgBefore: loadAvg()}
	log.Info("flooding", "attempts", cfg.Attempts, "over", cfg.Over, "accounts", cfg.Accounts, "real_users", cfg.RealUsers)

	var mu sync.Mutex // guards res's maps and counts, and times
	var times, named, other []time.Duration
	floodDone := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	flooder := cfg.From
	if flooder == nil {
		flooder = net.ParseIP("127.0.0.2")
	}
	wg.Go(func() {
		defer close(floodDone)
		var fw sync.WaitGroup
		defer fw.Wait()
		every := cfg.Over / time.Duration(cfg.Attempts)
		for i := range cfg.Attempts {
			at := start.Add(time.Duration(i) * every)
			t := time.NewTimer(time.Until(at))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
			// The flood names the lower half of the accounts in turn.
			name := floodAccount(i % max(1, cfg.Accounts/2))
			fw.Go(func() {
				code, _, err := wsLogin(ctx, url, flooder, name, floodWrong, cfg.LoginWait)
				if err != nil {
					code = "no answer"
				}
				mu.Lock()
				res.FloodAnswers[code]++
				res.Attempts++
				mu.Unlock()
			})
		}
	})
	// Real users log in again and again until the flood's last answer.
	for u := range cfg.RealUsers {
		name := realName(cfg, u)
		wg.Go(func() {
			for {
				select {
				case <-floodDone:
					return
				case <-ctx.Done():
					return
				default:
				}
				code, took, err := wsLogin(ctx, url, real, name, floodRight, cfg.LoginWait)
				mu.Lock()
				res.RealLogins++
				switch {
				case err != nil:
					res.RealFailed["no answer"]++
				case code == "":
					times = append(times, took)
					if u%2 == 0 {
						named = append(named, took)
					} else {
						other = append(other, took)
					}
				default:
					res.RealFailed[code]++
					if code == "rate" { // the relay's refusal: the account is locked out
						res.RealLockedOut++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.FloodTook = time.Since(start)
	res.RealOK, res.RealP50, res.RealP99, res.RealMax = percentiles(times)
	res.NamedOK, res.NamedP50, res.NamedP99, _ = percentiles(named)
	res.OtherOK, res.OtherP50, res.OtherP99, _ = percentiles(other)
	res.LoadAvgAfter = loadAvg()
	if m, err := readCounters("http://" + rp.metrics + "/metrics"); err == nil {
		res.RelayPasswordChecks = m["hark_relay_password_checks_total"]
		res.RelayAuthFailures = m["hark_relay_auth_failures_total"]
		res.RelayRateLimited = m["hark_relay_auth_rate_limited_total"]
		res.RelayBusy = m["hark_relay_auth_busy_total"]
		res.RelayLogins = m["hark_relay_logins_total"]
	}
	if m, err := readLabelled("http://"+rp.metrics+"/metrics", "hark_relay_connections_refused_total"); err == nil {
		for _, v := range m {
			res.RelayConnRefused += v
		}
	}
	return res, nil
}

// percentiles returns how many durations there are, their median, p99 and
// maximum (sorting d).
func percentiles(d []time.Duration) (n int, p50, p99, max time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0, 0
	}
	slices.Sort(d)
	return len(d), d[len(d)/2], d[min(len(d)-1, len(d)*99/100)], d[len(d)-1]
}

// wsLogin opens a websocket to url from the local address from, logs in
// and waits for the gateway's answer: code is "" for a welcome, else the
// error's code. took is from the dial to the answer. The socket is closed.
func wsLogin(ctx context.Context, url string, from net.IP, name, password string, wait time.Duration) (code string, took time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	t0 := time.Now()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return "", 0, err
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	b, _ := json.Marshal(map[string]any{"t": "login", "name": name, "password": password})
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		return "", 0, err
	}
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			return "", 0, err
		}
		if typ != websocket.MessageText {
			continue
		}
		var m struct{ T, Code string }
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.T {
		case "welcome":
			c.Close(websocket.StatusNormalClosure, "")
			return "", time.Since(t0), nil
		case "error":
			return m.Code, time.Since(t0), nil
		}
	}
}

// gatewayProc is a gateway process on 127.0.0.1 in front of a relayProc.
type gatewayProc struct {
	cmd    *exec.Cmd
	addr   string // HTTP address
	exited chan struct{}
}

// startGateway starts the gateway binary (plain HTTP on loopback, its data
// and log in dir) and waits until it is ready.
func startGateway(ctx context.Context, bin, dir string, rp *relayProc) (*gatewayProc, error) {
	addr, err := freeAddr("tcp")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--listen", addr, "--relay", rp.addr, "--fingerprint", rp.fp,
		"--data", filepath.Join(dir, "gateway"))
	logf, err := os.Create(filepath.Join(dir, "gateway.log"))
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	g := &gatewayProc{cmd: cmd, addr: addr, exited: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(g.exited)
		defer logf.Close()
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if strings.Contains(sc.Text(), "gateway ready") {
				once.Do(func() { close(ready) })
			}
		}
		cmd.Wait()
	}()
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	select {
	case <-ready:
		return g, nil
	case <-g.exited:
		return nil, fmt.Errorf("the gateway ended before it was ready (see %s)", logf.Name())
	case <-t.C:
	case <-ctx.Done():
	}
	g.stop()
	return nil, fmt.Errorf("the gateway was not ready within 15 s (see %s)", logf.Name())
}

func (g *gatewayProc) stop() {
	g.cmd.Process.Signal(os.Interrupt)
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
		g.cmd.Process.Kill()
		<-g.exited
	}
}

// readLabelled reads the values of one labelled metric, by label set.
func readLabelled(url, name string) (map[string]float64, error) {
	out := map[string]float64{}
	err := scrapeMetrics(url, func(l string) {
		if !strings.HasPrefix(l, name+"{") {
			return
		}
		i := strings.LastIndexByte(l, ' ')
		var v float64
		if _, err := fmt.Sscan(l[i+1:], &v); err == nil {
			out[l[len(name):i]] = v
		}
	})
	return out, err
}

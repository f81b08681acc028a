// Command loadgen puts a Hark relay under load and reports delivery, relay
// CPU per forwarded frame, relay memory per session and forward latency.
//
// Against a relay you started (with a channels file from `loadgen channels`):
//
//	loadgen channels --sessions 1000 > channels.json
//	relay --open --data /tmp/load --channels channels.json --listen 127.0.0.1:4275 --metrics 127.0.0.1:9275 &
//	loadgen --relay 127.0.0.1:4275 --fingerprint SHA256:… --pid $! --metrics http://127.0.0.1:9275/metrics --sessions 1000 --talkers 20
//
// Or let loadgen start the relay binary itself (a separate process all the same):
//
//	loadgen --spawn bin/relay --sessions 1000 --talkers 20 --duration 20s
//
// Restarts: a relay with 1000 password accounts, all logged in and
// reconnecting, plus a real `talk record`; the relay is killed (then stopped
// with SIGTERM), restarted after 1 s, and loadgen prints how long until every
// session is back and what a text and 3 s of voice sent after the restart
// lost (internal/scripts/restart.sh runs it):
//
//	loadgen restart --relay-bin bin/relay --talk-bin bin/talk --sessions 1000
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/hark-intercom/hark/internal/loadgen"
	"github.com/urfave/cli/v2"
)

func main() {
	if err := app().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func app() *cli.App {
	return &cli.App{
		Name:  "loadgen",
		Usage: "measure a Hark relay: N sessions in channels of 50, M talkers at 50 frames/s",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "relay", EnvVars: []string{"HARK_RELAY"}, Usage: "relay address HOST:PORT, or the relays of a cluster separated by commas: the sessions of each channel are spread over them (not with --spawn)"},
			&cli.StringFlag{Name: "fingerprint", EnvVars: []string{"HARK_FINGERPRINT"}, Usage: "relay certificate fingerprint (SHA256:…)"},
			&cli.IntFlag{Name: "pid", Usage: "relay process id, to read its CPU time and memory from /proc"},
			&cli.IntSliceFlag{Name: "more-pids", Usage: "with several --relay addresses: the other relays' process ids (comma-separated); their CPU time is added to the relay CPU"},
			&cli.StringFlag{Name: "metrics", Usage: "relay metrics URL (http://HOST:PORT/metrics) to report its drop counters"},
			&cli.StringFlag{Name: "spawn", Usage: "start this relay binary (open mode, loopback, a temporary data directory) and measure it"},
			&cli.StringFlag{Name: "spawn-cpus", Usage: "with --spawn: run the relay on these CPUs only (taskset list, e.g. 0 or 0,1)"},
			&cli.IntFlag{Name: "sessions", Aliases: []string{"n"}, Value: 50, Usage: "sessions (N)"},
			&cli.IntFlag{Name: "talkers", Aliases: []string{"m"}, Value: 1, Usage: "talkers (M), spread over the channels"},
			&cli.IntFlag{Name: "group", Value: 50, Usage: "sessions per channel"},
			&cli.DurationFlag{Name: "duration", Value: 20 * time.Second, Usage: "how long the talkers talk (at most 10m)"},
			&cli.DurationFlag{Name: "frame", Value: 20 * time.Millisecond, Usage: "frame interval"},
			&cli.IntFlag{Name: "payload", Value: 80, Usage: "payload bytes per frame"},
			&cli.BoolFlag{Name: "markdown", Usage: "print the result as a markdown table row"},
		},
		Action: run,
		Commands: []*cli.Command{{
			Name:  "restart",
			Usage: "measure how fast every session comes back after the relay is killed (SIGKILL) and stopped (SIGTERM) and restarted",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "relay-bin", Value: "bin/relay", Usage: "relay binary"},
				&cli.StringFlag{Name: "talk-bin", Value: "bin/talk", Usage: "talk binary (for `talk record`)"},
				&cli.StringFlag{Name: "gateway-bin", Usage: "gateway binary: with it, a websocket client (as the web page) through a gateway in front of the relay"},
				&cli.IntFlag{Name: "sessions", Aliases: []string{"n"}, Value: 1000, Usage: "password accounts, each logged in by a reconnecting client (at most 5000)"},
				&cli.IntFlag{Name: "group", Value: 50, Usage: "sessions per channel"},
				&cli.DurationFlag{Name: "gap", Value: time.Second, Usage: "how long the relay stays down"},
				&cli.StringFlag{Name: "signals", Value: "KILL,TERM", Usage: "signals to stop the relay with, one restart each (KILL, TERM, INT)"},
				&cli.DurationFlag{Name: "settle", Value: time.Minute, Usage: "longest wait for the sessions to be back after each restart"},
				&cli.IntFlag{Name: "bcrypt-cost", Value: 10, Usage: "password hash cost of the accounts (10 is the relay's own)"},
				&cli.StringFlag{Name: "keep", Usage: "work in this directory and keep it (logs of the relay and of talk record)"},
				&cli.StringFlag{Name: "relay-log-level", Value: "warn", Usage: "the relay's --log-level (its log is relay.log in the work directory)"},
				&cli.StringFlag{Name: "relay-cpus", Usage: "run the relay on these CPUs only (taskset list, e.g. 0); run loadgen itself with taskset on the others"},
			},
			Action: restart,
		}, {
			Name:  "flood",
			Usage: "measure a login flood through the gateway: wrong-password websocket logins while real users log in",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "relay-bin", Value: "bin/relay", Usage: "relay binary"},
				&cli.StringFlag{Name: "gateway-bin", Value: "bin/gateway", Usage: "gateway binary"},
				&cli.IntFlag{Name: "accounts", Value: 100, Usage: "password accounts at the relay (the flood names the lower half)"},
				&cli.IntFlag{Name: "real-users", Value: 10, Usage: "people logging in with the right password during the flood (half as accounts the flood names)"},
				&cli.IntFlag{Name: "attempts", Value: 500, Usage: "wrong-password logins (at most 5000)"},
				&cli.DurationFlag{Name: "over", Value: 10 * time.Second, Usage: "how long the flood lasts (at most 1m)"},
				&cli.IntFlag{Name: "bcrypt-cost", Value: 10, Usage: "password hash cost of the accounts (10 is the relay's own)"},
				&cli.StringFlag{Name: "keep", Usage: "work in this directory and keep it (logs of the relay and the gateway)"},
				&cli.StringFlag{Name: "from", Value: "127.0.0.2", Usage: "the flood's local address (a non-loopback address of this machine shows the gateway's per-address limit)"},
			},
			Action: flood,
		}, {
			Name:  "channels",
			Usage: "print a relay channels file (JSON) for a run",
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "sessions", Aliases: []string{"n"}, Value: 50},
				&cli.IntFlag{Name: "talkers", Aliases: []string{"m"}, Value: 1},
				&cli.IntFlag{Name: "group", Value: 50},
			},
			Action: func(c *cli.Context) error {
				fmt.Print(loadgen.ChannelsJSON(c.Int("sessions"), c.Int("group"), c.Int("talkers")))
				return nil
			},
		}},
	}
}

func run(c *cli.Context) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := loadgen.Config{
		Addr: c.String("relay"), Fingerprint: c.String("fingerprint"), PID: c.Int("pid"), MetricsURL: c.String("metrics"),
		Sessions: c.Int("sessions"), Talkers: c.Int("talkers"), Group: c.Int("group"),
		Duration: c.Duration("duration"), FrameEvery: c.Duration("frame"), PayloadSize: c.Int("payload"),
		MorePIDs: c.IntSlice("more-pids"),
		Logger:   log,
	}
	if bin := c.String("spawn"); bin != "" {
		stopRelay, err := spawn(ctx, bin, c.String("spawn-cpus"), &cfg, log)
		if err != nil {
			return err
		}
		defer stopRelay()
	}
	if cfg.Addr == "" || cfg.Fingerprint == "" {
		return errors.New("give --relay and --fingerprint, or --spawn PATH-TO-RELAY")
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	ratio := 0.0
	if res.Expected > 0 {
		ratio = float64(res.Delivered) / float64(res.Expected)
	}
	defer fmt.Printf("RESULT tool=loadgen n=%d m=%d sent=%d expected=%d delivered=%d packets=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f relay_cpu_s=%.2f cpu_us_per_frame=%.2f tool_cpu_s=%.2f\n",
		res.Sessions, res.Talkers, res.FramesSent, res.Expected, res.Delivered, res.Packets, ms(res.LatencyP50), ms(res.LatencyP99), ms(res.LatencyMax),
		res.RelayCPU.Seconds(), float64(res.CPUPerFrame.Nanoseconds())/1000, res.ToolCPU.Seconds())
	if c.Bool("markdown") {
		fmt.Printf("| %d | %d | %d/%d (%.4f) | %.1f | %.1f | %.2f | %.2f | %.2f |\n",
			res.Sessions, res.Talkers, res.Delivered, res.Expected, ratio,
			float64(res.CPUPerFrame.Nanoseconds())/1000, float64(res.RSSPerSession)/1024,
			ms(res.LatencyP50), ms(res.LatencyP99), ms(res.LatencyMax))
		return nil
	}
	fmt.Printf("sessions %d in %d channels, talkers %d, %v\n", res.Sessions, res.Channels, res.Talkers, res.Duration)
	fmt.Printf("logins took %v\n", res.LoginTime.Round(time.Millisecond))
	nominal := int64(res.Talkers) * int64(cfg.Duration/cfg.FrameEvery)
	fmt.Printf("frames sent %d (nominal %d: fewer means the generator itself was starved of CPU), expected at listeners %d, delivered %d (%.4f)\n",
		res.FramesSent, nominal, res.Expected, res.Delivered, ratio)
	if cfg.PID > 0 {
		fmt.Printf("relay CPU %v = %.1f µs per delivered frame\n", res.RelayCPU, float64(res.CPUPerFrame.Nanoseconds())/1000)
		fmt.Printf("relay RSS %.1f MiB before, %.1f MiB after = %.1f KiB per session\n",
			float64(res.RSSBefore)/(1<<20), float64(res.RSSAfter)/(1<<20), float64(res.RSSPerSession)/1024)
	}
	if res.Packets > 0 {
		fmt.Printf("listeners received %d QUIC packets from the relay: %.2f frames per packet", res.Packets, float64(res.Delivered)/float64(res.Packets))
		if cfg.PID > 0 {
			fmt.Printf(", relay CPU %.1f µs per packet", float64(res.RelayCPU.Nanoseconds())/1000/float64(res.Packets))
		}
		fmt.Println()
	}
	fmt.Printf("load tool CPU %v = %.1f µs per delivered frame\n", res.ToolCPU.Round(time.Millisecond), perFrame(res.ToolCPU, res.Delivered))
	fmt.Printf("forward latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", ms(res.LatencyP50), ms(res.LatencyP99), ms(res.LatencyMax))
	if res.RelayHeapInuse > 0 {
		fmt.Printf("relay Go heap in use %.1f MiB = %.1f KiB per session; %d goroutines\n",
			res.RelayHeapInuse/(1<<20), res.RelayHeapInuse/1024/float64(res.Sessions), int(res.RelayGoroutines))
	}
	if res.RelayFramesOut > 0 {
		fmt.Printf("relay sent %.0f datagrams to listeners, %.1f %% of them straight from the fan-out\n", res.RelayFramesOut, 100*res.RelayFramesDirect/res.RelayFramesOut)
	}
	if len(res.RelayDropped) > 0 {
		fmt.Printf("relay drops: %v\n", res.RelayDropped)
	}
	return nil
}

func restart(c *cli.Context) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if os.Getenv("GOGC") == "" {
		// A thousand clients in one process allocate steadily (packets,
		// handshakes); collecting less often leaves them more of the CPU
		// (this machine has memory to spare for it; GOGC overrides).
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	var sigs []syscall.Signal
	for _, s := range strings.Split(c.String("signals"), ",") {
		switch strings.ToUpper(strings.TrimPrefix(strings.TrimSpace(s), "SIG")) {
		case "KILL", "9":
			sigs = append(sigs, syscall.SIGKILL)
		case "TERM", "15":
			sigs = append(sigs, syscall.SIGTERM)
		case "INT", "2":
			sigs = append(sigs, syscall.SIGINT)
		default:
			return fmt.Errorf("--signals: %q is not KILL, TERM or INT", s)
		}
	}
	dir := c.String("keep")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	cfg := loadgen.RestartConfig{
		RelayBin: c.String("relay-bin"), TalkBin: c.String("talk-bin"), GatewayBin: c.String("gateway-bin"), Sessions: c.Int("sessions"),
		Group: c.Int("group"), Gap: c.Duration("gap"), Signals: sigs, Settle: c.Duration("settle"),
		BcryptCost: c.Int("bcrypt-cost"), Dir: dir, Logger: log, RelayLogLevel: c.String("relay-log-level"),
		RelayCPUs: c.String("relay-cpus"),
	}
	res, err := loadgen.RunRestart(ctx, cfg)
	for _, r := range res {
		fmt.Printf("\n== relay stopped with %s, restarted %v later; %d password sessions + talk record + sender ==\n", r.Signal, cfg.Gap, r.Sessions)
		fmt.Printf("load average before %s, after %s\n", r.LoadAvgBefore, r.LoadAvgAfter)
		fmt.Printf("all sessions back (logged in and in their channel) %v after the relay answered again (%v after the signal); median %v; still out after %v: %d\n",
			r.Back.Round(time.Millisecond), r.BackFromStop.Round(time.Millisecond), r.BackP50.Round(time.Millisecond), cfg.Settle, r.NotBack)
		fmt.Printf("restarted relay: %.0f password checks, %.0f logins on resume tickets, %.0f tickets refused, %.0f busy refusals\n",
			r.PasswordChecks, r.Resumed, r.TicketsRefused, r.Busy)
		fmt.Printf("restarted relay: %.0f connections refused at the door (too many logins under way; at most %.0f at once), %.0f wrong names or passwords, %.0f logins that outlived their admission place\n",
			r.RefusedAtDoor, r.DoorPlaces, r.AuthFailures, r.PlacesExpired)
		fmt.Printf("load sessions back by each second after the relay answered: %v; longest time with none coming back: %v\n",
			r.BackBySecond, r.LongestLull.Round(time.Millisecond))
		fmt.Printf("load sessions noticed the loss %v after the signal (median), the last %v; %d of them by ping timeout (not by stateless reset or goodbye)\n",
			r.NoticedP50.Round(time.Millisecond), r.NoticedMax.Round(time.Millisecond), r.ClientsSilentDrops)
		fmt.Printf("restarted relay: %.0f logins for %d sessions; %d sessions reconnected more than once (gave up a session they had again)\n",
			r.Logins, r.Sessions+2, r.GivenUpAgain)
		fmt.Printf("talk record: noticed the loss %v after the signal, back %v after the relay answered again\n",
			r.RecorderNoticed.Round(time.Millisecond), r.RecorderBack.Round(time.Millisecond))
		if r.Browser {
			fmt.Printf("browser through the gateway: told of the loss %v after the signal, back in its channel %v after the relay answered again; text: live %v, in the missed list %v; heard %v of %v\n",
				r.BrowserNoticed.Round(time.Millisecond), r.BrowserBack.Round(time.Millisecond), r.BrowserText, r.BrowserCaught, r.BrowserHeard, r.RecorderVoice)
		}
		fmt.Printf("sender back %v after the relay answered; sent a text and %v of voice at +%v\n",
			r.SenderBack.Round(time.Millisecond), r.RecorderVoice, r.SentAt.Round(time.Millisecond))
		if !r.TextSent {
			fmt.Printf("the sender's text did not go out: texts are not counted\n")
		}
		if r.SenderErr != "" {
			fmt.Printf("the sender stopped early (%s): the figures below count what it had sent\n", r.SenderErr)
		}
		fmt.Printf("texts lost: %d of %d receivers (%d more got it late, in the catch-up after logging in again); frames at the load sessions of the channel: %d of %d (lost %d); talk record heard %v of %v\n",
			r.TextsLost, r.Receivers, r.TextsCaughtUp, r.FramesReceived, r.FramesExpected, int64(r.FramesExpected)-int64(r.FramesReceived), r.RecorderHeard, r.RecorderVoice)
		fmt.Printf("voice said while sessions were still coming back: %d load sessions that missed part of it live were sent the transmission on their return, to play as missed; %d were back and were not (lost for them); %d were not back by the end\n",
			r.VoiceReplayed, r.VoiceNotReplayed, r.VoiceStillOut)
	}
	return err
}

func flood(c *cli.Context) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	dir := c.String("keep")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	cfg := loadgen.FloodConfig{
		RelayBin: c.String("relay-bin"), GatewayBin: c.String("gateway-bin"), Accounts: c.Int("accounts"),
		RealUsers: c.Int("real-users"), Attempts: c.Int("attempts"), Over: c.Duration("over"),
		BcryptCost: c.Int("bcrypt-cost"), Dir: dir, Logger: log, From: net.ParseIP(c.String("from")),
	}
	if cfg.From == nil {
		return fmt.Errorf("--from %q is not an IP address", c.String("from"))
	}
	r, err := loadgen.RunFlood(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("\n== %d wrong-password websocket logins over %v through the gateway (from %s), %d real users logging in again and again (from 127.0.0.1) ==\n",
		r.Attempts, cfg.Over, cfg.From, cfg.RealUsers)
	fmt.Printf("load average before %s, after %s; the flood's last answer after %v\n", r.LoadAvgBefore, r.LoadAvgAfter, r.FloodTook.Round(time.Millisecond))
	fmt.Printf("flood answers: %v\n", r.FloodAnswers)
	fmt.Printf("real logins during the flood: %d, %d in (p50 %v, p99 %v, max %v), failed: %v; refused as locked out: %d\n",
		r.RealLogins, r.RealOK, r.RealP50.Round(time.Millisecond), r.RealP99.Round(time.Millisecond), r.RealMax.Round(time.Millisecond), r.RealFailed, r.RealLockedOut)
	fmt.Printf("  as names the flood also tried: %d in (p50 %v, p99 %v); as other names: %d in (p50 %v, p99 %v)\n",
		r.NamedOK, r.NamedP50.Round(time.Millisecond), r.NamedP99.Round(time.Millisecond), r.OtherOK, r.OtherP50.Round(time.Millisecond), r.OtherP99.Round(time.Millisecond))
	fmt.Printf("at the relay: %.0f password checks, %.0f wrong passwords, %.0f refused as rate limited, %.0f refused as busy (password checks), %.0f connections refused before the handshake, %.0f logins\n",
		r.RelayPasswordChecks, r.RelayAuthFailures, r.RelayRateLimited, r.RelayBusy, r.RelayConnRefused, r.RelayLogins)
	return nil
}

func perFrame(d time.Duration, frames uint64) float64 {
	if frames == 0 {
		return 0
	}
	return float64(d.Nanoseconds()) / 1000 / float64(frames)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

var (
	reListen = regexp.MustCompile(`listening on UDP (\S+)`)
	reFP     = regexp.MustCompile(`Fingerprint: (SHA256:\S+)`)
)

// spawn starts the relay binary in open mode on loopback with a channels
// file for the run, and fills cfg's address, fingerprint, PID and metrics URL.
func spawn(ctx context.Context, bin, cpus string, cfg *loadgen.Config, log *slog.Logger) (func(), error) {
	dir, err := os.MkdirTemp("", "hark-load-")
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			os.RemoveAll(dir) // ours, made above; the relay did not start
		}
	}()
	chf := filepath.Join(dir, "channels.json")
	if err := os.WriteFile(chf, []byte(loadgen.ChannelsJSON(cfg.Sessions, cfg.Group, cfg.Talkers)), 0o600); err != nil {
		return nil, err
	}
	// A free TCP port for the metrics endpoint.
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	maddr := ml.Addr().String()
	ml.Close()
	cfg.MetricsURL = "http://" + maddr + "/metrics"
	args := []string{"--open", "--data", dir, "--channels", chf, "--listen", "127.0.0.1:0",
		"--metrics", maddr, "--max-talk", (cfg.Duration + time.Minute).String(), "--log-level", "warn"}
	cmd := exec.Command(bin, args...)
	if cpus != "" {
		// taskset execs the relay: the process id stays the relay's.
		ts, err := exec.LookPath("taskset")
		if err != nil {
			return nil, errors.New("--spawn-cpus needs taskset (Debian package util-linux)")
		}
		cmd = exec.Command(ts, append([]string{"-c", cpus, bin}, args...)...)
	}
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	started = true
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		os.RemoveAll(dir)
	}
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
	for sc.Scan() {
		l := sc.Text()
		if m := reListen.FindStringSubmatch(l); m != nil {
			cfg.Addr = m[1]
		}
		if m := reFP.FindStringSubmatch(l); m != nil {
			cfg.Fingerprint = m[1]
		}
		if strings.HasPrefix(l, "Connect with") {
			break
		}
	}
	deadline.Stop()
	go io.Copy(io.Discard, out)
	if cfg.Addr == "" || cfg.Fingerprint == "" {
		stop()
		return nil, errors.New("the relay did not print its address and fingerprint")
	}
	cfg.PID = cmd.Process.Pid
	log.Info("relay started", "pid", cfg.PID, "addr", cfg.Addr)
	return stop, nil
}

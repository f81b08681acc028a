package gateway

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
)

// TestLoad measures the gateway's CPU with real processes (bin relay and bin
// gateway, built here) under browser-like load from this test: listeners
// logged in over websockets while a relay client talks, and one browser
// talker sending PCM. It is a measurement, not a check: run it with
//
//	HARK_GATEWAY_LOAD=100,500 go test ./internal/gateway -run TestLoad -v
//
// (the list is the numbers of listeners to try).
func TestLoad(t *testing.T) {
	spec := os.Getenv("HARK_GATEWAY_LOAD")
	if spec == "" {
		t.Skip("set HARK_GATEWAY_LOAD=100,500 to measure gateway CPU under load")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "github.com/hark-intercom/hark/cmd/relay", "github.com/hark-intercom/hark/cmd/gateway")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	relayAddr := freeAddr(t, "udp")
	gwAddr := freeAddr(t, "tcp")
	metricsAddr := freeAddr(t, "tcp")
	rdata := t.TempDir()
	fpOut, err := exec.Command(bin+"/relay", "fingerprint", "--create", "--data", rdata).Output()
	if err != nil {
		t.Fatal(err)
	}
	fp := strings.TrimSpace(string(fpOut))
	relay := startProc(t, bin+"/relay", "--listen", relayAddr, "--data", rdata, "--open", "--log-level", "warn")
	gw := startProc(t, bin+"/gateway", "--relay", relayAddr, "--fingerprint", fp, "--listen", gwAddr,
		"--data", t.TempDir(), "--log-level", "warn", "--max-sessions", "5000", "--metrics", metricsAddr)
	waitTCP(t, gwAddr)
	waitTCP(t, metricsAddr)
	url := "ws://" + gwAddr + "/ws"

	// One browser talker, nobody listening: the cost of encoding its PCM,
	// and of forwarding Opus the browser encoded (WebCodecs).
	for _, format := range []string{"pcm", "opus"} {
		c := wsLogin(t, url, "talker-"+format)
		idle := waitQuiet(t, gw.Process.Pid, 30*time.Second)
		m0 := sampleCPU(t, gw.Process.Pid, relay.Process.Pid)
		met0 := scrape(t, metricsAddr)
		wsTalk(t, c, format, 10*time.Second)
		m := sampleCPU(t, gw.Process.Pid, relay.Process.Pid).sub(m0)
		met := scrape(t, metricsAddr)
		what := map[string]string{"pcm": "PCM → Opus in the gateway", "opus": "Opus from WebCodecs, forwarded"}[format]
		t.Logf("one browser talker (%s), nobody listening: gateway CPU %.1f%% of one core (idle before: %.1f%%), %.0f frames to the relay",
			what, m.pct(m.gw), idle, met["hark_gateway_voice_sent_total"]-met0["hark_gateway_voice_sent_total"])
		c.CloseNow()
	}

	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("bad HARK_GATEWAY_LOAD entry %q", f)
		}
		var frames atomic.Int64
		var wg sync.WaitGroup
		conns := make([]*websocket.Conn, 0, n)
		t0 := time.Now()
		for i := 0; i < n; i++ {
			c := wsLogin(t, url, fmt.Sprintf("l%d-%d", n, i))
			conns = append(conns, c)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					typ, _, err := c.Read(context.Background())
					if err != nil {
						return
					}
					if typ == websocket.MessageBinary {
						frames.Add(1)
					}
				}
			}()
		}
		t.Logf("%d listeners logged in in %v", n, time.Since(t0).Round(time.Millisecond))
		// The logins leave work behind (each login is a presence change for
		// everyone already online: O(n²) messages through relay, gateway
		// and browsers). Wait until the gateway is quiet, so that the
		// window below measures the voice alone.
		idle := waitQuiet(t, gw.Process.Pid, 30*time.Second)
		talker := dialProcCLI(t, relayAddr, fp, fmt.Sprintf("cli%d", n))
		frames.Store(0)
		met0 := scrape(t, metricsAddr)
		m0 := sampleCPU(t, gw.Process.Pid, relay.Process.Pid)
		sent := cliTalkSilenceFree(t, talker, 10*time.Second)
		m := sampleCPU(t, gw.Process.Pid, relay.Process.Pid).sub(m0)
		// Let the last frames arrive before counting.
		deadline := time.Now().Add(2 * time.Second)
		for frames.Load() < int64(n*sent) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond) // measurement only; no assertion depends on it
		}
		got := frames.Load()
		met := scrape(t, metricsAddr)
		copies := met["hark_gateway_voice_duplicates_total"] - met0["hark_gateway_voice_duplicates_total"] +
			met["hark_gateway_decoded_frames_total"] - met0["hark_gateway_decoded_frames_total"]
		dropped := met["hark_gateway_audio_dropped_total"] - met0["hark_gateway_audio_dropped_total"]
		gwPct := m.pct(m.gw)
		t.Logf("%d browser listeners, one relay talker sending %d frames in %v (%.0f%% of real time): gateway CPU %.1f%% of one core (idle before: %.1f%%), %.1f%% per 100 listeners; relay %.1f%%, load generator (this test: %d websockets + talker) %.1f%%, whole machine %.0f%% of %d cores busy; frames delivered %d of %d (%.2f%%)",
			n, sent, m.wall.Round(time.Millisecond), 100*float64(sent)*0.02/m.wall.Seconds(),
			gwPct, idle, (gwPct-idle)/float64(n)*100, m.pct(m.relay), n, m.pct(m.self), m.machineBusy*100, runtime.NumCPU(),
			got, n*sent, 100*float64(got)/float64(n*sent))
		// What was done per frame, whatever share of the machine the
		// processes got: CPU time per frame delivered to a browser. The
		// gateway also receives each frame once per browser session from
		// the relay (one relay session per browser) and drops the copies.
		t.Logf("%d listeners: gateway %.1f µs CPU per frame delivered (relay copies received %.0f of %d, frames dropped for slow browsers %.0f); relay %.1f µs per copy sent; at 50 frames/s for every listener that is %.2f cores of gateway for %d listeners",
			n, float64(m.gw.Microseconds())/float64(got), copies, n*sent, dropped,
			float64(m.relay.Microseconds())/copies, float64(m.gw.Microseconds())/float64(got)*50*float64(n)/1e6, n)
		talker.Close()
		for _, c := range conns {
			c.CloseNow()
		}
		wg.Wait()
	}
}

func freeAddr(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startProc(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	return cmd
}

func waitTCP(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

// cpuSample is CPU time used so far by the gateway, the relay, this test
// process, and the whole machine (busy and total jiffies), at a wall time.
type cpuSample struct {
	wall            time.Duration // since the first sample's zero, or a difference
	at              time.Time
	gw, relay, self time.Duration
	busy, total     int64
	machineBusy     float64 // set by sub: fraction of all cores busy
}

func sampleCPU(t *testing.T, gw, relay int) cpuSample {
	t.Helper()
	s := cpuSample{at: time.Now(), gw: procCPU(t, gw), relay: procCPU(t, relay), self: procCPU(t, os.Getpid())}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseInt(f, 10, 64)
		s.total += v
		if i != 3 && i != 4 { // idle, iowait
			s.busy += v
		}
	}
	return s
}

// sub returns the usage between s0 and s.
func (s cpuSample) sub(s0 cpuSample) cpuSample {
	d := cpuSample{wall: s.at.Sub(s0.at), gw: s.gw - s0.gw, relay: s.relay - s0.relay, self: s.self - s0.self,
		busy: s.busy - s0.busy, total: s.total - s0.total}
	if d.total > 0 {
		d.machineBusy = float64(d.busy) / float64(d.total)
	}
	return d
}

// pct is cpu as a percentage of one core over the sample's wall time.
func (s cpuSample) pct(cpu time.Duration) float64 { return 100 * cpu.Seconds() / s.wall.Seconds() }

// waitQuiet waits (up to limit) until the process uses less than 3% of a
// core over a second, and returns its use in the last second, in percent.
func waitQuiet(t *testing.T, pid int, limit time.Duration) float64 {
	t.Helper()
	end := time.Now().Add(limit)
	for {
		c0, w0 := procCPU(t, pid), time.Now()
		time.Sleep(time.Second) // measurement only
		pct := 100 * (procCPU(t, pid) - c0).Seconds() / time.Since(w0).Seconds()
		if pct < 3 || time.Now().After(end) {
			return pct
		}
	}
}

// scrape reads the gateway's counters from its metrics endpoint.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, _ := strconv.ParseFloat(strings.TrimSpace(val), 64)
		out[name] += v
	}
	return out
}

// procCPU returns a process's user+system CPU time from /proc.
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(line[strings.LastIndexByte(line, ')')+2:])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ = 100 on Linux
}

func wsLogin(t *testing.T, url, name string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	b, _ := json.Marshal(login(name))
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	for {
		_, m, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(string(m), `"t":"joined"`) {
			return c
		}
	}
}

// wsTalk sends speech for d as a browser would, paced in real time: PCM
// frames, or Opus packets (encoded here beforehand, as the page's WebCodecs
// encoder would, so that only the gateway's forwarding is measured).
func wsTalk(t *testing.T, c *websocket.Conn, format string, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	src := sourcePCM(t)
	frames := int(d / (20 * time.Millisecond))
	msgs := make([][]byte, frames)
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960, FEC: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		off := (i * 960) % (len(src) - 960)
		if format == "pcm" {
			msgs[i] = pcmMsg(uint32(i), src[off:off+960])
			continue
		}
		pkt, err := enc.Encode(src[off:off+960], nil)
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = append(make([]byte, binHeaderLen), pkt...)
		msgs[i][0] = binOpus
		binary.LittleEndian.PutUint32(msgs[i][4:], uint32(i))
	}
	talk := map[string]any{"t": "talk", "on": true, "format": format}
	if format == "pcm" {
		talk["rate"] = 48000
	}
	b, _ := json.Marshal(talk)
	_ = c.Write(ctx, websocket.MessageText, b)
	start := time.Now()
	for i, m := range msgs {
		if w := time.Until(start.Add(time.Duration(i) * 20 * time.Millisecond)); w > 0 {
			time.Sleep(w) // pacing, not a test wait
		}
		if err := c.Write(ctx, websocket.MessageBinary, m); err != nil {
			t.Fatal(err)
		}
	}
	b, _ = json.Marshal(map[string]any{"t": "talk", "on": false})
	_ = c.Write(ctx, websocket.MessageText, b)
}

func dialProcCLI(t *testing.T, relay, fp, name string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{Relay: relay, Fingerprint: fp, Name: name,
		KnownRelaysFile: filepath.Join(t.TempDir(), "known")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cliTalkSilenceFree sends speech (looped) for d and returns the frames sent.
func cliTalkSilenceFree(t *testing.T, c *client.Client, d time.Duration) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+waitLimit)
	defer cancel()
	tx, err := c.Talk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960, FEC: true})
	src := sourcePCM(t)
	// Frame k is due at start + k×20 ms; a late loop catches up, so the
	// count is right even when this process is starved.
	n := 0
	out := make([]byte, 0, codec.MaxPacketBytes)
	start := time.Now()
	for end := start.Add(d); ; {
		due := start.Add(time.Duration(n) * 20 * time.Millisecond)
		if !due.Before(end) {
			break
		}
		if w := time.Until(due); w > 0 {
			time.Sleep(w) // pacing, not a test wait
		}
		off := (n * 960) % (len(src) - 960)
		pkt, _ := enc.Encode(src[off:off+960], out)
		_ = tx.Send(pkt, 960)
		n++
	}
	_ = tx.End(ctx)
	return n + 1 // + the end frame
}

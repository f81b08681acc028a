package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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
	rdata := t.TempDir()
	fpOut, err := exec.Command(bin+"/relay", "fingerprint", "--data", rdata).Output()
	if err != nil {
		t.Fatal(err)
	}
	fp := strings.TrimSpace(string(fpOut))
	startProc(t, bin+"/relay", "--listen", relayAddr, "--data", rdata, "--open", "--log-level", "warn")
	gw := startProc(t, bin+"/gateway", "--relay", relayAddr, "--fingerprint", fp, "--listen", gwAddr,
		"--data", t.TempDir(), "--log-level", "warn", "--max-sessions", "5000")
	waitTCP(t, gwAddr)
	url := "ws://" + gwAddr + "/ws"

	// One browser talker, nobody listening: the cost of encoding its PCM.
	{
		c := wsLogin(t, url, "talker")
		cpu0, wall0 := procCPU(t, gw.Process.Pid), time.Now()
		wsTalkPCM(t, c, 10*time.Second)
		cpu := procCPU(t, gw.Process.Pid) - cpu0
		t.Logf("one browser talker (PCM → Opus): gateway CPU %.1f%% of one core", 100*cpu.Seconds()/time.Since(wall0).Seconds())
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
		talker := dialProcCLI(t, relayAddr, fp, fmt.Sprintf("cli%d", n))
		cpu0, wall0 := procCPU(t, gw.Process.Pid), time.Now()
		sent := cliTalkSilenceFree(t, talker, 10*time.Second)
		cpu := procCPU(t, gw.Process.Pid) - cpu0
		wall := time.Since(wall0)
		// Let the last frames arrive before counting.
		deadline := time.Now().Add(2 * time.Second)
		for frames.Load() < int64(n*sent) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond) // measurement only; no assertion depends on it
		}
		got := frames.Load()
		t.Logf("%d browser listeners, one relay talker for %v: gateway CPU %.1f%% of one core (%.2f%% per 100 listeners); frames delivered %d of %d (%.2f%%)",
			n, wall.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds(), 100*cpu.Seconds()/wall.Seconds()/float64(n)*100,
			got, n*sent, 100*float64(got)/float64(n*sent))
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

func wsTalkPCM(t *testing.T, c *websocket.Conn, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	src := sourcePCM(t)
	b, _ := json.Marshal(map[string]any{"t": "talk", "on": true, "format": "pcm", "rate": 48000})
	_ = c.Write(ctx, websocket.MessageText, b)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i, end := 0, time.Now().Add(d); time.Now().Before(end); i++ {
		off := (i * 960) % (len(src) - 960)
		if err := c.Write(ctx, websocket.MessageBinary, pcmMsg(uint32(i), src[off:off+960])); err != nil {
			t.Fatal(err)
		}
		<-tick.C
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
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	n := 0
	out := make([]byte, 0, codec.MaxPacketBytes)
	for end := time.Now().Add(d); time.Now().Before(end); n++ {
		off := (n * 960) % (len(src) - 960)
		pkt, _ := enc.Encode(src[off:off+960], out)
		_ = tx.Send(pkt, 960)
		<-tick.C
	}
	_ = tx.End(ctx)
	return n + 1 // + the end frame
}

package scripts

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// waitLimit only keeps a broken test from hanging; nothing is timed.
const waitLimit = 60 * time.Second

// buildBinaries builds relay and gateway into a temporary bin directory.
func buildBinaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binaries; skipped in -short mode")
	}
	bin := t.TempDir()
	cmd := exec.Command("go", "build", "-o", bin+"/", "./cmd/relay", "./cmd/gateway")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a loopback address with a port that was free a moment ago.
func freePort(t *testing.T, network string) string {
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

// output collects a process's output and says when it grows.
type output struct {
	mu     sync.Mutex
	b      bytes.Buffer
	change chan struct{}
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b.Write(p)
	select {
	case o.change <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// runScript starts run.sh with env in its own process group.
func runScript(t *testing.T, env []string) (*exec.Cmd, *output) {
	t.Helper()
	out := &output{change: make(chan struct{}, 1)}
	cmd := exec.Command("bash", "run.sh")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out
}

// A second `make run` on the same ports says the port is in use and stops
// before its banner, leaving the running one's logs alone.
func TestSecondRunSaysPortInUse(t *testing.T) {
	bin := buildBinaries(t)
	runDir := t.TempDir()
	env := []string{"BIN=" + bin, "RUN_DIR=" + runDir, "RELAY_ADDR=" + freePort(t, "udp"),
		"GATEWAY_ADDR=" + freePort(t, "tcp"), "METRICS_ADDR=" + freePort(t, "tcp")}

	first, out1 := runScript(t, env)
	firstDone := make(chan error, 1)
	go func() { firstDone <- first.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-first.Process.Pid, syscall.SIGINT)
		select {
		case <-firstDone:
		case <-time.After(waitLimit):
			syscall.Kill(-first.Process.Pid, syscall.SIGKILL)
			<-firstDone
		}
	})
	timeout := time.After(waitLimit)
	for !strings.Contains(out1.String(), "Hark is running") {
		select {
		case <-out1.change:
		case err := <-firstDone:
			t.Fatalf("the first run stopped (%v):\n%s", err, out1)
		case <-timeout:
			t.Fatalf("the first run never said it was running:\n%s", out1)
		}
	}
	logs := map[string]os.FileInfo{}
	before := map[string][]byte{}
	for _, name := range []string{"relay.log", "gateway.log"} {
		p := filepath.Join(runDir, name)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("the first run has no %s: %v", name, err)
		}
		logs[name] = fi
		before[name], _ = os.ReadFile(p)
	}

	second, out2 := runScript(t, env)
	done := make(chan error, 1)
	go func() { done <- second.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(waitLimit):
		syscall.Kill(-second.Process.Pid, syscall.SIGKILL)
		t.Fatalf("the second run did not stop:\n%s", out2)
	}
	if err == nil {
		t.Errorf("the second run exited with status 0")
	}
	if s := out2.String(); strings.Contains(s, "Hark is running") || !strings.Contains(s, "Port in use") || !strings.Contains(s, "address already in use") {
		t.Errorf("the second run said:\n%s", s)
	}
	for name, fi := range logs {
		p := filepath.Join(runDir, name)
		now, err := os.Stat(p)
		if err != nil || !os.SameFile(fi, now) {
			t.Errorf("%s of the first run was replaced: %v", name, err)
			continue
		}
		if b, _ := os.ReadFile(p); !bytes.HasPrefix(b, before[name]) {
			t.Errorf("%s of the first run was changed:\n%s", name, b)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(runDir, ".*.log.*")); len(left) != 0 {
		t.Errorf("the second run left %v", left)
	}
	select {
	case err := <-firstDone:
		t.Errorf("the first run stopped: %v\n%s", err, out1)
	default:
	}
}

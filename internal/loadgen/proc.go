package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// relayProc is a relay process on 127.0.0.1 with its data in dir/relay and
// its log in dir/relay.log, started (and restarted) by start.
type relayProc struct {
	bin, dir, logLevel string
	// cpus, if set, runs the relay on these CPUs only (a taskset list).
	cpus    string
	addr    string // UDP address
	metrics string // metrics address
	fp      string // certificate fingerprint, from the first start
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the current process has ended
}

// prepare writes the accounts (names, all with password, one bcrypt hash
// of cost shared by all: the relay checks it like any other) and the
// channels file, and picks the ports.
func (r *relayProc) prepare(names []string, password string, cost int, channels string) error {
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return err
	}
	type user struct {
		Name  string   `json:"name"`
		Hash  string   `json:"hash"`
		Roles []string `json:"roles"`
	}
	var f struct {
		Users []user `json:"users"`
	}
	for _, n := range names {
		f.Users = append(f.Users, user{n, string(h), []string{}})
	}
	b, _ := json.Marshal(f)
	data := filepath.Join(r.dir, "relay")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(data, "users.json"), b, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(data, "channels.json"), []byte(channels), 0o600); err != nil {
		return err
	}
	if r.addr, err = freeAddr("udp"); err != nil {
		return err
	}
	r.metrics, err = freeAddr("tcp")
	return err
}

// freeAddr returns a 127.0.0.1 address with a port free a moment ago.
func freeAddr(network string) (string, error) {
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		defer pc.Close()
		return pc.LocalAddr().String(), nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

var reFingerprint = regexp.MustCompile(`Fingerprint: (SHA256:\S+)`)

// startRelay starts the relay process and waits for its banner (it then
// answers on its port).
func (r *relayProc) start(ctx context.Context) error {
	data := filepath.Join(r.dir, "relay")
	args := []string{"--data", data, "--listen", r.addr, "--metrics", r.metrics, "--log-level", r.logLevel}
	cmd := exec.Command(r.bin, args...)
	if r.cpus != "" {
		// taskset execs the relay: the process id stays the relay's.
		ts, err := exec.LookPath("taskset")
		if err != nil {
			return errors.New("running the relay on given CPUs needs taskset (Debian package util-linux)")
		}
		cmd = exec.Command(ts, append([]string{"-c", r.cpus, r.bin}, args...)...)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(r.dir, "relay.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	up := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		fp := ""
		for sc.Scan() {
			if m := reFingerprint.FindStringSubmatch(sc.Text()); m != nil {
				fp = m[1]
			}
			if strings.HasPrefix(sc.Text(), "Connect with") {
				up <- fp
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	select {
	case fp := <-up:
		if r.fp != "" && fp != r.fp {
			return fmt.Errorf("the restarted relay has another fingerprint (%s, was %s)", fp, r.fp)
		}
		r.fp = fp
	case <-t.C:
		cmd.Process.Kill()
		return fmt.Errorf("the relay did not start within 15 s (see %s)", filepath.Join(r.dir, "relay.log"))
	case <-ctx.Done():
		cmd.Process.Kill()
		return ctx.Err()
	}
	r.cmd, r.exited = cmd, exited
	return nil
}

func (r *relayProc) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
}

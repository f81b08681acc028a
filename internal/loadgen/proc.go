package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
// A UDP port is taken below the kernel's ephemeral range (as a real
// relay's 4275 is): the relay is restarted on the same port while a
// thousand clients open new sockets to reconnect, and one of them was
// given the relay's old port as its own ("address already in use", the
// relay could not start again).
func freeAddr(network string) (string, error) {
	if network == "udp" {
		if addr, ok := udpBelowEphemeral(); ok {
			return addr, nil
		}
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
	case <-exited:
		return fmt.Errorf("the relay stopped while starting; the end of its log:\n%s", logTail(filepath.Join(r.dir, "relay.log"), 20))
	case <-t.C:
		cmd.Process.Kill()
		<-exited
		return fmt.Errorf("the relay did not start within 15 s; the end of its log:\n%s", logTail(filepath.Join(r.dir, "relay.log"), 20))
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

// logTail returns the last n lines of the file at path, or a sentence
// saying why it cannot: the run's directory may be removed when the run
// ends, so an error names what the log said, not only where it was.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// udpBelowEphemeral finds a free UDP port on 127.0.0.1 between 10000 and
// the first port the kernel gives out on its own
// (/proc/sys/net/ipv4/ip_local_port_range), trying at most 50. ok is
// false when there is no such range or no free port in it.
func udpBelowEphemeral() (addr string, ok bool) {
	low := 32768 // Linux's default
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	const first = 10000
	if low <= first+100 {
		return "", false
	}
	for range 50 {
		a := fmt.Sprintf("127.0.0.1:%d", first+mrand.IntN(low-first))
		if pc, err := net.ListenPacket("udp", a); err == nil {
			pc.Close()
			return a, true
		}
	}
	return "", false
}

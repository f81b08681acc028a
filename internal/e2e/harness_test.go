package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bin holds the relay and talk binaries: $HARK_TEST_BIN when make test
// built them once for all its test processes (internal/scripts/test.sh),
// else built by TestMain.
var bin string

func TestMain(m *testing.M) {
	if dir := os.Getenv("HARK_TEST_BIN"); dir != "" {
		bin = dir
		os.Exit(m.Run())
	}
	code := func() int {
		dir, err := os.MkdirTemp("", "hark-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		bin = dir
		for _, c := range []string{"relay", "talk"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, c), "../../cmd/"+c)
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: building %s: %v\n%s", c, err, out)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// testCtx bounds a whole end-to-end test.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// proc is a running binary whose output lines (stdout and stderr) are kept
// and can be waited for.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd

	mu     sync.Mutex // guards lines, notify
	lines  []string
	notify chan struct{} // closed and replaced when a line arrives

	exited chan struct{} // closed when the process has exited and its output is read
	code   int           // exit code, valid after exited
}

// env is the environment of every process: no HARK_* settings from the
// caller's environment, a private HOME and known-relays file.
func env(t *testing.T, extra ...string) []string {
	var e []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HARK_") && !strings.HasPrefix(kv, "HOME=") {
			e = append(e, kv)
		}
	}
	home := t.TempDir()
	e = append(e, "HOME="+home, "HARK_KNOWN_RELAYS="+filepath.Join(home, "known_relays"))
	return append(e, extra...)
}

// start runs bin/name args… with env.
func start(t *testing.T, name string, envv []string, stdin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name + " " + strings.Join(args, " "), notify: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(bin, name), args...)
	p.cmd.Env = envv
	if stdin != "" {
		p.cmd.Stdin = strings.NewReader(stdin)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	for _, r := range []io.Reader{stdout, stderr} {
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				p.add(sc.Text())
			}
		}()
	}
	go func() {
		wg.Wait()
		err := p.cmd.Wait()
		p.code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.exited)
		p.mu.Lock()
		close(p.notify)
		p.notify = make(chan struct{})
		p.mu.Unlock()
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(5 * time.Second):
				p.cmd.Process.Kill()
				<-p.exited
			}
		}
		if t.Failed() {
			t.Logf("output of %s (exit %d):\n  %s", p.name, p.code, strings.Join(p.output(), "\n  "))
		}
	})
	return p
}

func (p *proc) add(line string) {
	p.mu.Lock()
	p.lines = append(p.lines, line)
	close(p.notify)
	p.notify = make(chan struct{})
	p.mu.Unlock()
}

func (p *proc) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

func (p *proc) text() string { return strings.Join(p.output(), "\n") }

// waitLine waits for a line at index ≥ from that matches re and returns its
// index and submatches. It fails the test if the process exits or ctx ends
// first.
func (p *proc) waitLine(ctx context.Context, from int, re *regexp.Regexp) (int, []string) {
	p.t.Helper()
	i, m, err := p.findLine(ctx, from, re)
	if err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	return i, m
}

func (p *proc) findLine(ctx context.Context, from int, re *regexp.Regexp) (int, []string, error) {
	for {
		p.mu.Lock()
		lines, notify := p.lines, p.notify
		p.mu.Unlock()
		for i := from; i < len(lines); i++ {
			if m := re.FindStringSubmatch(lines[i]); m != nil {
				return i, m, nil
			}
		}
		select {
		case <-p.exited:
			// One more pass: lines may have arrived with the exit.
			p.mu.Lock()
			lines = p.lines
			p.mu.Unlock()
			for i := from; i < len(lines); i++ {
				if m := re.FindStringSubmatch(lines[i]); m != nil {
					return i, m, nil
				}
			}
			return 0, nil, fmt.Errorf("exited (%d) without printing a line matching %q", p.code, re)
		default:
		}
		select {
		case <-notify:
		case <-ctx.Done():
			return 0, nil, fmt.Errorf("no line matching %q: %v", re, ctx.Err())
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(ctx context.Context) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-ctx.Done():
		p.t.Fatalf("%s did not exit: %v", p.name, ctx.Err())
	}
	return -1
}

// interrupt sends SIGINT (Ctrl-C) and waits for the exit code.
func (p *proc) interrupt(ctx context.Context) int {
	p.t.Helper()
	p.cmd.Process.Signal(os.Interrupt)
	return p.wait(ctx)
}

// relayProc is a running relay.
type relayProc struct {
	*proc
	addr, fp, data string
}

var (
	reListen = regexp.MustCompile(`listening on UDP (\S+)`)
	reFP     = regexp.MustCompile(`Fingerprint: (SHA256:\S+)`)
)

// startRelay starts `relay` on a free loopback port with a fresh data
// directory. channels, if not empty, is written as the channels file;
// users maps user names to "password roles" and are added before start.
func startRelay(t *testing.T, ctx context.Context, open bool, channels string, users map[string][2]string) *relayProc {
	t.Helper()
	data := t.TempDir()
	if channels != "" {
		if err := os.WriteFile(filepath.Join(data, "channels.json"), []byte(channels), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, pr := range users {
		p := start(t, "relay", env(t), pr[0]+"\n", "user", "add", name, "--roles", pr[1], "--data", data)
		if code := p.wait(ctx); code != 0 {
			t.Fatalf("relay user add %s: exit %d\n%s", name, code, p.text())
		}
	}
	args := []string{"--listen", "127.0.0.1:0", "--data", data}
	if open {
		args = append(args, "--open")
	}
	p := start(t, "relay", env(t), "", args...)
	_, m := p.waitLine(ctx, 0, reListen)
	_, f := p.waitLine(ctx, 0, reFP)
	return &relayProc{proc: p, addr: m[1], fp: f[1], data: data}
}

// talk starts a talk verb as user in channel on r (password "" for none).
func (r *relayProc) talk(t *testing.T, verb, user, password, channel string, args ...string) *proc {
	t.Helper()
	return r.talkVia(t, r.addr, verb, user, password, channel, args...)
}

// talkVia is talk through another address (an impairment proxy).
func (r *relayProc) talkVia(t *testing.T, addr, verb, user, password, channel string, args ...string) *proc {
	t.Helper()
	return r.talkBin(t, "talk", addr, verb, user, password, channel, args...)
}

// talkBin is talkVia with another talk binary in bin (e.g. an old version).
func (r *relayProc) talkBin(t *testing.T, binary, addr, verb, user, password, channel string, args ...string) *proc {
	t.Helper()
	a := []string{verb, "--relay", addr, "--fingerprint", r.fp, "--user", user}
	if verb == "send" || verb == "page" {
		// -v: the sender's sample-0 wall time is an info log line.
		a = append(a, "-v")
	}
	if channel != "" {
		a = append(a, "--channel", channel)
	}
	var extra []string
	if password != "" {
		extra = append(extra, "HARK_PASSWORD="+password)
	}
	return start(t, binary, env(t, extra...), "", append(a, args...)...)
}

var (
	reRecording = regexp.MustCompile(`^recording channel `)
	reHearing   = regexp.MustCompile(`msg=hearing talkers="?([^"]*)"?`)
	reSilence   = regexp.MustCompile(`msg=silence`)
	reSample0   = regexp.MustCompile(`sample0_unix_ns=(\d+)`)
)

// recorder is a running `talk record`.
type recorder struct {
	*proc
	out string
}

// startRecorder starts `talk record -v` and waits until it has joined.
func (r *relayProc) startRecorder(t *testing.T, ctx context.Context, user, password, channel string, args ...string) *recorder {
	t.Helper()
	rec := r.newRecorder(t, user, password, channel, args...)
	rec.waitLine(ctx, 0, reRecording)
	return rec
}

// newRecorder starts `talk record -v` without waiting for it to join.
func (r *relayProc) newRecorder(t *testing.T, user, password, channel string, args ...string) *recorder {
	t.Helper()
	return r.newRecorderBin(t, "talk", user, password, channel, args...)
}

// newRecorderBin is newRecorder with another talk binary in bin.
func (r *relayProc) newRecorderBin(t *testing.T, binary, user, password, channel string, args ...string) *recorder {
	t.Helper()
	out := filepath.Join(t.TempDir(), user+"-"+channel+".wav")
	p := r.talkBin(t, binary, r.addr, "record", user, password, channel, append([]string{"-v", "--out", out}, args...)...)
	return &recorder{proc: p, out: out}
}

// untilSilent waits until the recorder has played all of talker's (a
// name's) transmission, and returns the line index of the silence after
// it: the recorder has heard talker, the relay has said talker stopped
// talking, and the last "hearing"/"silence" line since is a silence. A
// silence logged in the middle of the transmission (the sender or the
// relay stalled on a busy machine, and the buffer ran dry) does not count:
// the rest of the transmission is still on its way, and interrupting the
// recorder then would cut it off.
func (rec *recorder) untilSilent(ctx context.Context, talker string) int {
	rec.t.Helper()
	i := 0
	for {
		j, m := rec.waitLine(ctx, i, reHearing)
		i = j + 1
		if strings.Contains(m[1], talker) {
			break
		}
	}
	rec.waitLine(ctx, i, regexp.MustCompile(regexp.QuoteMeta(talker)+`( \(page\))? stopped talking`))
	from := i
	for {
		k, _ := rec.waitLine(ctx, from, reSilence)
		lines := rec.output()
		heard := -1
		for j := k + 1; j < len(lines); j++ {
			if reHearing.MatchString(lines[j]) {
				heard = j
			}
		}
		if heard < 0 {
			return k
		}
		from = heard + 1
	}
}

// playoutStats returns the recorder's final jitter buffer statistics line.
func (rec *recorder) playoutStats() string {
	for _, l := range rec.output() {
		if i := strings.Index(l, "Jitter:{"); i >= 0 {
			return l[i:]
		}
	}
	return "(no stats)"
}

var reTarget = regexp.MustCompile(`TargetDelay:([0-9.]+[a-zµ]+)`)

// targetDelay parses the jitter buffer's target delay from playoutStats.
func targetDelay(stats string) (time.Duration, bool) {
	m := reTarget.FindStringSubmatch(stats)
	if m == nil {
		return 0, false
	}
	d, err := time.ParseDuration(m[1])
	return d, err == nil
}

// sample0 returns the wall time of sample 0 a sender or recorder logged.
func (p *proc) sample0(ctx context.Context) time.Time {
	p.t.Helper()
	_, m := p.waitLine(ctx, 0, reSample0)
	ns, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		p.t.Fatal(err)
	}
	return time.Unix(0, ns)
}

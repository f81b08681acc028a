package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/proto"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// talkResult is what one run of talk printed and its exit status.
type talkResult struct {
	stdout, stderr string
	code           int
}

// runTalk runs talk in-process against relay r, as main would (the same
// argument handling, exit codes, and "talk: " before the error), with the
// relay's fingerprint pinned and a private known-relays file.
func runTalk(ctx context.Context, t *testing.T, r *relaytest.Relay, args ...string) talkResult {
	t.Helper()
	var out, errw syncBuffer
	app := newApp()
	app.Writer, app.ErrWriter = &out, &errw
	argv := append([]string{"talk"}, args...)
	argv = append(argv, "--relay", r.Addr, "--known-relays", filepath.Join(t.TempDir(), "known_relays"))
	if !slices.Contains(args, "--fingerprint") {
		argv = append(argv, "--fingerprint", r.Fingerprint)
	}
	err := app.RunContext(ctx, flagsFirst(app, verbFirst(app, argv)))
	res := talkResult{code: 0}
	if err != nil {
		errw.Write([]byte("talk: " + err.Error() + "\n"))
		res.code = exitCode(err)
	}
	res.stdout, res.stderr = out.String(), errw.String()
	return res
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// writeTone writes a WAV file of a 440 Hz tone lasting d.
func writeTone(t *testing.T, d time.Duration) string {
	t.Helper()
	pcm := make([]int16, int(d.Seconds()*48000))
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/48000))
	}
	var b bytes.Buffer
	if err := wav.Encode(&b, 48000, 1, pcm); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tone.wav")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// dialClient connects a library client that hands its events to a channel.
func dialClient(ctx context.Context, t *testing.T, r *relaytest.Relay, name, password, channel string) (*client.Client, chan client.Event) {
	t.Helper()
	events := make(chan client.Event, 1024)
	c, err := client.Dial(ctx, client.Config{
		Relay: r.Addr, Fingerprint: r.Fingerprint, Name: name, Password: password, Channel: channel,
		KnownRelaysFile: filepath.Join(t.TempDir(), "known_relays"),
		OnEvent: func(e client.Event) {
			select {
			case events <- e:
			default:
			}
		},
	})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, events
}

// waitEvent waits for an event carrying a message of type T that match accepts.
func waitEvent[T proto.Message](ctx context.Context, t *testing.T, events chan client.Event, match func(T) bool) T {
	t.Helper()
	for {
		select {
		case e := <-events:
			if m, ok := e.Msg.(T); ok && (match == nil || match(m)) {
				return m
			}
		case <-ctx.Done():
			var zero T
			t.Fatalf("no %T event", zero)
			return zero
		}
	}
}

// talk send cut off by a page says so and fails; it does not claim the
// file was sent.
func TestSendPagedOver(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("dave", "d", proto.RolePage)
	r.AddUser("bob", "b", 0)
	ctx := testCtx(t)
	file := writeTone(t, 20*time.Second) // far longer than the test: the page cuts it
	dave, events := dialClient(ctx, t, r, "dave", "d", "lobby")

	done := make(chan talkResult, 1)
	go func() {
		done <- runTalk(ctx, t, r, "send", "--user", "bob", "--password", "b", "--channel", "lobby", file)
	}()
	waitEvent(ctx, t, events, func(m *proto.Talking) bool { return m.Name == "bob" && m.Talking })
	ptx, err := dave.Page(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ptx.End(ctx)
	res := <-done
	if res.code != exitBusy {
		t.Errorf("exit status %d, want %d", res.code, exitBusy)
	}
	if !strings.Contains(res.stderr, "talk: your transmission was cut off: dave paged everyone\n") {
		t.Errorf("stderr does not say the page cut it off:\n%s", res.stderr)
	}
	if strings.Contains(res.stderr, "sent ") || strings.Contains(res.stderr, "type-0") {
		t.Errorf("stderr:\n%s", res.stderr)
	}
}

// An admin lists sessions and kicks one; anyone else is refused with
// status 4.
func TestSessionsAndKick(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("carol", "c", proto.RoleAdmin|proto.RolePage)
	r.AddUser("bob", "b", 0)
	r.AddUser("eve", "e", 0)
	ctx := testCtx(t)
	bob, bobEvents := dialClient(ctx, t, r, "bob", "b", "ops")

	res := runTalk(ctx, t, r, "sessions", "--user", "carol", "--password", "c")
	if res.code != 0 {
		t.Fatalf("sessions: status %d\n%s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME CHANNEL ADDRESS CONNECTED SINCE ROLES" {
		t.Fatalf("sessions printed:\n%s", res.stdout)
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		rows[f[0]] = f
	}
	if f := rows["bob"]; len(f) != 5 || f[1] != "ops" || !strings.HasPrefix(f[2], "127.0.0.1:") || f[4] != "-" {
		t.Errorf("bob's row %q", f)
	}
	if f := rows["carol"]; len(f) != 6 || f[1] != "(you)" || f[2] != "lobby" || f[5] != "page,admin" {
		t.Errorf("carol's row %q", f)
	}
	if res.stderr != "" {
		t.Errorf("sessions wrote to stderr without -v (only warnings and errors belong there):\n%s", res.stderr)
	}

	for _, args := range [][]string{{"sessions"}, {"kick", "bob"}} {
		res := runTalk(ctx, t, r, append(args, "--user", "eve", "--password", "e")...)
		if res.code != exitAuth || !strings.Contains(res.stderr, "talk: eve is not allowed to") || !strings.Contains(res.stderr, "admin") {
			t.Errorf("%s by eve: status %d\n%s", args[0], res.code, res.stderr)
		}
	}
	if bob.Err() != nil {
		t.Fatalf("bob was disconnected by a refused kick: %v", bob.Err())
	}

	res = runTalk(ctx, t, r, "kick", "--user", "carol", "--password", "c", "nobody")
	if res.code != exitError || !strings.Contains(res.stderr, "nobody is not online") {
		t.Errorf("kick nobody: status %d\n%s", res.code, res.stderr)
	}
	res = runTalk(ctx, t, r, "kick", "bob", "go", "home", "--user", "carol", "--password", "c")
	if res.code != 0 || res.stderr != "disconnected bob\n" {
		t.Fatalf("kick bob: status %d\n%s", res.code, res.stderr)
	}
	for {
		select {
		case e := <-bobEvents:
			if e.State != client.StateClosed {
				continue
			}
			if e.Err == nil || !strings.Contains(e.Err.Error(), "an admin (carol) disconnected you: go home") {
				t.Errorf("bob closed with %v", e.Err)
			}
		case <-ctx.Done():
			t.Fatal("bob was not disconnected")
		}
		break
	}
}

// A fingerprint that is not one is refused before connecting, in words,
// with the usage status; -v shows the connection's logs, which are quiet
// without it.
func TestFingerprintFormatAndVerbose(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	res := runTalk(ctx, t, r, "who", "--user", "bob", "--fingerprint", "garbage")
	if res.code != exitUsage || !strings.HasPrefix(res.stderr, `talk: --fingerprint: "garbage" is not a relay fingerprint: a fingerprint is "SHA256:" followed by 43 characters`) {
		t.Errorf("status %d\n%s", res.code, res.stderr)
	}
	if r.Stats().Logins != 0 {
		t.Error("talk connected with a malformed fingerprint")
	}

	res = runTalk(ctx, t, r, "who", "--user", "bob")
	if res.code != 0 || res.stderr != "" || !strings.Contains(res.stdout, "bob (you)") {
		t.Errorf("who: status %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	res = runTalk(ctx, t, r, "who", "--user", "bob", "-v")
	if res.code != 0 || !strings.Contains(res.stderr, "level=INFO msg=connected") {
		t.Errorf("who -v: status %d\nstderr:\n%s", res.code, res.stderr)
	}
}

// An unknown channel is named with the relay's channels as a list a person
// reads, not a Go slice.
func TestUnknownChannel(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	res := runTalk(testCtx(t), t, r, "who", "--user", "bob", "--channel", "nowhere")
	if res.code == 0 || !strings.Contains(res.stderr, `there is no channel "nowhere" on the relay (channels: lobby, ops)`) {
		t.Errorf("status %d\n%s", res.code, res.stderr)
	}
}

// talk record stops when an admin disconnects it, keeps what it recorded
// and fails with the relay's words.
func TestRecordKicked(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("carol", "c", proto.RoleAdmin)
	r.AddUser("bob", "b", 0)
	ctx := testCtx(t)
	carol, events := dialClient(ctx, t, r, "carol", "c", "lobby")
	out := filepath.Join(t.TempDir(), "rec.wav")
	done := make(chan talkResult, 1)
	go func() {
		done <- runTalk(ctx, t, r, "record", "--user", "bob", "--password", "b", "--out", out, "--duration", "10m")
	}()
	waitEvent(ctx, t, events, func(m *proto.PresenceChange) bool { return m.User.Name == "bob" && m.User.Channel == "lobby" })
	if err := carol.Kick(ctx, "bob", "maintenance"); err != nil {
		t.Fatal(err)
	}
	var res talkResult
	select {
	case res = <-done:
	case <-ctx.Done():
		t.Fatal("talk record went on recording after it was kicked")
	}
	if res.code == 0 || !strings.Contains(res.stderr, "talk: recording stopped after ") ||
		!strings.Contains(res.stderr, "an admin (carol) disconnected you: maintenance") {
		t.Errorf("status %d\n%s", res.code, res.stderr)
	}
	if _, err := wav.ReadFile(out); err != nil {
		t.Errorf("the recording is not a valid WAV: %v", err)
	}
}

package tui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/engine"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// The tmux test runs this test binary again inside tmux as the UI ("the
// child"), connected to a relay in the test process.
const childEnv = "HARK_TUI_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// child runs the whole session as `talk` would, on the null audio backend.
func child() int {
	capt, play, err := engine.OpenDevices(engine.DeviceOptions{Backend: "null"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = RunSession(context.Background(), SessionConfig{
		Client: client.Config{
			Relay: os.Getenv("HARK_RELAY"), Name: "alice", Fingerprint: os.Getenv("HARK_FINGERPRINT"),
			KnownRelaysFile: os.Getenv("HARK_KNOWN_RELAYS"),
		},
		Engine: engine.Config{Capture: capt, Playback: play},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// tmux drives a private tmux server.
type tmux struct {
	t      *testing.T
	socket string
}

func (x *tmux) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", x.socket}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (x *tmux) screen() string { return x.run("capture-pane", "-p", "-t", "ui") }

// waitFor polls the screen until it contains all of want; the deadline is a
// safety net, not a timing assertion.
func (x *tmux) waitFor(want ...string) string {
	x.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tk := time.NewTicker(50 * time.Millisecond)
	defer tk.Stop()
	for {
		s := x.screen()
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return s
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("the screen never showed %q:\n%s", missing, s)
		}
		<-tk.C
	}
}

func TestTUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is needed: apt-get install -y tmux")
	}
	r := relaytest.Start(t, relaytest.Open())
	dir := t.TempDir()
	x := &tmux{t: t, socket: fmt.Sprintf("hark-tui-test-%d", os.Getpid())}
	cmd := fmt.Sprintf("env %s=1 HARK_RELAY=%s HARK_FINGERPRINT=%s HARK_KNOWN_RELAYS=%s %s 2>%s",
		childEnv, r.Addr, r.Fingerprint, filepath.Join(dir, "known"), os.Args[0], filepath.Join(dir, "stderr"))
	x.run("-f", "/dev/null", "new-session", "-d", "-s", "ui", "-x", "80", "-y", "24", cmd)
	t.Cleanup(func() {
		exec.Command("tmux", "-L", x.socket, "kill-server").Run()
		if b, _ := os.ReadFile(filepath.Join(dir, "stderr")); len(b) > 0 {
			t.Logf("UI stderr: %s", b)
		}
	})
	x.waitFor("alice@"+r.Addr, "#lobby", "[connected]", "alice (you)")

	// Another client, bob, through the client library.
	events := make(chan client.Event, 100)
	bob, err := client.Dial(context.Background(), client.Config{Relay: r.Addr, Name: "bob", Fingerprint: r.Fingerprint,
		KnownRelaysFile: filepath.Join(dir, "known-bob"), OnEvent: func(e client.Event) { events <- e }})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	x.waitFor("Online (2)", "bob")

	// Bob talks: the UI shows him talking and holding the floor.
	tx, err := bob.Talk(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960})
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := enc.Encode(make([]int16, 960), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(pkt, 960); err != nil {
		t.Fatal(err)
	}
	x.waitFor("Floor: bob is talking", "▶ bob", "TALKING")
	if err := tx.End(context.Background()); err != nil {
		t.Fatal(err)
	}
	x.waitFor("Floor: free")

	// A text message and a ring from bob.
	if err := bob.Text(context.Background(), "", "hello alice"); err != nil {
		t.Fatal(err)
	}
	x.waitFor("bob: hello alice")
	if err := bob.Ring(context.Background(), "coffee?"); err != nil {
		t.Fatal(err)
	}
	x.waitFor("** RING from bob: coffee? **", "last ring: bob rang")

	// Alice answers by text, then talks (toggle mode: space on, space off).
	x.run("send-keys", "-t", "ui", "t")
	x.waitFor("text (Enter sends")
	x.run("send-keys", "-t", "ui", "-l", "on my way")
	x.run("send-keys", "-t", "ui", "Enter")
	waitEvent(t, x, events, func(m *proto.Text) bool { return m.FromName == "alice" && m.Text == "on my way" })
	x.waitFor("you: on my way")

	// A tap of the talk key in hold mode talks until the key repeat
	// would have come (ptt.HoldConfig.InitialTimeout), then stops.
	x.run("send-keys", "-t", "ui", "Space")
	waitEvent(t, x, events, func(m *proto.Talking) bool { return m.Name == "alice" && m.Talking })
	x.waitFor("Floor: YOU are talking", "ON AIR")
	waitEvent(t, x, events, func(m *proto.Talking) bool { return m.Name == "alice" && !m.Talking })
	x.waitFor("Floor: free")

	// Ring all, switch channel, quit.
	x.run("send-keys", "-t", "ui", "r")
	waitEvent(t, x, events, func(m *proto.Ring) bool { return m.FromName == "alice" })
	x.run("send-keys", "-t", "ui", "c")
	x.waitFor("channel [1 lobby, 2 ops]")
	x.run("send-keys", "-t", "ui", "2")
	x.waitFor("#ops (open)", "now in channel ops")
	screen := x.screen()
	t.Logf("screen:\n%s", screen)
	for i, l := range strings.Split(strings.TrimRight(screen, "\n"), "\n") {
		if w := len([]rune(l)); w > 80 {
			t.Errorf("line %d is %d columns wide", i, w)
		}
	}
	x.run("send-keys", "-t", "ui", "q")
	waitEvent(t, x, events, func(m *proto.PresenceChange) bool {
		return m.User.Name == "alice" && m.Kind == proto.PresenceOffline
	})
}

func waitEvent[T proto.Message](t *testing.T, x *tmux, events chan client.Event, ok func(T) bool) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	var seen []string
	for {
		select {
		case e := <-events:
			if m, is := e.Msg.(T); is && ok(m) {
				return
			}
			seen = append(seen, fmt.Sprintf("%+v", e.Msg))
		case <-timeout:
			var zero T
			t.Fatalf("no %T event came (others: %v); the screen:\n%s", zero, seen, x.screen())
		}
	}
}

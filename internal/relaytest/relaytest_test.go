package relaytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/proto"
)

func TestPoll(t *testing.T) {
	calls := 0
	if !poll(time.Minute, time.Millisecond, func() bool { calls++; return calls == 3 }) || calls != 3 {
		t.Errorf("poll stopped after %d calls, want true after 3", calls)
	}
	calls = 0
	if !poll(time.Minute, time.Hour, func() bool { calls++; return true }) || calls != 1 {
		t.Errorf("a condition that holds at once took %d calls", calls)
	}
	calls = 0
	if poll(20*time.Millisecond, time.Millisecond, func() bool { calls++; return false }) || calls < 2 {
		t.Errorf("a condition that never holds: %d calls", calls)
	}
}

// The harness waits for events or polls with a ticker and a deadline; it
// never sleeps (a sleep either wastes time or guesses how long something
// takes).
func TestNoSleep(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if code, _, _ := strings.Cut(line, "//"); strings.Contains(code, "time.Sleep(") {
				t.Errorf("%s:%d: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

func TestWaitStats(t *testing.T) {
	r := Start(t, Open())
	a := r.Dial(t, "alice", "")
	a.SendRaw([]byte{1})
	s := r.WaitStats(t, "a short datagram", func(s relay.Stats) bool { return s.BadDatagrams["short"] == 1 })
	if s.Sessions != 1 {
		t.Errorf("%+v", s)
	}
	a.MustSend(t, &proto.Ping{Nonce: 1})
	Wait[*proto.Pong](t, a, nil)
}

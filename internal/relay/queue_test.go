package relay

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/protov1"
	"github.com/hark-intercom/hark/proto"
)

func TestVoiceQueueDropOldest(t *testing.T) {
	var q voiceQueue
	q.init(3)
	for i := range 5 {
		dropped := q.push([]byte{byte(i)})
		if dropped != (i >= 3) {
			t.Fatalf("push %d: dropped=%v", i, dropped)
		}
	}
	if q.len() != 3 {
		t.Fatalf("len %d", q.len())
	}
	for want := 2; want < 5; want++ {
		if b := q.pop(); b == nil || b[0] != byte(want) {
			t.Fatalf("pop = %v, want %d", b, want)
		}
	}
	if q.pop() != nil {
		t.Fatal("pop from empty queue")
	}
	select {
	case <-q.notify:
	default:
		t.Fatal("no notification")
	}
}

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"":               ":4275",
		":4275":          ":4275",
		":0":             ":0",
		"127.0.0.1":      "127.0.0.1:4275",
		"127.0.0.1:5000": "127.0.0.1:5000",
		" 127.0.0.1 ":    "127.0.0.1:4275",
		"::1":            "[::1]:4275",
		"[::1]":          "[::1]:4275",
		"[::1]:5000":     "[::1]:5000",
		"::":             "[::]:4275",
		"intercom.lan":   "intercom.lan:4275",
		"localhost:4276": "localhost:4276",
		"0.0.0.0":        "0.0.0.0:4275",
	} {
		got, err := ListenAddr(in)
		if err != nil || got != want {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"127.0.0.1:x", "127.0.0.1:70000", "host:-1", "[::1", "a:b:c:d"} {
		if got, err := ListenAddr(in); err == nil {
			t.Errorf("ListenAddr(%q) = %q, want an error", in, got)
		}
	}
}

// TestListsSplitByVersion: a presence snapshot or session list too big for
// one message reaches a v2 session as parts that say more follows, and a v1
// session (decoded with the frozen v1 code) the v1 way.
func TestListsSplitByVersion(t *testing.T) {
	cert, err := certs.InMemory()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Cert: cert, Open: true, ControlQueue: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	add := func(id uint32, name string, v uint16) *session {
		s := &session{r: r, id: id, name: name, version: v, addr: "192.0.2.1:4000" + strings.Repeat("x", 200)}
		s.ctl.init()
		r.sessions[id], r.byName[name] = s, s
		return s
	}
	old := add(1, "old-box", proto.Version1)
	cur := add(2, "new-box", proto.Version2)
	for i := uint32(3); i <= n; i++ {
		add(i, fmt.Sprintf("user-%03d-%s", i, strings.Repeat("n", 50)), proto.Version2)
	}

	r.mu.Lock()
	r.sendPresenceLocked(old)
	r.sendPresenceLocked(cur)
	r.flushPresenceLocked()
	r.mu.Unlock()

	// v1: one Presence, then PresenceChange{Online} for each of the rest.
	seen := map[uint32]bool{}
	got := old.ctl.popAll(nil)
	for i, b := range got {
		m, err := protov1.ParseMessage(b[proto.FrameHeaderLen:])
		if err != nil {
			t.Fatalf("v1 message %d: %v", i, err)
		}
		switch m := m.(type) {
		case *protov1.Presence:
			if i != 0 {
				t.Fatalf("v1: a second Presence at %d would replace the first", i)
			}
			for _, u := range m.Users {
				seen[u.Session] = true
			}
		case *protov1.PresenceChange:
			if i == 0 || m.Kind != protov1.PresenceOnline {
				t.Fatalf("v1: %d: %+v", i, m)
			}
			seen[m.User.Session] = true
		default:
			t.Fatalf("v1: unexpected %v", m.Type())
		}
	}
	if len(seen) != n || len(got) < 2 {
		t.Errorf("v1: %d users in %d messages", len(seen), len(got))
	}

	// v2: Presence parts, all but the last with More.
	clear(seen)
	got = cur.ctl.popAll(nil)
	for i, b := range got {
		m, err := proto.ParseMessageFor(b[proto.FrameHeaderLen:], proto.Version2)
		p, ok := m.(*proto.Presence)
		if err != nil || !ok || p.More != (i < len(got)-1) {
			t.Fatalf("v2 part %d of %d: %+v %v", i, len(got), m, err)
		}
		for _, u := range p.Users {
			seen[u.Session] = true
		}
	}
	if len(seen) != n || len(got) < 2 {
		t.Errorf("v2: %d users in %d messages", len(seen), len(got))
	}

	// Session lists: several Sessions messages; More only from v2 on.
	r.mu.Lock()
	r.sendSessionsLocked(old)
	r.sendSessionsLocked(cur)
	r.mu.Unlock()
	clear(seen)
	got = old.ctl.popAll(nil)
	for i, b := range got {
		m, err := protov1.ParseMessage(b[proto.FrameHeaderLen:])
		l, ok := m.(*protov1.Sessions)
		if err != nil || !ok {
			t.Fatalf("v1 sessions part %d: %+v %v", i, m, err)
		}
		for _, s := range l.Sessions {
			seen[s.Session] = true
		}
	}
	if len(seen) != n || len(got) < 2 {
		t.Errorf("v1: %d sessions in %d messages", len(seen), len(got))
	}
	clear(seen)
	got = cur.ctl.popAll(nil)
	for i, b := range got {
		m, err := proto.ParseMessageFor(b[proto.FrameHeaderLen:], proto.Version2)
		l, ok := m.(*proto.Sessions)
		if err != nil || !ok || l.More != (i < len(got)-1) {
			t.Fatalf("v2 sessions part %d of %d: %+v %v", i, len(got), m, err)
		}
		for _, s := range l.Sessions {
			seen[s.Session] = true
		}
	}
	if len(seen) != n || len(got) < 2 {
		t.Errorf("v2: %d sessions in %d messages", len(seen), len(got))
	}
}

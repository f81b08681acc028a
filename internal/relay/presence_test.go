package relay

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/proto"
)

// presenceRelay is a relay that is not served, for driving presence
// flushes by hand.
func presenceRelay(t *testing.T, controlQueue int) *Relay {
	t.Helper()
	cert, err := certs.InMemory()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Cert: cert, Open: true, ControlQueue: controlQueue})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// addSession puts a session in r's tables as a login does (without the
// presence news).
func addSession(r *Relay, id uint32, name string) *session {
	s := &session{r: r, id: id, name: name, version: proto.Version}
	s.ctl.init()
	r.sessions[id], r.byName[name] = s, s
	return s
}

// login does in r's tables what a login and a join do, with their news.
func login(r *Relay, id uint32, name, channel string) *session {
	s := addSession(r, id, name)
	r.sendPresenceLocked(s)
	r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceOnline, User: r.userInfoLocked(s)})
	r.joinLocked(s, channel)
	return s
}

// received parses everything queued for s.
func received(t *testing.T, s *session) []proto.Message {
	t.Helper()
	var out []proto.Message
	for _, b := range s.ctl.popAll(nil) {
		m, err := proto.ParseMessageFor(b[proto.FrameHeaderLen:], s.version)
		if err != nil {
			t.Fatalf("queued for %s: %v", s.name, err)
		}
		out = append(out, m)
	}
	return out
}

func describe(ms []proto.Message) string {
	out := ""
	for _, m := range ms {
		switch m := m.(type) {
		case *proto.PresenceChange:
			out += fmt.Sprintf("%v:%s@%s/%v ", m.Kind, m.User.Name, m.User.Channel, m.User.Talking)
		case *proto.Presence:
			out += fmt.Sprintf("presence(%d) ", len(m.Users))
		default:
			out += m.Type().String() + " "
		}
	}
	return out
}

// A few changes reach every session as they happened, in order, with the
// talking state of the flush; the session they are about gets its snapshot
// instead.
func TestPresenceQuietChangesInOrder(t *testing.T) {
	r := presenceRelay(t, 1<<20)
	r.mu.Lock()
	defer r.mu.Unlock()
	a := addSession(r, 1, "alice")
	r.joinLocked(a, "lobby")
	r.flushPresenceLocked()
	received(t, a)

	b := login(r, 2, "bob", "lobby")
	r.chByName["lobby"].holder = b // bob talks before the flush
	r.flushPresenceLocked()
	if got, want := describe(received(t, a)), "online:bob@/true moved:bob@lobby/true "; got != want {
		t.Errorf("alice got %q, want %q", got, want)
	}
	got := received(t, b)
	if d := describe(got); d != "presence(2) joined presence(2) moved:bob@lobby/true " {
		t.Errorf("bob got %q, want its snapshots and the changes after them", d)
	}
	r.chByName["lobby"].holder = nil

	r.removeLocked(b)
	r.flushPresenceLocked()
	if got, want := describe(received(t, a)), "offline:bob@/false "; got != want {
		t.Errorf("alice got %q, want %q", got, want)
	}
	r.flushPresenceLocked()
	if got := received(t, a); len(got) != 0 {
		t.Errorf("an empty flush sent %s", describe(got))
	}
}

// In a storm (a restart: everyone logs in again) each session hears of each
// other user once, not once per login and once per join, and a session
// that came and went within a flush is not mentioned.
func TestPresenceStormNetChanges(t *testing.T) {
	const n = 400
	r := presenceRelay(t, 1<<20)
	r.mu.Lock()
	defer r.mu.Unlock()
	old := addSession(r, 1, "old")
	gone := addSession(r, 2, "gone")
	for i := uint32(3); i < 3+n; i++ {
		addSession(r, i, fmt.Sprintf("u%03d", i))
	}
	r.flushPresenceLocked()
	watcher := old
	received(t, watcher)

	// Flushes of 40 logins each: each login and its join within one flush.
	heard := map[string]int{}
	r.removeLocked(gone)
	for i := uint32(0); i < n; i += 40 {
		for j := i; j < i+40; j++ {
			login(r, 1000+j, fmt.Sprintf("new%03d", j), "ops")
		}
		// One that logs in and out within the flush.
		x := login(r, 5000+i, fmt.Sprintf("brief%03d", i), "ops")
		r.removeLocked(x)
		r.flushPresenceLocked()
		for _, m := range received(t, watcher) {
			switch m := m.(type) {
			case *proto.PresenceChange:
				heard[m.User.Name]++
				if m.Kind == proto.PresenceOnline && m.User.Channel != "ops" {
					t.Fatalf("%s online without its channel: %+v", m.User.Name, m.User)
				}
				if m.Kind == proto.PresenceOffline && m.User.Name != "gone" {
					t.Fatalf("unexpected %+v", m)
				}
			case *proto.Presence:
				t.Fatalf("a snapshot where %d changes among %d sessions are cheaper", 41, len(r.sessions))
			}
		}
	}
	if heard["gone"] != 1 {
		t.Errorf("gone's logout heard %d times", heard["gone"])
	}
	for i := range n {
		name := fmt.Sprintf("new%03d", i)
		if heard[name] != 1 {
			t.Fatalf("%s heard %d times, want once", name, heard[name])
		}
	}
	for name, c := range heard {
		if strings.HasPrefix(name, "brief") {
			t.Errorf("%s, who came and went within one flush, mentioned %d times", name, c)
		}
	}
}

// roster applies presence messages as a client does: a snapshot (in parts)
// replaces, a change updates.
type roster struct {
	users map[uint32]proto.UserInfo
	parts []proto.UserInfo
}

func (ro *roster) apply(ms []proto.Message) {
	for _, m := range ms {
		switch m := m.(type) {
		case *proto.Presence:
			ro.parts = append(ro.parts, m.Users...)
			if m.More {
				continue
			}
			ro.users = map[uint32]proto.UserInfo{}
			for _, u := range ro.parts {
				ro.users[u.Session] = u
			}
			ro.parts = nil
		case *proto.Talking:
			if u, ok := ro.users[m.Session]; ok {
				u.Talking = m.Talking
				ro.users[m.Session] = u
			}
		case *proto.PresenceChange:
			if ro.users == nil {
				ro.users = map[uint32]proto.UserInfo{}
			}
			if m.Kind == proto.PresenceOffline {
				delete(ro.users, m.User.Session)
			} else {
				ro.users[m.User.Session] = m.User
			}
		}
	}
}

// Whatever the flushes send, quiet or stormy, every session ends with the
// relay's own view: the same users and channels, and the talking state of
// those in its channel (Talking goes to the channel only).
func TestPresenceRostersAgree(t *testing.T) {
	r := presenceRelay(t, 1<<20)
	r.mu.Lock()
	defer r.mu.Unlock()
	rosters := map[*session]*roster{}
	deliver := func() {
		r.flushPresenceLocked()
		for _, s := range r.sessions {
			if rosters[s] == nil {
				rosters[s] = &roster{}
			}
			rosters[s].apply(received(t, s))
		}
	}
	check := func(when string) {
		for s, ro := range rosters {
			if s.gone {
				continue
			}
			if len(ro.users) != len(r.sessions) {
				t.Fatalf("%s: %s knows %d users, %d online", when, s.name, len(ro.users), len(r.sessions))
			}
			for id, o := range r.sessions {
				got, want := ro.users[id], r.userInfoLocked(o)
				if o.ch != s.ch {
					got.Talking = want.Talking
				}
				if got != want {
					t.Fatalf("%s: %s sees %+v, want %+v", when, s.name, got, want)
				}
			}
		}
	}
	id := uint32(1)
	var all []*session
	// Quiet: one at a time; then storms of growing size, with leaves,
	// moves, logouts and a talker among them.
	for _, batch := range []int{1, 1, 2, 5, 20, 60, 3, 150, 1} {
		for i := range batch {
			s := login(r, id, fmt.Sprintf("u%04d", id), []string{"lobby", "ops"}[i%2])
			all = append(all, s)
			id++
			if i%7 == 3 {
				r.removeLocked(all[len(all)/2])
			}
			if i%5 == 1 && !all[i].gone {
				r.joinLocked(all[i], "lobby")
			}
		}
		if ch := r.chByName["ops"]; len(ch.members) > 0 && ch.holder == nil {
			r.grantLocked(ch, ch.members[0], true, time.Now())
		}
		deliver()
		check(fmt.Sprintf("after a batch of %d", batch))
	}
}

// When a flush changes at least half of the sessions, everyone gets one
// snapshot (the same bytes) instead of the changes.
func TestPresenceStormSnapshot(t *testing.T) {
	r := presenceRelay(t, 1<<20)
	r.mu.Lock()
	defer r.mu.Unlock()
	a := addSession(r, 1, "alice")
	r.flushPresenceLocked()
	received(t, a)
	for i := uint32(0); i < presenceMergeAt; i++ {
		login(r, 10+i, fmt.Sprintf("u%02d", i), "lobby")
	}
	r.flushPresenceLocked()
	got := received(t, a)
	if len(got) != 1 {
		t.Fatalf("alice got %s, want one snapshot", describe(got))
	}
	p, ok := got[0].(*proto.Presence)
	if !ok || len(p.Users) != presenceMergeAt+1 {
		t.Fatalf("alice got %s", describe(got))
	}
	for _, u := range p.Users {
		if u.Name != "alice" && u.Channel != "lobby" {
			t.Errorf("snapshot: %+v", u)
		}
	}
}

// A session whose control queue is long gets no presence until it drained,
// then one snapshot.
func TestPresenceSkippedThenSnapshot(t *testing.T) {
	r := presenceRelay(t, 4000)
	s := addSession(r, 1, "slow")
	big := make([]byte, 1500) // over a quarter of the limit
	s.send(big)
	r.mu.Lock()
	r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceOnline, User: proto.UserInfo{Session: 2, Name: "x"}})
	r.flushPresenceLocked()
	r.mu.Unlock()
	if got := s.ctl.popAll(nil); len(got) != 1 || !s.staleHint.Load() {
		t.Fatalf("queue %d messages, stale %v", len(got), s.staleHint.Load())
	}
	r.refreshPresence(s) // the writer, once the queue drained
	select {
	case <-r.pres.kick:
	default:
		t.Fatal("the flush was not asked for")
	}
	r.mu.Lock()
	r.flushPresenceLocked()
	r.mu.Unlock()
	got := s.ctl.popAll(nil)
	if len(got) != 1 || s.staleHint.Load() {
		t.Fatalf("after refresh: %d messages, stale %v", len(got), s.staleHint.Load())
	}
	m, err := proto.ParseMessage(got[0][proto.FrameHeaderLen:])
	if p, ok := m.(*proto.Presence); err != nil || !ok || len(p.Users) != 1 || p.Users[0].Name != "slow" {
		t.Fatalf("snapshot %+v %v", m, err)
	}
}

// BenchmarkPresenceStorm: 1000 sessions log in and join again after a
// restart, 25 between two flushes; reports what each session is sent.
// Before presence flushes (every change queued to every session at once,
// a snapshot after login and after join) the same storm queued 1005
// messages (50 KiB) per session and took 790 ms under the lock, plus a
// writer wake-up per change and session; with them 489 messages (26 KiB)
// and 94 ms (BENCHMARKS.md).
func BenchmarkPresenceStorm(b *testing.B) {
	const n, perFlush = 1000, 25
	var msgs, bytes int
	for b.Loop() {
		cert, err := certs.InMemory()
		if err != nil {
			b.Fatal(err)
		}
		r, err := New(Config{Cert: cert, Open: true, ControlQueue: 1 << 20})
		if err != nil {
			b.Fatal(err)
		}
		msgs, bytes = 0, 0
		r.mu.Lock()
		for i := uint32(1); i <= n; i++ {
			login(r, i, fmt.Sprintf("load%05d", i), "lobby")
			if i%perFlush == 0 || i == n {
				r.flushPresenceLocked()
				for _, s := range r.sessions {
					for _, m := range s.ctl.popAll(nil) {
						msgs++
						bytes += len(m)
					}
				}
			}
		}
		r.mu.Unlock()
	}
	b.ReportMetric(float64(msgs)/n, "msgs/session")
	b.ReportMetric(float64(bytes)/n/1024, "KiB/session")
}

// Logins at a steady rate, a few per flush (a relay short of CPU taking
// the logins of a restart), are a storm too: once the changes come at
// presenceStormRate a second, flushes carry each user's net change and a
// session that logs in gets the shared snapshot at the next flush instead
// of one of its own at once; and storm flushes are further apart the more
// sessions there are.
func TestPresenceSteadyStorm(t *testing.T) {
	r := presenceRelay(t, 1<<20)
	now := time.Unix(1e9, 0)
	r.pres.clock = func() time.Time { return now }
	r.mu.Lock()
	defer r.mu.Unlock()
	a := addSession(r, 1, "alice")
	r.flushPresenceLocked()
	received(t, a)
	id := uint32(10)
	round := func() {
		for range 4 {
			login(r, id, fmt.Sprintf("u%03d", id), "lobby")
			id++
		}
		now = now.Add(presenceCoalesce)
		r.flushPresenceLocked()
	}
	// Four logins (eight changes) a flush, ten flushes a second.
	for range 8 {
		round()
		received(t, a)
	}
	if !r.stormingLocked() {
		t.Fatalf("%d changes in 0.8 s: not a storm", 2*(id-10))
	}
	late := login(r, id, "late", "lobby")
	id++
	if !late.needSnapshot {
		t.Fatal("a login during a steady storm got a snapshot of its own at once")
	}
	for range 3 {
		login(r, id, fmt.Sprintf("u%03d", id), "lobby")
		id++
	}
	r.flushPresenceLocked()
	got := received(t, a)
	if len(got) != 4 {
		t.Fatalf("alice got %s, want the 4 users' net changes", describe(got))
	}
	for _, m := range got {
		c, ok := m.(*proto.PresenceChange)
		if !ok || c.Kind != proto.PresenceOnline || c.User.Channel != "lobby" {
			t.Fatalf("alice got %s, want 4 × Online in lobby", describe(got))
		}
	}
	var snaps []*proto.Presence
	ms := received(t, late)
	for _, m := range ms {
		if p, ok := m.(*proto.Presence); ok {
			snaps = append(snaps, p)
		}
	}
	if len(snaps) != 1 || len(snaps[0].Users) != int(id-10)+1 {
		t.Fatalf("late got %s, want one snapshot of %d", describe(ms), id-10+1)
	}
	if d := stormInterval(1000); d != 500*time.Millisecond {
		t.Errorf("storm interval with 1000 sessions %v, want 500ms", d)
	}
	if d := stormInterval(10); d != presenceCoalesce {
		t.Errorf("storm interval with 10 sessions %v, want %v", d, presenceCoalesce)
	}
	// Quiet again after a few seconds without changes.
	now = now.Add(5 * time.Second)
	if r.stormingLocked() || r.presenceIntervalLocked() != presenceCoalesce {
		t.Error("still a storm 5 s after the last change")
	}
}

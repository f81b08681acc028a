package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hark-intercom/hark/proto"
	"github.com/nats-io/nats-server/v2/server"
)

// rec is a Handler that records what it gets.
type rec struct {
	mu     sync.Mutex
	voice  chan []byte
	events chan Event
	floors map[string]*Lease
	roster map[string][]proto.UserInfo
	change chan struct{}
	nVoice atomic.Int64 // frames received
}

func newRec() *rec {
	return &rec{voice: make(chan []byte, 64), events: make(chan Event, 64), floors: map[string]*Lease{},
		roster: map[string][]proto.UserInfo{}, change: make(chan struct{}, 1)}
}

func (r *rec) poke() {
	select {
	case r.change <- struct{}{}:
	default:
	}
}

// Voice and Event never block the cluster's goroutines: beyond the
// channels' room, frames and events are dropped (the tests wait for one).
func (r *rec) Voice(ch string, b []byte) {
	r.nVoice.Add(1)
	select {
	case r.voice <- b:
	default:
	}
}
func (r *rec) Event(ev Event) {
	select {
	case r.events <- ev:
	default:
	}
}
func (r *rec) Roster(n string, u []proto.UserInfo) {
	r.mu.Lock()
	r.roster[n] = u
	r.mu.Unlock()
	r.poke()
}
func (r *rec) Floor(k string, l *Lease) {
	r.mu.Lock()
	r.floors[k] = l
	r.mu.Unlock()
	r.poke()
}
func (r *rec) FloorLost(string)        {}
func (r *rec) Status() NodeStatus      { return NodeStatus{} }
func (r *rec) NameAnswers(string) bool { return false }

// waitFor waits (bounded) until cond holds, re-checking at each change.
func (r *rec) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.change:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// floorsLeader returns the index in cs of the relay that leads the floor
// bucket. nats-server has no event for leadership: it is polled, for at
// most 20 s.
func floorsLeader(t testing.TB, cs []*Cluster) int {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		for i, c := range cs {
			if c.LeadsFloors() {
				return i
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no relay leads the floor bucket")
		}
	}
}

// startThree starts three clustered nodes on loopback, B and C routed to A;
// mod, if any, changes each node's configuration.
func startThree(t testing.TB, mod ...func(*Config)) ([]*Cluster, []*rec) {
	t.Helper()
	dir := t.TempDir()
	if _, err := Init(dir); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*Cluster
	var rs []*rec
	addrs := FreeAddrs(t, 3)
	var peers []string
	for _, a := range addrs {
		peers = append(peers, "nats://"+a)
	}
	for i, n := range []string{"a", "b", "c"} {
		cfg := Config{Name: "test", Node: n, Listen: addrs[i], Peers: peers, DataDir: t.TempDir(), Keys: keys, Replicas: 3, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))}
		for _, m := range mod {
			m(&cfg)
		}
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		r := newRec()
		c.Start(r)
		cs, rs = append(cs, c), append(rs, r)
	}
	for _, c := range cs {
		select {
		case <-c.Ready():
		case <-time.After(30 * time.Second):
			t.Fatal("the cluster did not form")
		}
	}
	return cs, rs
}

func TestClusterFloorVoiceRoster(t *testing.T) {
	cs, rs := startThree(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Roster: every node sees the others'.
	for i, c := range cs {
		c.SetRoster([]proto.UserInfo{{Session: uint32(i + 1), Name: fmt.Sprint("u", i)}})
	}
	for i, r := range rs {
		r.waitFor(t, "rosters", func() bool {
			n := 0
			for node, u := range r.roster {
				if node != cs[i].Node() && len(u) == 1 {
					n++
				}
			}
			return n == 2
		})
	}

	// Floor contention: exactly one of two simultaneous takers wins, 20 times.
	key := FloorKey("ops")
	for round := 0; round < 20; round++ {
		var wg sync.WaitGroup
		won := make([]bool, 2)
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, ok, err := cs[i].AcquireFloor(ctx, key, Lease{Session: uint32(i + 1), Name: fmt.Sprint("u", i)})
				if err != nil {
					t.Error(err)
				}
				won[i] = ok
			}()
		}
		wg.Wait()
		if won[0] == won[1] {
			t.Fatalf("round %d: grants %v: want exactly one", round, won)
		}
		w := 0
		if won[1] {
			w = 1
		}
		cs[w].ReleaseFloor(key)
	}

	// Voice: C listens to ops, A publishes, C gets it; B does not listen.
	cs[2].Listen("ops", true)
	frame := proto.AppendVoice(nil, proto.VoiceHeader{Channel: 1, Duration: 960}, []byte{1, 2, 3})
	for {
		if ctx.Err() != nil {
			t.Fatal("C never got A's voice frame")
		}
		cs[0].PublishVoice("ops", frame)
		select {
		case b := <-rs[2].voice:
			if string(b) != string(frame) {
				t.Fatalf("got %x want %x", b, frame)
			}
			return
		case <-time.After(50 * time.Millisecond): // subscription still propagating: publish again
		}
	}
}

// The relay's fan-out hands frames to the publish queue without allocating,
// and a full queue drops its oldest frame, counted.
func TestVoiceQueueNoAllocDropOldest(t *testing.T) {
	q := newVoiceQueue(4)
	frame := make([]byte, 100)
	if n := testing.AllocsPerRun(1000, func() { q.push("lobby", frame) }); n != 0 {
		t.Errorf("push allocates %v times", n)
	}
	for len(q.kick) > 0 {
		<-q.kick
	}
	q = newVoiceQueue(4)
	for i := 0; i < 6; i++ {
		frame[0] = byte(i)
		q.push("lobby", frame)
	}
	if d := q.dropped.Load(); d != 2 {
		t.Errorf("dropped %d, want 2", d)
	}
	var buf [maxFrame]byte
	for want := byte(2); want < 6; want++ {
		ch, n, ok := q.pop(buf[:])
		if !ok || ch != "lobby" || n != 100 || buf[0] != want {
			t.Fatalf("pop: %q %d %v first byte %d, want frame %d", ch, n, ok, buf[0], want)
		}
	}
	if _, _, ok := q.pop(buf[:]); ok {
		t.Error("queue not empty")
	}

	// waitSent (ReleaseFloor's wait): the frames pushed before the mark
	// must have been handed on; those dropped (the queue was full) count
	// as gone; frames pushed after the mark are not waited for.
	q = newVoiceQueue(2)
	closed := make(chan struct{})
	close(closed)
	if !q.waitSent(q.mark(), closed) {
		t.Error("waitSent on an empty queue did not return at once")
	}
	for i := 0; i < 3; i++ { // the first is dropped
		q.push("lobby", frame)
	}
	m := q.mark()
	q.push("lobby", frame) // after the mark; drops the second
	if q.waitSent(m, closed) {
		t.Error("waitSent returned with a frame before the mark still queued")
	}
	q.pop(buf[:]) // the third: in flight
	if q.waitSent(m, closed) {
		t.Error("waitSent returned with a frame before the mark in flight")
	}
	done := make(chan bool)
	go func() { done <- q.waitSent(m, nil) }()
	q.markSent()
	if !<-done {
		t.Error("waitSent did not return when the last frame before the mark was handed on")
	}
}

// With an external NATS (--nats URL) two relays share floors and voice the
// same way, with no embedded server.
func TestClusterExternalNATS(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true,
		JetStream: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(ns.Shutdown)
	var cs []*Cluster
	var rs []*rec
	for _, n := range []string{"x", "y"} {
		c, err := New(Config{Name: "ext", Node: n, NATS: ns.ClientURL()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		r := newRec()
		c.Start(r)
		cs, rs = append(cs, c), append(rs, r)
	}
	for _, c := range cs {
		select {
		case <-c.Ready():
		case <-time.After(20 * time.Second):
			t.Fatal("not ready")
		}
		if c.RouteAddr() != nil {
			t.Error("an embedded server runs with --nats")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := FloorKey("lobby")
	if _, ok, err := cs[0].AcquireFloor(ctx, key, Lease{Session: 1, Name: "alice"}); !ok || err != nil {
		t.Fatalf("x: %v %v", ok, err)
	}
	cur, ok, err := cs[1].AcquireFloor(ctx, key, Lease{Session: 2, Name: "bob"})
	if ok || err != nil || cur.Name != "alice" || cur.Node != "x" {
		t.Fatalf("y got %v %v %+v, want refused with alice at x", ok, err, cur)
	}
	rs[1].waitFor(t, "y to see alice's floor", func() bool { l := rs[1].floors[key]; return l != nil && l.Name == "alice" })
	cs[0].ReleaseFloor(key)
	rs[1].waitFor(t, "y to see the floor free", func() bool { return rs[1].floors[key] == nil })
}

// A relay counted dead while it is alive (its heartbeats were late on a
// busy machine) comes back with its sessions at its next heartbeat, not
// at its next roster renewal (RosterTTL/3: here a minute, longer than
// the test waits).
func TestClusterPeerCountedDeadComesBack(t *testing.T) {
	cs, rs := startThree(t, func(c *Config) { c.RosterTTL = 3 * time.Minute })
	cs[1].SetRoster([]proto.UserInfo{{Session: 7, Name: "bob"}})
	rs[0].waitFor(t, "a to see bob at b", func() bool { return len(rs[0].roster["b"]) == 1 })
	// What expirePeers does when b is silent too long.
	cs[0].rosterMu.Lock()
	cs[0].peerGone("b")
	rs[0].Roster("b", nil)
	cs[0].rosterMu.Unlock()
	rs[0].waitFor(t, "a to see bob again after b's next heartbeat", func() bool { return len(rs[0].roster["b"]) == 1 })
}

// When the relay that leads the floor bucket dies, the other relays' watches
// of the bucket (ordered consumers on that relay's server) are started
// again once the bucket has a new leader: a floor taken at B afterwards is
// seen at C (before, C saw it only when nats.go noticed the missing
// heartbeats of its watch, 7-9 s after the death). The delay is logged.
func TestClusterWatchAfterLeaderDeath(t *testing.T) {
	cs, rs := startThree(t, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
	for _, c := range cs { // each relay knows the others (their presence)
		c.SetRoster([]proto.UserInfo{})
	}
	for _, r := range rs {
		r.waitFor(t, "the other relays' presence", func() bool { return len(r.roster) == 2 })
	}
	li := floorsLeader(t, cs)
	b, c := cs[(li+1)%3], cs[(li+2)%3]
	before := c.st.rewatches.Load()
	killed := time.Now()
	cs[li].Kill()
	key := FloorKey("lobby")
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, ok, err := b.AcquireFloor(ctx, key, Lease{Session: 1, Name: "bob"})
		cancel()
		if ok {
			break
		}
		if try == 5 {
			t.Fatalf("no floor at B after the leader's death: %v", err)
		}
	}
	granted := time.Now()
	rc := rs[(li+2)%3]
	rc.waitFor(t, "relay C seeing the floor taken at B", func() bool { return rc.floors[key] != nil })
	t.Logf("floor leader killed; floor granted at B %v after; seen at C %v after the grant",
		granted.Sub(killed).Round(time.Millisecond), time.Since(granted).Round(time.Millisecond))
	// Whether C's watch happened to live on the dead relay's server is
	// chance: that C starts its watches again is waited for (polled: it
	// has no event), bounded.
	for deadline := time.Now().Add(20 * time.Second); c.st.rewatches.Load() == before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("relay C did not start its watches again after the leader's death")
		}
	}
}

// A floor freed while a relay's watch was blind (its delete marker gone by
// the time the new watch starts) is freed at that relay when the new
// watch's replay of the current leases does not have it; one still held
// stays.
func TestClusterFloorsReplayedFreesMissed(t *testing.T) {
	cs, rs := startThree(t, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
	b, c, rc := cs[1], cs[2], rs[2]
	held, freed := FloorKey("lobby"), FloorKey("ops")
	for _, k := range []string{held, freed} {
		if _, ok, err := b.AcquireFloor(context.Background(), k, Lease{Session: 1, Name: "bob"}); !ok || err != nil {
			t.Fatalf("acquire %s at B: %v %v", k, ok, err)
		}
	}
	rc.waitFor(t, "C seeing both floors held at B", func() bool { return rc.floors[held] != nil && rc.floors[freed] != nil })
	// As a new watch's replay that finds only the held one.
	c.floorsReplayed(map[string]bool{held: true})
	rc.mu.Lock()
	h, f := rc.floors[held], rc.floors[freed]
	rc.mu.Unlock()
	if h == nil || f != nil {
		t.Errorf("after the replay C has %s: %+v, %s: %+v; want the first held, the second free", held, h, freed, f)
	}
}

// A relay that has not counted a silent relay dead yet (its heartbeat tick
// has not come) does not refuse a press "busy" with that relay's talker:
// the press counts it dead and takes the floor (before, the press was
// refused until the next tick, while the other relays had already freed
// the floor: TestClusterFailoverManyProcs, 1 run in 6). PeerDown says the
// silent relay may be dead, not the live one.
func TestClusterAcquireCountsSilentHolderDead(t *testing.T) {
	// Heartbeat ticks every 12 s: none comes during the test, so only the
	// press itself can count C dead.
	cs, rs := startThree(t, func(c *Config) {
		c.Logger = slog.New(slog.DiscardHandler)
		c.PeerTimeout = time.Minute
	})
	for _, c := range cs {
		c.SetRoster([]proto.UserInfo{})
	}
	for _, r := range rs {
		r.waitFor(t, "the other relays' presence", func() bool { return len(r.roster) == 2 })
	}
	// Neither A nor C leads the floor bucket: C's death costs no election.
	li := floorsLeader(t, cs)
	names := []string{"a", "b", "c"}
	ai, xi := (li+1)%3, (li+2)%3
	a, x, ra := cs[ai], cs[xi], rs[ai]
	live, dead := names[li], names[xi]
	key := FloorKey("lobby")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, ok, err := x.AcquireFloor(ctx, key, Lease{Session: 9, Name: "user00"}); !ok || err != nil {
		t.Fatalf("acquire at C: %v %v", ok, err)
	}
	ra.waitFor(t, "A seeing user00 on the floor", func() bool { return ra.floors[key] != nil })
	x.Kill()
	if a.PeerDown(live) {
		t.Errorf("PeerDown(%s) for a live relay", live)
	}
	// C silent for longer than any timeout, not yet counted dead (as just
	// before A's next tick).
	a.mu.Lock()
	a.peers[dead].seen = time.Now().Add(-(slowPeerFactor + 1) * a.cfg.PeerTimeout)
	a.mu.Unlock()
	if !a.PeerDown(dead) {
		t.Errorf("PeerDown(%s) false for a relay silent for 4 minutes", dead)
	}
	cur, ok, err := a.AcquireFloor(ctx, key, Lease{Session: 1, Name: "user49"})
	if !ok || err != nil {
		t.Fatalf("press at A refused with %+v (%v) while the holder's relay is silent past its timeout", cur, err)
	}
}

// A relay whose presence another relay never saw (here it never puts any)
// is still counted dead there when it dies, and its floor is free there
// at once: that relay tracks it from its heartbeats, its route and its
// floor lease. Before, it was tracked only from its presence, so it was
// never counted dead and its floor stayed held until its lease ran out
// (here a minute, longer than the test waits).
func TestClusterUnseenRelayCountedDead(t *testing.T) {
	cs, rs := startThree(t, func(c *Config) {
		c.Logger = slog.New(slog.DiscardHandler)
		c.LeaseTTL = time.Minute
	})
	// Neither X (the one that dies) nor O (the observer) leads the floor
	// bucket: X's death costs no election.
	li := floorsLeader(t, cs)
	names := []string{"a", "b", "c"}
	xi, oi := (li+1)%3, (li+2)%3
	x, o, ro := cs[xi], cs[oi], rs[oi]
	cs[li].SetRoster([]proto.UserInfo{})
	o.SetRoster([]proto.UserInfo{})
	ro.waitFor(t, "O seeing the floor leader's presence", func() bool { _, ok := ro.roster[names[li]]; return ok })
	key := FloorKey("lobby")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, ok, err := x.AcquireFloor(ctx, key, Lease{Session: 9, Name: "xavier"}); !ok || err != nil {
		t.Fatalf("acquire at X: %v %v", ok, err)
	}
	ro.waitFor(t, "O seeing xavier on the floor", func() bool { return ro.floors[key] != nil })
	ro.mu.Lock()
	_, seen := ro.roster[names[xi]]
	ro.mu.Unlock()
	if seen {
		t.Fatal("O was told X's presence, which X never put")
	}
	x.Kill()
	ro.waitFor(t, "O counting X dead", func() bool { u, ok := ro.roster[names[xi]]; return ok && u == nil })
	cur, ok, err := o.AcquireFloor(ctx, key, Lease{Session: 1, Name: "olga"})
	if !ok || err != nil {
		t.Fatalf("press at O after X died refused with %+v (%v)", cur, err)
	}
}

// The rule that counts a silent relay dead: one whose heartbeats stopped
// and that sent nothing on its routes for PeerTimeout is dead even with
// its routes up (its machine vanished: the routes' own pings take 2-3 s
// to close them); one whose routes still bring messages is busy, dead
// only after slowPeerFactor × PeerTimeout; on a call that follows a stall
// of this relay itself the routes' silence is not trusted.
func TestPeerDeadRule(t *testing.T) {
	to := time.Second
	now := time.Now()
	for _, tc := range []struct {
		what               string
		silent, routeQuiet time.Duration
		routed, stalled    bool
		want               bool
	}{
		{"heard lately", 500 * time.Millisecond, 2 * time.Second, true, false, false},
		{"silent, no route (its program died)", 1100 * time.Millisecond, 0, false, false, true},
		{"silent, routes up and quiet (its machine vanished)", 1100 * time.Millisecond, 1100 * time.Millisecond, true, false, true},
		{"silent, routes up and bringing messages (busy)", 2 * time.Second, 100 * time.Millisecond, true, false, false},
		{"silent for long, routes bringing messages", 3100 * time.Millisecond, 100 * time.Millisecond, true, false, true},
		{"silent, routes quiet, but this relay stalled", 1100 * time.Millisecond, 1100 * time.Millisecond, true, true, false},
		{"silent, no route, this relay stalled", 1100 * time.Millisecond, 0, false, true, true},
	} {
		p := &peer{seen: now.Add(-tc.silent), routeHeard: now.Add(-tc.routeQuiet)}
		if got := peerDead(p, now, to, tc.routed, tc.stalled); got != tc.want {
			t.Errorf("%s: dead %v, want %v", tc.what, got, tc.want)
		}
	}
}

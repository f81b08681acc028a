package relay_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// roster follows a client's view of who is online, from its Presence and
// PresenceChange messages.
type roster struct {
	users   map[uint32]proto.UserInfo
	partial []proto.UserInfo
}

func (r *roster) apply(m proto.Message) {
	if r.users == nil {
		r.users = map[uint32]proto.UserInfo{}
	}
	switch m := m.(type) {
	case *proto.Presence:
		r.partial = append(r.partial, m.Users...)
		if m.More {
			return
		}
		r.users = map[uint32]proto.UserInfo{}
		for _, u := range r.partial {
			r.users[u.Session] = u
		}
		r.partial = nil
	case *proto.PresenceChange:
		if m.Kind == proto.PresenceOffline {
			delete(r.users, m.User.Session)
		} else {
			r.users[m.User.Session] = m.User
		}
	}
}

// String lists name@channel sorted, with session ids.
func (r *roster) String() string {
	var l []string
	for id, u := range r.users {
		l = append(l, fmt.Sprintf("%s#%d@%s", u.Name, id, u.Channel))
	}
	sort.Strings(l)
	return strings.Join(l, " ")
}

// waitRoster reads c's messages until its roster is want (other messages
// are discarded) and returns it.
// It fails the test after relaytest.WaitTimeout, also while messages keep
// coming (a roster that changes all the time).
func waitRoster(t *testing.T, c *relaytest.Client, r *roster, want string) {
	t.Helper()
	deadline := time.Now().Add(relaytest.WaitTimeout)
	for r.String() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s's roster is %q after %v, want %q", c.Welcome.Name, r.String(), relaytest.WaitTimeout, want)
		}
		m := c.Next(t)
		r.apply(m)
	}
}

// waitOnline reads c's messages until its roster has name with session id.
// It fails the test after relaytest.WaitTimeout.
func waitOnline(t *testing.T, c *relaytest.Client, r *roster, name string, id uint32) {
	t.Helper()
	deadline := time.Now().Add(relaytest.WaitTimeout)
	for r.users[id].Name != name {
		if time.Now().After(deadline) {
			t.Fatalf("%s does not see %s#%d online after %v: %s", c.Welcome.Name, name, id, relaytest.WaitTimeout, r)
		}
		r.apply(c.Next(t))
	}
}

// names is the roster as "name@channel" for every client, sorted.
func expectRoster(cs ...*relaytest.Client) string {
	var l []string
	for _, c := range cs {
		l = append(l, fmt.Sprintf("%s#%d@%s", c.Welcome.Name, c.Session(), "lobby"))
	}
	sort.Strings(l)
	return strings.Join(l, " ")
}

// Three relays clustered: a talker at A is heard at C (with A's session
// id), presence is the same at every relay, and text and ring from B reach A
// and C.
func TestClusterVoicePresenceTextRing(t *testing.T) {
	nodes := relaytest.StartCluster(t, 3, relaytest.Open())
	alice := nodes[0].Dial(t, "alice", "")
	bob := nodes[1].Dial(t, "bob", "")
	carol := nodes[2].Dial(t, "carol", "")
	cs := []*relaytest.Client{alice, bob, carol}
	for _, c := range cs {
		c.Join(t, "lobby")
	}
	ids := map[uint32]bool{}
	for _, c := range cs {
		ids[c.Session()] = true
	}
	if len(ids) != 3 {
		t.Fatalf("session ids are not unique across relays: %d %d %d", alice.Session(), bob.Session(), carol.Session())
	}
	want := expectRoster(cs...)
	rs := make([]roster, 3)
	for i, c := range cs {
		waitRoster(t, c, &rs[i], want)
	}

	// Voice A → C (and B).
	for seq := uint16(0); seq < 10; seq++ {
		fl := proto.VoiceFlags(0)
		if seq == 0 {
			fl = proto.FlagStart
		}
		if err := alice.SendVoice(proto.VoiceHeader{Channel: 1, Seq: seq, Duration: 960, Flags: fl}, []byte{byte(seq), 1, 2}); err != nil {
			t.Fatal(err)
		}
		for _, l := range []*relaytest.Client{bob, carol} {
			h, p := l.RecvVoice(t)
			if h.Sender != alice.Session() || h.Seq != seq || p[0] != byte(seq) || h.Channel != 1 {
				t.Fatalf("%s got frame %+v %x, want alice's (%d) seq %d", l.Welcome.Name, h, p, alice.Session(), seq)
			}
		}
	}
	relaytest.Wait(t, carol, func(m *proto.Talking) bool { return m.Session == alice.Session() && m.Talking })
	alice.SendVoice(proto.VoiceHeader{Channel: 1, Seq: 10, Duration: 960, Flags: proto.FlagEnd}, []byte{10})
	relaytest.Wait(t, carol, func(m *proto.Talking) bool { return m.Session == alice.Session() && !m.Talking })

	// Text and ring from B.
	bob.MustSend(t, &proto.Text{Text: "hello from b"})
	bob.MustSend(t, &proto.Ring{Text: "ding"})
	for _, c := range []*relaytest.Client{alice, carol} {
		tx := relaytest.Wait(t, c, func(m *proto.Text) bool { return m.Text == "hello from b" })
		if tx.FromName != "bob" || tx.From != bob.Session() || tx.Channel != "lobby" {
			t.Errorf("%s got text %+v", c.Welcome.Name, tx)
		}
		rg := relaytest.Wait(t, c, func(m *proto.Ring) bool { return m.Text == "ding" })
		if rg.FromName != "bob" {
			t.Errorf("%s got ring %+v", c.Welcome.Name, rg)
		}
	}
	// A private text from C to A.
	carol.MustSend(t, &proto.Text{To: "alice", Text: "psst"})
	if tx := relaytest.Wait(t, alice, func(m *proto.Text) bool { return m.Text == "psst" }); tx.FromName != "carol" || tx.To != "alice" {
		t.Errorf("alice got %+v", tx)
	}

	// The relays' metrics count what crossed.
	mfs, err := nodes[0].Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	published := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "hark_relay_cluster_frames_published_total" {
			published = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if published < 11 {
		t.Errorf("relay A says it published %v frames to the other relays, want 11", published)
	}

	// Bob leaves: gone everywhere.
	bob.Close()
	want = expectRoster(alice, carol)
	waitRoster(t, alice, &rs[0], want)
	waitRoster(t, carol, &rs[2], want)
}

// Two people at two relays ask for one push-to-talk floor at the same
// moment, 100 times: exactly one grant, and the other hears who holds it.
func TestClusterFloorContention(t *testing.T) {
	// 100 rounds of requests and releases as fast as the machine goes: more
	// than the per-session control rate limit allows a person.
	nodes := relaytest.StartCluster(t, 3, relaytest.Open(), relaytest.Configure(func(c *relay.Config) {
		c.ControlRate, c.ControlBurst = 1e6, 1e6
	}))
	alice := nodes[0].Dial(t, "alice", "")
	bob := nodes[1].Dial(t, "bob", "")
	alice.Join(t, "lobby")
	bob.Join(t, "lobby")
	want := expectRoster(alice, bob)
	var ra, rb roster
	waitRoster(t, alice, &ra, want)
	waitRoster(t, bob, &rb, want)

	names := map[*relaytest.Client]string{alice: "alice", bob: "bob"}
	wins := map[string]int{}
	for round := 0; round < 100; round++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, c := range []*relaytest.Client{alice, bob} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				c.MustSend(t, &proto.FloorRequest{Channel: 1})
			}()
		}
		close(start)
		wg.Wait()
		var granted []*relaytest.Client
		var denied *proto.FloorDeny
		for _, c := range []*relaytest.Client{alice, bob} {
			m := waitFloorAnswer(t, c)
			switch m := m.(type) {
			case *proto.FloorGrant:
				granted = append(granted, c)
			case *proto.FloorDeny:
				denied = m
			}
		}
		if len(granted) != 1 || denied == nil {
			t.Fatalf("round %d: %d grants (want exactly one and one refusal)", round, len(granted))
		}
		w := granted[0]
		if denied.HolderName != names[w] || denied.Holder != w.Session() || denied.Reason != "busy: "+names[w]+" is talking" {
			t.Fatalf("round %d: the refusal says %+v; %s holds the floor", round, denied, names[w])
		}
		wins[names[w]]++
		w.MustSend(t, &proto.FloorRelease{Channel: 1})
		// Both hear the floor is free again before the next round.
		for _, c := range []*relaytest.Client{alice, bob} {
			relaytest.Wait(t, c, func(m *proto.Talking) bool { return m.Session == w.Session() && !m.Talking })
		}
	}
	t.Logf("grants: %v", wins)
}

// waitFloorAnswer returns c's next FloorGrant or FloorDeny for channel 1.
func waitFloorAnswer(t *testing.T, c *relaytest.Client) proto.Message {
	t.Helper()
	deadline := time.Now().Add(relaytest.WaitTimeout)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no floor grant or refusal within %v", c.Welcome.Name, relaytest.WaitTimeout)
		}
		m := c.Next(t)
		switch m := m.(type) {
		case *proto.FloorGrant:
			return m
		case *proto.FloorDeny:
			return m
		case *proto.Error:
			t.Fatalf("%s: %+v", c.Welcome.Name, m)
		}
	}
}

// A page from relay C pre-empts a talker at A and is heard at A and B;
// the page ends everywhere.
func TestClusterPage(t *testing.T) {
	nodes := relaytest.StartCluster(t, 3, relaytest.Open())
	alice := nodes[0].Dial(t, "alice", "")
	bob := nodes[1].Dial(t, "bob", "")
	carol := nodes[2].Dial(t, "carol", "")
	alice.Join(t, "lobby")
	bob.Join(t, "lobby")
	want := expectRoster(alice, bob)
	var rb roster
	waitRoster(t, bob, &rb, want+" carol#"+fmt.Sprint(carol.Session())+"@")
	alice.MustSend(t, &proto.FloorRequest{Channel: 1})
	relaytest.Wait(t, alice, func(m *proto.FloorGrant) bool { return true })
	relaytest.Wait(t, bob, func(m *proto.Talking) bool { return m.Name == "alice" && m.Talking })

	carol.MustSend(t, &proto.PageStart{})
	relaytest.Wait(t, carol, func(m *proto.FloorGrant) bool { return m.Channel == proto.PageChannel })
	if e := relaytest.Wait(t, alice, func(m *proto.Error) bool { return m.Code == proto.CodeBusy }); e.Text != "paged over by carol" {
		t.Errorf("alice was told %q", e.Text)
	}
	for _, c := range []*relaytest.Client{alice, bob} {
		relaytest.Wait(t, c, func(m *proto.Page) bool { return m.Active && m.FromName == "carol" })
	}
	// A talker at B cannot take the floor during the page.
	bob.MustSend(t, &proto.FloorRequest{Channel: 1})
	if d := relaytest.Wait(t, bob, func(m *proto.FloorDeny) bool { return true }); d.Reason != "busy: carol is paging everyone" {
		t.Errorf("bob's refusal during the page: %+v", d)
	}
	for seq := uint16(0); seq < 5; seq++ {
		fl := proto.VoiceFlags(0)
		if seq == 4 {
			fl = proto.FlagEnd
		}
		carol.SendVoice(proto.VoiceHeader{Channel: proto.PageChannel, Seq: seq, Duration: 960, Flags: fl}, []byte{byte(seq)})
		for _, c := range []*relaytest.Client{alice, bob} {
			h, p := c.RecvVoice(t)
			if h.Sender != carol.Session() || h.Flags&proto.FlagPriority == 0 || h.Channel != 1 || p[0] != byte(seq) {
				t.Fatalf("%s got %+v %x, want carol's page frame %d in lobby with priority", c.Welcome.Name, h, p, seq)
			}
		}
	}
	for _, c := range []*relaytest.Client{alice, bob} {
		relaytest.Wait(t, c, func(m *proto.Page) bool { return !m.Active && m.FromName == "carol" })
	}
	// After the page the floor is free again for anyone.
	bob.MustSend(t, &proto.FloorRequest{Channel: 1})
	relaytest.Wait(t, bob, func(m *proto.FloorGrant) bool { return m.Channel == 1 })
}

// A remote page's last frames that come after its lease went (they travel
// on core NATS, the lease on JetStream, handled on two goroutines at the
// receiving relay: under load the lease's end was seen first, and the
// last frame was dropped, TestClusterPage's rare "no datagram") are still
// heard, up to the page's end frame; a page frame after that is dropped,
// counted as no_floor. The frame in flight is put on NATS by hand, as
// relay C would have published it before releasing the lease.
func TestClusterPageTail(t *testing.T) {
	nodes := relaytest.StartCluster(t, 3, relaytest.Open())
	alice := nodes[0].Dial(t, "alice", "")
	carol := nodes[2].Dial(t, "carol", "")
	alice.Join(t, "lobby")
	var ra roster
	waitOnline(t, alice, &ra, "carol", carol.Session())
	carol.MustSend(t, &proto.PageStart{})
	relaytest.Wait(t, carol, func(m *proto.FloorGrant) bool { return m.Channel == proto.PageChannel })
	relaytest.Wait(t, alice, func(m *proto.Page) bool { return m.Active && m.FromName == "carol" })
	carol.SendVoice(proto.VoiceHeader{Channel: proto.PageChannel, Seq: 0, Duration: 960, Flags: proto.FlagStart}, []byte{0})
	if h, _ := alice.RecvVoice(t); h.Sender != carol.Session() || h.Seq != 0 {
		t.Fatalf("alice got %+v, want carol's page frame 0", h)
	}
	// The page's end reaches relay A before its last frame.
	carol.MustSend(t, &proto.PageStop{})
	relaytest.Wait(t, alice, func(m *proto.Page) bool { return !m.Active && m.FromName == "carol" })
	late := func(seq uint16, fl proto.VoiceFlags) {
		nodes[2].Cluster.PublishVoice("", proto.AppendVoice(nil, proto.VoiceHeader{Channel: proto.PageChannel,
			Sender: carol.Session(), Seq: seq, Duration: 960, Flags: fl}, []byte{byte(seq)}))
	}
	late(1, 0)
	late(2, proto.FlagEnd)
	for seq := uint16(1); seq <= 2; seq++ {
		h, p := alice.RecvVoice(t)
		if h.Sender != carol.Session() || h.Seq != seq || p[0] != byte(seq) || h.Flags&proto.FlagPriority == 0 {
			t.Fatalf("alice got %+v %x, want carol's late page frame %d", h, p, seq)
		}
	}
	before := droppedNoFloor(t, nodes[0])
	late(3, 0) // after the end frame: not a page any more
	relaytest.Poll(t, "relay A counting the page frame after the end as dropped (no_floor)", 10*time.Millisecond, func() bool {
		return droppedNoFloor(t, nodes[0]) > before
	})
}

// A remote page's first frames that come before its lease (the same two
// paths) wait for the lease and are then heard, in order, before the
// frames after them. The early frames are put on NATS by hand, as relay C
// publishes them the moment it grants the page.
func TestClusterPageEarlyFrames(t *testing.T) {
	nodes := relaytest.StartCluster(t, 3, relaytest.Open())
	alice := nodes[0].Dial(t, "alice", "")
	carol := nodes[2].Dial(t, "carol", "")
	alice.Join(t, "lobby")
	var ra roster
	waitOnline(t, alice, &ra, "carol", carol.Session())
	for seq := uint16(0); seq < 2; seq++ {
		fl := proto.VoiceFlags(0)
		if seq == 0 {
			fl = proto.FlagStart
		}
		nodes[2].Cluster.PublishVoice("", proto.AppendVoice(nil, proto.VoiceHeader{Channel: proto.PageChannel,
			Sender: carol.Session(), Seq: seq, Duration: 960, Flags: fl}, []byte{byte(seq)}))
	}
	carol.MustSend(t, &proto.PageStart{})
	relaytest.Wait(t, carol, func(m *proto.FloorGrant) bool { return m.Channel == proto.PageChannel })
	carol.SendVoice(proto.VoiceHeader{Channel: proto.PageChannel, Seq: 2, Duration: 960, Flags: proto.FlagEnd}, []byte{2})
	for seq := uint16(0); seq <= 2; seq++ {
		h, p := alice.RecvVoice(t)
		if h.Sender != carol.Session() || h.Seq != seq || p[0] != byte(seq) || h.Flags&proto.FlagPriority == 0 {
			t.Fatalf("alice got %+v %x, want carol's page frame %d", h, p, seq)
		}
	}
}

// droppedNoFloor is n's hark_relay_frames_dropped_total{reason="no_floor"}.
func droppedNoFloor(t *testing.T, n *relaytest.Node) float64 {
	t.Helper()
	mfs, err := n.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "hark_relay_frames_dropped_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == "no_floor" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// A name is logged in once in the whole cluster: with accounts the newest
// login, at another relay, replaces the older session; an admin at one
// relay kicks a user at another.
func TestClusterDuplicateLoginAndKick(t *testing.T) {
	nodes := relaytest.StartCluster(t, 2)
	nodes[0].AddUser("alice", "pa", 0)
	nodes[0].AddUser("root", "pr", proto.RoleAdmin)
	nodes[0].AddUser("bob", "pb", 0)
	old := nodes[0].Dial(t, "alice", "pa")
	root := nodes[0].Dial(t, "root", "pr")
	bob := nodes[1].Dial(t, "bob", "pb")
	var rr, rbob roster
	waitOnline(t, root, &rr, "bob", bob.Session())
	waitOnline(t, bob, &rbob, "alice", old.Session())

	fresh := nodes[1].Dial(t, "alice", "pa")
	if b := old.WaitClosed(t); b == nil || b.Code != proto.CodeReplaced {
		t.Errorf("the older session of alice at relay A ended with %+v, want replaced", b)
	}
	// root hears alice's old session go and the new one come.
	waitOnline(t, root, &rr, "alice", fresh.Session())
	for deadline := time.Now().Add(relaytest.WaitTimeout); rr.users[old.Session()].Name == "alice"; {
		if time.Now().After(deadline) {
			t.Fatalf("root still sees alice's older session after %v", relaytest.WaitTimeout)
		}
		rr.apply(root.Next(t))
	}

	root.MustSend(t, &proto.Kick{Name: "bob", Reason: "testing"})
	if b := bob.WaitClosed(t); b == nil || b.Code != proto.CodeKicked || !strings.Contains(b.Text, "root") {
		t.Errorf("bob at relay B ended with %+v, want kicked by root", b)
	}
}

// In an open channel (no floor) a talker at relay A is announced at B too.
func TestClusterOpenChannelTalking(t *testing.T) {
	nodes := relaytest.StartCluster(t, 2, relaytest.Open())
	alice := nodes[0].Dial(t, "alice", "")
	bob := nodes[1].Dial(t, "bob", "")
	alice.Join(t, "ops")
	bob.Join(t, "ops")
	var rb roster
	waitOnline(t, bob, &rb, "alice", alice.Session())
	alice.MustSend(t, &proto.FloorRequest{Channel: 2})
	relaytest.Wait(t, alice, func(m *proto.FloorGrant) bool { return true })
	relaytest.Wait(t, bob, func(m *proto.Talking) bool { return m.Session == alice.Session() && m.Talking && m.Channel == 2 })
	alice.MustSend(t, &proto.FloorRelease{Channel: 2})
	relaytest.Wait(t, bob, func(m *proto.Talking) bool { return m.Session == alice.Session() && !m.Talking })
}

// Open mode: a name logged in at a relay that died is free at another
// relay at once (its relay does not answer the probe), while a name whose
// session answers is refused as on one relay.
func TestClusterOpenNameProbe(t *testing.T) {
	nodes := relaytest.StartCluster(t, 3, relaytest.Open())
	alice := nodes[0].Dial(t, "alice", "")
	// carol's client answers pings.
	carol, err := client.Dial(context.Background(), client.Config{
		Relay: nodes[2].Addr, Fingerprint: nodes[2].Fingerprint, Name: "carol",
		KnownRelaysFile: filepath.Join(t.TempDir(), "known"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	bob := nodes[1].Dial(t, "bob", "")
	var rb roster
	waitOnline(t, bob, &rb, "alice", alice.Session())
	waitOnline(t, bob, &rb, "carol", carol.Welcome().Session)
	if e := tryLogin(t, nodes[1].Relay, "carol", ""); e == nil || e.Code != proto.CodeNameTaken {
		t.Errorf("a second carol at relay B: %+v, want refused", e)
	}
	if err := carol.Err(); err != nil {
		t.Fatalf("carol was knocked off: %v", err)
	}
	relaytest.KillNode(t, nodes[0])
	again := nodes[1].Dial(t, "alice", "") // before A's presence expired
	if again.Welcome.Name != "alice" {
		t.Errorf("welcome %+v", again.Welcome)
	}
}

// floorLeader returns the index of the relay whose embedded NATS server
// leads the floor bucket's raft group, waiting (bounded) for one.
func floorLeader(t *testing.T, nodes []*relaytest.Node) int {
	t.Helper()
	leader := -1
	// nats-server has no event for leadership: its state is polled.
	relaytest.Poll(t, "a relay leading the floor bucket", 20*time.Millisecond, func() bool {
		for i, n := range nodes {
			if n.Cluster.LeadsFloors() {
				leader = i
				return true
			}
		}
		return false
	})
	return leader
}

// A floor held by a talker at a relay that dies — the relay that led the
// floor bucket, the worst case — is free at the others when the relay is
// counted dead, the talker is gone from their presence, and the first
// press of a talker at another relay after that is granted: the cluster
// elected a new leader for the bucket meanwhile (nats-server's own
// election timeout, 4-9 s, made this press wait acquireWait and be
// refused with "try again").
func TestClusterDeadRelayFreesFloor(t *testing.T) {
	nodes := relaytest.StartCluster(t, 3, relaytest.Open())
	li := floorLeader(t, nodes)
	lead, other := nodes[li], nodes[(li+1)%3]
	alice := lead.Dial(t, "alice", "")
	bob := other.Dial(t, "bob", "")
	alice.Join(t, "lobby")
	bob.Join(t, "lobby")
	var rb roster
	waitRoster(t, bob, &rb, expectRoster(alice, bob))
	alice.MustSend(t, &proto.FloorRequest{Channel: 1})
	relaytest.Wait(t, alice, func(m *proto.FloorGrant) bool { return true })
	relaytest.Wait(t, bob, func(m *proto.Talking) bool { return m.Name == "alice" && m.Talking })
	alice.SendVoice(proto.VoiceHeader{Channel: 1, Duration: 960, Flags: proto.FlagStart}, []byte{1})

	killed := time.Now()
	relaytest.KillNode(t, lead)
	relaytest.Wait(t, bob, func(m *proto.Talking) bool { return m.Name == "alice" && !m.Talking })
	freed := time.Since(killed)
	relaytest.Wait(t, bob, func(m *proto.PresenceChange) bool {
		return m.Kind == proto.PresenceOffline && m.User.Name == "alice"
	})
	gone := time.Since(killed)
	bob.MustSend(t, &proto.FloorRequest{Channel: 1})
	m := relaytest.Wait(t, bob, func(m proto.Message) bool {
		switch m := m.(type) {
		case *proto.FloorGrant, *proto.FloorDeny:
			return true
		case *proto.Error:
			return m.About == proto.TypeFloorRequest
		}
		return false
	})
	granted := time.Since(killed)
	t.Logf("relay %s (floor bucket leader) killed: its floor free at %s in %v, alice offline in %v, bob's press granted %v after the kill",
		lead.Cluster.Node(), other.Cluster.Node(), freed.Round(time.Millisecond), gone.Round(time.Millisecond), granted.Round(time.Millisecond))
	if _, ok := m.(*proto.FloorGrant); !ok {
		t.Fatalf("bob's press after the floor bucket's leader died: %+v, want granted", m)
	}
}

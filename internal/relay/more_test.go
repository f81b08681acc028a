package relay_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

func TestFloorTimeout(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) { c.FloorTimeout = 50 * time.Millisecond }))
	a, b := r.Dial(t, "alice", ""), r.Dial(t, "bob", "")
	a.Join(t, "lobby")
	b.Join(t, "lobby")
	a.SendVoice(voice(1, 0, proto.FlagStart))
	b.RecvVoice(t)
	relaytest.Wait(t, b, func(m *proto.Talking) bool { return m.Session == a.Session() && m.Talking })
	// No more frames: the floor frees by itself.
	relaytest.Wait(t, b, func(m *proto.Talking) bool { return m.Session == a.Session() && !m.Talking })
	// Now bob may talk.
	b.MustSend(t, &proto.FloorRequest{Channel: 1})
	relaytest.Wait[*proto.FloorGrant](t, b, nil)
}

func TestMaxTalk(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) {
		c.MaxTalk = 100 * time.Millisecond
		c.GrantTimeout = time.Minute
		c.FloorTimeout = time.Minute
	}))
	a, b := r.Dial(t, "alice", ""), r.Dial(t, "bob", "")
	a.Join(t, "lobby")
	b.Join(t, "lobby")
	a.MustSend(t, &proto.FloorRequest{Channel: 1})
	if g := relaytest.Wait[*proto.FloorGrant](t, a, nil); g.MaxMillis != 100 {
		t.Fatalf("grant %+v", g)
	}
	e := relaytest.Wait[*proto.Error](t, a, nil)
	if e.Code != proto.CodeTooLong || !strings.Contains(e.Text, "maximum length") {
		t.Fatalf("error %+v", e)
	}
	relaytest.Wait(t, b, func(m *proto.Talking) bool { return m.Session == a.Session() && !m.Talking })
	// Frames after the cut need a new start.
	a.SendVoice(voice(1, 1, 0))
	r.WaitStats(t, "a no_floor drop", func(s relay.Stats) bool { return s.Dropped["no_floor"] == 1 })
	a.SendVoice(voice(1, 2, proto.FlagStart))
	if h, _ := b.RecvVoice(t); h.Seq != 2 {
		t.Fatalf("got %+v", h)
	}
}

func TestOpenChannelAndWrongChannel(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	a, b, c := r.Dial(t, "alice", ""), r.Dial(t, "bob", ""), r.Dial(t, "carol", "")
	for _, x := range []*relaytest.Client{a, b, c} {
		if j := x.Join(t, "ops"); j.Mode != proto.ModeOpen || j.ID != 2 {
			t.Fatalf("joined %+v", j)
		}
	}
	b.MustSend(t, &proto.FloorRequest{Channel: 2})
	relaytest.Wait[*proto.FloorGrant](t, b, nil)
	a.SendVoice(voice(2, 10, proto.FlagStart))
	b.SendVoice(voice(2, 20, 0))
	got := map[uint32]uint16{}
	for range 2 {
		h, _ := c.RecvVoice(t)
		got[h.Sender] = h.Seq
	}
	if got[a.Session()] != 10 || got[b.Session()] != 20 {
		t.Fatalf("carol heard %v", got)
	}
	a.SendVoice(voice(1, 11, proto.FlagStart)) // lobby: alice is not there
	r.WaitStats(t, "wrong_channel drop", func(s relay.Stats) bool { return s.Dropped["wrong_channel"] == 1 })
}

func TestRingAndText(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	a, b, c, d := r.Dial(t, "alice", ""), r.Dial(t, "bob", ""), r.Dial(t, "carol", ""), r.Dial(t, "dave", "")
	a.Join(t, "lobby")
	b.Join(t, "lobby")
	c.Join(t, "ops") // dave joins nothing
	before := time.Now().UnixMilli()
	a.MustSend(t, &proto.Ring{Text: "door", From: 999, FromName: "mallory"})
	for _, x := range []*relaytest.Client{a, b, c, d} {
		g := relaytest.Wait[*proto.Ring](t, x, nil)
		if g.From != a.Session() || g.FromName != "alice" || g.Text != "door" || g.Time < before {
			t.Fatalf("ring %+v", g)
		}
	}

	a.MustSend(t, &proto.Text{Text: "hello lobby"})
	for _, x := range []*relaytest.Client{a, b} {
		m := relaytest.Wait[*proto.Text](t, x, nil)
		if m.FromName != "alice" || m.Channel != "lobby" || m.Text != "hello lobby" || m.Time < before || m.To != "" {
			t.Fatalf("text %+v", m)
		}
	}
	a.MustSend(t, &proto.Text{To: "carol", Text: "psst"})
	for _, x := range []*relaytest.Client{c, a} {
		// carol's first text is the private one: she never got the lobby's.
		m := relaytest.Wait[*proto.Text](t, x, nil)
		if m.From != a.Session() || m.To != "carol" || m.Text != "psst" || m.Time < before {
			t.Fatalf("private text %+v", m)
		}
	}
	a.MustSend(t, &proto.Text{To: "zed", Text: "?"})
	if e := relaytest.Wait[*proto.Error](t, a, nil); e.Code != proto.CodeNoUser {
		t.Fatalf("error %+v", e)
	}
	d.MustSend(t, &proto.Text{Text: "nowhere"})
	if e := relaytest.Wait[*proto.Error](t, d, nil); e.Code != proto.CodeNotJoined {
		t.Fatalf("error %+v", e)
	}
}

func TestPage(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "a", proto.RolePage)
	for _, n := range []string{"bob", "carol", "dave", "erin"} {
		r.AddUser(n, n, 0)
	}
	a, b, c, d, e := r.Dial(t, "alice", "a"), r.Dial(t, "bob", "bob"), r.Dial(t, "carol", "carol"), r.Dial(t, "dave", "dave"), r.Dial(t, "erin", "erin")
	a.Join(t, "lobby")
	b.Join(t, "lobby")
	e.Join(t, "lobby")
	c.Join(t, "ops") // dave: no channel

	// A user without the role is refused.
	b.MustSend(t, &proto.PageStart{})
	er := relaytest.Wait[*proto.Error](t, b, nil)
	if er.Code != proto.CodeForbidden || er.About != proto.TypePageStart || !strings.Contains(er.Text, "not allowed to page") {
		t.Fatalf("refusal %+v", er)
	}

	// bob is talking in the lobby.
	b.SendVoice(voice(1, 0, proto.FlagStart))
	e.RecvVoice(t)

	a.MustSend(t, &proto.PageStart{})
	if g := relaytest.Wait[*proto.FloorGrant](t, a, nil); g.Channel != proto.PageChannel {
		t.Fatalf("grant %+v", g)
	}
	be := relaytest.Wait[*proto.Error](t, b, nil)
	if be.Code != proto.CodeBusy || be.Text != "paged over by alice" {
		t.Fatalf("bob told %+v", be)
	}
	relaytest.Wait(t, e, func(m *proto.Talking) bool { return m.Session == b.Session() && !m.Talking })
	for _, x := range []*relaytest.Client{a, b, c, d, e} {
		relaytest.Wait(t, x, func(m *proto.Page) bool { return m.Active && m.From == a.Session() })
	}
	const n = 10
	for i := range n {
		f := proto.VoiceFlags(0)
		if i == n-1 {
			f = proto.FlagEnd
		}
		a.SendVoice(voice(proto.PageChannel, uint16(i), f))
		b.SendVoice(voice(1, uint16(100+i), 0)) // pre-empted
		for _, w := range []struct {
			c  *relaytest.Client
			ch uint16
		}{{b, 1}, {e, 1}, {c, 2}, {d, proto.PageChannel}} {
			h, _ := w.c.RecvVoice(t)
			if h.Sender != a.Session() || h.Channel != w.ch || h.Flags&proto.FlagPriority == 0 || h.Seq != uint16(i) {
				t.Fatalf("frame %d at channel %d: %+v", i, w.ch, h)
			}
		}
	}
	for _, x := range []*relaytest.Client{a, b, c, d, e} {
		relaytest.Wait(t, x, func(m *proto.Page) bool { return !m.Active && m.From == a.Session() })
	}
	// bob's last frame may arrive after the page ended: then it lacks a start.
	s := r.WaitStats(t, "bob's frames dropped", func(s relay.Stats) bool { return s.Dropped["preempted"]+s.Dropped["no_floor"] == n })
	if s.Pages != 1 {
		t.Fatalf("stats %+v", s)
	}
	// After the page bob may start again.
	b.SendVoice(voice(1, 200, proto.FlagStart))
	if h, _ := e.RecvVoice(t); h.Seq != 200 || h.Flags&proto.FlagPriority != 0 {
		t.Fatalf("after page %+v", h)
	}
}

// A second login that proves who it is (the password) replaces the first:
// a box coming back after a network change is not locked out by its own
// dead session. (In open mode a name online is refused instead: see
// TestOpenModeNameTaken.)
func TestDuplicateLogin(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "a", 0)
	r.AddUser("bob", "b", 0)
	old := r.Dial(t, "alice", "a")
	old.Join(t, "lobby")
	watcher := r.Dial(t, "bob", "b")
	nw := r.Dial(t, "alice", "a")
	bye := old.WaitClosed(t)
	if bye == nil || bye.Code != proto.CodeReplaced || bye.Text != "you logged in from another place" {
		t.Fatalf("old session's bye: %+v", bye)
	}
	relaytest.Wait(t, watcher, func(m *proto.PresenceChange) bool {
		return m.Kind == proto.PresenceOffline && m.User.Session == old.Session()
	})
	nw.Join(t, "lobby")
	p := relaytest.Wait[*proto.Presence](t, nw, nil)
	count := 0
	for _, u := range p.Users {
		if u.Name == "alice" {
			count++
		}
	}
	if count != 1 || len(p.Users) != 2 {
		t.Fatalf("presence %+v", p)
	}
	if s := r.Stats(); s.Replaced != 1 || s.Sessions != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestAdmin(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("root", "r", proto.RoleAdmin)
	r.AddUser("bob", "b", 0)
	a, b := r.Dial(t, "root", "r"), r.Dial(t, "bob", "b")
	b.Join(t, "ops")
	b.MustSend(t, &proto.ListSessions{})
	if e := relaytest.Wait[*proto.Error](t, b, nil); e.Code != proto.CodeForbidden {
		t.Fatalf("%+v", e)
	}
	b.MustSend(t, &proto.Kick{Name: "root"})
	if e := relaytest.Wait[*proto.Error](t, b, nil); e.Code != proto.CodeForbidden {
		t.Fatalf("%+v", e)
	}
	a.MustSend(t, &proto.ListSessions{})
	l := relaytest.Wait[*proto.Sessions](t, a, nil)
	if len(l.Sessions) != 2 || l.Sessions[1].Name != "bob" || l.Sessions[1].Channel != "ops" || !strings.HasPrefix(l.Sessions[1].Addr, "127.0.0.1:") || l.Sessions[0].Roles != proto.RoleAdmin {
		t.Fatalf("sessions %+v", l)
	}
	a.MustSend(t, &proto.Kick{Name: "bob", Reason: "testing"})
	bye := b.WaitClosed(t)
	if bye == nil || bye.Code != proto.CodeKicked || !strings.Contains(bye.Text, "testing") {
		t.Fatalf("bye %+v", bye)
	}
	relaytest.Wait(t, a, func(m *proto.PresenceChange) bool { return m.Kind == proto.PresenceOffline && m.User.Name == "bob" })
	a.MustSend(t, &proto.Kick{Name: "bob"})
	if e := relaytest.Wait[*proto.Error](t, a, nil); e.Code != proto.CodeNoUser {
		t.Fatalf("%+v", e)
	}
}

func TestMalformedDatagrams(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) { c.VoiceRate, c.VoiceBurst = 1e6, 1e6 }))
	a, b := r.Dial(t, "alice", ""), r.Dial(t, "bob", "")
	a.Join(t, "lobby")
	b.Join(t, "lobby")
	good := proto.AppendVoice(nil, proto.VoiceHeader{Channel: 1, Duration: 960}, []byte{1})
	bad := [][]byte{
		{1, 2, 3},                      // short
		append([]byte{7}, good[1:]...), // kind
		proto.AppendVoice(nil, proto.VoiceHeader{Channel: 1, Duration: 960}, make([]byte, proto.MaxVoicePayload+1)), // too long
		proto.AppendVoice(nil, proto.VoiceHeader{Channel: 1}, []byte{1}),                                            // zero duration
	}
	for _, d := range bad {
		if err := a.SendRaw(d); err != nil {
			t.Fatalf("send %x: %v", d, err)
		}
	}
	s := r.WaitStats(t, "four bad datagrams", func(s relay.Stats) bool {
		n := uint64(0)
		for _, v := range s.BadDatagrams {
			n += v
		}
		return n == 4
	})
	for _, k := range []string{"short", "kind", "too_long", "bad_value"} {
		if s.BadDatagrams[k] == 0 {
			t.Errorf("no %s counted: %+v", k, s.BadDatagrams)
		}
	}
	// Random datagrams, most of them voice-shaped.
	rnd := make([]byte, 200)
	for i := range 300 {
		n := 1 + i%len(rnd)
		rand.Read(rnd[:n])
		if i%2 == 0 {
			rnd[0] = byte(proto.KindVoice)
		}
		a.SendRaw(rnd[:n])
	}
	a.MustSend(t, &proto.FloorRelease{Channel: 1}) // in case random bytes took the floor
	// The burst may have overflowed quic-go's receive queue (it drops
	// silently), so repeat the good frame until it comes through.
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for range 1000 {
			a.SendVoice(voice(1, 1, proto.FlagStart))
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	for {
		// Random voice-shaped datagrams may have been valid frames.
		if h, _ := b.RecvVoice(t); h.Seq == 1 && h.Timestamp == 960 && h.Sender == a.Session() {
			break
		}
	}
	close(stop)
	<-sent
	a.MustSend(t, &proto.Ping{Nonce: 42})
	if p := relaytest.Wait[*proto.Pong](t, a, nil); p.Nonce != 42 {
		t.Fatal(p)
	}
}

// udpDropped sums the relay's UDPDropped counters.
func udpDropped(s relay.Stats) (n uint64) {
	for _, v := range s.UDPDropped {
		n += v
	}
	return n
}

// kernelUDPDrops is how many datagrams the kernel dropped at the UDP
// socket bound to addr (a 127.0.0.1 address) because its receive buffer
// was full: the "drops" column of /proc/net/udp.
func kernelUDPDrops(t *testing.T, addr string) uint64 {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		t.Fatalf("reading the kernel's UDP socket table: %v", err)
	}
	// local_address is the address's bytes in host order (little-endian
	// here) and the port, both in hex: 127.0.0.1:4275 is 0100007F:10B3.
	a4 := ap.Addr().As4()
	local := fmt.Sprintf("%02X%02X%02X%02X:%04X", a4[3], a4[2], a4[1], a4[0], ap.Port())
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) >= 13 && f[1] == local {
			d, err := strconv.ParseUint(f[len(f)-1], 10, 64)
			if err != nil {
				t.Fatalf("the drops column of %q: %v", line, err)
			}
			return d
		}
	}
	t.Fatalf("no UDP socket on %s in /proc/net/udp", local)
	return 0
}

// longHeader is a QUIC long-header packet of the given version and size
// (at least 23 bytes), with 8-byte connection ids and zero padding.
func longHeader(version uint32, size int) []byte {
	b := []byte{0xc0, byte(version >> 24), byte(version >> 16), byte(version >> 8), byte(version), 8}
	b = append(b, "dcid0123"...)
	b = append(b, 8)
	b = append(b, "scid0123"...)
	return append(b, make([]byte, size-len(b))...)
}

// Datagrams at the relay's port that are not QUIC of any session are
// counted by reason, and the relay keeps serving everyone.
func TestUDPGarbage(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	a := r.Dial(t, "alice", "")
	a.Join(t, "lobby")
	u, err := net.Dial("udp", r.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()

	// One of each kind, each waited for under its own reason.
	for _, c := range []struct {
		reason string
		pkt    []byte
	}{
		{"not_quic", []byte("\x00hello relay")},
		{"header_parse_error", []byte{0x40, 1}},                              // short header, shorter than a connection id
		{"unknown_connection_id", append([]byte{0x41}, make([]byte, 40)...)}, // short header for no connection
		{"unexpected_packet", longHeader(0x1a2a3a4a, 100)},                   // unknown version, too small to answer
		{"version_negotiation", longHeader(0x1a2a3a4a, 1200)},                // unknown version: answered
	} {
		before := r.Stats().UDPDropped[c.reason]
		if _, err := u.Write(c.pkt); err != nil {
			t.Fatal(err)
		}
		r.WaitStats(t, "a datagram counted as "+c.reason, func(s relay.Stats) bool { return s.UDPDropped[c.reason] > before })
	}

	// A flood of random datagrams, each of a kind the relay counts. Two
	// kinds are answered rather than dropped, and quic-go skips the answer
	// without a word when its queue of answers to send (4) is full, so in a
	// flood some of them go uncounted: a short-header packet longer than
	// 42 bytes for no connection (answered with a stateless reset, RFC 9000
	// §10.3, which quic-go does not report at all) and a long-header
	// packet of an unknown version of 1200 bytes or more (answered with
	// version negotiation, counted when sent). The flood keeps below those
	// sizes; both answers are checked on their own, above and below.
	before := udpDropped(r.Stats())
	kernelBefore := kernelUDPDrops(t, r.Addr)
	buf := make([]byte, 1500)
	const n = 2000
	for i := range n {
		n := 1 + i%len(buf)
		rand.Read(buf[:n])
		if i%3 == 0 {
			buf[0] |= 0xc0 // looks like a QUIC long header
		}
		switch buf[0] & 0xc0 {
		case 0x40:
			n = min(n, 42)
		case 0xc0, 0x80:
			n = min(n, 1199)
		}
		u.Write(buf[:n])
	}
	b := r.Dial(t, "bob", "")
	b.Join(t, "lobby")
	a.SendVoice(voice(1, 7, proto.FlagStart))
	if h, _ := b.RecvVoice(t); h.Seq != 7 {
		t.Fatalf("%+v", h)
	}
	// Every datagram that reached the relay's socket is counted. On a
	// busy machine the kernel drops some of a flood when the socket's
	// buffer is full (it counts them per socket in /proc/net/udp): those
	// never reached the relay, so they are left out, and the rest must be
	// counted to the last one.
	var kernel uint64
	s := r.WaitStats(t, "every datagram of the flood that reached the relay's socket counted", func(s relay.Stats) bool {
		kernel = kernelUDPDrops(t, r.Addr) - kernelBefore
		return udpDropped(s)-before+kernel >= n
	})
	t.Logf("udp dropped: %v; dropped by the kernel before the relay read them: %d", s.UDPDropped, kernel)
	if got := udpDropped(s) - before + kernel; got != n {
		t.Errorf("%d datagrams of a flood of %d counted (with the kernel's drops)", got, n)
	}
	// Short-header packets for no connection, longer than 42 bytes, are
	// each answered with a stateless reset: 42 bytes, short header.
	u.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := range 20 {
		n := 43 + i*70
		rand.Read(buf[:n])
		buf[0] = buf[0]&0x3f | 0x40
		if _, err := u.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := u.Read(buf)
			if err != nil {
				t.Fatalf("no stateless reset for a %d-byte short-header packet: %v", n, err)
			}
			if m == 42 && buf[0]&0xc0 == 0x40 {
				break
			}
		}
	}
	if s.Sessions != 2 || s.BadDatagrams["short"]+s.BadDatagrams["kind"] != 0 {
		t.Errorf("stats after the flood: %+v", s)
	}
}

// A listener that is dead (its packets vanish, the relay is never told)
// must not cost another listener a single frame.
func TestStalledListener(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) {
		c.VoiceRate, c.VoiceBurst = 1e6, 1e6
		c.FloorTimeout = time.Minute
	}))
	a, b := r.Dial(t, "alice", ""), r.Dial(t, "bob", "")
	px := r.NewProxy(t)
	dead := r.DialWith(t, "dead", "", relaytest.DialOptions{Addr: px.Addr, NoVoiceReader: true})
	slow := r.DialWith(t, "slow", "", relaytest.DialOptions{NoVoiceReader: true})
	for _, x := range []*relaytest.Client{a, b, dead, slow} {
		x.Join(t, "lobby")
	}
	px.Freeze(true)
	const n = 2000
	payload := make([]byte, 1000)
	for i := range n {
		f := proto.VoiceFlags(0)
		if i == 0 {
			f = proto.FlagStart
		}
		if err := a.SendVoice(voice(1, uint16(i), f, payload...)); err != nil {
			t.Fatal(err)
		}
		h, _ := b.RecvVoice(t)
		if h.Seq != uint16(i) {
			t.Fatalf("bob got seq %d, want %d", h.Seq, i)
		}
	}
	s := r.WaitStats(t, "the dead listener's queue overflowing", func(s relay.Stats) bool { return s.Dropped["queue_full"] > 0 })
	t.Logf("dropped for the dead listener: %d of %d", s.Dropped["queue_full"], n)
}

func TestShutdown(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	a, b := r.Dial(t, "alice", ""), r.Dial(t, "bob", "")
	a.Join(t, "lobby")
	r.Close()
	for _, c := range []*relaytest.Client{a, b} {
		if bye := c.WaitClosed(t); bye == nil || bye.Code != proto.CodeShutdown {
			t.Fatalf("bye %+v", bye)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := r.TryDial(ctx, "carol", "", relaytest.DialOptions{}); err == nil {
		t.Fatal("login after shutdown")
	}
}

func TestAuthRateLimitAndVersion(t *testing.T) {
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) {
		c.AuthFailures = 2
		c.AuthFailureEvery = time.Hour
		c.LimitLoopback = true // the test's clients are local
	}))
	r.AddUser("alice", "a", 0)
	ctx := context.Background()
	var pe *proto.Error
	for range 2 {
		if _, err := r.TryDial(ctx, "alice", "x", relaytest.DialOptions{}); !errors.As(err, &pe) || pe.Code != proto.CodeAuth {
			t.Fatalf("%v", err)
		}
	}
	if _, err := r.TryDial(ctx, "alice", "a", relaytest.DialOptions{}); !errors.As(err, &pe) || pe.Code != proto.CodeRateLimit {
		t.Fatalf("third try: %v", err)
	}
	if s := r.Stats(); s.AuthFailures != 2 || s.AuthRateLimited != 1 {
		t.Fatalf("stats %+v", s)
	}
	if _, err := r.TryDial(ctx, "alice", "a", relaytest.DialOptions{Version: 99}); !errors.As(err, &pe) || pe.Code != proto.CodeVersion {
		t.Fatalf("version: %v", err)
	}
}

func TestChannelsConfig(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Channels(accounts.Channel{Name: "a"}, accounts.Channel{Name: "b", Mode: proto.ModeOpen}))
	c := r.Dial(t, "x", "")
	if c.Welcome.DefaultChannel != "a" || len(c.Welcome.Channels) != 2 || c.Welcome.Channels[1].ID != 2 {
		t.Fatalf("%+v", c.Welcome)
	}
	c.MustSend(t, &proto.Join{Channel: "nope"})
	if e := relaytest.Wait[*proto.Error](t, c, nil); e.Code != proto.CodeNoChannel || !strings.Contains(e.Text, "a, b") {
		t.Fatalf("%+v", e)
	}
}

// A session that stops reading its control stream is closed once its
// control queue overflows; the others carry on.
func TestControlOverflow(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) {
		c.ControlQueue = 64 << 10
		c.ControlRate, c.ControlBurst = 1e6, 1e6
		c.RingRate, c.RingBurst = 1e6, 1e6
	}))
	deaf := r.DialWith(t, "deaf", "", relaytest.DialOptions{NoControlReader: true})
	a := r.Dial(t, "alice", "")
	text := strings.Repeat("x", proto.MaxTextLen)
	// Each ring is ~4 KB to everyone; the deaf session's stream window
	// (512 KB) fills, then its queue. Bounded: at most 2000 rings.
	for i := 0; i < 2000; i++ {
		if r.Stats().ControlOverruns > 0 {
			break
		}
		a.MustSend(t, &proto.Ring{Text: text})
		relaytest.Wait[*proto.Ring](t, a, nil)
	}
	relaytest.Wait(t, a, func(m *proto.PresenceChange) bool { return m.Kind == proto.PresenceOffline && m.User.Name == "deaf" })
	deaf.WaitClosed(t)
	if s := r.Stats(); s.ControlOverruns != 1 || s.Sessions != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestMetrics(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	a := r.Dial(t, "alice", "")
	a.SendRaw([]byte{1, 2, 3})
	r.WaitStats(t, "a bad datagram", func(s relay.Stats) bool { return s.BadDatagrams["short"] == 1 })
	u, err := net.Dial("udp", r.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.Write([]byte("\x00not quic"))
	r.WaitStats(t, "a datagram that is not QUIC", func(s relay.Stats) bool { return s.UDPDropped["not_quic"] == 1 })
	mf, err := r.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, f := range mf {
		found[f.GetName()] = true
		for name, label := range map[string]string{"hark_relay_bad_datagrams_total": "short", "hark_relay_udp_dropped_total": "not_quic"} {
			if f.GetName() != name {
				continue
			}
			for _, m := range f.GetMetric() {
				if m.GetLabel()[0].GetValue() == label && m.GetCounter().GetValue() != 1 {
					t.Errorf("%s{reason=%q} = %v, want 1", name, label, m.GetCounter().GetValue())
				}
			}
		}
	}
	for _, n := range []string{"hark_relay_sessions", "hark_relay_frames_in_total", "hark_relay_frames_dropped_total", "hark_relay_udp_dropped_total", "hark_relay_auth_failures_total", "hark_relay_floor_grants_total", "hark_relay_voice_queue_depth", "go_goroutines"} {
		if !found[n] {
			t.Errorf("metric %s missing", n)
		}
	}
}

// Malformed control messages of every type get an error (or are skipped)
// and the session carries on.
func TestMalformedControl(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) { c.ControlRate, c.ControlBurst = 1e6, 1e6 }))
	a, b := r.Dial(t, "alice", ""), r.Dial(t, "bob", "")
	a.Join(t, "lobby")
	b.Join(t, "lobby")
	body := make([]byte, 40)
	for typ := 1; typ < 40; typ++ {
		for _, n := range []int{0, 1, 3, 7, 40} {
			rand.Read(body[:n])
			f := append([]byte{0, byte(n + 1), byte(typ)}, body[:n]...)
			if err := a.SendRawControl(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	a.MustSend(t, &proto.Ping{Nonce: 7})
	relaytest.Wait(t, a, func(p *proto.Pong) bool { return p.Nonce == 7 })
	// Still a working session: voice flows (random bytes may have made a
	// valid Join or PageStart: undo them first).
	a.MustSend(t, &proto.PageStop{})
	a.Join(t, "lobby")
	a.SendVoice(voice(1, 5, proto.FlagStart))
	if h, _ := b.RecvVoice(t); h.Seq != 5 || h.Sender != a.Session() {
		t.Fatalf("%+v", h)
	}
	if s := r.Stats(); s.BadMessages == 0 {
		t.Fatalf("no bad message counted: %+v", s)
	}
}

// A frame that arrives after its transmission's end frame does not start a
// new transmission.
func TestLateFrameAfterEnd(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	a, b := r.Dial(t, "alice", ""), r.Dial(t, "bob", "")
	a.Join(t, "lobby")
	b.Join(t, "lobby")
	a.SendVoice(voice(1, 10, proto.FlagStart))
	b.RecvVoice(t)
	a.SendVoice(voice(1, 12, proto.FlagEnd))
	b.RecvVoice(t)
	relaytest.Wait(t, b, func(m *proto.Talking) bool { return !m.Talking })
	a.SendVoice(voice(1, 11, 0)) // late
	r.WaitStats(t, "a late drop", func(s relay.Stats) bool { return s.Dropped["late"] == 1 })
	a.SendVoice(voice(1, 13, 0)) // next transmission, its start frame lost
	if h, _ := b.RecvVoice(t); h.Seq != 13 {
		t.Fatalf("%+v", h)
	}
	relaytest.Wait(t, b, func(m *proto.Talking) bool { return m.Talking && m.Session == a.Session() })
}

// A client that vanishes (no packets at all) is dropped after the idle
// timeout and the others see it go offline.
func TestIdleTimeout(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) { c.IdleTimeout = 300 * time.Millisecond }))
	a := r.Dial(t, "alice", "")
	px := r.NewProxy(t)
	ghost := r.DialWith(t, "ghost", "", relaytest.DialOptions{Addr: px.Addr})
	px.Freeze(true)
	relaytest.Wait(t, a, func(m *proto.PresenceChange) bool {
		return m.Kind == proto.PresenceOffline && m.User.Session == ghost.Session()
	})
	if s := r.Stats(); s.Sessions != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRateLimits(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) {
		c.VoiceRate, c.VoiceBurst = 1, 5
		c.ControlRate, c.ControlBurst = 1, 5
	}))
	a, b := r.Dial(t, "alice", ""), r.Dial(t, "bob", "")
	// Joins use 2 of alice's 5 control tokens.
	a.Join(t, "lobby")
	b.Join(t, "lobby")
	for i := range 20 {
		a.SendVoice(voice(1, uint16(i), proto.FlagStart))
	}
	r.WaitStats(t, "voice rate limit drops", func(s relay.Stats) bool { return s.Dropped["rate_limit"] >= 10 })
	for i := range 20 {
		a.MustSend(t, &proto.Ping{Nonce: uint64(i)})
	}
	e := relaytest.Wait[*proto.Error](t, a, nil)
	if e.Code != proto.CodeRateLimit || e.About != proto.TypePing {
		t.Fatalf("%+v", e)
	}
	if s := r.WaitStats(t, "control drops", func(s relay.Stats) bool { return s.ControlRateLimited >= 10 }); s.Sessions != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// TestRingLimit: rings reach everyone, so a session gets a burst of three,
// then one per 5 s; the refused one is answered, the session goes on.
func TestRingLimit(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	a := r.Dial(t, "alice", "")
	b := r.Dial(t, "bob", "")
	for i := 0; i < 3; i++ {
		a.MustSend(t, &proto.Ring{Text: "hello"})
		relaytest.Wait[*proto.Ring](t, b, nil)
	}
	a.MustSend(t, &proto.Ring{Text: "one too many"})
	if e := relaytest.Wait[*proto.Error](t, a, nil); e.Code != proto.CodeRateLimit || e.About != proto.TypeRing {
		t.Fatalf("fourth ring: %+v", e)
	}
	a.MustSend(t, &proto.Text{To: "bob", Text: "still here"})
	if m := relaytest.Wait[*proto.Text](t, b, nil); m.Text != "still here" {
		t.Fatalf("text after the refused ring: %+v", m)
	}
	if s := r.Stats(); s.Rings != 3 {
		t.Fatalf("%d rings counted, want 3", s.Rings)
	}
}

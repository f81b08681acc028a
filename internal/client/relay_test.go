package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

var labelSeq atomic.Uint64

// voiceSink collects voice frames.
type voiceSink struct {
	ch chan proto.VoiceHeader
}

func newVoiceSink() *voiceSink { return &voiceSink{ch: make(chan proto.VoiceHeader, 1024)} }

func (v *voiceSink) on(h proto.VoiceHeader, opus []byte, _ time.Time) {
	select {
	case v.ch <- h:
	default:
	}
}

func (v *voiceSink) next(t *testing.T, ctx context.Context) proto.VoiceHeader {
	t.Helper()
	select {
	case h := <-v.ch:
		return h
	case <-ctx.Done():
		t.Fatal("no voice frame")
	}
	return proto.VoiceHeader{}
}

// testClient is a Client with its events in a channel, checked for
// goroutine leaks after Close.
type testClient struct {
	*Client
	events chan Event
	voice  *voiceSink
}

func dialRelay(t *testing.T, addr, fp, name, password, channel string, mod func(*Config)) (*testClient, error) {
	t.Helper()
	handler, events := eventSink()
	tc := &testClient{events: events, voice: newVoiceSink()}
	cfg := Config{Relay: addr, Name: name, Password: password, Channel: channel, Fingerprint: fp,
		OnEvent: handler, OnVoice: tc.voice.on, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	label := fmt.Sprintf("libclient-%d", labelSeq.Add(1)) // not relaytest's "client-N": a test may use both
	var err error
	pprof.Do(context.Background(), pprof.Labels("hark_relaytest", label), func(context.Context) {
		tc.Client, err = Dial(testCtx(t), cfg)
	})
	if err != nil {
		relaytest.CheckLeaks(t, label)
		return nil, err
	}
	t.Cleanup(func() {
		tc.Close()
		relaytest.CheckLeaks(t, label)
	})
	return tc, nil
}

func mustDial(t *testing.T, r *relaytest.Relay, name, password, channel string) *testClient {
	t.Helper()
	c, err := dialRelay(t, r.Addr, r.Fingerprint, name, password, channel, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// waitMsg waits for an event carrying a message of type T that match accepts.
func waitMsg[T proto.Message](t *testing.T, ctx context.Context, c *testClient, match func(T) bool) T {
	t.Helper()
	for {
		select {
		case e := <-c.events:
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

func TestRelayVoiceAndFloor(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	alice := mustDial(t, r, "alice", "", "")
	bob := mustDial(t, r, "bob", "", "lobby")
	tx, err := alice.Talk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Send([]byte{0xF8, 0xFF, 0xFE}, 960); err != nil {
		t.Fatal(err)
	}
	h := bob.voice.next(t, ctx)
	if h.Sender != alice.Welcome().Session || h.Flags&proto.FlagStart == 0 {
		t.Errorf("first frame %+v", h)
	}
	waitMsg(t, ctx, bob, func(m *proto.Talking) bool { return m.Name == "alice" && m.Talking })

	// bob is refused while alice holds the floor.
	_, err = bob.Talk(ctx)
	var be *BusyError
	if !errors.As(err, &be) || be.Holder != "alice" || err.Error() != "busy: alice is talking" {
		t.Fatalf("bob: %v", err)
	}
	users, err := bob.Who(ctx)
	if err != nil {
		t.Fatal(err)
	}
	talking := ""
	for _, u := range users {
		if u.Talking {
			talking += u.Name
		}
		if u.Channel != "lobby" {
			t.Errorf("who: %s in %q, want lobby (the snapshot after the join)", u.Name, u.Channel)
		}
	}
	if len(users) != 2 || talking != "alice" {
		t.Errorf("who: %+v", users)
	}

	for range 5 {
		tx.Send([]byte{0xF8, 0xFF, 0xFE}, 960)
	}
	if err := tx.End(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		h = bob.voice.next(t, ctx)
		if (i == 5) != (h.Flags&proto.FlagEnd != 0) {
			t.Errorf("frame %d flags %v", i+1, h.Flags)
		}
	}
	waitMsg(t, ctx, bob, func(m *proto.Talking) bool { return m.Name == "alice" && !m.Talking })
	// Now bob may talk.
	tx2, err := bob.Talk(ctx)
	if err != nil {
		t.Fatalf("bob after alice released: %v", err)
	}
	tx2.End(ctx)
}

func TestRelayRingTextPage(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "a", proto.RolePage)
	r.AddUser("bob", "b", 0)
	r.AddUser("carol", "c", proto.RoleAdmin)
	ctx := testCtx(t)
	alice := mustDial(t, r, "alice", "a", "lobby")
	bob := mustDial(t, r, "bob", "b", "lobby")
	carol := mustDial(t, r, "carol", "c", "ops")

	if err := bob.Ring(ctx, "coffee"); err != nil {
		t.Fatal(err)
	}
	ring := waitMsg[*proto.Ring](t, ctx, carol, nil)
	if ring.FromName != "bob" || ring.Text != "coffee" || ring.Time == 0 {
		t.Errorf("ring %+v", ring)
	}
	if err := bob.Text(ctx, "carol", "psst"); err != nil {
		t.Fatal(err)
	}
	txt := waitMsg[*proto.Text](t, ctx, carol, nil)
	if txt.FromName != "bob" || txt.To != "carol" || txt.Text != "psst" {
		t.Errorf("text %+v", txt)
	}
	if err := bob.Text(ctx, "nobody", "x"); err == nil || !strings.Contains(err.Error(), "nobody is not online") {
		t.Errorf("text to nobody: %v", err)
	}

	_, err := bob.Page(ctx)
	var fe *ForbiddenError
	if !errors.As(err, &fe) {
		t.Fatalf("bob paging: %v", err)
	}
	// bob talks in lobby; alice's page is heard over him, in ops too.
	btx, err := bob.Talk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	btx.Send([]byte{0xF8, 0xFF, 0xFE}, 960)
	ptx, err := alice.Page(ctx)
	if err != nil {
		t.Fatalf("alice paging: %v", err)
	}
	ptx.Send([]byte{0xF8, 1, 2}, 960)
	for {
		h := carol.voice.next(t, ctx)
		if h.Sender == alice.Welcome().Session {
			if h.Flags&proto.FlagPriority == 0 || h.Channel != 2 {
				t.Errorf("page frame in ops: %+v", h)
			}
			break
		}
	}
	waitMsg(t, ctx, carol, func(m *proto.Page) bool { return m.FromName == "alice" && m.Active })
	ptx.End(ctx)
	btx.End(ctx)

	// Admin verbs.
	if _, err := bob.Sessions(ctx); !errors.As(err, &fe) {
		t.Errorf("bob listing sessions: %v", err)
	}
	list, err := carol.Sessions(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("sessions: %+v %v", list, err)
	}
	if err := carol.Kick(ctx, "bob", "test"); err != nil {
		t.Fatal(err)
	}
	e := waitState(t, ctx, bob.events, StateClosed)
	var re *RelayError
	if !errors.As(e.Err, &re) || re.Code != proto.CodeKicked || !strings.Contains(e.Err.Error(), "carol") {
		t.Errorf("kicked bob closed with %v", e.Err)
	}
}

func TestRelayWrongPassword(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "right", 0)
	_, err := dialRelay(t, r.Addr, r.Fingerprint, "alice", "wrong", "", nil)
	var ae *AuthError
	if !errors.As(err, &ae) || err.Error() != "wrong user name or password for alice at "+r.Addr {
		t.Fatalf("err = %v", err)
	}
	_, err = dialRelay(t, r.Addr, r.Fingerprint, "alice", "right", "nowhere", nil)
	if err == nil || !strings.Contains(err.Error(), `"nowhere"`) {
		t.Fatalf("unknown channel: %v", err)
	}
}

// startAt runs a relay on a fixed loopback address (for restarts).
func startAt(t *testing.T, pc net.PacketConn, cert tls.Certificate) (stop func()) {
	t.Helper()
	rl, err := relay.New(relay.Config{Cert: cert, Open: true, ByeLinger: 100 * time.Millisecond, ShutdownGrace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rl.Serve(context.Background(), pc) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			rl.Close()
			if err := <-done; err != nil {
				t.Errorf("relay: %v", err)
			}
			pc.Close()
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestRelayRestartReconnects(t *testing.T) {
	cert, err := certs.InMemory()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	fp := certs.FingerprintOf(cert)
	stop := startAt(t, pc, cert)
	ctx := testCtx(t)
	reconnect := func(c *Config) { c.Reconnect = true }
	alice, err := dialRelay(t, addr, fp, "alice", "", "ops", reconnect)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := dialRelay(t, addr, fp, "bob", "", "ops", reconnect)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testClient{alice, bob} {
		waitState(t, ctx, c.events, StateConnected)
	}

	stop()
	for _, c := range []*testClient{alice, bob} {
		waitState(t, ctx, c.events, StateReconnecting)
	}
	pc2, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("cannot listen on the same port again: %v", err)
	}
	startAt(t, pc2, cert)
	for _, c := range []*testClient{alice, bob} {
		waitState(t, ctx, c.events, StateConnected)
		if ch, ok := c.Channel(); !ok || ch.Name != "ops" {
			t.Errorf("%s rejoined %+v %v, want ops", c.cfg.Name, ch, ok)
		}
	}
	// Voice flows again.
	tx, err := alice.Talk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.Send([]byte{0xF8, 0xFF, 0xFE}, 960)
	for {
		h := bob.voice.next(t, ctx)
		if h.Sender == alice.Welcome().Session {
			break
		}
	}
	tx.End(ctx)
	if alice.Stats().Reconnects != 1 {
		t.Errorf("alice stats %+v", alice.Stats())
	}
}

package relay_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/protov1"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
	"github.com/quic-go/quic-go"
)

// v1Box is a client that speaks protocol version 1 through the frozen copy
// of the v1 code (internal/protov1): a box on a wall running the binary from
// before version 2. It decodes everything with the v1 decoders, which refuse
// records with lengths and voice frames with flags v1 does not know.
type v1Box struct {
	conn    *quic.Conn
	st      *quic.Stream
	hello   *protov1.Hello
	welcome *protov1.Welcome
	msgs    chan protov1.Message
	errs    chan error // control messages the v1 decoder refused
	voice   chan []byte
	badDgm  chan error // datagrams the v1 decoder refused
}

func dialV1(t *testing.T, r *relaytest.Relay, name, password string) *v1Box {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), relaytest.WaitTimeout)
	defer cancel()
	conn, err := quic.DialAddr(ctx, r.Addr, r.ClientTLS(), &quic.Config{EnableDatagrams: true, MaxIdleTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b := &v1Box{conn: conn, msgs: make(chan protov1.Message, 1000), errs: make(chan error, 100),
		voice: make(chan []byte, 1000), badDgm: make(chan error, 100)}
	t.Cleanup(func() { conn.CloseWithError(0, "test over") })
	b.st, err = conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Exactly what the v1 client sent: Hello{1, software}, then Auth.
	b.send(t, &protov1.Hello{Version: protov1.Version, Software: "hark box (v1)"})
	b.send(t, &protov1.Auth{Name: name, Password: password})
	rd := protov1.NewReader(b.st)
	for b.welcome == nil {
		m, err := rd.Next()
		if err != nil {
			t.Fatalf("v1 login: %v", err)
		}
		switch m := m.(type) {
		case *protov1.Hello:
			b.hello = m
		case *protov1.Welcome:
			b.welcome = m
		case *protov1.Error:
			t.Fatalf("v1 login refused: %s", m.Text)
		default:
			t.Fatalf("v1 login: unexpected %v", m.Type())
		}
	}
	done := make(chan struct{}, 2)
	t.Cleanup(func() {
		conn.CloseWithError(0, "test over")
		<-done
		<-done
	})
	go func() {
		defer func() { done <- struct{}{} }()
		for {
			m, err := rd.Next()
			if err != nil {
				if protov1.IsFramingError(err) || conn.Context().Err() != nil {
					return
				}
				if !put(conn.Context(), b.errs, err) {
					return
				}
				continue
			}
			if !put(conn.Context(), b.msgs, m) {
				return
			}
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		for {
			d, err := conn.ReceiveDatagram(context.Background())
			if err != nil {
				return
			}
			if _, _, err := protov1.ParseVoice(d); err != nil {
				if !put(conn.Context(), b.badDgm, err) {
					return
				}
				continue
			}
			if !put(conn.Context(), b.voice, d) {
				return
			}
		}
	}()
	return b
}

// put hands v to the test, or gives up (false) once the connection is
// closed: a reader blocked on a full channel would hang the cleanup.
func put[T any](ctx context.Context, ch chan T, v T) bool {
	select {
	case ch <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

func (b *v1Box) send(t *testing.T, m protov1.Message) {
	t.Helper()
	out, err := protov1.AppendMessage(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Write(out); err != nil {
		t.Fatal(err)
	}
}

func (b *v1Box) sendVoice(t *testing.T, h protov1.VoiceHeader, payload []byte) {
	t.Helper()
	if err := b.conn.SendDatagram(protov1.AppendVoice(nil, h, payload)); err != nil {
		t.Fatal(err)
	}
}

// wait reads until a message of type T for which match returns true; it
// fails on a message the v1 decoder refused.
func wait1[T protov1.Message](t *testing.T, b *v1Box, match func(T) bool) T {
	t.Helper()
	tm := time.NewTimer(relaytest.WaitTimeout)
	defer tm.Stop()
	var zero T
	for {
		select {
		case m := <-b.msgs:
			if v, ok := m.(T); ok && (match == nil || match(v)) {
				return v
			}
		case err := <-b.errs:
			t.Fatalf("the v1 box cannot read a message from the new relay: %v", err)
		case <-tm.C:
			t.Fatalf("v1 box: no %T within %v", zero, relaytest.WaitTimeout)
			return zero
		}
	}
}

func (b *v1Box) recvVoice(t *testing.T) protov1.VoiceHeader {
	t.Helper()
	tm := time.NewTimer(relaytest.WaitTimeout)
	defer tm.Stop()
	select {
	case d := <-b.voice:
		h, _, _ := protov1.ParseVoice(d)
		return h
	case err := <-b.badDgm:
		t.Fatalf("the v1 box refuses a voice frame from the new relay: %v", err)
	case <-tm.C:
		t.Fatalf("v1 box: no voice within %v", relaytest.WaitTimeout)
	}
	return protov1.VoiceHeader{}
}

// TestV1BoxOnNewRelay: a box running the v1 binary logs in to the new relay,
// joins, sees presence, talks, hears, texts, gets paged and lists sessions,
// next to clients speaking the newest version, and never meets a message or
// datagram it cannot read.
func TestV1BoxOnNewRelay(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("alice", "pa", proto.RolePage)
	r.AddUser("box", "pbox", proto.RoleAdmin)
	r.AddUser("carol", "pc", 0)
	a := r.Dial(t, "alice", "pa")
	if a.Version != proto.Version {
		t.Fatalf("a new client negotiated version %d", a.Version)
	}
	a.Join(t, "lobby")

	box := dialV1(t, r, "box", "pbox")
	if box.hello.Version != protov1.Version {
		t.Errorf("the relay's hello reads as version %d to a v1 box (it would log a mismatch)", box.hello.Version)
	}
	var names []string
	for _, c := range box.welcome.Channels {
		names = append(names, fmt.Sprintf("%s/%d/%v", c.Name, c.ID, c.Mode))
	}
	if got := strings.Join(names, " "); got != "lobby/1/ptt ops/2/open" || box.welcome.DefaultChannel != "lobby" {
		t.Fatalf("v1 welcome channels %q default %q", got, box.welcome.DefaultChannel)
	}
	// The new client sees the box come online.
	relaytest.Wait(t, a, func(m *proto.PresenceChange) bool { return m.Kind == proto.PresenceOnline && m.User.Name == "box" })

	box.send(t, &protov1.Join{Channel: "lobby"})
	j := wait1[*protov1.Joined](t, box, nil)
	if j.Name != "lobby" || j.ID != 1 || j.Mode != protov1.ModePTT {
		t.Fatalf("v1 joined %+v", j)
	}
	p := wait1[*protov1.Presence](t, box, nil)
	who := map[string]string{}
	for _, u := range p.Users {
		who[u.Name] = u.Channel
	}
	if len(who) != 2 || who["alice"] != "lobby" || who["box"] != "lobby" {
		t.Fatalf("v1 presence %+v", p.Users)
	}
	relaytest.Wait(t, a, func(m *proto.PresenceChange) bool {
		return m.Kind == proto.PresenceMoved && m.User.Name == "box" && m.User.Channel == "lobby"
	})

	// Another client comes and goes: the box reads the changes (records,
	// encoded for v1 while the new clients get v2).
	c := r.Dial(t, "carol", "pc")
	wait1(t, box, func(m *protov1.PresenceChange) bool {
		return m.Kind == protov1.PresenceOnline && m.User.Name == "carol"
	})
	c.Join(t, "ops")
	wait1(t, box, func(m *protov1.PresenceChange) bool {
		return m.Kind == protov1.PresenceMoved && m.User.Name == "carol" && m.User.Channel == "ops"
	})
	c.Close()
	wait1(t, box, func(m *protov1.PresenceChange) bool {
		return m.Kind == protov1.PresenceOffline && m.User.Name == "carol"
	})

	// The box talks; alice hears it, from the box's session.
	box.sendVoice(t, protov1.VoiceHeader{Flags: protov1.FlagStart, Channel: 1, Seq: 1, Timestamp: 960, Duration: 960}, []byte{0xf8, 1})
	h, pl := a.RecvVoice(t)
	if h.Sender != box.welcome.Session || h.Seq != 1 || h.Flags != proto.FlagStart || string(pl) != "\xf8\x01" {
		t.Fatalf("alice hears %+v %x", h, pl)
	}
	box.sendVoice(t, protov1.VoiceHeader{Flags: protov1.FlagEnd, Channel: 1, Seq: 2, Timestamp: 1920, Duration: 960}, []byte{0xf8, 2})
	a.RecvVoice(t)
	wait1(t, box, func(m *protov1.Talking) bool { return m.Session == box.welcome.Session && !m.Talking })

	// Alice talks with a flag no version knows yet: the relay ignores it and
	// the v1 box, which would refuse the frame, hears it without.
	a.SendVoice(proto.VoiceHeader{Flags: proto.FlagStart | 0x40, Channel: 1, Seq: 7, Timestamp: 7, Duration: 960}, []byte{0xf8, 7})
	if h := box.recvVoice(t); h.Sender != a.Session() || h.Seq != 7 || h.Flags != protov1.FlagStart {
		t.Fatalf("the box hears %+v", h)
	}
	a.SendVoice(proto.VoiceHeader{Flags: proto.FlagEnd, Channel: 1, Seq: 8, Timestamp: 8, Duration: 960}, []byte{0xf8, 8})
	box.recvVoice(t)
	wait1(t, box, func(m *protov1.Talking) bool { return m.Session == a.Session() && !m.Talking })

	// Texts both ways.
	box.send(t, &protov1.Text{Channel: "lobby", Text: "hello from the wall"})
	if m := relaytest.Wait(t, a, func(m *proto.Text) bool { return m.FromName == "box" }); m.Text != "hello from the wall" {
		t.Fatalf("alice got %+v", m)
	}
	a.MustSend(t, &proto.Text{To: "box", Text: "hi box"})
	wait1(t, box, func(m *protov1.Text) bool { return m.FromName == "alice" && m.Text == "hi box" })

	// A page reaches the box with the priority flag, which v1 knows.
	a.MustSend(t, &proto.PageStart{})
	relaytest.Wait(t, a, func(m *proto.FloorGrant) bool { return m.Channel == proto.PageChannel })
	wait1(t, box, func(m *protov1.Page) bool { return m.Active && m.FromName == "alice" })
	a.SendVoice(proto.VoiceHeader{Flags: proto.FlagStart | proto.FlagEnd, Channel: proto.PageChannel, Seq: 9, Timestamp: 9, Duration: 960}, []byte{0xf8, 9})
	if h := box.recvVoice(t); h.Flags&protov1.FlagPriority == 0 || h.Channel != 1 {
		t.Fatalf("the box hears the page as %+v", h)
	}
	wait1(t, box, func(m *protov1.Page) bool { return !m.Active })

	// The admin box lists sessions with the v1 decoder.
	box.send(t, &protov1.ListSessions{})
	l := wait1[*protov1.Sessions](t, box, nil)
	if len(l.Sessions) != 2 || l.Sessions[0].Name != "alice" || l.Sessions[1].Name != "box" || l.Sessions[1].Channel != "lobby" || l.Sessions[1].Roles != protov1.RoleAdmin {
		t.Fatalf("v1 sessions %+v", l.Sessions)
	}

	// Ping, and a clean bye when the relay closes.
	box.send(t, &protov1.Ping{Nonce: 77})
	if m := wait1[*protov1.Pong](t, box, nil); m.Nonce != 77 {
		t.Fatalf("pong %+v", m)
	}
	r.Close()
	if m := wait1[*protov1.Bye](t, box, nil); m.Code != protov1.CodeShutdown {
		t.Fatalf("bye %+v", m)
	}
}

// TestVersionRefusal: a client newer than the relay is told to update the
// relay; one that speaks only v1 (with the new Hello) gets v1.
func TestVersionRefusal(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx, cancel := context.WithTimeout(context.Background(), relaytest.WaitTimeout)
	defer cancel()
	_, err := r.TryDial(ctx, "alice", "", relaytest.DialOptions{Version: proto.Version + 1})
	var pe *proto.Error
	if !errors.As(err, &pe) || pe.Code != proto.CodeVersion || !strings.Contains(pe.Text, "update the relay") {
		t.Errorf("version %d: %v, want CodeVersion saying to update the relay", proto.Version+1, err)
	}
	c := r.DialWith(t, "bob", "", relaytest.DialOptions{Version: proto.Version1})
	if c.Version != proto.Version1 {
		t.Errorf("negotiated %d", c.Version)
	}
	if j := c.Join(t, "ops"); j.Name != "ops" || j.ID != 2 {
		t.Errorf("v1 joined %+v", j)
	}
	if p := relaytest.Wait[*proto.Presence](t, c, nil); len(p.Users) != 1 || p.Users[0].Name != "bob" {
		t.Errorf("v1 presence %+v", p)
	}
}

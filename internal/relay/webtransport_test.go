package relay_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"github.com/quic-go/webtransport-go"
)

// dialWT opens a WebTransport session to the relay as a browser would,
// checking the relay's short-lived certificate against the pinned relay
// certificate as the gateway does before it gives the page its hash.
func dialWT(t *testing.T, r *relaytest.Relay) (*webtransport.Session, *x509.Certificate) {
	t.Helper()
	var leaf *x509.Certificate
	tr := &webtransport.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // checked below, as the browser checks the hash
		NextProtos:         []string{http3.NextProtoH3},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			var err error
			leaf, err = certs.VerifyWebTransport(raw, r.Fingerprint, time.Now())
			return err
		},
	}}
	t.Cleanup(func() { tr.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), relaytest.WaitTimeout)
	defer cancel()
	rsp, sess, err := tr.Dial(ctx, "https://"+r.Addr+relay.WebTransportPath, http.Header{"Origin": {"https://gateway.example:8443"}})
	if err != nil {
		t.Fatalf("webtransport dial: %v", err)
	}
	if rsp.StatusCode != http.StatusOK {
		t.Fatalf("webtransport: status %d", rsp.StatusCode)
	}
	t.Cleanup(func() { sess.CloseWithError(0, "") })
	return sess, leaf
}

// A browser's WebTransport session is a session like a native one: the
// same login, presence and voice, on the relay's one UDP port.
func TestWebTransportSession(t *testing.T) {
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) { c.WebTransport = true }))
	r.AddUser("ann", "pa", 0)
	r.AddUser("bob", "pb", 0)
	b := r.Dial(t, "bob", "pb") // a native client on the same port
	b.Join(t, "lobby")

	sess, leaf := dialWT(t, r)
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d > certs.MaxWebTransportValidity {
		t.Fatalf("webtransport certificate valid for %v", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), relaytest.WaitTimeout)
	defer cancel()
	st, err := sess.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.SetDeadline(time.Now().Add(relaytest.WaitTimeout))
	write := func(m proto.Message) {
		t.Helper()
		buf, err := proto.AppendMessage(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	rd := proto.NewReader(st)
	next := func(want proto.MsgType) proto.Message {
		t.Helper()
		for {
			m, err := rd.Next()
			if err != nil {
				t.Fatalf("waiting for %v: %v", want, err)
			}
			if m.Type() == want {
				return m
			}
		}
	}
	write(proto.NewHello("webtransport test"))
	write(&proto.Auth{Name: "ann", Password: "pa"})
	next(proto.TypeHello)
	w := next(proto.TypeWelcome).(*proto.Welcome)
	if w.Name != "ann" {
		t.Fatalf("welcome %+v", w)
	}
	write(&proto.Join{Channel: "lobby"})
	if j := next(proto.TypeJoined).(*proto.Joined); j.ID != 1 {
		t.Fatalf("joined %+v", j)
	}
	p := next(proto.TypePresence).(*proto.Presence)
	if len(p.Users) != 2 {
		t.Fatalf("presence %+v", p)
	}

	// ann talks over WebTransport datagrams; bob hears her.
	for i := range 3 {
		f := proto.VoiceFlags(0)
		if i == 0 {
			f = proto.FlagStart
		}
		if err := sess.SendDatagram(proto.AppendVoice(nil, voiceHdr(1, uint16(i), f), []byte{0xf8, byte(i)})); err != nil {
			t.Fatal(err)
		}
		h, pl := b.RecvVoice(t)
		if h.Sender != w.Session || h.Seq != uint16(i) || !bytes.Equal(pl, []byte{0xf8, byte(i)}) {
			t.Fatalf("bob got %+v %x", h, pl)
		}
	}
	sess.SendDatagram(proto.AppendVoice(nil, voiceHdr(1, 3, proto.FlagEnd), []byte{0xf8, 0xff, 0xfe}))
	relaytest.Wait(t, b, func(m *proto.Talking) bool { return m.Session == w.Session && !m.Talking })

	// bob answers; ann hears him over WebTransport.
	b.SendVoice(voiceHdr(1, 0, proto.FlagStart), []byte{0xf8, 0x42})
	dg, err := sess.ReceiveDatagram(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, pl, err := proto.ParseVoice(dg)
	if err != nil || h.Sender != b.Session() || !bytes.Equal(pl, []byte{0xf8, 0x42}) {
		t.Fatalf("ann got %+v %x %v", h, pl, err)
	}
	next(proto.TypeTalking)

	// Texts go over the control stream both ways.
	write(&proto.Text{Channel: "lobby", Text: "hi bob"})
	relaytest.Wait(t, b, func(m *proto.Text) bool { return m.FromName == "ann" && m.Text == "hi bob" })
	b.MustSend(t, &proto.Text{Channel: "lobby", Text: "hi ann"})
	for {
		if m := next(proto.TypeText).(*proto.Text); m.FromName == "bob" {
			break
		}
	}
}

// A wrong password over WebTransport is refused like a native one.
func TestWebTransportWrongPassword(t *testing.T) {
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) { c.WebTransport = true }))
	r.AddUser("ann", "pa", 0)
	sess, _ := dialWT(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), relaytest.WaitTimeout)
	defer cancel()
	st, err := sess.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.SetDeadline(time.Now().Add(relaytest.WaitTimeout))
	var buf []byte
	buf, _ = proto.AppendMessage(buf, proto.NewHello("webtransport test"))
	buf, _ = proto.AppendMessage(buf, &proto.Auth{Name: "ann", Password: "nope"})
	st.Write(buf)
	rd := proto.NewReader(st)
	for {
		m, err := rd.Next()
		if err != nil {
			t.Fatalf("no error message: %v", err)
		}
		if e, ok := m.(*proto.Error); ok {
			if e.Code != proto.CodeAuth {
				t.Fatalf("error %+v", e)
			}
			break
		}
	}
	if s := r.Stats(); s.AuthFailures != 1 {
		t.Fatalf("auth failures %d", s.AuthFailures)
	}
}

// Without WebTransport the relay does not speak HTTP/3; with it, a native
// client still gets the relay certificate and cannot open more than its
// control stream.
func TestWebTransportOffAndNative(t *testing.T) {
	off := relaytest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), relaytest.WaitTimeout)
	defer cancel()
	_, err := quic.DialAddr(ctx, off.Addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{http3.NextProtoH3}}, nil)
	if err == nil {
		t.Fatal("a relay without WebTransport accepted ALPN h3")
	}

	on := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) { c.WebTransport = true }))
	on.AddUser("bob", "pb", 0)
	b := on.Dial(t, "bob", "pb") // pins the relay certificate
	extra, err := b.Conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	extra.Write([]byte{0, 1, 2})
	var se *quic.StreamError
	if _, err := extra.Read(make([]byte, 1)); !errors.As(err, &se) {
		t.Fatalf("an extra stream of a native client was not refused: %v", err)
	}
	b.Join(t, "lobby") // and the session goes on
}

func voiceHdr(ch, seq uint16, f proto.VoiceFlags) proto.VoiceHeader {
	return proto.VoiceHeader{Flags: f, Channel: ch, Seq: seq, Timestamp: uint32(seq) * 960, Duration: 960}
}

// A browser whose control stream is reset (a tab that is closed) ends its
// relay session: the others see it go offline.
func TestWebTransportSessionEnds(t *testing.T) {
	r := relaytest.Start(t, relaytest.Configure(func(c *relay.Config) { c.WebTransport = true }))
	r.AddUser("ann", "pa", 0)
	r.AddUser("bob", "pb", 0)
	b := r.Dial(t, "bob", "pb")
	sess, _ := dialWT(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), relaytest.WaitTimeout)
	defer cancel()
	st, err := sess.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	buf, _ = proto.AppendMessage(buf, proto.NewHello("webtransport test"))
	buf, _ = proto.AppendMessage(buf, &proto.Auth{Name: "ann", Password: "pa"})
	st.Write(buf)
	relaytest.Wait(t, b, func(m *proto.PresenceChange) bool { return m.Kind == proto.PresenceOnline && m.User.Name == "ann" })
	st.CancelWrite(0)
	relaytest.Wait(t, b, func(m *proto.PresenceChange) bool { return m.Kind == proto.PresenceOffline && m.User.Name == "ann" })
	if s := r.Stats(); s.BadMessages != 0 {
		t.Fatalf("a closed session counted %d bad messages", s.BadMessages)
	}
}

package client

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/quic-go/quic-go"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/protov1"
	"github.com/hark-intercom/hark/proto"
)

// fakeRelay speaks just enough of the relay's side for unit tests of the
// client: login, join, floor (deny when busyHolder is set), ping, and it
// records the voice datagrams and control messages it receives.
type fakeRelay struct {
	t          *testing.T
	ln         *quic.Listener
	addr       string
	fp         string
	mu         sync.Mutex // guards the fields below
	password   string     // "" accepts any
	busyHolder string
	resetAuth  bool // reset the control stream instead of answering Auth
	voice      [][]byte
	msgs       []proto.Message
	conns      []*quic.Conn
	got        chan struct{} // signalled on each voice datagram or message (cap 1)

	// Set by newFakeRelayWith before it serves, then read-only:
	v1            bool // behave as a relay of protocol version 1 (the binary before v2)
	splitPresence bool // send the presence snapshot in two parts (More set on the first)
	history       bool // offer proto.FeatureHistory and answer its messages (see serveHistory); guarded by mu after serving starts (a test may turn it off for the next connections)

	// History state (with history), guarded by mu.
	items      []proto.HistoryItem          // stored, by id
	recordings map[uint64][]proto.RecPacket // Opus of the voice items
	acks       map[uint64]proto.TextAck     // by ClientID: resends answer the same
	readPos    uint64                       // the user's read position (HistoryRead)
	dropTexts  int                          // close the connection instead of answering this many texts
	nextID     uint64
}

func newFakeRelay(t *testing.T) *fakeRelay { t.Helper(); return newFakeRelayWith(t, nil) }

// newFakeRelayWith is newFakeRelay with set applied before it serves.
func newFakeRelayWith(t *testing.T, set func(*fakeRelay)) *fakeRelay {
	t.Helper()
	cert, err := certs.InMemory()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := quic.ListenAddr("127.0.0.1:0", certs.ServerConfig(cert, proto.ALPN), &quic.Config{EnableDatagrams: true})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRelay{t: t, ln: ln, addr: ln.Addr().String(), fp: certs.FingerprintOf(cert), got: make(chan struct{}, 1)}
	if set != nil {
		set(f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			qc, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, qc)
			f.mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); f.serve(qc) }()
			go func() {
				defer wg.Done()
				for {
					b, err := qc.ReceiveDatagram(qc.Context())
					if err != nil {
						return
					}
					f.mu.Lock()
					f.voice = append(f.voice, b)
					f.mu.Unlock()
					f.signal()
				}
			}()
		}
	}()
	t.Cleanup(func() {
		cancel()
		f.dropAll()
		ln.Close()
		wg.Wait()
	})
	return f
}

func (f *fakeRelay) signal() {
	select {
	case f.got <- struct{}{}:
	default:
	}
}

func (f *fakeRelay) dropAll() {
	f.mu.Lock()
	conns := f.conns
	f.conns = nil
	f.mu.Unlock()
	for _, c := range conns {
		c.CloseWithError(0, "dropped by test")
	}
}

func (f *fakeRelay) serve(qc *quic.Conn) {
	st, err := qc.AcceptStream(qc.Context())
	if err != nil {
		return
	}
	rd := proto.NewReader(st)
	version := proto.Version
	if f.v1 {
		version = proto.Version1
		rd.SetVersion(version)
	}
	send := func(m proto.Message) {
		b, err := proto.AppendMessageFor(nil, m, version)
		if err != nil {
			f.t.Error(err)
			return
		}
		st.Write(b)
	}
	channels := []proto.ChannelInfo{{Name: "lobby", ID: 1}, {Name: "ops", ID: 2, Mode: proto.ModeOpen}}
	var name string
	hist := false // this connection offered history
	for {
		m, err := rd.Next()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.msgs = append(f.msgs, m)
		f.mu.Unlock()
		f.signal()
		switch m := m.(type) {
		case *proto.Hello:
			if f.v1 {
				// What the v1 relay did: refuse any version but 1, answer
				// with a v1 Hello (version and software, nothing more).
				if m.Version != protov1.Version {
					send(&proto.Error{Code: proto.CodeVersion, About: proto.TypeHello, Text: "this relay speaks protocol version 1"})
					st.Close()
					return
				}
				b, _ := protov1.AppendMessage(nil, &protov1.Hello{Version: protov1.Version, Software: "fake v1"})
				st.Write(b)
				continue
			}
			h := proto.NewHello("fake")
			f.mu.Lock()
			hist = f.history
			f.mu.Unlock()
			if !hist {
				h.Features &^= proto.FeatureHistory
			}
			send(h)
		case *proto.Auth:
			f.mu.Lock()
			want, reset := f.password, f.resetAuth
			f.mu.Unlock()
			if reset {
				st.CancelWrite(1)
				st.CancelRead(1)
				return
			}
			if want != "" && m.Password != want {
				send(&proto.Error{Code: proto.CodeAuth, About: proto.TypeAuth, Text: "wrong user name or password"})
				st.Close()
				return
			}
			name = m.Name
			send(&proto.Welcome{Session: 7, Name: m.Name, Server: "fake", DefaultChannel: "lobby", Channels: channels})
		case *proto.Join:
			found := false
			for _, ch := range channels {
				if ch.Name == m.Channel {
					send(&proto.Joined{ChannelInfo: ch})
					users := []proto.UserInfo{{Session: 7, Name: name, Channel: ch.Name}, {Session: 3, Name: "zed", Channel: "ops", Talking: true}}
					if f.splitPresence {
						send(&proto.Presence{Users: users[:1], More: true})
						users = users[1:]
					}
					send(&proto.Presence{Users: users})
					if hist {
						f.sendMissed(send)
					}
					found = true
				}
			}
			if !found {
				send(&proto.Error{Code: proto.CodeNoChannel, About: proto.TypeJoin, Text: "no such channel"})
			}
		case *proto.FloorRequest:
			f.mu.Lock()
			holder := f.busyHolder
			f.mu.Unlock()
			if holder != "" {
				send(&proto.FloorDeny{Channel: m.Channel, Holder: 3, HolderName: holder, Reason: "busy: " + holder + " is talking"})
			} else {
				send(&proto.FloorGrant{Channel: m.Channel, MaxMillis: 60000})
			}
		case *proto.PageStart:
			send(&proto.Error{Code: proto.CodeForbidden, About: proto.TypePageStart, Text: "you may not page"})
		case *proto.Text:
			if hist {
				if !f.serveText(qc, m, name, send) {
					return
				}
				continue
			}
			if m.To == "nobody" {
				send(&proto.Error{Code: proto.CodeNoUser, About: proto.TypeText, Text: "no such user"})
			}
		case *proto.Ping:
			send(&proto.Pong{Nonce: m.Nonce})
		case *proto.HistoryQuery, *proto.HistoryRead, *proto.Fetch, *proto.ChannelSet:
			f.serveHistory(m, send)
		}
	}
}

func (f *fakeRelay) snapshot() ([][]byte, []proto.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.voice...), append([]proto.Message(nil), f.msgs...)
}

// waitFor waits until cond holds on the fake's records (checked at each
// datagram or message it receives).
func (f *fakeRelay) waitFor(ctx context.Context, cond func(voice [][]byte, msgs []proto.Message) bool) error {
	for {
		v, m := f.snapshot()
		if cond(v, m) {
			return nil
		}
		select {
		case <-f.got:
		case <-ctx.Done():
			return errors.New("condition not met before the deadline")
		}
	}
}

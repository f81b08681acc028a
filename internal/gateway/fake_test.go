package gateway

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/proto"
)

// fakeRelay is an in-memory relay for tests of the websocket side: channels,
// presence, floor control, voice forwarding, text and ring. Safe for
// concurrent use.
type fakeRelay struct {
	mu       sync.Mutex
	channels []proto.ChannelInfo
	next     uint32
	sessions map[uint32]*fakeSession // guarded by mu
	floor    map[uint16]uint32       // guarded by mu: channel -> holder
	sent     map[uint32][]VoiceFrame // guarded by mu: frames each session sent
	sentAt   map[uint32][]time.Time  // guarded by mu: when each of them was sent
	password string
	sentCh   chan VoiceFrame // every frame sent, for tests (buffered; drops when full)
	pagers   map[string]bool // names with the page role; set before dialling
	pages    []string        // guarded by mu: who paged
	hist     *fakeHistory    // history (history_test.go); nil: the relay keeps none. Set before dialling.
	// entered, if set, gets a value as each Dial begins; gate, if set,
	// holds each Dial until it is closed. Set before dialling.
	entered chan struct{}
	gate    chan struct{}
	// talkGate, if set, holds each Talk until it is closed (the relay's
	// answer on its way). Set before dialling.
	talkGate chan struct{}
}

func newFakeRelay() *fakeRelay {
	return &fakeRelay{
		channels: []proto.ChannelInfo{{Name: "lobby", ID: 1}, {Name: "ops", ID: 2}},
		next:     100, sessions: map[uint32]*fakeSession{}, floor: map[uint16]uint32{},
		sent: map[uint32][]VoiceFrame{}, sentAt: map[uint32][]time.Time{}, sentCh: make(chan VoiceFrame, 4096),
	}
}

type fakeSession struct {
	r       *fakeRelay
	id      uint32
	name    string
	channel proto.ChannelInfo // guarded by r.mu
	joined  bool              // guarded by r.mu
	events  chan RelayEvent
	voice   chan VoiceFrame
	once    sync.Once
}

func (r *fakeRelay) Dial(ctx context.Context, name, password, channel string) (RelaySession, error) {
	if r.entered != nil {
		r.entered <- struct{}{}
	}
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if r.password != "" && password != r.password {
		return nil, &client.AuthError{Name: name, Text: "wrong password"}
	}
	r.mu.Lock()
	r.next++
	s := &fakeSession{r: r, id: r.next, name: name, events: make(chan RelayEvent, 1024), voice: make(chan VoiceFrame, 1024)}
	r.sessions[s.id] = s
	r.mu.Unlock()
	r.broadcast(&proto.PresenceChange{Kind: proto.PresenceOnline, User: proto.UserInfo{Session: s.id, Name: name}})
	if channel == "" {
		channel = "lobby"
	}
	if _, err := s.Join(ctx, channel); err != nil {
		return nil, err
	}
	if r.hist != nil {
		r.hist.catchUp(s)
	}
	return s, nil
}

func (r *fakeRelay) broadcast(m proto.Message) {
	r.mu.Lock()
	var ss []*fakeSession
	for _, s := range r.sessions {
		ss = append(ss, s)
	}
	r.mu.Unlock()
	for _, s := range ss {
		s.event(m)
	}
}

func (r *fakeRelay) presence() *proto.Presence {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := &proto.Presence{}
	for _, s := range r.sessions {
		ch := ""
		if s.joined {
			ch = s.channel.Name
		}
		p.Users = append(p.Users, proto.UserInfo{Session: s.id, Name: s.name, Channel: ch, Talking: r.floor[s.channel.ID] == s.id && s.joined})
	}
	return p
}

func (s *fakeSession) event(m proto.Message) {
	select {
	case s.events <- RelayEvent{Msg: m}:
	default:
	}
}

func (s *fakeSession) Welcome() proto.Welcome {
	w := proto.Welcome{Session: s.id, Name: s.name, Server: "fake", DefaultChannel: "lobby", Channels: s.r.channels}
	if s.r.pagers[s.name] {
		w.Roles = proto.RolePage
	}
	return w
}

func (s *fakeSession) Channel() (proto.ChannelInfo, bool) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	return s.channel, s.joined
}

func (s *fakeSession) Join(ctx context.Context, channel string) (proto.ChannelInfo, error) {
	var ch proto.ChannelInfo
	found := false
	for _, c := range s.r.channels {
		if c.Name == channel {
			ch, found = c, true
		}
	}
	if !found {
		return ch, &client.RelayError{Code: proto.CodeNoChannel, Text: "no channel " + channel}
	}
	s.r.mu.Lock()
	s.channel, s.joined = ch, true
	s.r.mu.Unlock()
	s.r.broadcast(s.r.presence())
	return ch, nil
}

func (s *fakeSession) Talk(ctx context.Context) (RelayTx, error) {
	r := s.r
	if r.talkGate != nil {
		select {
		case <-r.talkGate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	r.mu.Lock()
	ch := s.channel
	holder, busy := r.floor[ch.ID]
	if busy && holder != s.id {
		name := r.sessions[holder].name
		r.mu.Unlock()
		return nil, &client.BusyError{Holder: name, Reason: "busy: " + name + " is talking"}
	}
	r.floor[ch.ID] = s.id
	r.mu.Unlock()
	r.broadcast(&proto.Talking{Channel: ch.ID, Session: s.id, Name: s.name, Talking: true})
	return &fakeTx{s: s, ch: ch.ID}, nil
}

// Page is a talk in the caller's channel announced as a page (enough for
// the websocket side); it is refused without the page role.
func (s *fakeSession) Page(ctx context.Context) (RelayTx, error) {
	r := s.r
	r.mu.Lock()
	r.pages = append(r.pages, s.name)
	ch := s.channel
	r.mu.Unlock()
	if !r.pagers[s.name] {
		return nil, &client.RelayError{Code: proto.CodeForbidden, Text: "paging needs the page role"}
	}
	r.broadcast(&proto.Page{From: s.id, FromName: s.name, Active: true})
	return &fakeTx{s: s, ch: ch.ID}, nil
}

func (s *fakeSession) Text(ctx context.Context, to, text string) error {
	m := &proto.Text{From: s.id, FromName: s.name, Channel: s.channel.Name, To: to, Text: text, Time: 1700000000000}
	s.r.mu.Lock()
	var targets []*fakeSession
	for _, o := range s.r.sessions {
		if (to == "" && o.channel == s.channel) || o.name == to || o == s {
			targets = append(targets, o)
		}
	}
	s.r.mu.Unlock()
	for _, o := range targets {
		o.event(m)
	}
	return nil
}

func (s *fakeSession) Ring(ctx context.Context, text string) error {
	s.r.broadcast(&proto.Ring{From: s.id, FromName: s.name, Text: text, Time: 1700000000000})
	return nil
}

func (s *fakeSession) Events() <-chan RelayEvent { return s.events }
func (s *fakeSession) Voice() <-chan VoiceFrame  { return s.voice }

func (s *fakeSession) Close() error {
	s.once.Do(func() {
		s.r.mu.Lock()
		delete(s.r.sessions, s.id)
		for ch, h := range s.r.floor {
			if h == s.id {
				delete(s.r.floor, ch)
			}
		}
		s.r.mu.Unlock()
		s.r.broadcast(&proto.PresenceChange{Kind: proto.PresenceOffline, User: proto.UserInfo{Session: s.id, Name: s.name}})
	})
	return nil
}

type fakeTx struct {
	s     *fakeSession
	ch    uint16
	mu    sync.Mutex
	seq   uint16
	ts    uint32
	n     int
	ended bool
}

func (t *fakeTx) Send(opus []byte, samples int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return client.ErrEnded
	}
	if len(opus) == 0 || len(opus) > proto.MaxVoicePayload {
		return errors.New("bad frame")
	}
	var f proto.VoiceFlags
	if t.n == 0 {
		f = proto.FlagStart
	}
	t.forward(f, opus, samples)
	return nil
}

// forward delivers a frame to everyone else in the channel; t.mu held.
func (t *fakeTx) forward(f proto.VoiceFlags, opus []byte, samples int) {
	h := proto.VoiceHeader{Flags: f, Channel: t.ch, Sender: t.s.id, Seq: t.seq, Timestamp: t.ts, Duration: uint16(samples)}
	t.seq++
	t.ts += uint32(samples)
	t.n++
	frame := VoiceFrame{Header: h, Opus: append([]byte(nil), opus...)}
	r := t.s.r
	r.mu.Lock()
	r.sent[t.s.id] = append(r.sent[t.s.id], frame)
	r.sentAt[t.s.id] = append(r.sentAt[t.s.id], time.Now())
	var targets []*fakeSession
	for _, o := range r.sessions {
		if o != t.s && o.joined && o.channel.ID == t.ch {
			targets = append(targets, o)
		}
	}
	r.mu.Unlock()
	select {
	case r.sentCh <- frame:
	default:
	}
	for _, o := range targets {
		select {
		case o.voice <- VoiceFrame{Header: h, Opus: append([]byte(nil), opus...)}:
		default:
		}
	}
}

func (t *fakeTx) End(ctx context.Context) error {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return nil
	}
	t.ended = true
	f := proto.FlagEnd
	if t.n == 0 {
		f |= proto.FlagStart
	}
	t.forward(f, []byte{0xF8, 0xFF, 0xFE}, 960)
	t.mu.Unlock()
	r := t.s.r
	r.mu.Lock()
	if r.floor[t.ch] == t.s.id {
		delete(r.floor, t.ch)
	}
	r.mu.Unlock()
	r.broadcast(&proto.Talking{Channel: t.ch, Session: t.s.id, Name: t.s.name, Talking: false})
	return nil
}

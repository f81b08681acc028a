package gateway

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/limit"
	"github.com/hark-intercom/hark/proto"
)

// Size limits of browser messages (see the package doc).
const (
	maxJSON      = 16 << 10
	maxAudioMsg  = 64 << 10
	loginTimeout = 15 * time.Second
	writeTimeout = 10 * time.Second
	maxCtlQueue  = 512
	maxAudioQ    = 25 // 0.5 s of 20 ms frames
	maxStrikes   = 50 // limit violations in a row before the session is closed (one more is forgiven each minute)
)

// inMsg is one websocket message from the browser.
type inMsg struct {
	text bool
	data []byte
}

// session is one browser user: a websocket and a relay session.
type session struct {
	srv       *Server
	conn      *websocket.Conn
	log       *slog.Logger
	out       *outQueue
	relay     RelaySession
	playback  string // "pcm" or "wav"; set before the session is shared
	sessionID uint32 // relay session id; set before the session joins a hub
	name      string

	transmitting atomic.Bool // the browser is on the air: it gets no audio

	// floor is the push-to-talk state machine (client.Floor, the one talk
	// uses), made by initFloor; its changes are queued in floorQ (guarded
	// by floorMu) and floorWake wakes the loop to handle them.
	floor     *client.Floor
	floorMu   sync.Mutex
	floorQ    []client.FloorChange
	floorWake chan struct{}
	hub       atomic.Pointer[hub] // the channel's hub, read by the voice pump
	// monHubs are the hubs of the monitored channels but the own one, and
	// callHub the session's private hub for calls to it (intercom.go):
	// written by the loop (callHub also by the voice pump), read by the
	// voice pump.
	monHubs   atomic.Pointer[[]*hub]
	callHub   atomic.Pointer[hub]
	monitored []proto.ChannelInfo // the monitored channels (loop)

	// echoSink plays the microphone test back (owned by the voice pump).
	echoSink func(h proto.VoiceHeader, opus []byte, at time.Time)

	// Logged once per session (owned by the loop goroutine).
	splitLogged, reencodeLogged, lossLogged bool

	// Owned by the loop goroutine.
	roles      proto.Role // from the relay's welcome
	channel    proto.ChannelInfo
	inChannel  bool          // the browser was told it joined channel
	linkLost   bool          // the relay link went down; the next LinkUp is a reconnection
	roster     client.Roster // who is online, from the relay's presence
	tx         *transmission
	enc        *codec.Encoder
	born       time.Time
	ctlLimit   limit.Bucket
	textLimit  limit.Bucket
	audioLimit limit.Bucket
	strikes    limit.Bucket      // violations allowed: maxStrikes, one more a minute
	replay     *replayRun        // the history replay under way, if any
	awayQ      []uint64          // transmissions said while reconnecting, to replay in order (history.go: awayReplay)
	waiting    map[uint64]string // ClientID → recipient of texts waiting for an offline user
	cancel     context.CancelFunc
	ops        chan func(context.Context) // relay requests, run in order by the worker
	results    chan func()                // answers, run on the loop
	ctx        context.Context
}

// do queues a relay request for the worker goroutine (requests wait for the
// relay's answer, so they never run on the loop).
func (s *session) do(op func(ctx context.Context)) {
	select {
	case s.ops <- op:
	case <-s.ctx.Done():
	}
}

// post hands a result back to the loop goroutine.
func (s *session) post(f func()) {
	select {
	case s.results <- f:
	case <-s.ctx.Done():
	}
}

// worker runs relay requests one after the other until quit is closed,
// then runs what is still queued and returns.
func (s *session) worker(ctx context.Context, quit <-chan struct{}) {
	for {
		select {
		case op := <-s.ops:
			op(ctx)
		case <-quit:
			for {
				select {
				case op := <-s.ops:
					op(ctx)
				default:
					return
				}
			}
		}
	}
}

// queueAudio puts an audio message on the browser's queue, dropping the oldest if full.
func (s *session) queueAudio(b []byte) {
	if s.out.pushAudio(b) > 0 {
		s.srv.m.audioDropped.Inc()
	}
}

// sendJSON queues a control message; a browser that lets them pile up is closed.
func (s *session) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("cannot encode a message for the browser", "err", err)
		return
	}
	if !s.out.pushCtl(b) {
		s.log.Warn("browser does not read its messages; closing the session")
		s.cancel()
	}
}

func (s *session) sendError(code, text string) {
	s.sendJSON(map[string]any{"t": "error", "code": code, "text": text})
}

// strike counts a violation; too many end the session.
func (s *session) strike(reason, text string) {
	s.srv.m.badInput.WithLabelValues(reason).Inc()
	s.sendError(reason, text)
	if !s.strikes.Allow(time.Now()) {
		s.log.Warn("closing a session that keeps sending bad or too many messages", "reason", reason)
		s.cancel()
	}
}

// serve runs the session after a successful login until the browser or the
// relay goes away.
func (s *session) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.ctx = ctx
	s.ops = make(chan func(context.Context), 64)
	s.results = make(chan func(), 16)
	defer cancel()
	now := time.Now()
	s.born = now
	s.ctlLimit = limit.NewBucket(30, 60, now)
	s.strikes = limit.NewBucket(1.0/60, maxStrikes-1, now)
	s.textLimit = limit.NewBucket(2, 10, now)
	s.audioLimit = limit.NewBucket(400<<10, 1<<20, now)
	s.waiting = map[uint64]string{}
	s.initFloor()

	var wg sync.WaitGroup
	in := make(chan inMsg, 8)
	readErr := make(chan error, 1)
	writerDone := make(chan struct{})
	wg.Add(3)
	go func() { defer wg.Done(); readErr <- s.readLoop(ctx, in) }()
	go func() { defer wg.Done(); defer close(writerDone); s.writeLoop(ctx) }()
	go func() { defer wg.Done(); s.voicePump(ctx) }()
	workerCtx, stopWorker := context.WithCancel(context.Background())
	defer stopWorker()
	workerQuit, workerDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(workerDone); s.worker(workerCtx, workerQuit) }()

	w := s.relay.Welcome()
	s.sendWelcome(&w)
	if ch, ok := s.relay.Channel(); ok {
		s.joined(ch)
	}

	var timer *time.Timer
	var tick <-chan time.Time
	closeCode, closeText := websocket.StatusNormalClosure, ""
loop:
	for {
		// Arm a timer only while a clip or media packets are paced.
		if d, ok := s.tickWait(time.Now()); ok {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			tick = timer.C
		} else {
			tick = nil
		}
		select {
		case <-ctx.Done():
			break loop
		case <-s.srv.closing.Done():
			s.sendJSON(map[string]any{"t": "bye", "code": "shutdown", "text": shutdownText})
			closeCode, closeText = websocket.StatusGoingAway, "the gateway is restarting"
			break loop
		case err := <-readErr:
			if err != nil && !errors.Is(err, context.Canceled) {
				s.log.Debug("browser connection ended", "err", err)
			}
			break loop
		case m := <-in:
			if m.text {
				s.handleJSON(m.data)
			} else {
				s.handleBinary(m.data)
			}
		case ev, ok := <-s.relay.Events():
			if !ok {
				s.sendJSON(map[string]any{"t": "bye", "code": "relay", "text": "The intercom server ended the session."})
				closeCode, closeText = websocket.StatusGoingAway, "relay session ended"
				break loop
			}
			if s.handleEvent(ev) {
				closeCode, closeText = websocket.StatusNormalClosure, "bye"
				break loop
			}
		case f := <-s.results:
			f()
		case <-s.floorWake:
			s.floorChanges()
		case now := <-tick:
			s.tick(now)
		}
	}
	if timer != nil {
		timer.Stop()
	}
	s.stopReplay("")
	s.finishTx()
	floorDone := s.floor.Close()
	s.leaveHub()
	s.leaveMonitorHubs()
	// Let the worker finish what is queued (ending a transmission), briefly.
	close(workerQuit)
	select {
	case <-workerDone:
	case <-time.After(endWait):
		stopWorker()
		<-workerDone
	}
	select { // the floor's end of the last transmission, bounded by endWait
	case <-floorDone:
	case <-time.After(endWait):
	}
	_ = s.relay.Close()
	s.out.close()
	// Give the writer a moment to flush the last messages (a bye, an error).
	select {
	case <-writerDone:
	case <-time.After(2 * time.Second):
	}
	// Close before cancel: the read loop's Reader closes the connection
	// outright when its context ends (coder/websocket), and a close frame
	// sent after that never leaves (TestShutdownSaysBye saw EOF instead of
	// "going away" in a loaded make test).
	_ = s.conn.Close(closeCode, closeText)
	cancel()
	wg.Wait()
}

// readLoop reads browser messages, enforcing the size limits of each kind.
func (s *session) readLoop(ctx context.Context, in chan<- inMsg) error {
	for {
		typ, r, err := s.conn.Reader(ctx)
		if err != nil {
			return err
		}
		m, err := s.readOne(typ, r)
		if err != nil {
			return err
		}
		if m == nil {
			continue
		}
		select {
		case in <- *m:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// readOne reads one message; nil (and no error) when it was refused.
func (s *session) readOne(typ websocket.MessageType, r io.Reader) (*inMsg, error) {
	limit := int64(maxJSON)
	kind := "json"
	if typ == websocket.MessageBinary {
		var k [1]byte
		if _, err := io.ReadFull(r, k[:]); err != nil {
			if errors.Is(err, io.EOF) {
				s.srv.m.badInput.WithLabelValues("empty").Inc()
				return nil, nil
			}
			return nil, err
		}
		switch k[0] {
		case binWAV:
			limit, kind = s.srv.cfg.MaxClipBytes, "clip"
		case binPCM, binMedia, binOpus:
			limit, kind = maxAudioMsg, "audio"
		default:
			limit, kind = maxAudioMsg, "unknown"
		}
		b, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err != nil {
			return nil, err
		}
		if int64(len(b)) > limit {
			return nil, s.tooBig(r, kind, limit)
		}
		s.srv.m.wsIn.WithLabelValues(kind).Inc()
		return &inMsg{data: append([]byte{k[0]}, b...)}, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, s.tooBig(r, kind, limit)
	}
	s.srv.m.wsIn.WithLabelValues(kind).Inc()
	return &inMsg{text: true, data: b}, nil
}

// tooBig discards the rest of an oversized message (the websocket read limit
// bounds it) and tells the browser. The session goes on.
func (s *session) tooBig(r io.Reader, kind string, limit int64) error {
	s.srv.m.badInput.WithLabelValues("size").Inc()
	if _, err := io.Copy(io.Discard, r); err != nil {
		// Beyond the read limit: the websocket library closes the connection.
		s.out.pushCtl(mustJSON(map[string]any{"t": "error", "code": "size",
			"text": "That message was too large, so the connection was closed."}))
		return err
	}
	s.out.pushCtl(mustJSON(map[string]any{"t": "error", "code": "size",
		"text": "A " + kind + " message was too large (the limit is " + humanBytes(limit) + ") and was ignored."}))
	return nil
}

func (s *session) writeLoop(ctx context.Context) {
	for {
		m, ok, closed := s.out.pop()
		if !ok {
			if closed {
				return
			}
			select {
			case <-s.out.wake:
			case <-ctx.Done():
				return
			}
			continue
		}
		typ, kind := websocket.MessageBinary, "audio"
		if m.text {
			typ, kind = websocket.MessageText, "json"
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := s.conn.Write(wctx, typ, m.data)
		cancel()
		if err != nil {
			s.cancel()
			return
		}
		s.srv.m.wsOut.WithLabelValues(kind).Inc()
	}
}

// voicePump hands voice from the relay to the channel's hub.
func (s *session) voicePump(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case f, ok := <-s.relay.Voice():
			if !ok {
				return
			}
			if f.Header.Channel == proto.EchoChannel {
				s.echoPlayback(f)
				continue
			}
			switch h := s.hub.Load(); {
			case h != nil && h.id == f.Header.Channel:
				h.push(f)
			case f.Header.Channel == proto.WhisperChannel:
				s.privateCallHub().push(f)
			default:
				if mh := s.monitorHub(f.Header.Channel); mh != nil {
					mh.push(f)
				}
			}
		}
	}
}

// --- browser messages ---

type clientMsg struct {
	T        string `json:"t"`
	Name     string `json:"name"`
	Password string `json:"password"`
	Channel  string `json:"channel"`
	Playback string `json:"playback"`
	On       bool   `json:"on"`
	Format   string `json:"format"`
	Rate     int    `json:"rate"`
	Page     bool   `json:"page"`
	Echo     bool   `json:"echo"` // talk: a microphone test (played back to this page alone)
	Text     string `json:"text"`
	To       string `json:"to"`
	N        int64  `json:"n"`
	// History requests.
	Req    uint32 `json:"req"`
	ID     uint64 `json:"id"`
	Before uint64 `json:"before"`
	After  uint64 `json:"after"`
	Limit  int    `json:"limit"`
	Kinds  uint8  `json:"kinds"`
	// Listening: the channels to hear besides the own one.
	Channels []string `json:"channels"`
}

func (s *session) handleJSON(b []byte) {
	if !s.ctlLimit.Take(1, time.Now()) {
		s.strike("rate", "Too many messages: slow down.")
		return
	}
	var m clientMsg
	if err := json.Unmarshal(b, &m); err != nil || m.T == "" {
		s.strike("json", "The gateway did not understand a message from this page (not a Hark message). Reload the page.")
		return
	}
	if s.alarmJSON(&m) {
		return
	}
	switch m.T {
	case "join":
		if m.Channel == "" || len(m.Channel) > proto.MaxChannelLen {
			s.strike("join", "That channel name is not valid.")
			return
		}
		channel := m.Channel
		s.do(func(ctx context.Context) {
			ch, err := s.relay.Join(ctx, channel)
			s.post(func() {
				if err != nil {
					s.sendError("join", "Could not join "+channel+": "+err.Error())
					return
				}
				s.joined(ch)
			})
		})
	case "talk":
		if m.On {
			s.srv.m.wsIn.WithLabelValues("talk").Inc()
			if m.Page && s.roles&proto.RolePage == 0 {
				// The page hides the button; this is a forged or stale request.
				s.strike("forbidden", "You may not page everyone: that needs the page role, which the intercom's administrator gives.")
				s.sendJSON(map[string]any{"t": "floor", "granted": false})
				return
			}
			if m.To != "" {
				if msg := callToProblem(m.To, m.Page || m.Echo, s.name); msg != "" {
					s.strike("talk", msg)
					s.sendJSON(map[string]any{"t": "floor", "granted": false})
					return
				}
			}
			if err := s.startTx(m.Format, m.Rate, m.Page, m.Echo, m.To); err != nil {
				s.sendError("talk", err.Error())
			}
		} else {
			s.talkOff()
		}
	case "listen":
		s.listen(m.Channels)
	case "text":
		if !s.textLimit.Take(1, time.Now()) {
			s.strike("rate", "You are sending messages too fast.")
			return
		}
		if m.Text == "" || len(m.Text) > proto.MaxTextLen || !utf8.ValidString(m.Text) || len(m.To) > proto.MaxNameLen {
			s.strike("text", "That message is empty or too long (4096 bytes at most).")
			return
		}
		s.sendText(m.To, m.Text)
	case "ring":
		if !s.textLimit.Take(5, time.Now()) {
			s.strike("rate", "You rang a moment ago; wait a little before ringing again.")
			return
		}
		if len(m.Text) > proto.MaxTextLen || !utf8.ValidString(m.Text) {
			s.strike("text", "The ring message is too long.")
			return
		}
		text := m.Text
		s.do(func(ctx context.Context) {
			if err := s.relay.Ring(ctx, text); err != nil {
				s.post(func() { s.sendError("ring", "The ring was not sent: "+err.Error()) })
			}
		})
	case "history":
		s.queryHistory(m)
	case "play":
		s.startReplay(m.ID)
	case "play_stop":
		s.stopReplay("Stopped.")
	case "ping":
		s.sendJSON(map[string]any{"t": "pong", "n": m.N})
	case "login":
		s.strike("login", "You are already logged in.")
	default:
		s.strike("json", "The gateway does not know the message type \""+truncate(m.T, 32)+"\".")
	}
}

func (s *session) handleBinary(b []byte) {
	// A WAV clip is not charged to the live audio limit: it comes whole
	// (up to Config.MaxClipBytes, the read limit), one at a time, and is
	// sent in real time.
	if b[0] != binWAV && !s.audioLimit.Take(float64(len(b)), time.Now()) {
		s.srv.m.voiceDropped.WithLabelValues("rate").Inc()
		s.strike("rate", "Audio is arriving faster than real time; some was dropped.")
		return
	}
	switch b[0] {
	case binPCM:
		if len(b) < binHeaderLen || (len(b)-binHeaderLen)%2 != 0 {
			s.strike("pcm", "A PCM audio message was malformed.")
			return
		}
		p := b[binHeaderLen:]
		pcm := make([]int16, len(p)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(p[2*i:]))
		}
		s.pcmIn(pcm)
	case binOpus:
		if len(b) <= binHeaderLen {
			s.strike("opus", "An Opus audio message was malformed.")
			return
		}
		if err := s.opusIn(b[binHeaderLen:]); err != nil {
			s.strike("opus", err.Error())
		}
	case binMedia:
		if err := s.mediaIn(b[1:]); err != nil {
			s.strike("format", err.Error())
		}
	case binWAV:
		if err := s.clipIn(b[1:]); err != nil {
			s.strike("wav", err.Error())
		}
	default:
		s.strike("binary", "The gateway does not know that kind of audio message.")
	}
}

// --- relay events ---

// handleEvent translates one relay event for the browser; true ends the session.
func (s *session) handleEvent(ev RelayEvent) bool {
	if ev.Msg == nil {
		switch ev.Link {
		case LinkReconnecting:
			s.linkLost = true
			if s.tx != nil {
				s.finishTx()
			}
			text := orDefault(ev.Text, "The gateway lost the intercom server and is reconnecting…")
			var ferr *client.FingerprintError
			if errors.As(ev.Err, &ferr) {
				text = certChangedText // the client logs the details for the operator
			}
			s.sendJSON(map[string]any{"t": "state", "state": "reconnecting", "text": text})
		case LinkUp:
			// The first connection (made while logging in) is no news.
			if !s.linkLost {
				return false
			}
			s.linkLost = false
			s.sendJSON(map[string]any{"t": "state", "state": "connected", "text": orDefault(ev.Text, "Connected again.")})
			if ch, ok := s.relay.Channel(); ok {
				s.inChannel = false // say it again: the page forgot the talkers
				s.joined(ch)
			}
		}
		return false
	}
	switch m := ev.Msg.(type) {
	case *proto.Welcome:
		s.sessionID = m.Session
		s.roster.Apply(m)
		s.sendWelcome(m)
	case *proto.Joined:
		s.roster.Apply(m)
		s.joined(m.ChannelInfo)
	case *proto.Presence:
		s.roster.Apply(m)
		s.sendRoster()
	case *proto.PresenceChange:
		// A delta, not the whole roster again: with n users online a login
		// would otherwise cost n rosters of n entries.
		s.roster.Apply(m)
		u := m.User
		s.sendJSON(map[string]any{"t": "user", "kind": m.Kind.String(),
			"user": rosterUser{ID: u.Session, Name: u.Name, Channel: u.Channel, Talking: u.Talking}})
	case *proto.Monitoring:
		s.relayMonitoring(m)
	case *proto.Whisper:
		s.whisperEvent(m)
	case *proto.Talking:
		s.roster.Apply(m)
		if mh := s.monitorHub(m.Channel); mh != nil && !m.Priority && !(s.inChannel && m.Channel == s.channel.ID) {
			// A monitored channel.
			msg := map[string]any{"t": "talking", "channel": s.channelName(m.Channel), "id": m.Session, "name": m.Name,
				"on": m.Talking, "priority": false, "monitored": true}
			if !m.Talking {
				mh.talkerOff(m.Session, func() { s.sendJSON(msg) })
			} else {
				s.sendJSON(msg)
			}
			return false
		}
		msg := map[string]any{"t": "talking", "channel": s.channel.Name, "id": m.Session, "name": m.Name, "on": m.Talking, "priority": m.Priority}
		if h := s.hub.Load(); h != nil && !m.Talking && (h.id == m.Channel || m.Priority) {
			// The page ends the talker's stream when told: tell it once
			// the hub has sent the last of the audio (see talkerOff).
			h.talkerOff(m.Session, func() { s.sendJSON(msg) })
		} else {
			s.sendJSON(msg)
		}
		if m.Talking && m.Session != s.sessionID && (m.Priority || s.hub.Load() != nil && s.hub.Load().id == m.Channel) {
			if r := s.replay; r != nil && r.away {
				s.awayQ = append([]uint64{r.id}, s.awayQ...) // played again once the channel is quiet
			}
			s.stopReplay(m.Name + " is talking.")
		}
		if !m.Talking {
			s.nextAway()
		}
	case *proto.Text:
		s.sendJSON(map[string]any{"t": "text", "from": m.FromName, "to": m.To, "channel": m.Channel, "time": m.Time, "text": m.Text,
			"id": m.ID, "history": m.Flags&proto.TextFromHistory != 0})
		if hs := s.historyOf(); hs != nil && m.ID != 0 {
			hs.MarkRead(m.ID)
		}
	case *proto.History:
		s.missed(m)
	case *proto.TextAck:
		s.textAck(m)
	case *proto.Ring:
		ring := map[string]any{"t": "ring", "from": m.FromName, "time": m.Time, "text": m.Text}
		if m.Flags&proto.RingAlarm != 0 && m.Alarm != 0 {
			ring["alarm"] = m.Alarm
		}
		s.sendJSON(ring)
		if hs := s.historyOf(); hs != nil && m.ID != 0 {
			hs.MarkRead(m.ID) // heard live: not "missed" at the next login
		}
	case *proto.AlarmAck:
		s.alarmAckJSON(m)
	case *proto.Page:
		s.sendJSON(map[string]any{"t": "page", "from": m.FromName, "on": m.Active})
	case *proto.Error:
		if m.Code == proto.CodeTooLong && s.tx != nil {
			s.floor.Cut(&client.CutError{TooLong: true, Code: m.Code, Text: m.Text})
		}
		s.sendError(codeName(m.Code), m.Text)
	case *proto.Bye:
		if m.Code == proto.CodeShutdown {
			// The relay is stopping, most likely to restart: the
			// session's client reconnects on its resume ticket and the
			// page shows the link's state meanwhile (a bye would make it
			// log in again with the password, a password check per
			// browser at a relay that just came back).
			return false
		}
		s.sendJSON(map[string]any{"t": "bye", "code": codeName(m.Code), "text": m.Text})
		return true
	}
	return false
}

func (s *session) sendWelcome(w *proto.Welcome) {
	s.roles = w.Roles
	roles := strings.FieldsFunc(w.Roles.String(), func(r rune) bool { return r == ',' }) // [] for none
	chans := make([]map[string]any, 0, len(w.Channels))
	for _, c := range w.Channels {
		chans = append(chans, map[string]any{"name": c.Name, "mode": c.Mode.String(), "id": c.ID,
			"listen_only": c.Access&proto.AccessNoTalk != 0, "closed": c.Access&proto.AccessNoListen != 0})
	}
	s.sendJSON(map[string]any{"t": "welcome", "session": w.Session, "name": w.Name, "server": w.Server,
		"default": w.DefaultChannel, "channels": chans, "roles": roles, "max_clip_bytes": s.srv.cfg.MaxClipBytes,
		"history": s.historyOf() != nil})
}

type rosterUser struct {
	ID      uint32 `json:"id"`
	Name    string `json:"name"`
	Channel string `json:"channel"`
	Talking bool   `json:"talking"`
}

func (s *session) sendRoster() {
	all := s.roster.Users()
	users := make([]rosterUser, 0, len(all))
	for _, u := range all {
		users = append(users, rosterUser{ID: u.Session, Name: u.Name, Channel: u.Channel, Talking: u.Talking})
	}
	s.sendJSON(map[string]any{"t": "presence", "users": users})
}

// joined records the channel the session is in and tells the browser,
// once: the relay's Joined for the login's own join arrives after serve
// has already told the browser.
func (s *session) joined(ch proto.ChannelInfo) {
	if s.inChannel && s.channel == ch {
		return
	}
	if s.channel != ch && s.tx != nil {
		s.finishTx()
	}
	s.channel, s.inChannel = ch, true
	s.syncMonitorHubs(false) // leave a monitored channel's hub that becomes our own
	s.joinHub(ch.ID)
	s.syncMonitorHubs(true) // hear the channel we left if it is monitored
	s.sendJSON(map[string]any{"t": "joined", "channel": ch.Name, "mode": ch.Mode.String(), "history": historyName(ch.History),
		"listen_only": ch.Access&proto.AccessNoTalk != 0, "max_talk_ms": ch.MaxMillis})
}

func (s *session) joinHub(id uint16) {
	if h := s.hub.Load(); h != nil && h.id == id {
		return
	}
	s.leaveHub()
	s.hub.Store(s.srv.joinHub(id, s))
}

func (s *session) leaveHub() {
	if h := s.hub.Swap(nil); h != nil {
		s.srv.leaveHub(h, s)
	}
}

// --- small helpers ---

func codeName(c proto.Code) string {
	switch c {
	case proto.CodeVersion:
		return "version"
	case proto.CodeAuth:
		return "auth"
	case proto.CodeForbidden:
		return "forbidden"
	case proto.CodeNoChannel:
		return "no_channel"
	case proto.CodeBusy:
		return "busy"
	case proto.CodeRateLimit:
		return "rate"
	case proto.CodeBadMessage:
		return "bad_message"
	case proto.CodeNotJoined:
		return "not_joined"
	case proto.CodeNoUser:
		return "no_user"
	case proto.CodeKicked:
		return "kicked"
	case proto.CodeReplaced:
		return "replaced"
	case proto.CodeShutdown:
		return "shutdown"
	case proto.CodeIdle:
		return "idle"
	case proto.CodeTooLong:
		return "too_long"
	case proto.CodeUnavailable:
		return "unavailable"
	case proto.CodeNameTaken:
		return "name_taken"
	case proto.CodeBadName:
		return "bad_name"
	case proto.CodeBanned:
		return "banned"
	}
	return "error"
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

package relay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/proto"
	"github.com/prometheus/client_golang/prometheus"
)

// History (Config.History): the relay stores texts, private texts, rings,
// pages and (in channels with history=voice) transmissions, and serves them
// back. Nothing here runs disk I/O on a network goroutine or under r.mu:
//
//   - writes go through the store's bounded queue (store.Store.AddItem never
//     blocks; a full queue is a counted history drop and the text still goes
//     out live, without an id);
//   - voice frames reach the recorder through its own bounded queue
//     (recorder.capture, a non-blocking send from the voice path);
//   - reads (catch-up, queries, fetches, channel settings) run on a few
//     history workers, each session's in order (catch-up first) and
//     sessions in turn; a session with too many waiting gets
//     CodeUnavailable.
//
// A text is acknowledged (TextAck) from the store's writer goroutine after
// its commit, so whatever the relay acknowledged survives a crash.

// Limits of the history service.
const (
	catchUpMax     = 200             // items in a catch-up (History with HistoryMissed)
	historyWorkers = 2               // goroutines reading the store
	historyPending = 32              // history requests of one session waiting for a worker
	fetchesPerUser = 2               // Fetch answers being paced at once per session
	fetchSpeed     = 4               // Recording chunks go at up to this times real time
	fetchChunk     = 1 * time.Second // audio per Recording chunk (less if the message is full)
	dedupMax       = 100000          // (sender, client id) pairs remembered
	commitWait     = 5 * time.Second // a catch-up waits this long for the items before it to be on disk
)

// history is the relay's history service; nil without Config.History.
type history struct {
	r   *Relay
	st  *store.Store
	rec *recorder

	// Reads run on the workers, one task of a session at a time and in the
	// order they came (its catch-up before the answers to its requests):
	// each session with tasks waits once in ready (round robin), and its
	// tasks wait in its histQ (at most historyPending, plus catch-ups).
	rmu     sync.Mutex
	ready   []*session // guarded by rmu
	rnotify chan struct{}

	// dedup: texts by sender and client id, guarded by r.mu.
	sent     map[textKey]textRef
	sentFIFO []textKey // oldest first, for eviction; guarded by r.mu

	pageVoice atomic.Bool // some channel keeps voice: pages are kept with their audio

	chVersion uint64 // the store's channels version the settings were read at (New); then the watcher's

	textDups, busy, fetches atomic.Uint64

	away                  awaySet       // sessions back from away, waiting for transmissions under way (away.go)
	awaySent, awaySkipped atomic.Uint64 // transmissions replayed to sessions back from away, and left out
}

type textKey struct {
	from string
	cid  uint64
}

type textRef struct {
	id     uint64
	status proto.TextStatus
}

func newHistory(r *Relay, st *store.Store) (*history, error) {
	h := &history{r: r, st: st, sent: map[textKey]textRef{}, rnotify: make(chan struct{}, 1)}
	refs, err := st.RecentClientIDs(dedupMax)
	if err != nil {
		return nil, fmt.Errorf("relay: history store: %w", err)
	}
	for i := len(refs) - 1; i >= 0; i-- {
		c := refs[i]
		st := proto.TextSent
		if c.Kind == store.KindPrivate {
			st = proto.TextWaiting
			if c.Delivered {
				st = proto.TextDelivered
			}
		}
		h.rememberLocked(textKey{c.From, c.ClientID}, textRef{c.ID, st})
	}
	h.rec = newRecorder(r, st)
	return h, nil
}

// rememberLocked adds a sent text to the dedup table. Called under r.mu
// (or before Serve).
func (h *history) rememberLocked(k textKey, v textRef) {
	if _, ok := h.sent[k]; !ok {
		h.sentFIFO = append(h.sentFIFO, k)
	}
	h.sent[k] = v
	if len(h.sentFIFO) > dedupMax {
		n := len(h.sentFIFO) - dedupMax*3/4
		for _, old := range h.sentFIFO[:n] {
			delete(h.sent, old)
		}
		h.sentFIFO = append([]textKey(nil), h.sentFIFO[n:]...)
	}
}

// run serves reads and watches the channel settings until ctx ends.
func (h *history) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range historyWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-h.rnotify:
					for h.runOne() {
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Add(2)
	go func() { defer wg.Done(); h.rec.run(ctx) }()
	go func() { defer wg.Done(); h.watchChannels(ctx) }()
	wg.Wait()
}

// submit queues a read of s's for a worker, after s's earlier ones; false
// (counted) when s has too many waiting. A catch-up (force) always waits.
func (h *history) submit(s *session, f func(), force bool) bool {
	h.rmu.Lock()
	defer h.rmu.Unlock()
	if !force && len(s.histQ) >= historyPending {
		h.busy.Add(1)
		return false
	}
	s.histQ = append(s.histQ, f)
	if !s.histQueued {
		s.histQueued = true
		h.ready = append(h.ready, s)
		h.wake()
	}
	return true
}

// wake makes a worker look at the ready sessions. Called under rmu.
func (h *history) wake() {
	select {
	case h.rnotify <- struct{}{}:
	default:
	}
}

// runOne runs the next task of the next ready session; false when none
// was ready.
func (h *history) runOne() bool {
	h.rmu.Lock()
	if len(h.ready) == 0 {
		h.rmu.Unlock()
		return false
	}
	s := h.ready[0]
	h.ready = h.ready[1:]
	f := s.histQ[0]
	s.histQ = s.histQ[1:]
	if len(h.ready) > 0 {
		h.wake() // another worker may take the next session
	}
	h.rmu.Unlock()
	f()
	h.rmu.Lock()
	if len(s.histQ) > 0 {
		h.ready = append(h.ready, s)
		h.wake()
	} else {
		s.histQueued = false
		s.histQ = nil
	}
	h.rmu.Unlock()
	return true
}

// historyOK reports whether s gets history messages: the relay keeps
// history and s's client offered FeatureHistory (which needs version 2: a
// version-1 client knows none of the messages).
func (r *Relay) historyOK(s *session) bool {
	return r.hist != nil && s.features&proto.FeatureHistory != 0 && s.version >= proto.Version2
}

// itemOf converts a stored item for the wire.
func itemOf(it store.Item) proto.HistoryItem {
	return proto.HistoryItem{ID: it.ID, Kind: proto.HistoryKind(it.Kind), Flags: flagsOf(it), Time: it.Time,
		From: it.From, Channel: it.Channel, To: it.To, Text: it.Text, Duration: it.Duration, Size: it.Size}
}

func flagsOf(it store.Item) proto.ItemFlags {
	var f proto.ItemFlags
	if it.Flags&store.FlagAudio != 0 {
		f |= proto.ItemAudio
	}
	if it.Flags&store.FlagCut != 0 {
		f |= proto.ItemCut
	}
	if it.Kind == store.KindPrivate && !it.Delivered {
		f |= proto.ItemWaiting
	}
	return f
}

// historyMsg builds a History message of the items that fit in one
// message for version v; more is set when items were left out.
func historyMsg(req uint32, flags proto.HistoryFlags, items []store.Item, more bool, v uint16) *proto.History {
	m := &proto.History{Req: req, Flags: flags, More: more}
	size := 64
	for _, it := range items {
		pi := itemOf(it)
		n := pi.EncodedLen(v)
		if size+n > proto.MaxMessageSize || len(m.Items) == proto.MaxHistoryItems {
			m.More = true
			break
		}
		size += n
		m.Items = append(m.Items, pi)
	}
	return m
}

// ---- texts (under r.mu, from dispatch) ----

// storeTextLocked handles a text when the relay keeps history. It returns
// false when the text was handled (a duplicate, or a private text to an
// offline account); otherwise it has filled out.ID and ClientID and the
// caller sends out, then calls ackLater.
func (h *history) dupLocked(s *session, m *proto.Text) bool {
	if m.ClientID == 0 {
		return false
	}
	ref, ok := h.sent[textKey{s.name, m.ClientID}]
	if !ok {
		return false
	}
	h.textDups.Add(1)
	s.log.Debug("text resent: answered again, not sent again", "client_id", m.ClientID, "id", ref.id)
	ack := &proto.TextAck{ClientID: m.ClientID, ID: ref.id, Status: ref.status}
	// After what is queued: the first copy may not be on disk yet.
	if err := h.st.Barrier(func(error) { s.sendMsg(ack) }); err != nil {
		s.sendMsg(ack)
	}
	return true
}

// storeLocked queues a text; it returns its id, 0 when it could not be
// queued (counted by the store). The TextAck with status goes to s after
// the commit (or at once, with id 0, when it was not queued). A text that
// goes out live (status other than waiting) is remembered for dedup even
// when it was not stored: a resend must not deliver it twice.
func (h *history) storeLocked(s *session, it store.Item, status proto.TextStatus) uint64 {
	clientID := it.ClientID
	ack := func(id uint64) {
		if clientID != 0 && s.r.historyOK(s) {
			s.sendMsg(&proto.TextAck{ClientID: clientID, ID: id, Status: status})
		}
	}
	id, err := h.st.AddItem(it, nil, func(id uint64, err error) {
		if err != nil {
			var dup *store.DuplicateError
			if errors.As(err, &dup) {
				ack(dup.ID)
				return
			}
			// The store logged the failure once and counts it.
			s.log.Debug("history: a text could not be stored", "err", err)
			ack(0)
			return
		}
		ack(id)
	})
	if err != nil {
		ack(0)
		if clientID != 0 && status != proto.TextWaiting {
			h.rememberLocked(textKey{s.name, clientID}, textRef{0, status})
		}
		return 0
	}
	if clientID != 0 {
		h.rememberLocked(textKey{s.name, clientID}, textRef{id, status})
	}
	return id
}

// privateOfflineLocked stores a private text to a known account that is
// offline. It reports false if the store refused it (the sender was told).
func (h *history) privateOfflineLocked(s *session, m *proto.Text, now time.Time) bool {
	it := store.Item{Kind: store.KindPrivate, Time: proto.UnixMillis(now), From: s.name, To: m.To, Text: m.Text, ClientID: m.ClientID}
	id := h.storeLocked(s, it, proto.TextWaiting)
	if id == 0 {
		s.sendMsg(&proto.Error{Code: proto.CodeUnavailable, About: proto.TypeText,
			Text: fmt.Sprintf("%q is not online and the relay cannot store texts right now (its disk is too slow): try again later", m.To)})
		return false
	}
	// The sender's own copy, as for a delivered one.
	s.sendMsg(&proto.Text{From: s.id, FromName: s.name, To: m.To, Time: it.Time, Text: m.Text, ID: id, ClientID: m.ClientID})
	s.log.Info("private text stored for an offline user", "to", m.To, "id", id)
	return true
}

// ringLocked stores a ring and returns its id (0 when the store refused it:
// counted there).
func (h *history) ringLocked(s *session, text string, now time.Time) uint64 {
	id, _ := h.st.AddItem(store.Item{Kind: store.KindRing, Time: proto.UnixMillis(now), From: s.name, Text: text}, nil, nil)
	return id
}

// ---- login and join: catch-up ----

// loggedInLocked starts the catch-up of a session that just logged in
// (after its Welcome and presence snapshot); away is how long its client
// was away (proto.Auth.Away; 0 for a first login): the transmissions of
// that time follow the catch-up (away.go).
func (h *history) loggedInLocked(s *session, away time.Duration) {
	upTo := h.st.LastID()
	s.histLogin = upTo
	h.awayLoginLocked(s, away)
	h.submitCatchUp(s, "", upTo, 0)
}

// joinedLocked sends a session that joined ch what happened there since
// its catch-up and that it did not receive live.
func (h *history) joinedLocked(s *session, ch *channel) {
	if !h.r.historyOK(s) {
		return
	}
	upTo := h.st.LastID()
	from := max(s.histLogin, s.histSeen[ch.info.Name])
	if upTo <= from {
		return
	}
	if s.histSeen == nil {
		s.histSeen = map[string]uint64{}
	}
	s.histSeen[ch.info.Name] = upTo
	h.submitCatchUp(s, ch.info.Name, upTo, from)
}

// leftLocked notes that s received ch's items live until now.
func (h *history) leftLocked(s *session, ch *channel) {
	if s.histSeen == nil {
		s.histSeen = map[string]uint64{}
	}
	s.histSeen[ch.info.Name] = h.st.LastID()
}

// submitCatchUp sends s, from a worker, the items it missed up to upTo: at
// login (channel "") everything since its user's read position; after a
// join the channel's items after from as well. Private texts waiting for
// the user are marked delivered and their senders told.
func (h *history) submitCatchUp(s *session, channel string, upTo, from uint64) {
	h.submit(s, func() {
		// Everything queued before (the items up to upTo, the user's last
		// HistoryRead) is committed first, unless the disk stalls.
		committed := make(chan struct{})
		if h.st.Barrier(func(error) { close(committed) }) == nil {
			t := time.NewTimer(commitWait)
			select {
			case <-committed:
			case <-t.C:
			}
			t.Stop()
		}
		if s.isGone() {
			// It left before its catch-up, but it did log in: a first
			// login's read position is set all the same (CatchUp does
			// it), or its next login would start from then and hear
			// nothing of what was said meanwhile.
			if h.r.historyOK(s) {
				if _, _, err := h.st.CatchUp(context.Background(), s.name, store.CatchUpQuery{UpTo: upTo, After: from, Channel: channel, Limit: 1}); err != nil {
					s.log.Error("history: cannot set the read position of a session that left", "err", err)
				}
			}
			return
		}
		if !h.r.historyOK(s) {
			if channel == "" {
				h.deliverWaitingV1(s)
			}
			return
		}
		items, more, err := h.st.CatchUp(context.Background(), s.name, store.CatchUpQuery{UpTo: upTo, After: from, Channel: channel, Limit: catchUpMax})
		if err != nil {
			s.log.Error("history: cannot read the catch-up", "err", err)
			return
		}
		items = h.r.listenable(s, items)
		if channel != "" && len(items) == 0 {
			return
		}
		m := historyMsg(0, proto.HistoryMissed, items, more, s.version)
		s.sendMsg(m)
		h.delivered(s, items[:len(m.Items)])
		if channel == "" {
			h.sendAway(s)
		}
	}, true)
}

// delivered marks the waiting private texts among items delivered and
// tells their senders (if online).
func (h *history) delivered(s *session, items []store.Item) {
	var ids []uint64
	var acks []store.Item
	for _, it := range items {
		if it.Kind == store.KindPrivate && it.To == s.name && !it.Delivered {
			ids = append(ids, it.ID)
			acks = append(acks, it)
		}
	}
	if len(ids) == 0 {
		return
	}
	h.st.MarkDelivered(ids, func(err error) {
		if err != nil {
			return
		}
		r := h.r
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, it := range acks {
			if it.ClientID != 0 {
				k := textKey{it.From, it.ClientID}
				if _, ok := h.sent[k]; ok {
					h.sent[k] = textRef{it.ID, proto.TextDelivered}
				}
			}
			if from := r.byName[it.From]; from != nil && it.ClientID != 0 && r.historyOK(from) {
				from.sendMsg(&proto.TextAck{ClientID: it.ClientID, ID: it.ID, Status: proto.TextDelivered})
			}
		}
	})
}

// deliverWaitingV1 gives a session without FeatureHistory the private
// texts waiting for its user, as plain texts, once.
func (h *history) deliverWaitingV1(s *session) {
	items, err := h.st.Waiting(context.Background(), s.name)
	if err != nil {
		s.log.Error("history: cannot read the waiting private texts", "err", err)
		return
	}
	for _, it := range items {
		s.sendMsg(&proto.Text{FromName: it.From, To: it.To, Time: it.Time, Text: it.Text, ID: it.ID, Flags: proto.TextFromHistory})
	}
	h.delivered(s, items)
}

// ---- requests (from dispatch, without r.mu) ----

// request handles the history messages; it reports false for other
// messages.
func (h *history) request(s *session, m proto.Message) bool {
	switch m := m.(type) {
	case *proto.HistoryRead:
		if m.UpTo > 0 {
			h.st.SetRead(s.name, min(m.UpTo, h.st.LastID()), nil)
		}
	case *proto.HistoryQuery:
		if ch := h.r.chByName[m.Channel]; ch != nil && !ch.mayListen(s) {
			h.r.c.ruleRefusals.Add(1)
			s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: m.Type(), Text: truncate(ch.listenRefusal(), proto.MaxReasonLen)})
			return true
		}
		q := store.Query{Channel: m.Channel, Before: m.Before, After: m.After, Since: m.Since, Until: m.Until, Limit: int(m.Limit), Kinds: m.Kinds}
		if !h.submit(s, func() {
			items, more, err := h.st.Query(context.Background(), s.name, q)
			if err != nil {
				s.log.Error("history: query failed", "err", err)
				s.sendMsg(&proto.Error{Code: proto.CodeInternal, About: m.Type(), Text: "the relay could not read its history: tell its operator"})
				return
			}
			s.sendMsg(historyMsg(m.Req, 0, h.r.listenable(s, items), more, s.version))
		}, false) {
			h.busyErr(s, m.Type())
		}
	case *proto.Fetch:
		if s.fetching.Load() >= fetchesPerUser {
			s.sendMsg(&proto.Error{Code: proto.CodeRateLimit, About: m.Type(), Text: "two recordings are being sent to you already: wait for them"})
			return true
		}
		s.fetching.Add(1)
		if !h.submit(s, func() { h.fetch(s, m) }, false) {
			s.fetching.Add(-1)
			h.busyErr(s, m.Type())
		}
	case *proto.ChannelSet:
		if s.roles&proto.RoleAdmin == 0 {
			s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: m.Type(), Text: "only an admin may change a channel's settings: ask an admin for the admin role"})
			return true
		}
		if !h.submit(s, func() { h.channelSet(s, m) }, false) {
			h.busyErr(s, m.Type())
		}
	default:
		return false
	}
	return true
}

func (h *history) busyErr(s *session, t proto.MsgType) {
	s.sendMsg(&proto.Error{Code: proto.CodeUnavailable, About: t, Text: "too many history requests are waiting: wait for their answers, then try again"})
}

// noHistory answers a history request on a relay that keeps none.
func noHistory(s *session, m proto.Message) bool {
	switch m.(type) {
	case *proto.HistoryRead:
	case *proto.HistoryQuery, *proto.Fetch, *proto.ChannelSet:
		s.sendMsg(&proto.Error{Code: proto.CodeUnavailable, About: m.Type(), Text: "this relay keeps no history (its operator started it without a history store)"})
	default:
		return false
	}
	return true
}

// fetch sends a stored transmission as Recording messages: the first at
// once, the rest paced at fetchSpeed times real time, so that a replay
// never crowds out the control stream. Runs on a worker, then on its own
// goroutine while pacing.
func (h *history) fetch(s *session, m *proto.Fetch) {
	it, packets, err := h.st.Packets(context.Background(), s.name, m.ID)
	if err != nil {
		s.fetching.Add(-1)
		if errors.Is(err, store.ErrNotFound) {
			s.sendMsg(&proto.Error{Code: proto.CodeNotFound, About: m.Type(), Text: fmt.Sprintf("there is no stored recording %d (it may have been removed by the channel's limits)", m.ID)})
			return
		}
		s.log.Error("history: cannot read a recording", "id", m.ID, "err", err)
		s.sendMsg(&proto.Error{Code: proto.CodeInternal, About: m.Type(), Text: "the relay could not read the recording: tell its operator"})
		return
	}
	if ch := h.r.chByName[it.Channel]; ch != nil && !ch.mayListen(s) {
		s.fetching.Add(-1)
		h.r.c.ruleRefusals.Add(1)
		s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: m.Type(), Text: truncate(ch.listenRefusal(), proto.MaxReasonLen)})
		return
	}
	h.fetches.Add(1)
	chunks := chunkPackets(m.Req, m.ID, packets, s.version)
	s.sendMsg(chunks[0])
	if len(chunks) == 1 {
		s.fetching.Add(-1)
		return
	}
	go func() {
		defer s.fetching.Add(-1)
		start := time.Now()
		for _, c := range chunks[1:] {
			due := start.Add(time.Duration(c.Packets[0].Offset) * time.Millisecond / fetchSpeed)
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-s.closing:
					t.Stop()
					return
				}
			}
			s.sendMsg(c)
		}
	}()
}

// chunkPackets splits packets into Recording messages of about fetchChunk
// of audio each, within the message size; the last has More false.
func chunkPackets(req uint32, id uint64, packets []store.Packet, v uint16) []*proto.Recording {
	var out []*proto.Recording
	cur := &proto.Recording{Req: req, ID: id}
	size, first := 64, uint32(0)
	for _, p := range packets {
		rp := proto.RecPacket{Offset: p.Offset, Opus: p.Opus}
		n := rp.EncodedLen(v)
		if len(cur.Packets) > 0 && (size+n > proto.MaxMessageSize || len(cur.Packets) == proto.MaxRecPackets ||
			time.Duration(p.Offset-first)*time.Millisecond >= fetchChunk) {
			cur.More = true
			out = append(out, cur)
			cur, size = &proto.Recording{Req: req, ID: id}, 64
		}
		if len(cur.Packets) == 0 {
			first = p.Offset
		}
		cur.Packets = append(cur.Packets, rp)
		size += n
	}
	return append(out, cur)
}

// channelSet applies an admin's ChannelSet (on a worker).
func (h *history) channelSet(s *session, m *proto.ChannelSet) {
	r := h.r
	r.mu.Lock()
	ch := r.chByName[m.Channel]
	r.mu.Unlock()
	if ch == nil {
		s.sendMsg(&proto.Error{Code: proto.CodeNoChannel, About: m.Type(), Text: truncate(fmt.Sprintf("there is no channel %q", m.Channel), proto.MaxReasonLen)})
		return
	}
	set, err := h.st.SetChannel(m.Channel, m.Settings)
	if err != nil {
		s.sendMsg(&proto.Error{Code: proto.CodeBadMessage, About: m.Type(), Text: truncate(err.Error(), proto.MaxReasonLen)})
		return
	}
	r.mu.Lock()
	r.applySettingsLocked(ch, set)
	r.mu.Unlock()
	s.log.Info("channel settings changed", "channel", m.Channel, "settings", set.String())
	s.sendMsg(&proto.ChannelSettings{Channel: m.Channel, Settings: set.String()})
}

// applySettingsLocked puts a channel's settings into effect. A change of
// mode ends the channel's transmissions (they were granted under the old
// mode); new rules take effect at once (see applyRulesLocked). When the
// mode, what the channel keeps or its rules changed, its members get
// Joined again with their new ChannelInfo: people must know at once that
// they are now recorded, or listen-only.
func (r *Relay) applySettingsLocked(ch *channel, set store.ChannelSettings) {
	old := ch.hset.Load()
	ch.hset.Store(&set)
	ch.recVoice.Store(set.History == store.HistoryVoice)
	if ch.info.Mode != set.Mode {
		if ch.holder != nil {
			r.releaseLocked(ch)
		}
		for s := range ch.talkers {
			r.talkerStopLocked(ch, s)
		}
	}
	changed := ch.info.Mode != set.Mode || ch.info.History != proto.ChannelHistory(set.History)
	ch.info.Mode = set.Mode
	ch.info.History = proto.ChannelHistory(set.History)
	if r.applyRulesLocked(ch, newChanRules(set, r.cfg.Logger, ch.info.Name)) {
		changed = true
	}
	if changed && old != nil {
		r.rejoinedLocked(ch)
	}
	any := false
	for _, c := range r.channels {
		any = any || c.recVoice.Load()
	}
	if r.hist != nil {
		r.hist.pageVoice.Store(any)
	}
	if old != nil && *old != set {
		r.cfg.Logger.Info("channel settings in effect", "channel", ch.info.Name, "settings", set.String())
	}
}

// watchChannels applies channel settings changed in the store by another
// process (`relay channel set`) within a second.
func (h *history) watchChannels(ctx context.Context) {
	last, failing := h.chVersion, false
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := h.st.ChannelsVersion()
		if err != nil {
			if !failing {
				h.r.cfg.Logger.Error("history: cannot read the channel settings; keeping the current ones", "err", err)
			}
			failing = true
			continue
		}
		failing = false
		if v == last {
			continue
		}
		last = v
		list, _, err := h.st.Channels()
		if err != nil {
			h.r.cfg.Logger.Error("history: cannot read the channel settings; keeping the current ones", "err", err)
			continue
		}
		h.r.mu.Lock()
		for _, c := range list {
			if ch := h.r.chByName[c.Name]; ch != nil {
				h.r.applySettingsLocked(ch, c.Settings)
			} else {
				h.r.cfg.Logger.Warn("a channel was added in the store; restart the relay to open it", "channel", c.Name)
			}
		}
		h.r.mu.Unlock()
	}
}

// HistoryStats is the history part of Stats.
type HistoryStats struct {
	store.Stats
	// TextDuplicates counts texts resent with a client id already seen
	// (answered again, not sent again); Busy reads refused because the
	// session had too many waiting; Fetches recordings sent; VoiceDropped
	// voice frames the recorder could not take (its queue was full).
	TextDuplicates, Busy, Fetches, VoiceDropped uint64
	// AwaySent counts transmissions sent to sessions that came back
	// after being away (proto.HistoryAway), AwaySkipped those left out by
	// the bounds (see away.go).
	AwaySent, AwaySkipped uint64
}

// HistoryStats returns the history counters (zero without a store).
func (r *Relay) HistoryStats() HistoryStats {
	h := r.hist
	if h == nil {
		return HistoryStats{}
	}
	return HistoryStats{Stats: h.st.Stats(), TextDuplicates: h.textDups.Load(), Busy: h.busy.Load(),
		Fetches: h.fetches.Load(), VoiceDropped: h.rec.dropped.Load(), AwaySent: h.awaySent.Load(), AwaySkipped: h.awaySkipped.Load()}
}

// openHistory sets up the history service at New: each channel's settings
// come from the store (the defaults for a channel the store does not list).
func (r *Relay) openHistory(st *store.Store) error {
	h, err := newHistory(r, st)
	if err != nil {
		return err
	}
	r.hist = h
	// The version first: a change made after it is applied by the watcher.
	if h.chVersion, err = st.ChannelsVersion(); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	list, _, err := st.Channels()
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	byName := map[string]store.ChannelSettings{}
	for _, c := range list {
		byName[c.Name] = c.Settings
	}
	for _, ch := range r.channels {
		set, ok := byName[ch.info.Name]
		if !ok {
			set = store.DefaultSettings(ch.info.Mode)
		}
		set.Mode = ch.info.Mode // the configuration decides the mode
		r.applySettingsLocked(ch, set)
	}
	return nil
}

// knownLocked reports whether name is an account (a private text to it is
// kept while it is offline). In open mode nobody is known.
func (r *Relay) knownLocked(name string) bool {
	ul, ok := r.cfg.Users.(UserList)
	return ok && !r.cfg.Open && ul.Has(name)
}

// historyCollector exports the history counters to Prometheus.
type historyCollector struct {
	r                                                    *Relay
	written, dropped, failed, removed, queue, dups, busy *prometheus.Desc
	fetches, voiceDropped, bytes, awaySent, awaySkipped  *prometheus.Desc
}

func newHistoryCollector(r *Relay) *historyCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("hark_relay_history_"+name, help, labels, nil)
	}
	return &historyCollector{r: r,
		written:      d("written_total", "History items committed to the store."),
		dropped:      d("dropped_total", "History writes dropped because the store's queue was full (the disk did not keep up); voice and live texts went on."),
		failed:       d("failed_total", "History writes lost because the database refused them."),
		removed:      d("removed_total", "History items removed, by reason (channel limits, the relay's total cap, purge, deleted users).", "reason"),
		queue:        d("queue_depth", "History writes waiting for the disk."),
		dups:         d("text_duplicates_total", "Texts resent with a client id already seen (answered again, not sent again)."),
		busy:         d("busy_total", "History requests refused because the history readers were busy."),
		fetches:      d("fetches_total", "Recordings sent (Fetch)."),
		voiceDropped: d("voice_dropped_total", "Voice frames missing from recordings because the recorder's queue was full (live voice was not affected)."),
		bytes:        d("bytes_total", "Opus bytes of transmissions and pages stored."),
		awaySent:     d("away_sent_total", "Stored transmissions sent to sessions that came back after losing their connection, to play as missed."),
		awaySkipped:  d("away_skipped_total", "Transmissions of the time a session was away that were not sent to it (beyond the newest 20, or older than 2 minutes: they stay in the history)."),
	}
}

func (c *historyCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.written, c.dropped, c.failed, c.removed, c.queue, c.dups, c.busy, c.fetches, c.voiceDropped, c.bytes, c.awaySent, c.awaySkipped} {
		ch <- d
	}
}

func (c *historyCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.HistoryStats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.written, s.Written)
	counter(c.dropped, s.Dropped)
	counter(c.failed, s.Failed)
	for k, v := range s.Removed {
		counter(c.removed, v, k)
	}
	ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, float64(s.QueueDepth))
	counter(c.dups, s.TextDuplicates)
	counter(c.busy, s.Busy)
	counter(c.fetches, s.Fetches)
	counter(c.voiceDropped, s.VoiceDropped)
	counter(c.bytes, s.Bytes)
	counter(c.awaySent, s.AwaySent)
	counter(c.awaySkipped, s.AwaySkipped)
}

// isGone reports whether the session is ending (its catch-up is not read
// any more). Safe without r.mu.
func (s *session) isGone() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

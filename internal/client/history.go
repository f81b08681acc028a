package client

// History (issue 11): queries of what the relay stored, fetching a stored
// transmission, texts with acknowledgements that survive a reconnection,
// and the automatic read position (HistoryRead).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hark-intercom/hark/proto"
)

// ErrNoHistory is returned by History, Fetch and ChannelSet when the relay
// keeps no history (it predates issue 11 or did not offer
// proto.FeatureHistory).
var ErrNoHistory = errors.New("this relay keeps no history (it is older than this program, or history is not built into it): update the relay")

// ErrOutboxFull is returned by SendText when too many texts are waiting for
// the connection to come back.
var ErrOutboxFull = errors.New("too many texts are waiting for the connection to the relay to come back; try again once it is back")

// MaxOutbox bounds the texts kept while reconnecting (see SendText).
const MaxOutbox = 256

// maxItemCache bounds the history items remembered for Fetch.
const maxItemCache = 1024

// Recording is one stored transmission, as Fetch returns it: the item that
// describes it and its Opus packets, each at its offset from the start.
// Packets are in the relay's order (by offset); gaps between offsets are
// silence (nothing was sent, or it was lost before the relay).
type Recording struct {
	Item    proto.HistoryItem
	Packets []proto.RecPacket
}

// historyState is the Client's history bookkeeping. Its fields are guarded
// by Client.mu unless noted.
type historyState struct {
	// outbox holds texts sent with SendText and not yet answered, in the
	// order they were sent. Only the first is on the wire at a time (see
	// pumpOut): the relay answers an accepted text after storing it but
	// refuses one at once, so with several in flight a refusal could not
	// be told apart from an earlier text's late answer. After a
	// reconnection the first is written again with the same ClientID (the
	// relay drops a resend it already has and answers its TextAck again).
	outbox []*outText
	// nextClientID numbers texts: a random start, so that a restarted
	// program never reuses the ids of its previous run.
	nextClientID uint64

	// readSent is the highest UpTo sent in a HistoryRead; readWant the
	// highest id the user has been shown (sent when connected).
	readSent, readWant uint64

	// items remembers the last history items seen (answers and catch-up),
	// for Fetch; itemOrder evicts the oldest.
	items     map[uint64]proto.HistoryItem
	itemOrder []uint64

	// fetch is the Fetch under way, if any (fetchMu serialises them).
	fetch *fetchState

	// missed is the catch-up of the current connection (History messages
	// with HistoryMissed, in order), for Missed.
	missed     []proto.HistoryItem
	missedMore bool
	// missedReady is closed when the login catch-up of the current
	// connection has arrived (see WaitMissed).
	missedReady chan struct{}
}

// outText is a text waiting for its TextAck.
type outText struct {
	msg  proto.Text
	cn   *conn           // the connection it was last written on (nil: not yet)
	done chan textResult // cap 1; receives the outcome once
	gone bool            // the caller stopped waiting: report the ack as an event
}

type textResult struct {
	ack proto.TextAck
	err error
}

// fetchState collects a Fetch's Recording messages. Guarded by Client.mu.
type fetchState struct {
	req   uint32
	cn    *conn
	parts []proto.RecPacket
	done  bool
	err   error
	wake  chan struct{} // cap 1
}

func (f *fetchState) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Features returns the optional features the relay and this client agreed
// on for the current (or last) connection, e.g. proto.FeatureHistory.
func (c *Client) Features() proto.Features {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.features
}

// HasHistory reports whether the relay keeps history (the feature was
// agreed on the current or last connection).
func (c *Client) HasHistory() bool { return c.Features()&proto.FeatureHistory != 0 }

func (c *Client) nextReq() uint32 {
	for {
		if r := c.reqNo.Add(1); r != 0 {
			return r
		}
	}
}

// History asks the relay for stored items (see proto.HistoryQuery; q.Req is
// set here). Items come newest first unless q.After is set; more says the
// relay has more beyond q.Limit (page on with Before or After).
func (c *Client) History(ctx context.Context, q proto.HistoryQuery) (items []proto.HistoryItem, more bool, err error) {
	if !c.HasHistory() {
		return nil, false, ErrNoHistory
	}
	q.Req = c.nextReq()
	req := q.Req
	r, err := c.request(ctx, &q, func(m proto.Message) bool {
		h, ok := m.(*proto.History)
		return ok && h.Req == req || isErrorAbout(m, proto.TypeHistoryQuery)
	}, false)
	if err != nil {
		return nil, false, err
	}
	if e, ok := r.(*proto.Error); ok {
		if e.Code == proto.CodeNoChannel {
			return nil, false, &RelayError{Code: e.Code, About: e.About, Text: fmt.Sprintf("there is no channel %q on the relay, or you may not see it", q.Channel)}
		}
		return nil, false, c.errorFor(e, "read the history")
	}
	h := r.(*proto.History)
	return h.Items, h.More, nil
}

// Fetch fetches one stored transmission (a voice item, or a page with
// proto.ItemAudio). The relay sends the packets paced at up to four times
// real time, so a long one takes a while: the request fails only when
// nothing came for Config.RequestTimeout (or ctx ends). Fetches are
// serialised among themselves but do not hold up other requests (a
// transmission can start during a replay).
func (c *Client) Fetch(ctx context.Context, id uint64) (*Recording, error) {
	rec := &Recording{}
	item, err := c.FetchFunc(ctx, id, func(p []proto.RecPacket) error {
		rec.Packets = append(rec.Packets, p...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rec.Item = item
	return rec, nil
}

// FetchFunc is Fetch delivering packets as they arrive: fn is called with
// each batch (in order; it may keep the slice) on the caller's goroutine,
// so a player can start before the last packet came. An error from fn ends
// the fetch and is returned.
func (c *Client) FetchFunc(ctx context.Context, id uint64, fn func([]proto.RecPacket) error) (proto.HistoryItem, error) {
	if !c.HasHistory() {
		return proto.HistoryItem{}, ErrNoHistory
	}
	item, err := c.Item(ctx, id)
	if err != nil {
		return proto.HistoryItem{}, err
	}
	if item.Flags&proto.ItemAudio == 0 {
		return item, fmt.Errorf("item %d is a %s with no sound to play", id, KindName(item.Kind))
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	cn, err := c.current()
	if err != nil {
		return item, err
	}
	f := &fetchState{req: c.nextReq(), cn: cn, wake: make(chan struct{}, 1)}
	c.mu.Lock()
	c.hist.fetch = f
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.hist.fetch == f {
			c.hist.fetch = nil
		}
		c.mu.Unlock()
	}()
	if err := cn.write(&proto.Fetch{Req: f.req, ID: id}); err != nil {
		return item, err
	}
	idle := time.NewTimer(c.cfg.RequestTimeout)
	defer idle.Stop()
	for {
		c.mu.Lock()
		parts, done, ferr := f.parts, f.done, f.err
		f.parts = nil
		c.mu.Unlock()
		if len(parts) > 0 {
			if err := fn(parts); err != nil {
				return item, err
			}
			idle.Reset(c.cfg.RequestTimeout)
		}
		if ferr != nil {
			return item, ferr
		}
		if done {
			return item, nil
		}
		select {
		case <-f.wake:
		case <-cn.done:
			return item, fmt.Errorf("fetching transmission %d: %w", id, ErrConnectionLost)
		case <-idle.C:
			return item, fmt.Errorf("fetching transmission %d: no answer from the relay for %v", id, c.cfg.RequestTimeout)
		case <-ctx.Done():
			return item, ctx.Err()
		}
	}
}

// Item returns the history item id, from the items this client has seen
// or by asking the relay.
func (c *Client) Item(ctx context.Context, id uint64) (proto.HistoryItem, error) {
	c.mu.Lock()
	it, ok := c.hist.items[id]
	c.mu.Unlock()
	if ok {
		return it, nil
	}
	items, _, err := c.History(ctx, proto.HistoryQuery{Before: id + 1, Limit: 1})
	if err != nil {
		return proto.HistoryItem{}, err
	}
	if len(items) == 0 || items[0].ID != id {
		return proto.HistoryItem{}, &RelayError{Code: proto.CodeNotFound, About: proto.TypeFetch,
			Text: fmt.Sprintf("there is no item %d in the history (it was removed, or you may not see it; list them with talk history)", id)}
	}
	c.rememberItems(items)
	return items[0], nil
}

// rememberItems keeps items for Fetch (bounded, oldest forgotten first).
func (c *Client) rememberItems(items []proto.HistoryItem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hist.items == nil {
		c.hist.items = map[uint64]proto.HistoryItem{}
	}
	for _, it := range items {
		if _, ok := c.hist.items[it.ID]; !ok {
			c.hist.itemOrder = append(c.hist.itemOrder, it.ID)
		}
		c.hist.items[it.ID] = it
	}
	for len(c.hist.itemOrder) > maxItemCache {
		delete(c.hist.items, c.hist.itemOrder[0])
		c.hist.itemOrder = c.hist.itemOrder[1:]
	}
}

// SendText sends a text to the client's channel (to == "") or to one user,
// and returns the relay's acknowledgement: proto.TextSent for a channel
// text, proto.TextDelivered for a private text whose recipient is online,
// proto.TextWaiting when they are not (the relay keeps it and delivers it
// at their next login; a TextAck event with TextDelivered follows then, if
// this client is still connected).
//
// While the client is reconnecting the text is kept (up to MaxOutbox) and
// sent once the connection is back; a text whose acknowledgement was lost
// with a connection is sent again with the same id, and the relay does not
// deliver it twice. If ctx ends first SendText returns ctx's error, but the
// text stays queued: its TextAck then comes as an event.
//
// With a relay that keeps no history there is no acknowledgement: the
// answer is TextSent (TextDelivered for a private text) once the relay has
// taken the text, and a text cannot be sent while reconnecting.
func (c *Client) SendText(ctx context.Context, to, text string) (proto.TextAck, error) {
	if !c.HasHistory() {
		if err := c.textNoHistory(ctx, to, text); err != nil {
			return proto.TextAck{}, err
		}
		st := proto.TextSent
		if to != "" {
			st = proto.TextDelivered
		}
		return proto.TextAck{Status: st}, nil
	}
	m := proto.Text{To: to, Text: text}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return proto.TextAck{}, ErrClosed
	}
	if to == "" {
		if c.cur != nil && !c.inChannel || c.channel == "" {
			c.mu.Unlock()
			return proto.TextAck{}, ErrNotJoined
		}
		m.Channel = c.channel
	}
	if len(c.hist.outbox) >= MaxOutbox {
		c.mu.Unlock()
		return proto.TextAck{}, ErrOutboxFull
	}
	if c.hist.nextClientID == 0 {
		c.hist.nextClientID = rand.Uint64() | 1
	}
	m.ClientID = c.hist.nextClientID
	c.hist.nextClientID++
	if c.hist.nextClientID == 0 {
		c.hist.nextClientID = 1
	}
	ot := &outText{msg: m, done: make(chan textResult, 1)}
	c.hist.outbox = append(c.hist.outbox, ot)
	cn := c.cur
	c.mu.Unlock()
	c.pumpOut(cn)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.RequestTimeout)
		defer cancel()
	}
	select {
	case r := <-ot.done:
		return r.ack, r.err
	case <-ctx.Done():
		c.mu.Lock()
		ot.gone = true
		c.mu.Unlock()
		select {
		case r := <-ot.done: // answered meanwhile
			return r.ack, r.err
		default:
		}
		return proto.TextAck{}, fmt.Errorf("no answer from the relay to the text yet (it is sent once the connection is back): %w", ctx.Err())
	case <-c.life.Done():
		return proto.TextAck{}, ErrClosed
	}
}

// pumpOut writes the first waiting text on cn, unless it is on cn
// already (nil cn: not connected). A failed write is repeated on the next
// connection (the write failing means this one is ending).
func (c *Client) pumpOut(cn *conn) {
	if cn == nil {
		return
	}
	c.mu.Lock()
	if len(c.hist.outbox) == 0 || c.hist.outbox[0].cn == cn {
		c.mu.Unlock()
		return
	}
	ot := c.hist.outbox[0]
	ot.cn = cn
	m := ot.msg
	c.mu.Unlock()
	if cn.features&proto.FeatureHistory == 0 {
		// The relay came back without history (an older one): it sends no
		// TextAck, but answers a refusal before a Ping's Pong.
		go c.pumpOld(cn, ot)
		return
	}
	if err := cn.write(&m); err != nil {
		c.log.Debug("text not sent; it is sent again after reconnecting", "err", err)
	}
}

// pumpOld sends the first waiting text to a relay without history (queued
// while the client was reconnecting to it) and finishes it as the relay
// answers: a refusal, or the Pong of a Ping sent after it.
func (c *Client) pumpOld(cn *conn, ot *outText) {
	m := ot.msg
	r, err := c.request(c.life, &m, func(m proto.Message) bool { return isErrorAbout(m, proto.TypeText) }, true)
	if err != nil {
		return // the connection ended: the next one sends it again
	}
	if e, ok := r.(*proto.Error); ok {
		c.finishOut(cn, nil, e)
		return
	}
	st := proto.TextSent
	if m.To != "" {
		st = proto.TextDelivered
	}
	c.finishOut(cn, &proto.TextAck{ClientID: m.ClientID, Status: st}, nil)
}

// finishOut takes the text on the wire (the first waiting) off the outbox
// when the relay answered it: a TextAck with its ClientID, or an Error
// (which names no text) on the connection it was written on. It reports
// the outcome and writes the next text. It returns false when the answer
// is not for it (e.g. a later "delivered" for an earlier text).
func (c *Client) finishOut(cn *conn, ack *proto.TextAck, e *proto.Error) bool {
	c.mu.Lock()
	if len(c.hist.outbox) == 0 {
		c.mu.Unlock()
		return false
	}
	ot := c.hist.outbox[0]
	if ack != nil && ot.msg.ClientID != ack.ClientID || ack == nil && ot.cn != cn {
		c.mu.Unlock()
		return false
	}
	c.hist.outbox = c.hist.outbox[1:]
	gone := ot.gone
	c.mu.Unlock()
	defer c.pumpOut(cn)
	var r textResult
	if ack != nil {
		r.ack = *ack
	} else {
		r.err = c.textError(ot.msg.To, e)
	}
	ot.done <- r // cap 1, sent once
	if gone {
		if ack != nil {
			a := *ack
			c.events.push(Event{Msg: &a})
		} else {
			c.log.Warn("a text sent while reconnecting was refused", "to", ot.msg.To, "err", r.err)
			c.events.push(Event{Msg: e})
		}
	}
	return true
}

// failOutbox ends every waiting text with err (the client closed).
func (c *Client) failOutbox(err error) {
	c.mu.Lock()
	out := c.hist.outbox
	c.hist.outbox = nil
	c.mu.Unlock()
	if len(out) > 0 {
		c.log.Warn("texts not sent: the client closed before the relay took them", "count", len(out))
	}
	for _, ot := range out {
		ot.done <- textResult{err: err}
	}
}

func (c *Client) textError(to string, e *proto.Error) error {
	if e.Code == proto.CodeNoUser {
		if c.HasHistory() {
			return &RelayError{Code: e.Code, About: e.About, Text: fmt.Sprintf("%s is not online, and the relay keeps texts for later only for users with an account, which %s is not", to, to)}
		}
		return &RelayError{Code: e.Code, About: e.About, Text: fmt.Sprintf("%s is not online", to)}
	}
	return c.errorFor(e, "send text")
}

// ChannelSet changes a channel's settings (role admin), e.g.
// "history=voice max-age=24h", and returns the channel's full settings
// afterwards.
func (c *Client) ChannelSet(ctx context.Context, channel, settings string) (string, error) {
	if !c.HasHistory() {
		return "", ErrNoHistory
	}
	r, err := c.request(ctx, &proto.ChannelSet{Channel: channel, Settings: settings}, func(m proto.Message) bool {
		s, ok := m.(*proto.ChannelSettings)
		return ok && s.Channel == channel || isErrorAbout(m, proto.TypeChannelSet)
	}, false)
	if err != nil {
		return "", err
	}
	if e, ok := r.(*proto.Error); ok {
		if e.Code == proto.CodeNoChannel {
			return "", &RelayError{Code: e.Code, About: e.About, Text: fmt.Sprintf("there is no channel %q on the relay", channel)}
		}
		return "", c.errorFor(e, "change channel settings")
	}
	return r.(*proto.ChannelSettings).Settings, nil
}

// readID returns the history id the user has been shown by an event, or 0:
// catch-up History (the newest item), and live Text, Ring and Page.
func readID(m proto.Message) uint64 {
	switch m := m.(type) {
	case *proto.History:
		if m.Flags&proto.HistoryMissed == 0 {
			return 0
		}
		var id uint64
		for _, it := range m.Items {
			id = max(id, it.ID)
		}
		return id
	case *proto.Text:
		return m.ID
	case *proto.Ring:
		return m.ID
	}
	return 0
}

// Missed returns the items the relay sent as missed (catch-up) since the
// current connection logged in, oldest first, and whether it had more than
// it sent. They arrive right after the join, before the answer to any
// request made after Dial returned; they are not marked read by this
// (see MarkRead).
func (c *Client) Missed() (items []proto.HistoryItem, more bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]proto.HistoryItem(nil), c.hist.missed...), c.hist.missedMore
}

// WaitMissed waits for the catch-up the relay sends after each login (it
// is sent even when nothing was missed, but from the relay's history
// workers, so it may come after the answers to requests made after Dial)
// and returns Missed. With a relay without history it returns at once.
func (c *Client) WaitMissed(ctx context.Context) ([]proto.HistoryItem, bool, error) {
	if !c.HasHistory() {
		return nil, false, nil
	}
	c.mu.Lock()
	ready := c.hist.missedReady
	c.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.RequestTimeout)
		defer cancel()
	}
	select {
	case <-ready:
	case <-ctx.Done():
		return nil, false, fmt.Errorf("the relay did not send what was missed: %w", ctx.Err())
	case <-c.life.Done():
		return nil, false, ErrClosed
	}
	items, more := c.Missed()
	return items, more, nil
}

// MarkRead tells the relay the user has been shown every item up to id
// upTo (their read position only moves forward), for front ends that show
// history themselves rather than through OnEvent, e.g. talk history. It
// does not wait for the relay; without a connection the position is sent
// after reconnecting.
func (c *Client) MarkRead(upTo uint64) {
	c.mu.Lock()
	if upTo <= c.hist.readWant {
		c.mu.Unlock()
		return
	}
	c.hist.readWant = upTo
	cn := c.cur
	c.mu.Unlock()
	if cn != nil {
		c.sendRead(cn)
	}
}

// afterEvent runs on the event goroutine after Config.OnEvent returned: it
// moves the user's read position past what the handler was shown.
func (c *Client) afterEvent(ev Event) {
	if id := readID(ev.Msg); id != 0 {
		c.MarkRead(id)
	}
}

// sendRead sends the read position on cn if it moved since the last one
// sent.
func (c *Client) sendRead(cn *conn) {
	if cn.features&proto.FeatureHistory == 0 {
		return
	}
	c.readMu.Lock()
	defer c.readMu.Unlock()
	c.mu.Lock()
	want, sent := c.hist.readWant, c.hist.readSent
	c.mu.Unlock()
	if want <= sent {
		return
	}
	if err := cn.write(&proto.HistoryRead{UpTo: want}); err != nil {
		c.log.Debug("read position not sent; sent again after reconnecting", "err", err)
		return
	}
	c.mu.Lock()
	c.hist.readSent = max(c.hist.readSent, want)
	c.mu.Unlock()
}

// handleHistory handles the history messages in Client.handle. It reports
// whether m was one.
func (c *Client) handleHistory(cn *conn, m proto.Message) bool {
	switch m := m.(type) {
	case *proto.TextAck:
		if !c.finishOut(cn, m, nil) {
			// A later "delivered" for a text that was waiting.
			c.events.push(Event{Msg: m})
		}
		return true
	case *proto.Recording:
		c.mu.Lock()
		if f := c.hist.fetch; f != nil && f.cn == cn && f.req == m.Req {
			f.parts = append(f.parts, m.Packets...)
			f.done = !m.More
			f.signal()
		}
		c.mu.Unlock()
		return true
	case *proto.History:
		c.rememberItems(m.Items)
		return false // answers go to the waiter; catch-up is an event (handle)
	case *proto.Error:
		switch m.About {
		case proto.TypeFetch:
			c.mu.Lock()
			f := c.hist.fetch
			if f != nil && f.cn == cn {
				if m.Code == proto.CodeNotFound {
					f.err = &RelayError{Code: m.Code, About: m.About, Text: "that transmission is no longer stored (removed by the channel's limits, or never kept)"}
				} else {
					f.err = c.errorFor(m, "fetch a transmission")
				}
				f.signal()
			}
			c.mu.Unlock()
			return f != nil
		case proto.TypeText:
			return c.finishOut(cn, nil, m)
		}
	}
	return false
}

// historyInstalled runs when a new connection is installed: it resends the
// waiting texts and the read position.
func (c *Client) historyInstalled(cn *conn) {
	c.pumpOut(cn) // also to a relay without history (see pumpOld)
	c.sendRead(cn)
}

// textNoHistory is Text for a relay without history: no acknowledgement;
// a Ping after the text proves the relay took it (an Error about it comes
// first).
func (c *Client) textNoHistory(ctx context.Context, to, text string) error {
	m := &proto.Text{To: to, Text: text}
	if to == "" {
		ch, ok := c.Channel()
		if !ok {
			return ErrNotJoined
		}
		m.Channel = ch.Name
	}
	r, err := c.request(ctx, m, func(m proto.Message) bool { return isErrorAbout(m, proto.TypeText) }, true)
	if err != nil {
		return err
	}
	if e, ok := r.(*proto.Error); ok {
		return c.textError(to, e)
	}
	return nil
}

// KindName names a history item's kind for people: "text", "private
// text", "transmission", "ring", "page".
func KindName(k proto.HistoryKind) string {
	switch k {
	case proto.ItemText:
		return "text"
	case proto.ItemPrivate:
		return "private text"
	case proto.ItemVoice:
		return "transmission"
	case proto.ItemRing:
		return "ring"
	case proto.ItemPage:
		return "page"
	}
	return fmt.Sprintf("item of kind %d", k)
}

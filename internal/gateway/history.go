package gateway

// History (issue 11) for the page: what the user missed, the channel's
// timeline, texts that wait for an offline user, and replays of stored
// transmissions streamed to the page like live voice. See the package
// documentation ("History") for the messages.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/history"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/proto"
)

// HistorySession is a RelaySession that can reach the relay's history;
// the ClientDialer's sessions implement it. Methods are safe for concurrent
// use and follow internal/client.
type HistorySession interface {
	// HasHistory reports whether the relay keeps history.
	HasHistory() bool
	// History lists stored items (client.Client.History).
	History(ctx context.Context, q proto.HistoryQuery) ([]proto.HistoryItem, bool, error)
	// Item returns one item (client.Client.Item).
	Item(ctx context.Context, id uint64) (proto.HistoryItem, error)
	// FetchFunc fetches a transmission's packets as they come.
	FetchFunc(ctx context.Context, id uint64, fn func([]proto.RecPacket) error) (proto.HistoryItem, error)
	// SendText sends a text and says whether it was delivered or waits.
	SendText(ctx context.Context, to, text string) (proto.TextAck, error)
	// MarkRead moves the user's read position: the browser was sent
	// everything up to upTo.
	MarkRead(upTo uint64)
}

func (cs *clientSession) HasHistory() bool { return cs.c.HasHistory() }
func (cs *clientSession) History(ctx context.Context, q proto.HistoryQuery) ([]proto.HistoryItem, bool, error) {
	return cs.c.History(ctx, q)
}
func (cs *clientSession) Item(ctx context.Context, id uint64) (proto.HistoryItem, error) {
	return cs.c.Item(ctx, id)
}
func (cs *clientSession) FetchFunc(ctx context.Context, id uint64, fn func([]proto.RecPacket) error) (proto.HistoryItem, error) {
	return cs.c.FetchFunc(ctx, id, fn)
}
func (cs *clientSession) SendText(ctx context.Context, to, text string) (proto.TextAck, error) {
	return cs.c.SendText(ctx, to, text)
}
func (cs *clientSession) MarkRead(upTo uint64) { cs.c.MarkRead(upTo) }

// historyOf returns the session's history, or nil when the relay keeps none.
func (s *session) historyOf() HistorySession {
	if hs, ok := s.relay.(HistorySession); ok && hs.HasHistory() {
		return hs
	}
	return nil
}

// noHistoryText is said when the page asks a relay without history.
const noHistoryText = "This intercom keeps no history (its server is older than this page, or history is turned off)."

// itemJSON is a history item for the page.
type itemJSON struct {
	ID       uint64 `json:"id"`
	Kind     string `json:"kind"` // text, private, voice, ring, page
	Time     int64  `json:"time"` // unix ms
	From     string `json:"from"`
	Channel  string `json:"channel,omitempty"`
	To       string `json:"to,omitempty"`
	Text     string `json:"text,omitempty"`
	Duration uint32 `json:"duration_ms,omitempty"`
	Audio    bool   `json:"audio,omitempty"`   // playable
	Cut      bool   `json:"cut,omitempty"`     // only the start was kept
	Waiting  bool   `json:"waiting,omitempty"` // a private text not delivered yet
}

func kindName(k proto.HistoryKind) string {
	switch k {
	case proto.ItemText:
		return "text"
	case proto.ItemPrivate:
		return "private"
	case proto.ItemVoice:
		return "voice"
	case proto.ItemRing:
		return "ring"
	case proto.ItemPage:
		return "page"
	}
	return "other"
}

func itemsJSON(items []proto.HistoryItem) []itemJSON {
	out := make([]itemJSON, 0, len(items))
	for _, it := range items {
		out = append(out, itemJSON{ID: it.ID, Kind: kindName(it.Kind), Time: it.Time, From: it.From,
			Channel: it.Channel, To: it.To, Text: it.Text, Duration: it.Duration,
			Audio: it.Flags&proto.ItemAudio != 0, Cut: it.Flags&proto.ItemCut != 0, Waiting: it.Flags&proto.ItemWaiting != 0})
	}
	return out
}

func historyName(h proto.ChannelHistory) string {
	switch h {
	case proto.HistoryText:
		return "text"
	case proto.HistoryVoice:
		return "voice"
	}
	return "off"
}

func textStatusName(st proto.TextStatus) string {
	switch st {
	case proto.TextDelivered:
		return "delivered"
	case proto.TextWaiting:
		return "waiting"
	}
	return "sent"
}

// missed forwards the relay's catch-up (after login and each reconnection)
// and then counts it as seen: the browser has it.
func (s *session) missed(h *proto.History) {
	if h.Flags&proto.HistoryAway != 0 {
		s.awayReplay(h)
		return
	}
	if h.Flags&proto.HistoryMissed == 0 {
		return
	}
	s.sendJSON(map[string]any{"t": "missed", "items": itemsJSON(h.Items), "more": h.More})
	var upTo uint64
	for _, it := range h.Items {
		upTo = max(upTo, it.ID)
	}
	if hs := s.historyOf(); hs != nil && upTo > 0 {
		hs.MarkRead(upTo)
	}
}

// queryHistory answers the page's {"t":"history"}.
func (s *session) queryHistory(m clientMsg) {
	hs := s.historyOf()
	if hs == nil {
		s.sendJSON(map[string]any{"t": "history", "req": m.Req, "items": []itemJSON{}, "error": noHistoryText})
		return
	}
	if len(m.Channel) > proto.MaxChannelLen || m.Limit < 0 || m.Limit > 500 {
		s.strike("history", "That history request is not valid.")
		return
	}
	q := proto.HistoryQuery{Channel: m.Channel, Before: m.Before, After: m.After, Limit: uint16(m.Limit), Kinds: m.Kinds}
	req := m.Req
	s.do(func(ctx context.Context) {
		items, more, err := hs.History(ctx, q)
		s.post(func() {
			if err != nil {
				s.sendJSON(map[string]any{"t": "history", "req": req, "items": []itemJSON{}, "error": "The history could not be read: " + err.Error()})
				return
			}
			s.sendJSON(map[string]any{"t": "history", "req": req, "channel": q.Channel, "items": itemsJSON(items), "more": more})
		})
	})
}

// sendText sends the page's text; with history the page learns whether it
// was delivered or waits for an offline user.
func (s *session) sendText(to, text string) {
	hs := s.historyOf()
	s.do(func(ctx context.Context) {
		if hs == nil {
			if err := s.relay.Text(ctx, to, text); err != nil {
				s.post(func() { s.sendError("text", "Your message was not sent: "+err.Error()) })
			}
			return
		}
		ack, err := hs.SendText(ctx, to, text)
		s.post(func() {
			if err != nil {
				s.sendError("text", "Your message was not sent: "+err.Error())
				return
			}
			if ack.Status == proto.TextWaiting {
				s.waiting[ack.ClientID] = to
			}
			s.sendJSON(map[string]any{"t": "text_ack", "id": ack.ID, "to": to, "status": textStatusName(ack.Status)})
		})
	})
}

// textAck tells the page a waiting text was delivered (also one sent from
// an earlier session: the page knows it by its id from the history).
func (s *session) textAck(a *proto.TextAck) {
	m := map[string]any{"t": "text_ack", "id": a.ID, "status": textStatusName(a.Status)}
	if to, ok := s.waiting[a.ClientID]; ok {
		m["to"] = to
		if a.Status == proto.TextDelivered {
			delete(s.waiting, a.ClientID)
		}
	}
	s.sendJSON(m)
}

// replayRun is a replay under way; owned by the loop goroutine.
type replayRun struct {
	id     uint64
	cancel context.CancelFunc
	away   bool // said while reconnecting (nextAway): queued again if a talker interrupts it
}

// startReplay plays stored transmission id to the page, streamed like live
// voice (PCM frames of talker history.ReplayTalker) or as one WAV blob for
// a page that plays WAV. Only while the channel is quiet; a transmission
// (someone else's or the user's own) stops it.
func (s *session) startReplay(id uint64) {
	hs := s.historyOf()
	if hs == nil {
		s.sendJSON(map[string]any{"t": "replay", "id": id, "state": "error", "text": noHistoryText})
		return
	}
	if s.tx != nil {
		s.sendJSON(map[string]any{"t": "replay", "id": id, "state": "error", "text": "Stop talking first, then play it."})
		return
	}
	if u, ok := s.roster.Talker(s.channel.Name); ok && u.Session != s.sessionID {
		s.sendJSON(map[string]any{"t": "replay", "id": id, "state": "error", "text": u.Name + " is talking: play it once the channel is quiet."})
		return
	}
	s.stopReplay("")
	ctx, cancel := context.WithCancel(s.ctx)
	r := &replayRun{id: id, cancel: cancel}
	s.replay = r
	s.srv.m.replays.Inc()
	wavMode := s.playback == "wav"
	go func() {
		defer cancel()
		item, err := hs.Item(ctx, id)
		if err == nil && !history.Playable(item) {
			err = errors.New("that item has no sound to play")
		}
		if err == nil {
			s.post(func() {
				if s.replay == r {
					s.sendJSON(map[string]any{"t": "replay", "id": id, "state": "playing", "item": itemsJSON([]proto.HistoryItem{item})[0]})
				}
			})
			if wavMode {
				err = s.replayWAV(ctx, hs, id)
			} else {
				err = history.Replay(ctx, hs, id, s.replaySink())
			}
		}
		s.post(func() {
			if s.replay != r {
				return // stopped: stopReplay told the page
			}
			s.replay = nil
			defer s.nextAway()
			if err != nil {
				s.sendJSON(map[string]any{"t": "replay", "id": id, "state": "error", "text": "The recording could not be played: " + replayErrorText(err)})
				return
			}
			s.sendJSON(map[string]any{"t": "replay", "id": id, "state": "done"})
		})
	}()
}

func replayErrorText(err error) string {
	var re *client.RelayError
	if errors.As(err, &re) && re.Code == proto.CodeNotFound {
		return "the intercom no longer keeps it."
	}
	return err.Error()
}

// stopReplay stops the replay under way and tells the page why (why ""
// says nothing: a new replay replaces it).
func (s *session) stopReplay(why string) {
	r := s.replay
	if r == nil {
		return
	}
	r.cancel()
	s.replay = nil
	if why != "" {
		s.sendJSON(map[string]any{"t": "replay", "id": r.id, "state": "stopped", "text": why})
	}
}

// replaySink decodes the replay's packets as history.Play hands them over
// (in real time) and queues 20 ms PCM frames for the page, like a live
// talker's. It runs on the replay's goroutine.
func (s *session) replaySink() history.VoiceSink {
	dec, err := codec.NewDecoder()
	buf := make([]int16, codec.MaxPacketSamples)
	return func(h proto.VoiceHeader, opus []byte, _ time.Time) {
		if err != nil {
			return
		}
		n, derr := dec.Decode(opus, buf)
		if derr != nil {
			// A packet that does not decode: conceal its length, counted.
			s.srv.m.decodeErrors.Inc()
			n = min(int(h.Duration), codec.MaxPacketSamples)
			n -= n % 120
			if n == 0 {
				return
			}
			if _, derr = dec.DecodePLC(buf[:n]); derr != nil {
				return
			}
		}
		pcm := buf[:n]
		for off := 0; off < len(pcm); off += 960 {
			chunk := pcm[off:min(off+960, len(pcm))]
			var fl byte
			if off == 0 && h.Flags&proto.FlagStart != 0 {
				fl |= 1
			}
			if off+960 >= len(pcm) && h.Flags&proto.FlagEnd != 0 {
				fl |= 2
			}
			s.queueAudio(pcmMessage(binPCM, fl, 0, history.ReplayTalker, chunk))
		}
	}
}

// replayWAV fetches the whole transmission and sends it as one WAV blob.
func (s *session) replayWAV(ctx context.Context, hs HistorySession, id uint64) error {
	var packets []proto.RecPacket
	if _, err := hs.FetchFunc(ctx, id, func(p []proto.RecPacket) error {
		packets = append(packets, p...)
		return nil
	}); err != nil {
		return err
	}
	pcm, _, err := history.Decode(packets)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	hdr := make([]byte, binHeaderLen)
	hdr[0], hdr[1] = binWAV, 1|2
	binary.LittleEndian.PutUint32(hdr[4:], history.ReplayTalker)
	buf.Write(hdr)
	if err := wav.Encode(&buf, codec.SampleRate, 1, pcm); err != nil {
		return err
	}
	s.queueAudio(buf.Bytes())
	return nil
}

// awayReplay handles the transmissions said while the session's client was
// reconnecting (proto.HistoryAway): the page lists them as missed while
// reconnecting ({"t":"missed","away":true}) and hears them one after
// another as replays, when the channel is quiet (see nextAway). At most
// history.AwayQueue wait; more are listed but not played (said).
func (s *session) awayReplay(h *proto.History) {
	var items []proto.HistoryItem
	for _, it := range h.Items {
		if history.Playable(it) && (it.Kind == proto.ItemPage || s.inChannel && it.Channel == s.channel.Name) {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return
	}
	s.sendJSON(map[string]any{"t": "missed", "items": itemsJSON(items), "more": h.More, "away": true})
	for _, it := range items {
		if len(s.awayQ) >= history.AwayQueue {
			s.log.Info("too many transmissions said while the browser's session was reconnecting to play them all; the rest are listed only")
			s.sendError("away", "More was said while you were reconnecting than is played again here: the history lists it.")
			break
		}
		s.awayQ = append(s.awayQ, it.ID)
	}
	s.nextAway()
}

// nextAway starts the next transmission said while reconnecting, unless a
// replay is under way, the user talks or someone talks in the channel (it
// is tried again when that ends).
func (s *session) nextAway() {
	if len(s.awayQ) == 0 || s.replay != nil || s.tx != nil {
		return
	}
	if u, ok := s.roster.Talker(s.channel.Name); ok && u.Session != s.sessionID {
		return
	}
	id := s.awayQ[0]
	s.awayQ = s.awayQ[1:]
	s.startReplay(id)
	if s.replay != nil {
		s.replay.away = true
	}
}

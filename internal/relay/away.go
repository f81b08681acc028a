package relay

import (
	"context"
	"sync"
	"time"

	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/proto"
)

// Transmissions said while a client was away (issue 10): a client that
// logs in again after losing its connection says how long ago it last
// heard from the relay (proto.Auth.Away), and the relay sends it the
// stored transmissions of that time (proto.History with HistoryAway) so
// that it can play them, marked as missed: an intercom user who was
// reconnecting (a relay restart, a network change) still hears what was
// said. Only what the store kept can be sent: channels with history=voice
// (and pages with their audio).
//
// Bounds: at most awayMaxItems transmissions, the newest, none that ended
// more than awayMaxAge before the login (older ones are not what a user
// expects to hear at once; they stay in the history); each one left out
// is counted (hark_relay_away_skipped_total) and the client is told with
// More. A transmission under way when the session logged in is sent once
// it ended and was stored, if it started at most awayMaxAge before.
const (
	awayMaxItems = 20
	awayMaxAge   = 2 * time.Minute
	// awaySlack widens the away time backwards: the client last heard
	// from the relay a moment before it really lost what was said.
	awaySlack = 500 * time.Millisecond
	// awayCountMax bounds how far back transmissions too old to replay
	// are counted (hark_relay_history_away_skipped_total).
	awayCountMax = time.Hour
	// awayQueryBack is how much earlier than the away time the store is
	// asked from: a transmission that started before it and went on
	// (items are found by their start) was cut off by the loss.
	awayQueryBack = time.Minute
)

// awayWait is a session that came back while transmissions may have been
// under way: they are sent to it once stored (awayStored). Guarded by
// awaySet.mu.
type awayWait struct {
	from  int64           // unix ms: the client was away from then on, as it said
	since int64           // from, but at most awayMaxAge before login: what is replayed
	login int64           // unix ms: it logged in (heard live from then on)
	sent  map[uint64]bool // ids sent to it (a transmission stored while its replay was read must not go twice)
}

// take marks the items of list not sent yet as sent and returns them, at
// most max. Called under awaySet.mu.
func (w *awayWait) take(list []store.Item, max int) (out []store.Item, left int) {
	for _, it := range list {
		if w.sent[it.ID] {
			continue
		}
		if len(out) == max {
			left++
			continue
		}
		w.sent[it.ID] = true
		out = append(out, it)
	}
	return out, left
}

// awaySet holds the sessions waiting for transmissions under way at their
// login. The zero value is ready; safe for concurrent use.
type awaySet struct {
	mu sync.Mutex
	m  map[*session]*awayWait // guarded by mu
}

// awayFrom returns the unix ms from which a client that reported away was
// away; awaySince bounds it to awayMaxAge before login.
func awayFrom(login time.Time, away time.Duration) int64 {
	return proto.UnixMillis(login.Add(-min(away+awaySlack, awayCountMax)))
}

func awaySince(login time.Time, away time.Duration) int64 {
	return proto.UnixMillis(login.Add(-min(away+awaySlack, awayMaxAge)))
}

// awayLoginLocked notes a session that logged in with Away (called from
// the login, under r.mu). Its replay is sent after its catch-up (see
// sendAway).
func (h *history) awayLoginLocked(s *session, away time.Duration) {
	if away <= 0 || !h.r.historyOK(s) || !h.pageVoice.Load() {
		return // no channel keeps voice: nothing was kept to replay
	}
	w := &awayWait{from: awayFrom(s.since, away), since: awaySince(s.since, away), login: proto.UnixMillis(s.since), sent: map[uint64]bool{}}
	h.away.mu.Lock()
	if h.away.m == nil {
		h.away.m = map[*session]*awayWait{}
	}
	for o, ow := range h.away.m {
		if o.isGone() || s.since.Sub(time.UnixMilli(ow.login)) > awayMaxAge {
			delete(h.away.m, o)
		}
	}
	h.away.m[s] = w
	h.away.mu.Unlock()
}

// sendAway sends s the stored transmissions of the time it was away (on
// a history worker, after its catch-up). Nothing is sent when none were
// stored.
func (h *history) sendAway(s *session) {
	h.away.mu.Lock()
	w, ok := h.away.m[s]
	var from, since, login int64
	if ok {
		from, since, login = w.from, w.since, w.login
	}
	h.away.mu.Unlock()
	if !ok {
		return
	}
	q := store.Query{Since: from - awayQueryBack.Milliseconds(), Limit: 500,
		Kinds: 1<<store.KindVoice | 1<<store.KindPage}
	items, _, err := h.st.Query(context.Background(), s.name, q) // newest first
	if err != nil {
		s.log.Error("history: cannot read the transmissions said while the session was away", "err", err)
		return
	}
	var want []store.Item
	old := 0 // said while away, but longer ago than awayMaxAge
	for _, it := range h.r.listenable(s, items) {
		switch {
		case awayWanted(it, s.name, since, login):
			want = append(want, it)
		case awayWanted(it, s.name, from, login):
			old++
		}
	}
	h.away.mu.Lock()
	out, skipped := w.take(want, awayMaxItems) // the newest
	h.away.mu.Unlock()
	skipped += old
	if len(out) == 0 {
		if skipped > 0 {
			h.awaySkipped.Add(uint64(skipped))
			s.log.Info("transmissions said while the session was away are too old to play again (they are in the history)", "left_out", skipped, "max_age", awayMaxAge)
			s.sendMsg(historyMsg(0, proto.HistoryAway, nil, true, s.version))
		}
		return
	}
	// Oldest first, as they were said.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	m := historyMsg(0, proto.HistoryAway, out, skipped > 0, s.version)
	skipped += len(out) - len(m.Items)
	h.awaySent.Add(uint64(len(m.Items)))
	if skipped > 0 {
		h.awaySkipped.Add(uint64(skipped))
		s.log.Info("transmissions said while the session was away: the oldest were left out (they are in the history)",
			"sent", len(m.Items), "left_out", skipped, "max", awayMaxItems, "max_age", awayMaxAge)
	}
	s.sendMsg(m)
}

// awayWanted reports whether a stored item is one to replay to user, away
// as w says: a transmission with audio by someone else that was still
// going on when the client went away and began before it logged in again.
func awayWanted(it store.Item, user string, since, login int64) bool {
	if it.Flags&store.FlagAudio == 0 || it.From == user || it.Kind != store.KindVoice && it.Kind != store.KindPage {
		return false
	}
	return it.Time+int64(it.Duration) >= since && it.Time < login
}

// awayStored is called when a transmission was stored (from the store's
// writer goroutine): the sessions that came back while it was under way
// get it. Sessions that logged in more than awayMaxAge ago stop waiting.
func (h *history) awayStored(it store.Item) {
	h.away.mu.Lock()
	if len(h.away.m) == 0 {
		h.away.mu.Unlock()
		return
	}
	now := time.Now()
	var to []*session
	for s, w := range h.away.m {
		switch {
		case s.isGone() || now.Sub(time.UnixMilli(w.login)) > awayMaxAge:
			delete(h.away.m, s)
		case awayWanted(it, s.name, w.since, w.login) && len(h.r.listenable(s, []store.Item{it})) > 0:
			// Under way at the login, or stored only after it (the
			// session's replay may have been read before).
			if got, left := w.take([]store.Item{it}, max(awayMaxItems*2-len(w.sent), 0)); len(got) > 0 {
				to = append(to, s)
			} else if left > 0 {
				h.awaySkipped.Add(1)
			}
		}
	}
	h.away.mu.Unlock()
	for _, s := range to {
		h.awaySent.Add(1)
		s.sendMsg(historyMsg(0, proto.HistoryAway, []store.Item{it}, false, s.version))
	}
}

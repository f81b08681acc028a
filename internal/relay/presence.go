package relay

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/hark-intercom/hark/proto"
)

// Presence fan-out.
//
// Every login, join, leave and logout is news to every session: n logins
// make n² presence messages. After a restart a thousand clients log in
// within seconds, and sending each change to each session as it happens
// (a queue push and a writer wake-up per change and session, a message per
// change and session for the client to parse) kept the relay and its
// clients so busy that clients gave up on their new sessions and logged in
// again, which made more changes.
//
// So changes are not sent as they happen: they are collected (under r.mu)
// and flushed by one goroutine (presenceLoop) at most every
// presenceCoalesce, to every session at once, each change encoded once per
// protocol version:
//
//   - A quiet relay sends each change as it was, in order, with the
//     session's current talking state (a Talking message may have gone out
//     directly since).
//   - A flush with presenceMergeAt changes or more (a storm) sends each
//     user's net change instead: a login and a join in one flush are one
//     PresenceChange{Online} with the channel; a session that came and went
//     within it is not mentioned. When the net changes concern at least
//     half of the sessions online, a snapshot is cheaper and says the same:
//     every session gets one Presence snapshot (encoded once).
//   - A session that logs in or joins gets a snapshot at once, and of the
//     next flush only the changes after it. During a storm (this or the
//     last flush has presenceMergeAt changes or more) it gets its snapshot
//     at the next flush instead (built then, so it includes every change
//     before it), not that flush's changes: all sessions that logged in
//     within one flush share one encoded snapshot.
//   - A session whose control queue is long (Config.ControlQueue/4) gets
//     nothing until it drained, then a snapshot.
//
// During a storm the snapshot a session waits for after Join thus comes up
// to one flush interval later than Joined.
//
// A storm is also a steady stream of changes: presenceStormRate or more a
// second (a decaying count), even if each flush has only a few. A relay
// starved of CPU takes the logins of a restart at 10–50 a second, a few
// per 100 ms flush; sending those flushes as they were meant every session
// a packet every 100 ms (10 000 packets a second for 1000 sessions, which
// each acknowledge) and every login a snapshot of its own, most of the
// relay's work while it should be taking logins. During a storm flushes
// are therefore further apart the more sessions there are (stormInterval:
// 0.5 ms a session, 100 ms to 1 s), merged, and new sessions share one
// snapshot. Presence is state, so a later flush loses nothing: each
// session's roster still ends equal to the relay's.

// presenceCoalesce is the shortest time between two presence flushes.
const presenceCoalesce = 100 * time.Millisecond

// presenceMergeAt is how many changes in one flush make it a storm, in which
// each user's net change is sent (see above).
const presenceMergeAt = 32

// presenceStormRate is how many changes a second (a count decaying with a
// time constant of a second) make a storm however they fall into flushes.
const presenceStormRate = 32

// stormInterval is the time between two presence flushes during a storm
// with n sessions online: 0.5 ms a session, from presenceCoalesce to 1 s.
func stormInterval(n int) time.Duration {
	return min(max(time.Duration(n)*500*time.Microsecond, presenceCoalesce), time.Second)
}

// presenceState holds presence news waiting for the next flush.
type presenceState struct {
	kick chan struct{} // capacity 1: news is waiting (set in New)

	// Guarded by Relay.mu.
	changes   []*proto.PresenceChange // in order, since the last flush
	waiting   bool                    // a session waits for a snapshot (session.needSnapshot)
	lastAt    time.Time               // the last flush with changes…
	lastCount int                     // …and how many it had
	rate      float64                 // changes, decaying by e each second since rateAt
	rateAt    time.Time

	clock func() time.Time // time.Now if nil (tests set it); set before use
}

func (p *presenceState) now() time.Time {
	if p.clock != nil {
		return p.clock()
	}
	return time.Now()
}

// rateAtLocked returns the decayed change count at now.
func (p *presenceState) rateAtLocked(now time.Time) float64 {
	if p.rate == 0 {
		return 0
	}
	return p.rate * math.Exp(-now.Sub(p.rateAt).Seconds())
}

// stormingLocked reports whether presence changes come in a storm: this or
// the last flush has presenceMergeAt changes or more, or they come at
// presenceStormRate a second or more.
func (r *Relay) stormingLocked() bool {
	p := &r.pres
	now := p.now()
	return len(p.changes) >= presenceMergeAt ||
		p.lastCount >= presenceMergeAt && now.Sub(p.lastAt) < 2*presenceCoalesce ||
		p.rateAtLocked(now) >= presenceStormRate
}

// presenceIntervalLocked is the shortest time between two flushes now.
func (r *Relay) presenceIntervalLocked() time.Duration {
	if r.stormingLocked() {
		return stormInterval(len(r.sessions))
	}
	return presenceCoalesce
}

// presenceToAllLocked queues a presence change for every session (sent at
// the next flush, see above).
func (r *Relay) presenceToAllLocked(m *proto.PresenceChange) {
	p := &r.pres
	now := p.now()
	p.rate, p.rateAt = p.rateAtLocked(now)+1, now
	r.pres.changes = append(r.pres.changes, m)
	r.kickPresence()
	r.clusterDirtyLocked()
}

// sendPresenceLocked sends s a snapshot of everyone online, and of the
// next flush only the changes after it; during a storm it gives s the
// snapshot at the next flush instead (see above).
func (r *Relay) sendPresenceLocked(s *session) {
	if r.stormingLocked() {
		s.needSnapshot = true
		r.pres.waiting = true
		r.kickPresence()
		return
	}
	r.snapshotLocked().sendTo(s)
	s.needSnapshot = false
	s.presFrom = len(r.pres.changes)
}

// kickPresence wakes presenceLoop. Safe without the lock.
func (r *Relay) kickPresence() {
	select {
	case r.pres.kick <- struct{}{}:
	default:
	}
}

// presenceLoop flushes presence news, at most every presenceCoalesce (in a
// storm every stormInterval), until ctx ends. The first news after a quiet
// spell goes at once.
func (r *Relay) presenceLoop(ctx context.Context) {
	var last time.Time
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-r.pres.kick:
		case <-ctx.Done():
			return
		}
		r.mu.Lock()
		every := r.presenceIntervalLocked()
		r.mu.Unlock()
		if wait := every - time.Since(last); wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		last = time.Now()
		r.mu.Lock()
		r.flushPresenceLocked()
		r.mu.Unlock()
	}
}

// flushPresenceLocked sends every session what changed since the last
// flush, or its snapshot (see above).
func (r *Relay) flushPresenceLocked() {
	changes := r.pres.changes
	r.pres.changes = nil
	waiting := r.pres.waiting
	r.pres.waiting = false
	if len(changes) == 0 && !waiting {
		return
	}
	storm := len(changes) >= presenceMergeAt || r.pres.rateAtLocked(r.pres.now()) >= presenceStormRate
	if len(changes) > 0 {
		r.pres.lastAt, r.pres.lastCount = r.pres.now(), len(changes)
	}
	merged, snapAll := false, false
	if storm && len(changes) > 0 {
		changes = netChanges(changes, r.onlineLocked)
		merged = true
		snapAll = len(changes) > 0 && 2*len(changes) >= len(r.sessions)
	}
	frames := make([]*frame, len(changes))
	for i, m := range changes {
		if o := r.sessions[m.User.Session]; o != nil && m.Kind != proto.PresenceOffline {
			// The message is shared and may be queued already for no one
			// else: a copy carries the talking state of now.
			c := *m
			c.User.Talking = r.isTalkingLocked(o)
			m = &c
		}
		frames[i] = r.frame(m)
	}
	var snap *snapshot // built on first use, shared by every session
	limit := r.cfg.ControlQueue / 4
	for _, s := range r.sessions {
		from := s.presFrom // it had a snapshot after the first from changes
		s.presFrom = 0
		if !s.needSnapshot && len(frames) == 0 {
			continue
		}
		if s.ctl.size() > limit {
			// Presence is state: a snapshot once it drained replaces
			// whatever it misses now (see writeLoop).
			s.needSnapshot = true
			s.staleHint.Store(true)
			continue
		}
		if s.needSnapshot || snapAll || merged && from > 0 {
			if snap == nil {
				snap = r.snapshotLocked()
			}
			snap.sendTo(s)
			s.needSnapshot = false
			s.staleHint.Store(false)
			continue
		}
		for _, f := range frames[from:] {
			if b := f.bytesFor(s.version); b != nil {
				s.send(b)
			}
		}
	}
}

// refreshPresence is called by s's writer when its queue drained after
// presence was held back: the next flush sends it a snapshot.
func (r *Relay) refreshPresence(s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.gone || !s.needSnapshot {
		return
	}
	r.pres.waiting = true
	r.kickPresence()
}

// netChanges reduces changes (in order) to one per user: its last state,
// as Online if the first change was its login (it is news), else as the
// last kind; a user who logged in and out among changes is left out.
// Sessions still online carry their channel as of their last change.
func netChanges(changes []*proto.PresenceChange, online func(id uint32) bool) []*proto.PresenceChange {
	first := make(map[uint32]proto.PresenceKind, len(changes))
	at := make(map[uint32]int, len(changes))
	var out []*proto.PresenceChange
	for _, m := range changes {
		id := m.User.Session
		if i, ok := at[id]; ok {
			out[i] = m
			continue
		}
		first[id] = m.Kind
		at[id] = len(out)
		out = append(out, m)
	}
	n := 0
	for _, m := range out {
		fresh := first[m.User.Session] == proto.PresenceOnline
		switch {
		case m.Kind == proto.PresenceOffline || !online(m.User.Session):
			if fresh {
				continue // came and went: nobody needs to hear of it
			}
			if m.Kind != proto.PresenceOffline {
				m = &proto.PresenceChange{Kind: proto.PresenceOffline, User: proto.UserInfo{Session: m.User.Session, Name: m.User.Name}}
			}
		case fresh && m.Kind != proto.PresenceOnline:
			m = &proto.PresenceChange{Kind: proto.PresenceOnline, User: m.User}
		}
		out[n] = m
		n++
	}
	return out[:n]
}

// snapshot is the presence of everyone online, encoded once per protocol
// version on first use. Used under r.mu.
type snapshot struct {
	r     *Relay
	users []proto.UserInfo
	enc   [proto.Version + 1][][]byte
	done  [proto.Version + 1]bool
}

// snapshotLocked takes a snapshot of everyone online, by session id.
func (r *Relay) snapshotLocked() *snapshot {
	all := r.sortedSessionsLocked()
	users := make([]proto.UserInfo, len(all))
	for i, o := range all {
		users[i] = r.userInfoLocked(o)
	}
	if remote := r.remoteUsersLocked(); len(remote) > 0 {
		users = append(users, remote...)
		sort.Slice(users, func(i, j int) bool { return users[i].Session < users[j].Session })
	}
	return &snapshot{r: r, users: users}
}

// sendTo queues the snapshot for s, split by proto.SplitPresence when it
// does not fit in one message. From version 2 on the parts are Presence
// messages that say more follows; a version-1 client knows no such flag,
// so it gets the first part as a Presence and each further user as a
// PresenceChange{Online}, which a client applying Presence as "replace" and
// PresenceChange as "update" assembles correctly.
func (p *snapshot) sendTo(s *session) {
	v := s.version
	if !p.done[v] {
		p.done[v] = true
		parts := proto.SplitPresence(p.users, v)
		var enc [][]byte
		add := func(m proto.Message) {
			if b := p.r.encodeFor(m, v); b != nil {
				enc = append(enc, b)
			}
		}
		if v >= proto.Version2 {
			for _, m := range parts {
				add(m)
			}
		} else {
			add(parts[0])
			for _, m := range parts[1:] {
				for _, u := range m.Users {
					add(&proto.PresenceChange{Kind: proto.PresenceOnline, User: u})
				}
			}
		}
		p.enc[v] = enc
	}
	for _, b := range p.enc[v] {
		s.send(b)
	}
}

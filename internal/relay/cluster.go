package relay

import (
	"context"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/cluster"
	"github.com/hark-intercom/hark/proto"
	"github.com/prometheus/client_golang/prometheus"
)

// Several relays, one intercom (issue 15). With Config.Cluster the relay
// shares its channels with the other relays of a cluster (package
// cluster: NATS embedded or external):
//
//   - Session ids carry the relay's node number in their top 12 bits
//     (cluster.NodeNumber), so an id names one session in the cluster.
//   - Voice: each frame the relay forwards for one of its own talkers is
//     also handed to Cluster.PublishVoice (a copy into a bounded queue:
//     the fan-out never waits). Frames from other relays are delivered to
//     the relay's members of the channel like a local talker's, and never
//     published again. The relay listens only to channels it has members in.
//   - Floor: in a push-to-talk channel a free floor is taken through the
//     cluster (a JetStream KV lease, compare-and-set). The talker's first
//     frames wait (up to pendingMax, copied) for the answer, a round trip
//     through the cluster; then they go out, or the talker gets FloorDeny
//     "busy: X is talking" with the holder from whichever relay. A floor
//     held at another relay is known from the lease bucket: a start frame
//     or FloorRequest there is refused at once, and the members get
//     Talking for the remote talker. The page is one more lease: a page
//     at any relay pre-empts every talker at every relay. A page's frames
//     (core NATS) and its lease (JetStream) can arrive in either order:
//     frames before the lease wait for it (up to acquireWait), frames
//     after its end are delivered up to the end frame; others are
//     dropped, counted (no_floor) and logged once per pager.
//   - Presence: the relay publishes its own sessions (at most every
//     50 ms); other relays' sessions are part of every Presence snapshot
//     and their changes go out as PresenceChange, like local ones.
//   - Text, ring and kick reach sessions at other relays; a login with a
//     name that is logged in at another relay ends that session there
//     (accounts: newest wins) or is refused (open mode).
//
// What the relay does not share: history (each relay records what its own
// users said: its talkers' transmissions and pages, the channel texts and
// rings they sent, their texts to someone offline; frames and texts from
// other relays are delivered, not recorded), alarms, bans, the admin
// session list (local sessions only). README, design notes, says why.

// Cluster is what the relay needs from its cluster membership
// (*cluster.Cluster; tests may fake it). The relay calls Start once from
// Serve; the caller owns it and closes it after the relay.
type Cluster interface {
	Node() string
	NodeNumber() uint32
	Start(h cluster.Handler)
	PublishVoice(channel string, frame []byte)
	Listen(channel string, on bool)
	Send(ev cluster.Event)
	SetRoster(users []proto.UserInfo)
	AcquireFloor(ctx context.Context, key string, l cluster.Lease) (cluster.Lease, bool, error)
	ReleaseFloor(key string)
	NameTaken(node, name string, timeout time.Duration) bool
	// PeerDown reports whether node may be dead (route gone or silent):
	// a press on a floor held by node's talker is then asked of the
	// cluster rather than refused at once.
	PeerDown(node string) bool
}

// pendingMax is how many frames of a talker wait for the cluster's answer
// to its floor request: all of acquireWait at 20 ms a frame, so that a slow
// answer (a busy machine: 0.5-2 s at load 15-19 on 2 cores) costs the
// listeners a late start, not the first words. Older ones are dropped
// (counted "queue_full").
const pendingMax = int(acquireWait / (20 * time.Millisecond))

// acquireWait bounds the wait for the cluster's answer to a floor or page
// request. After the death of the relay that led the floor bucket,
// JetStream elects a new leader (within about 1.1 s with the embedded
// server, package cluster's raft.go; 4-9 s with an external nats-server
// left at its defaults); requests in that time wait for it, at most this
// long, and are then refused ("try again in a moment").
const acquireWait = 3 * time.Second

// sessionIDBits is how many low bits of a clustered session id count the
// relay's own sessions.
const sessionIDBits = 20

// clusterState is the relay's view of the other relays. Guarded by
// Relay.mu, except kick and the counters.
type clusterState struct {
	cl    Cluster
	byKey map[string]*channel // floor key → channel; immutable after New

	remote   map[string]map[uint32]proto.UserInfo // other relays' sessions, by node and id
	owner    map[uint32]string                    // session id → node
	byName   map[string]uint32                    // name → session id at another relay
	floors   map[*channel]*cluster.Lease          // floors held at other relays
	held     map[*channel]bool                    // floors this relay holds a lease for
	pending  map[*channel]*pendingFloor           // floor requests waiting for the cluster
	page     *cluster.Lease                       // a page on the air at another relay
	pageTail uint32                               // the pager of the remote page that ended last, until its end frame
	early    earlyPage                            // page frames that came before their page's lease
	pagePend *session                             // a local page waiting for the cluster
	listen   map[string]bool                      // channels Listen(true) was called for
	talkers  map[uint32]bool                      // talkers in open channels at other relays
	lastRost []proto.UserInfo                     // the roster last published

	kick chan struct{} // capacity 1: the roster may have changed

	voiceIn, voiceBad, acquireFail atomic.Uint64
}

// earlyPage holds the page frames of a session this relay has not heard
// paging yet (its lease comes on JetStream, its frames on core NATS): they
// go out when its lease arrives (clusterHandler.Floor).
type earlyPage struct {
	sender  uint32
	first   time.Time // when the first of frames came
	frames  [][]byte  // at most pendingMax, the handler's to keep
	dropped uint32    // the sender whose dropped frames were logged
}

// holdEarlyPage keeps page frame b (header hd) of a page not known yet,
// from its start frame on (frames of no known page without a start before
// them came after their page's end: a relay publishes page frames only
// while its page is on). It returns how many frames it dropped: those,
// frames held for another sender or for longer than acquireWait (that
// page's lease never came: this relay lost touch), and the oldest beyond
// pendingMax; logIt says whether to log (once per sender). Called with
// Relay.mu held.
func (cs *clusterState) holdEarlyPage(hd proto.VoiceHeader, b []byte) (dropped int, logIt bool) {
	e := &cs.early
	now := time.Now()
	if len(e.frames) > 0 && (e.sender != hd.Sender || now.Sub(e.first) > acquireWait || hd.Flags&proto.FlagStart != 0) {
		dropped = len(e.frames)
		e.frames = e.frames[:0]
	}
	if len(e.frames) == 0 {
		if hd.Flags&proto.FlagStart == 0 {
			dropped++
			if e.dropped != hd.Sender {
				e.dropped, logIt = hd.Sender, true
			}
			return dropped, logIt
		}
		e.sender, e.first = hd.Sender, now
	}
	if len(e.frames) == pendingMax {
		e.frames = e.frames[1:]
		dropped++
	}
	e.frames = append(e.frames, b)
	if dropped > 0 && e.dropped != hd.Sender {
		e.dropped, logIt = hd.Sender, true
	}
	return dropped, logIt
}

// pendingFloor is a floor request of a local session waiting for the
// cluster's answer, with the frames that came meanwhile.
type pendingFloor struct {
	s         *session
	byRequest bool
	cancelled bool
	frames    [][]byte
}

func (r *Relay) initCluster() {
	if r.cfg.Cluster == nil {
		return
	}
	cs := &clusterState{cl: r.cfg.Cluster, byKey: map[string]*channel{},
		remote: map[string]map[uint32]proto.UserInfo{}, owner: map[uint32]string{}, byName: map[string]uint32{},
		floors: map[*channel]*cluster.Lease{}, held: map[*channel]bool{}, pending: map[*channel]*pendingFloor{},
		listen: map[string]bool{}, talkers: map[uint32]bool{}, kick: make(chan struct{}, 1)}
	for _, ch := range r.channels {
		cs.byKey[cluster.FloorKey(ch.info.Name)] = ch
	}
	r.cs = cs
	r.reg.MustRegister(&clusterCollector{r: r,
		voiceIn:  prometheus.NewDesc("hark_relay_cluster_frames_in_total", "Voice frames received from other relays and delivered here.", nil, nil),
		voiceBad: prometheus.NewDesc("hark_relay_cluster_frames_bad_total", "Voice frames from other relays that did not parse or named an unknown channel.", nil, nil),
		acqFail:  prometheus.NewDesc("hark_relay_cluster_floor_unavailable_total", "Floor requests refused because the cluster could not decide (not ready, unreachable).", nil, nil),
		remote:   prometheus.NewDesc("hark_relay_cluster_peer_sessions", "Sessions logged in at each other relay.", []string{"peer"}, nil),
	})
	if c, ok := r.cfg.Cluster.(prometheus.Collector); ok {
		r.reg.MustRegister(c)
	}
}

type clusterCollector struct {
	r                                  *Relay
	voiceIn, voiceBad, acqFail, remote *prometheus.Desc
}

func (c *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.voiceIn
	ch <- c.voiceBad
	ch <- c.acqFail
	ch <- c.remote
}

func (c *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	cs := c.r.cs
	ch <- prometheus.MustNewConstMetric(c.voiceIn, prometheus.CounterValue, float64(cs.voiceIn.Load()))
	ch <- prometheus.MustNewConstMetric(c.voiceBad, prometheus.CounterValue, float64(cs.voiceBad.Load()))
	ch <- prometheus.MustNewConstMetric(c.acqFail, prometheus.CounterValue, float64(cs.acquireFail.Load()))
	c.r.mu.Lock()
	for node, u := range cs.remote {
		ch <- prometheus.MustNewConstMetric(c.remote, prometheus.GaugeValue, float64(len(u)), node)
	}
	c.r.mu.Unlock()
}

// newIDLocked returns a session id not in use: with a cluster, the relay's
// node number in the top bits.
func (r *Relay) newIDLocked() uint32 {
	for {
		r.nextID++
		id := r.nextID
		if r.cs != nil {
			id = r.cs.cl.NodeNumber()<<sessionIDBits | r.nextID&(1<<sessionIDBits-1)
			if r.nextID&(1<<sessionIDBits-1) == 0 {
				continue
			}
		}
		if id != 0 && r.sessions[id] == nil {
			return id
		}
	}
}

// clusterKickLocked says the relay's sessions may have changed: the
// cluster loop publishes them.
func (r *Relay) clusterDirtyLocked() {
	if r.cs == nil {
		return
	}
	select {
	case r.cs.kick <- struct{}{}:
	default:
	}
}

// runCluster hands the cluster its handler and publishes the relay's
// sessions and listened channels as they change, until ctx ends.
func (r *Relay) runCluster(ctx context.Context) {
	cs := r.cs
	cs.cl.Start(clusterHandler{r})
	// At most one roster build every rosterEvery: in a login storm every
	// login kicks.
	const rosterEvery = 50 * time.Millisecond
	first := true
	for {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-cs.kick:
			}
		}
		first = false
		r.mu.Lock()
		users := make([]proto.UserInfo, 0, len(r.sessions))
		for _, s := range r.sortedSessionsLocked() {
			u := r.userInfoLocked(s)
			u.Talking = false // known from the floors; not worth a roster update
			users = append(users, u)
		}
		want := map[string]bool{}
		for _, ch := range r.channels {
			if len(ch.listeners) > 0 { // members or monitors
				want[ch.info.Name] = true
			}
		}
		var on, off []string
		for n := range want {
			if !cs.listen[n] {
				on = append(on, n)
			}
		}
		for n := range cs.listen {
			if !want[n] {
				off = append(off, n)
			}
		}
		cs.listen = want
		changed := !slices.Equal(users, cs.lastRost)
		if changed {
			cs.lastRost = users
		}
		r.mu.Unlock()
		for _, n := range on {
			cs.cl.Listen(n, true)
		}
		for _, n := range off {
			cs.cl.Listen(n, false)
		}
		if changed {
			cs.cl.SetRoster(users)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(rosterEvery):
		}
	}
}

// clusterHandler receives what comes from the other relays.
type clusterHandler struct{ r *Relay }

func (h clusterHandler) Voice(name string, b []byte) {
	r := h.r
	cs := r.cs
	hd, _, err := proto.ParseVoice(b)
	if err != nil {
		cs.voiceBad.Add(1)
		return
	}
	if name == "" {
		r.mu.Lock()
		if cs.page == nil || cs.page.Session != hd.Sender {
			// A remote page's last frames can come after its lease went:
			// they travel on core NATS, the lease on JetStream, and the
			// two are handled on different goroutines here (its relay
			// publishes them before it releases the lease). They are
			// delivered until its end frame: that relay publishes page
			// frames only while its page is on.
			if cs.pageTail != hd.Sender {
				// A page this relay has not heard of yet: its first
				// frames can come before its lease, for the same reason.
				// They wait for it (Floor).
				dropped, logIt := cs.holdEarlyPage(hd, b)
				r.mu.Unlock()
				if dropped > 0 {
					r.c.dropped[dropNoFloor].Add(uint64(dropped))
					if logIt {
						r.cfg.Logger.Warn("dropped page frames from another relay: this relay did not hear of that page within 3 s of its first frame, or they came after its end; further ones are counted in hark_relay_frames_dropped_total{reason=\"no_floor\"}",
							"session", hd.Sender, "frames", dropped)
					}
				}
				return
			}
			if hd.Flags&proto.FlagEnd != 0 {
				cs.pageTail = 0 // the last one
			}
		}
		out := r.pageFanoutLocked(b, hd.Flags&proto.ClientVoiceFlags)
		r.mu.Unlock()
		cs.voiceIn.Add(1)
		for _, f := range out {
			r.deliver(nil, f)
		}
		return
	}
	ch := r.chByName[name]
	if ch == nil {
		cs.voiceBad.Add(1)
		return
	}
	proto.PutChannel(b, ch.info.ID)
	cs.voiceIn.Add(1)
	r.deliver(nil, fanout{b: b, to: ch.liveListeners()})
}

func (h clusterHandler) Event(ev cluster.Event) {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev.Kind {
	case cluster.EventText:
		m, err := parseEventMsg(ev.Msg)
		t, ok := m.(*proto.Text)
		if err != nil || !ok {
			return
		}
		f := r.frame(t)
		if t.To != "" {
			if s := r.byName[t.To]; s != nil {
				s.sendFrame(f)
				r.c.texts.Add(1)
			}
			return
		}
		if ch := r.chByName[t.Channel]; ch != nil {
			ch.sendAll(f)
			r.c.texts.Add(1)
		}
	case cluster.EventTalking:
		m, err := parseEventMsg(ev.Msg)
		tk, ok := m.(*proto.Talking)
		ch := r.chByName[ev.Text]
		if err != nil || !ok || ch == nil {
			return
		}
		tk.Channel = ch.info.ID
		if tk.Talking {
			r.cs.talkers[tk.Session] = true
		} else {
			delete(r.cs.talkers, tk.Session)
		}
		ch.sendListeners(r.frame(tk))
	case cluster.EventRing:
		m, err := parseEventMsg(ev.Msg)
		if g, ok := m.(*proto.Ring); err == nil && ok {
			r.toAllLocked(r.frame(g))
		}
	case cluster.EventKick, cluster.EventReplaced:
		s := r.byName[ev.Name]
		if s == nil {
			return
		}
		if ev.Kind == cluster.EventReplaced && s.since.UnixNano() > ev.At {
			// Two logins with one name at two relays at once: the newer
			// stays (the other relay ends its own when it hears of ours).
			return
		}
		r.removeLocked(s)
		if ev.Kind == cluster.EventKick {
			s.bye(proto.CodeKicked, truncate(ev.Text, proto.MaxReasonLen))
			r.c.kicks.Add(1)
			s.log.Info("kicked by an admin at another relay", "relay", ev.Node)
		} else {
			s.bye(proto.CodeReplaced, "you logged in from another place")
			r.c.replaced.Add(1)
			s.log.Info("session replaced by a newer login at another relay", "relay", ev.Node)
		}
	}
}

func (h clusterHandler) Roster(node string, users []proto.UserInfo) {
	r := h.r
	cs := r.cs
	r.mu.Lock()
	defer r.mu.Unlock()
	old := cs.remote[node]
	now := make(map[uint32]proto.UserInfo, len(users))
	for _, u := range users {
		if r.sessions[u.Session] != nil {
			continue // ours (a relay with the same node number: misconfigured)
		}
		now[u.Session] = u
	}
	ids := make([]uint32, 0, len(old)+len(now))
	for id := range old {
		ids = append(ids, id)
	}
	for id := range now {
		if _, ok := old[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		o, had := old[id]
		n, has := now[id]
		switch {
		case had && !has:
			delete(cs.owner, id)
			delete(cs.talkers, id)
			if cs.byName[o.Name] == id {
				delete(cs.byName, o.Name)
			}
			r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceOffline, User: proto.UserInfo{Session: id, Name: o.Name}})
		case !had && has:
			cs.owner[id] = node
			cs.byName[n.Name] = id
			r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceOnline, User: n})
		case o.Channel != n.Channel:
			r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceMoved, User: n})
		}
	}
	if len(now) == 0 && users == nil {
		delete(cs.remote, node)
	} else {
		cs.remote[node] = now
	}
	if users == nil {
		// The relay is gone: so are its floors and its page.
		for ch, l := range cs.floors {
			if l.Node == node {
				r.remoteFloorLocked(ch, nil)
			}
		}
		if cs.page != nil && cs.page.Node == node {
			r.remotePageLocked(nil)
		}
	}
}

func (h clusterHandler) Floor(key string, l *cluster.Lease) {
	r := h.r
	r.mu.Lock()
	if key == cluster.PageKey {
		r.remotePageLocked(l)
		var out []fanout
		if e := &r.cs.early; l != nil && e.sender == l.Session && len(e.frames) > 0 {
			// The page's first frames came before its lease: now they
			// go out, in order.
			for _, b := range e.frames {
				if hd, _, err := proto.ParseVoice(b); err == nil {
					out = append(out, r.pageFanoutLocked(b, hd.Flags&proto.ClientVoiceFlags)...)
				}
			}
			r.cs.voiceIn.Add(uint64(len(e.frames)))
			*e = earlyPage{}
		}
		r.mu.Unlock()
		for _, f := range out {
			r.deliver(nil, f)
		}
		return
	}
	defer r.mu.Unlock()
	if ch := r.cs.byKey[key]; ch != nil {
		r.remoteFloorLocked(ch, l)
	}
}

func (h clusterHandler) FloorLost(key string) {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if key == cluster.PageKey {
		if r.page != nil {
			r.cs.held[nil] = false
			p := r.page.s
			p.sendMsg(&proto.Error{Code: proto.CodeBusy, Text: "your page was cut: the relays lost contact with each other"})
			r.endPageLocked()
		}
		return
	}
	ch := r.cs.byKey[key]
	if ch == nil || !r.cs.held[ch] {
		return
	}
	delete(r.cs.held, ch)
	if hd := ch.holder; hd != nil {
		hd.mustStart = true
		hd.sendMsg(&proto.Error{Code: proto.CodeBusy, Text: "your transmission was cut: the relays lost contact with each other; press again"})
		r.releaseLocked(ch)
	}
}

func (h clusterHandler) NameAnswers(name string) bool {
	r := h.r
	r.mu.Lock()
	s := r.byName[name]
	r.mu.Unlock()
	return s != nil && r.answers(s)
}

func (h clusterHandler) Status() cluster.NodeStatus {
	r := h.r
	r.mu.Lock()
	defer r.mu.Unlock()
	st := cluster.NodeStatus{Sessions: len(r.sessions), Channels: map[string]int{}}
	for _, ch := range r.channels {
		if len(ch.members) > 0 {
			st.Channels[ch.info.Name] = len(ch.members)
		}
	}
	return st
}

// remoteFloorLocked records who holds ch's floor at another relay (nil:
// nobody) and tells ch's members.
func (r *Relay) remoteFloorLocked(ch *channel, l *cluster.Lease) {
	cs := r.cs
	old := cs.floors[ch]
	if old != nil && l != nil && old.Session == l.Session {
		return
	}
	if old != nil {
		delete(cs.floors, ch)
		ch.sendListeners(r.frame(&proto.Talking{Channel: ch.info.ID, Session: old.Session, Name: old.Name, Talking: false}))
	}
	if l != nil {
		cs.floors[ch] = l
		ch.sendListeners(r.frame(&proto.Talking{Channel: ch.info.ID, Session: l.Session, Name: l.Name, Talking: true}))
	}
}

// remotePageLocked records a page on the air at another relay (nil: it
// ended): every local talker is pre-empted, as by a local page.
func (r *Relay) remotePageLocked(l *cluster.Lease) {
	cs := r.cs
	old := cs.page
	if old != nil && l != nil && old.Session == l.Session {
		return
	}
	if old != nil {
		cs.page = nil
		cs.pageTail = old.Session
		for _, ch := range r.channels {
			ch.sendAll(r.frame(&proto.Talking{Channel: ch.info.ID, Session: old.Session, Name: old.Name, Talking: false, Priority: true}))
		}
		r.toAllLocked(r.frame(&proto.Page{From: old.Session, FromName: old.Name, Active: false}))
	}
	if l == nil {
		return
	}
	cs.page = l
	busy := r.frame(&proto.Error{Code: proto.CodeBusy, Text: "paged over by " + l.Name})
	for _, ch := range r.channels {
		if hd := ch.holder; hd != nil {
			hd.mustStart = true
			hd.sendFrame(busy)
			r.releaseLocked(ch)
		}
		for v := range ch.talkers {
			v.mustStart = true
			v.sendFrame(busy)
			r.talkerStopLocked(ch, v)
		}
		if p := cs.pending[ch]; p != nil {
			p.cancelled = true
		}
	}
	if p := r.page; p != nil {
		// Two pages at once cannot happen (one lease); a local page
		// left over from a lost lease gives way.
		r.endPageLocked()
	}
	r.toAllLocked(r.frame(&proto.Page{From: l.Session, FromName: l.Name, Active: true}))
	for _, ch := range r.channels {
		ch.sendAll(r.frame(&proto.Talking{Channel: ch.info.ID, Session: l.Session, Name: l.Name, Talking: true, Priority: true}))
	}
}

// remotePagerLocked returns who pages at another relay, or nil.
func (r *Relay) remotePagerLocked() *cluster.Lease {
	if r.cs == nil {
		return nil
	}
	return r.cs.page
}

// clusterFloorLocked handles s wanting ch's floor, free at this relay, in
// a clustered push-to-talk channel: refused at once if another relay's
// talker holds it, else asked of the cluster (frame b, if any, waits for
// the answer). byRequest: a FloorRequest rather than a frame.
func (r *Relay) clusterFloorLocked(ch *channel, s *session, b []byte, start, byRequest bool) fanout {
	cs := r.cs
	if l := cs.floors[ch]; l != nil && (!(start || byRequest) || !cs.cl.PeerDown(l.Node)) {
		// Held at another relay that is alive: refused at once. When
		// that relay is down (route gone, or silent), the cluster is
		// asked: the others may already have counted it dead and freed
		// its floor before this relay does.
		if start || byRequest {
			r.c.floorDenials.Add(1)
			s.sendMsg(&proto.FloorDeny{Channel: ch.info.ID, Holder: l.Session, HolderName: l.Name, Reason: "busy: " + l.Name + " is talking"})
		}
		s.mustStart = true
		return r.drop(dropNoFloor)
	}
	if p := cs.pending[ch]; p != nil && !p.cancelled {
		if p.s != s {
			if start || byRequest {
				r.denyLocked(s, ch.info.ID, p.s, "busy: "+p.s.name+" is talking")
			}
			s.mustStart = true
			return r.drop(dropNoFloor)
		}
		p.add(r, b)
		p.byRequest = p.byRequest || byRequest
		return fanout{}
	}
	p := &pendingFloor{s: s, byRequest: byRequest}
	p.add(r, b)
	cs.pending[ch] = p
	go r.acquireFloor(ch, p)
	return fanout{}
}

func (p *pendingFloor) add(r *Relay, b []byte) {
	if b == nil {
		return
	}
	if len(p.frames) == pendingMax {
		p.frames = p.frames[1:]
		r.c.dropped[dropQueueFull].Add(1)
	}
	p.frames = append(p.frames, b) // b is the relay's (handleVoice)
}

// acquireFloor asks the cluster for ch's floor for p's session, then
// grants it (and sends the frames that waited) or refuses it.
func (r *Relay) acquireFloor(ch *channel, p *pendingFloor) {
	s := p.s
	key := cluster.FloorKey(ch.info.Name)
	ctx, cancel := context.WithTimeout(context.Background(), acquireWait)
	cur, ok, err := r.cs.cl.AcquireFloor(ctx, key, cluster.Lease{Session: s.id, Name: s.name, Channel: ch.info.Name})
	cancel()
	now := time.Now()
	r.mu.Lock()
	cs := r.cs
	if cs.pending[ch] == p {
		delete(cs.pending, ch)
	}
	if p.cancelled || s.gone || s.ch != ch || ch.holder != nil || r.page != nil || cs.page != nil {
		r.mu.Unlock()
		if ok {
			r.cs.cl.ReleaseFloor(key)
		}
		return
	}
	if err != nil {
		cs.acquireFail.Add(1)
		s.mustStart = true
		s.sendMsg(&proto.Error{Code: proto.CodeUnavailable, About: proto.TypeFloorRequest,
			Text: "the relays of this intercom cannot agree on who talks right now (" + err.Error() + "): try again in a moment"})
		r.mu.Unlock()
		s.log.Warn("floor refused: the cluster did not answer", "err", err)
		return
	}
	if !ok {
		r.c.floorDenials.Add(1)
		s.mustStart = true
		s.sendMsg(&proto.FloorDeny{Channel: ch.info.ID, Holder: cur.Session, HolderName: cur.Name, Reason: "busy: " + cur.Name + " is talking"})
		if cur.Node != cs.cl.Node() && cs.floors[ch] == nil {
			c := cur
			r.remoteFloorLocked(ch, &c)
		}
		r.mu.Unlock()
		return
	}
	if cs.floors[ch] != nil {
		// The floor was free in the cluster while this relay still
		// showed a talker of a relay that is down (PeerDown): that
		// talker is gone.
		r.remoteFloorLocked(ch, nil)
	}
	cs.held[ch] = true
	if p.byRequest {
		s.sendMsg(&proto.FloorGrant{Channel: ch.info.ID, MaxMillis: r.maxMillis(ch)})
	}
	r.grantLocked(ch, s, p.byRequest && len(p.frames) == 0, now)
	members := ch.listeners // members and monitors
	var end bool
	for _, b := range p.frames {
		if h, _, err := proto.ParseVoice(b); err == nil && h.Flags&proto.FlagEnd != 0 {
			end = true
		}
	}
	if end {
		r.releaseLocked(ch)
	} else if len(p.frames) > 0 {
		r.issuePassLocked(s, ch, now)
	}
	r.mu.Unlock()
	for _, b := range p.frames {
		r.deliver(s, fanout{b: b, to: members})
		cs.cl.PublishVoice(ch.info.Name, b)
	}
}

// clusterTalkingLocked tells the other relays that s started or stopped
// talking in open channel ch (a push-to-talk floor is announced by its
// lease instead).
func (r *Relay) clusterTalkingLocked(ch *channel, s *session, on bool) {
	if r.cs == nil {
		return
	}
	b, err := proto.AppendMessage(nil, &proto.Talking{Channel: ch.info.ID, Session: s.id, Name: s.name, Talking: on})
	if err != nil {
		return
	}
	r.cs.cl.Send(cluster.Event{Kind: cluster.EventTalking, Text: ch.info.Name, Msg: b})
}

// clusterReleasedLocked gives back ch's lease when its local holder's
// floor ends.
func (r *Relay) clusterReleasedLocked(ch *channel) {
	if r.cs == nil || !r.cs.held[ch] {
		return
	}
	delete(r.cs.held, ch)
	r.cs.cl.ReleaseFloor(cluster.FloorKey(ch.info.Name))
}

// clusterCancelLocked withdraws s's floor request waiting for the cluster
// (it released before the answer came).
func (r *Relay) clusterCancelLocked(s *session, ch *channel) {
	if r.cs == nil || ch == nil {
		return
	}
	if p := r.cs.pending[ch]; p != nil && p.s == s {
		p.cancelled = true
		delete(r.cs.pending, ch)
	}
}

// clusterPageLocked asks the cluster for the page for s (the answer
// starts the page or refuses it); false when the relay is not clustered.
func (r *Relay) clusterPageLocked(s *session) bool {
	cs := r.cs
	if cs == nil {
		return false
	}
	if l := cs.page; l != nil {
		r.c.floorDenials.Add(1)
		s.sendMsg(&proto.FloorDeny{Channel: proto.PageChannel, Holder: l.Session, HolderName: l.Name, Reason: "busy: " + l.Name + " is paging everyone"})
		return true
	}
	if cs.pagePend != nil {
		if cs.pagePend != s {
			r.c.floorDenials.Add(1)
			s.sendMsg(&proto.FloorDeny{Channel: proto.PageChannel, Holder: cs.pagePend.id, HolderName: cs.pagePend.name, Reason: "busy: " + cs.pagePend.name + " is paging everyone"})
		}
		return true
	}
	cs.pagePend = s
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), acquireWait)
		cur, ok, err := cs.cl.AcquireFloor(ctx, cluster.PageKey, cluster.Lease{Session: s.id, Name: s.name})
		cancel()
		r.mu.Lock()
		defer r.mu.Unlock()
		cs.pagePend = nil
		switch {
		case s.gone || r.page != nil:
			if ok {
				cs.cl.ReleaseFloor(cluster.PageKey)
			}
		case err != nil:
			cs.acquireFail.Add(1)
			s.sendMsg(&proto.Error{Code: proto.CodeUnavailable, About: proto.TypePageStart,
				Text: "the relays of this intercom cannot agree on who pages right now (" + err.Error() + "): try again in a moment"})
		case !ok:
			r.c.floorDenials.Add(1)
			s.sendMsg(&proto.FloorDeny{Channel: proto.PageChannel, Holder: cur.Session, HolderName: cur.Name, Reason: "busy: " + cur.Name + " is paging everyone"})
		default:
			cs.held[nil] = true // nil channel: the page
			for _, p := range cs.pending {
				p.cancelled = true
			}
			s.sendMsg(&proto.FloorGrant{Channel: proto.PageChannel, MaxMillis: r.maxMillis(nil)})
			r.startPageLocked(s, time.Now())
		}
	}()
	return true
}

// clusterPageEndedLocked gives back the page lease when a local page ends.
func (r *Relay) clusterPageEndedLocked() {
	if r.cs == nil || !r.cs.held[nil] {
		return
	}
	delete(r.cs.held, nil)
	r.cs.cl.ReleaseFloor(cluster.PageKey)
}

// clusterPublish hands a frame the relay forwarded for one of its own
// talkers to the other relays (channel "" for a page frame). No lock, no
// allocation.
func (r *Relay) clusterPublish(channel string, b []byte) {
	if r.cs != nil {
		r.cs.cl.PublishVoice(channel, b)
	}
}

// remoteUsersLocked returns the sessions at other relays, by id.
func (r *Relay) remoteUsersLocked() []proto.UserInfo {
	if r.cs == nil {
		return nil
	}
	talking := map[uint32]bool{}
	for _, l := range r.cs.floors {
		talking[l.Session] = true
	}
	if p := r.cs.page; p != nil {
		talking[p.Session] = true
	}
	var out []proto.UserInfo
	for _, m := range r.cs.remote {
		for _, u := range m {
			u.Talking = talking[u.Session] || r.cs.talkers[u.Session]
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Session < out[j].Session })
	return out
}

// onlineLocked reports whether session id is logged in here or at another
// relay.
func (r *Relay) onlineLocked(id uint32) bool {
	if r.sessions[id] != nil {
		return true
	}
	if r.cs != nil {
		_, ok := r.cs.owner[id]
		return ok
	}
	return false
}

// remoteNameLocked reports whether name is logged in at another relay.
func (r *Relay) remoteNameLocked(name string) bool {
	_, ok := r.remoteNodeLocked(name)
	return ok
}

// remoteNodeLocked returns the relay where name is logged in, if another.
func (r *Relay) remoteNodeLocked(name string) (string, bool) {
	if r.cs == nil {
		return "", false
	}
	id, ok := r.cs.byName[name]
	if !ok {
		return "", false
	}
	return r.cs.owner[id], true
}

// remoteNameAnswers (open mode) asks the relay where name is logged in
// whether that session is alive: a dead session, or a dead relay, leaves
// the name to a new login, as on one relay. Called without the lock.
func (r *Relay) remoteNameAnswers(node, name string) bool {
	return r.cs.cl.NameTaken(node, name, r.cfg.OpenProbe+500*time.Millisecond)
}

// parseEventMsg parses the framed message of an event.
func parseEventMsg(b []byte) (proto.Message, error) {
	if len(b) < proto.FrameHeaderLen {
		return nil, proto.ErrShort
	}
	return proto.ParseMessage(b[proto.FrameHeaderLen:])
}

// clusterSend sends an event with message m to the other relays.
func (r *Relay) clusterSend(kind string, m proto.Message) {
	if r.cs == nil {
		return
	}
	b, err := proto.AppendMessage(nil, m)
	if err != nil {
		r.cfg.Logger.Error("cannot encode a message for the other relays", "type", m.Type().String(), "err", err)
		return
	}
	r.cs.cl.Send(cluster.Event{Kind: kind, Msg: b})
}

// clusterKickLocked ends name's session at another relay; false when name
// is not logged in at another relay.
func (r *Relay) clusterKickLocked(name, text string) bool {
	if !r.remoteNameLocked(name) {
		return false
	}
	r.cs.cl.Send(cluster.Event{Kind: cluster.EventKick, Name: name, Text: text})
	return true
}

// clusterReplaceLocked ends name's older session at another relay (a newer
// login here wins). False when there is none.
func (r *Relay) clusterReplaceLocked(name string) bool {
	if !r.remoteNameLocked(name) {
		return false
	}
	r.cs.cl.Send(cluster.Event{Kind: cluster.EventReplaced, Name: name, At: time.Now().UnixNano()})
	return true
}

package relay

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/proto"
	"github.com/quic-go/quic-go"
)

// The voice fast path: what a forwarded frame costs once a transmission is
// under way.
//
// A talker's first frame (and every start or end frame, page frame, or frame
// of a talker without a floor) goes through floor control under Relay.mu. A
// frame that floor control forwarded leaves the talker a voicePass; the
// frames after it, while the pass is valid, skip Relay.mu: the talkers of a
// relay fan out in parallel, one per core. The pass is withdrawn (under
// Relay.mu) when the floor is released or the talker stops, which is also
// what happens when a talker leaves, is cut, pre-empted by a page or logs
// out. The channel's listeners (members and monitors) are published with an atomic pointer
// (channel.live), replaced whenever someone joins or leaves.
//
// Each copy is then handed to QUIC straight from the fan-out when that
// cannot block (directState.admit), else queued for the listener's voiceLoop
// as before: a listener whose QUIC connection holds datagrams only ever
// delays itself, and its queue stays bounded drop-oldest.

// voicePass lets a talker's mid-transmission frames skip floor control.
// Issued and withdrawn under Relay.mu (session.pass); read without it.
type voicePass struct {
	ch   *channel
	last atomic.Int64 // wall clock (Unix ns) of the last frame forwarded on the pass
}

// issuePassLocked gives s a pass for ch unless it holds one. Called under
// r.mu after floor control forwarded a frame that did not end the
// transmission.
func (r *Relay) issuePassLocked(s *session, ch *channel, now time.Time) {
	if p := s.pass.Load(); p != nil && p.ch == ch {
		return
	}
	p := &voicePass{ch: ch}
	p.last.Store(now.UnixNano())
	s.pass.Store(p)
}

// withdrawPassLocked ends s's pass: its next frame goes through floor
// control. Called under r.mu when s's floor or talk ends; the last frame
// time on the pass is kept for the sweep in s.passLast.
func (s *session) withdrawPassLocked() {
	if p := s.pass.Swap(nil); p != nil {
		s.passLast = p.last.Load()
	}
}

// lastFrame returns t or, when later, the time of s's last frame forwarded
// on the fast path. Called under r.mu (the sweep).
func (s *session) lastFrame(t time.Time) time.Time {
	ns := s.passLast
	if p := s.pass.Load(); p != nil {
		ns = max(ns, p.last.Load())
	}
	if ns > t.UnixNano() {
		return time.Unix(0, ns)
	}
	return t
}

// setMembers replaces ch's member list (never modified in place) and
// publishes the listeners (members and monitors, see monitor.go) to the
// fast path. Called under r.mu.
func (ch *channel) setMembers(m []*session) {
	ch.members = m
	ch.refreshListeners()
}

// liveListeners returns the listener list (members, then monitors) as last
// published.
func (ch *channel) liveListeners() []*session {
	if m := ch.live.Load(); m != nil {
		return *m
	}
	return nil
}

// fastVoice forwards a frame on s's pass without r.mu; false when the frame
// needs floor control.
func (r *Relay) fastVoice(s *session, b []byte, h proto.VoiceHeader, flags proto.VoiceFlags, now time.Time) bool {
	if flags&(proto.FlagStart|proto.FlagEnd) != 0 {
		return false
	}
	p := s.pass.Load()
	if p == nil || p.ch.info.ID != h.Channel {
		return false
	}
	p.last.Store(now.UnixNano())
	r.deliver(s, fanout{b: b, to: p.ch.liveListeners()})
	r.clusterPublish(p.ch.info.Name, b)
	return true
}

// Limits of sending straight from the fan-out (see directState).
const (
	// directOwed is how many datagrams may be in QUIC's queue of a
	// connection (32 at most, then SendDatagram blocks) as far as the relay
	// can tell, for another one to be sent straight from the fan-out. The
	// rest of the 32 is the margin for packets the account took for
	// datagrams that were not (acknowledgement-only packets).
	directOwed = 12
	// directUnheard is how many packets the relay may have sent to a
	// listener since it last heard from it for direct sends to go on.
	directUnheard = 24
	// directLossPause is how long a listener gets its voice through its
	// queue after its connection lost a packet (the congestion window
	// shrinks; QUIC may hold datagrams for a while).
	directLossPause = 2 * time.Second
	// directStuck is how long a direct send may take before the watchdog
	// closes the listener's connection, which unblocks it.
	directStuck = 500 * time.Millisecond
)

// directState decides whether a datagram for one listener may go to QUIC
// straight from the fan-out. quic-go's SendDatagram blocks while 32
// datagrams wait in the connection's queue, and the fan-out must never
// block; quic-go does not say how many wait, so the relay keeps its own
// account from the connection's counters: every datagram handed to QUIC
// counts as owed until the connection has sent packets for it. QUIC puts
// queued datagrams, oldest first, before anything else in every packet it
// sends, as many as fit, so unless the connection is congestion-limited
// each packet sent carries at least one waiting datagram, and the packets
// sent since the previous look carried up to directPerPacket each of those
// that waited at that look. Congestion is what can hold datagrams,
// and it follows loss or a peer that stopped answering: after a loss, or
// when the listener has not been heard for directUnheard packets, its
// voice takes the queue. A direct send that blocks anyway is ended by the
// watchdog (Relay.watchDirect). Safe for concurrent use; the zero value is
// ready.
type directState struct {
	mu       sync.Mutex
	sent     uint64 // guarded by mu: PacketsSent at the last look
	recv     uint64 // guarded by mu: PacketsReceived at the last look
	heardAt  uint64 // guarded by mu: PacketsSent when PacketsReceived last moved
	lost     uint64 // guarded by mu: PacketsLost at the last look
	owed     int    // guarded by mu: datagrams handed to QUIC not yet matched by packets sent
	owedThen int    // guarded by mu: owed at the last look
	looked   bool   // guarded by mu: the counters above were read once
	pauseEnd int64  // guarded by mu: Unix ns before which nothing is sent directly

	// since is when the direct send under way started (Unix ns), 0 when
	// none is; read by the watchdog.
	since atomic.Int64
}

// admit reports whether one more datagram of size bytes may be sent
// directly, and if so counts it as owed.
func (d *directState) admit(st quic.ConnectionStats, size int, now int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lookLocked(st, size, now)
	if now < d.pauseEnd || st.PacketsSent-d.heardAt > directUnheard || d.owed >= directOwed {
		return false
	}
	d.owed++
	return true
}

// queued counts a datagram the listener's voiceLoop handed to QUIC.
func (d *directState) queued() {
	d.mu.Lock()
	d.owed++
	d.mu.Unlock()
}

// directPerPacket is how many datagrams of size bytes one packet carries
// at least, from what QUIC leaves for them in a packet of the smallest size
// it sends after the handshake (1200 bytes less header, an
// acknowledgement and the AEAD tag; each DATAGRAM frame adds a type byte
// and a length).
func directPerPacket(size int) int { return max(1, (1200-100)/(size+3)) }

func (d *directState) lookLocked(st quic.ConnectionStats, size int, now int64) {
	if st.PacketsSent > d.sent {
		// Packets sent since the last look: each carried at least one
		// waiting datagram, and together up to directPerPacket each of
		// the ones that waited at the last look (a backlog leaves in few
		// packets).
		n := int(min(st.PacketsSent-d.sent, 1<<20))
		d.owed = max(0, d.owed-max(n, min(d.owedThen, n*directPerPacket(size))))
		d.sent = st.PacketsSent
	}
	if st.PacketsReceived != d.recv {
		d.recv, d.heardAt = st.PacketsReceived, st.PacketsSent
	}
	if st.PacketsLost != d.lost {
		if d.looked { // not the handshake's losses, before the first look
			d.pauseEnd = now + int64(directLossPause)
		}
		d.lost = st.PacketsLost
	}
	d.looked = true
	d.owedThen = d.owed
}

// trySend hands b to QUIC for s at once when that cannot block and nothing
// of s's waits in its queue (so a talker's frames stay in order). handled
// is false when b must be queued instead; sent is false when QUIC refused
// it (counted by the caller as a send error: a datagram QUIC refused once
// it refuses again, so it is not queued either).
func (s *session) trySend(b []byte, now int64) (handled, sent bool) {
	if s.conn == nil || s.voice.busy.Load() != 0 || !s.direct.admit(s.conn.ConnectionStats(), len(b), now) {
		return false, false
	}
	mine := s.direct.since.CompareAndSwap(0, now)
	err := s.conn.SendDatagram(b)
	if mine {
		s.direct.since.Store(0)
	}
	return true, err == nil
}

// watchDirect closes the connection of a listener whose direct send has
// been blocked for directStuck (QUIC kept 32 of its datagrams while
// directState thought it could take more), which ends the send; the
// talker's other listeners waited that long once. Runs until ctx ends.
func (r *Relay) watchDirect(ctx context.Context) {
	t := time.NewTicker(directStuck / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			var stuck []*session
			r.mu.Lock()
			for _, s := range r.sessions {
				if since := s.direct.since.Load(); since != 0 && now.UnixNano()-since > int64(directStuck) {
					stuck = append(stuck, s)
				}
			}
			r.mu.Unlock()
			for _, s := range stuck {
				r.c.directStuck.Add(1)
				s.log.Warn("closing session: its connection took no voice for a while (QUIC's send queue stayed full)", "for", directStuck)
				s.conn.CloseWithError(quic.ApplicationErrorCode(proto.CodeIdle), "your connection took no voice from the relay for half a second: reconnect")
			}
		}
	}
}

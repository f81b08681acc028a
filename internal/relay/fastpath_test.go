package relay

import (
	"log/slog"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/proto"
	"github.com/quic-go/quic-go"
)

// passRelay is a relay with n sessions (no connections: every frame goes
// through the listeners' queues) in its first channel.
func passRelay(t *testing.T, n int) (*Relay, *channel, []*session) {
	t.Helper()
	cert, err := certs.InMemory()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Cert: cert, Open: true, VoiceRate: 1e9, VoiceBurst: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	ch := r.channels[0]
	var ss []*session
	for i := range n {
		ss = append(ss, r.testSession(uint32(i+1)))
	}
	r.mu.Lock()
	for _, s := range ss {
		r.joinLocked(s, ch.info.Name)
	}
	r.mu.Unlock()
	return r, ch, ss
}

func (r *Relay) testSession(id uint32) *session {
	s := &session{r: r, id: id, name: "s" + string(rune('a'+id)), version: proto.Version, log: slog.New(slog.DiscardHandler)}
	s.ctl.init()
	s.voice.init(64)
	r.sessions[id] = s
	return s
}

func testFrame(ch uint16, seq uint16, f proto.VoiceFlags) []byte {
	return proto.AppendVoice(nil, proto.VoiceHeader{Flags: f, Channel: ch, Seq: seq, Duration: 960}, []byte{1, 2, 3})
}

// popSeqs empties s's voice queue and returns the sequence numbers in it.
func popSeqs(s *session) []uint16 {
	var out []uint16
	for b := s.voice.pop(); b != nil; b = s.voice.pop() {
		s.voice.sent()
		h, _, _ := proto.ParseVoice(b)
		out = append(out, h.Seq)
	}
	return out
}

// TestPassSkipsTheRelayLock: once floor control forwarded a start frame,
// the talker's next frames reach the listeners while another goroutine
// holds the relay's lock; a member who joins mid-transmission hears them.
func TestPassSkipsTheRelayLock(t *testing.T) {
	r, ch, ss := passRelay(t, 3)
	a, b := ss[0], ss[1]
	r.handleVoice(a, testFrame(ch.info.ID, 0, proto.FlagStart))
	if a.pass.Load() == nil || ch.holder != a && ch.talkers[a] == nil {
		t.Fatal("no pass after a forwarded start frame")
	}
	late := r.testSession(9)
	r.mu.Lock()
	r.joinLocked(late, ch.info.Name)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.handleVoice(a, testFrame(ch.info.ID, 1, 0))
	}()
	<-done // would never come if the frame needed r.mu
	r.mu.Unlock()
	if got := popSeqs(b); len(got) != 2 || got[1] != 1 {
		t.Fatalf("bob's queue %v, want [0 1]", got)
	}
	if got := popSeqs(late); len(got) != 1 || got[0] != 1 {
		t.Fatalf("the late joiner's queue %v, want [1]", got)
	}
	// The end frame goes through floor control and withdraws the pass.
	r.handleVoice(a, testFrame(ch.info.ID, 2, proto.FlagEnd))
	if a.pass.Load() != nil || ch.holder == a || ch.talkers[a] != nil {
		t.Fatal("the pass outlived the transmission")
	}
	if got := popSeqs(b); len(got) != 1 || got[0] != 2 {
		t.Fatalf("bob's queue %v, want [2]", got)
	}
	// A frame of the transmission arriving after its end is late, not
	// forwarded.
	r.handleVoice(a, testFrame(ch.info.ID, 1, 0))
	if got := popSeqs(b); len(got) != 0 || r.c.dropped[dropLate].Load() != 1 {
		t.Fatalf("bob's queue %v, late drops %d", got, r.c.dropped[dropLate].Load())
	}
}

// TestPassKeepsTheFloorAlive: frames on the fast path count for the floor
// timeout; when they stop, the sweep frees the floor and withdraws the pass.
func TestPassKeepsTheFloorAlive(t *testing.T) {
	r, ch, ss := passRelay(t, 2)
	a := ss[0]
	r.handleVoice(a, testFrame(ch.info.ID, 0, proto.FlagStart))
	// The start frame was long ago; a fast-path frame came just now.
	r.mu.Lock()
	old := time.Now().Add(-2 * r.cfg.FloorTimeout)
	ch.holderLast = old
	if t := ch.talkers[a]; t != nil {
		t.last = old
	}
	r.mu.Unlock()
	r.handleVoice(a, testFrame(ch.info.ID, 1, 0))
	r.mu.Lock()
	r.sweepLocked(time.Now())
	held := ch.holder == a || ch.talkers[a] != nil
	r.sweepLocked(time.Now().Add(2 * r.cfg.FloorTimeout))
	freed := ch.holder != a && ch.talkers[a] == nil && a.pass.Load() == nil
	r.mu.Unlock()
	if !held {
		t.Fatal("the sweep freed a floor whose talker was sending on the fast path")
	}
	if !freed {
		t.Fatal("the sweep kept a floor (or its pass) whose frames stopped")
	}
}

// TestPassEndsWithAPage: a page pre-empts a talker on the fast path.
func TestPassEndsWithAPage(t *testing.T) {
	r, ch, ss := passRelay(t, 3)
	a, b, pager := ss[0], ss[1], ss[2]
	r.handleVoice(a, testFrame(ch.info.ID, 0, proto.FlagStart))
	r.mu.Lock()
	r.startPageLocked(pager, time.Now())
	r.mu.Unlock()
	if a.pass.Load() != nil {
		t.Fatal("the talker kept its pass through a page")
	}
	popSeqs(b)
	r.handleVoice(a, testFrame(ch.info.ID, 1, 0))
	if got := popSeqs(b); len(got) != 0 || r.c.dropped[dropPreempted].Load() != 1 {
		t.Fatalf("bob's queue %v during a page, pre-empted drops %d", got, r.c.dropped[dropPreempted].Load())
	}
}

// TestDirectAdmit: the account of datagrams QUIC may still hold.
func TestDirectAdmit(t *testing.T) {
	var d directState
	st := quic.ConnectionStats{PacketsSent: 10, PacketsReceived: 5, PacketsLost: 3}
	now := time.Now().UnixNano()
	for i := range directOwed {
		if !d.admit(st, now) {
			t.Fatalf("datagram %d refused on a fresh connection (losses before the first look do not count)", i)
		}
	}
	if d.admit(st, now) {
		t.Fatalf("admitted with %d datagrams owed and no packet sent", directOwed)
	}
	st.PacketsSent += 2
	if got := []bool{d.admit(st, now), d.admit(st, now), d.admit(st, now)}; !got[0] || !got[1] || got[2] {
		t.Fatalf("two packets sent should make room for exactly two datagrams: %v", got)
	}
	d.queued() // the voiceLoop's datagrams count too
	st.PacketsSent += 1
	if d.admit(st, now) {
		t.Fatal("a queued datagram was not counted")
	}
	// A loss pauses direct sends for directLossPause.
	st.PacketsSent += 10
	st.PacketsLost++
	if d.admit(st, now) {
		t.Fatal("admitted right after a loss")
	}
	now += int64(directLossPause)
	if !d.admit(st, now) {
		t.Fatal("refused after the loss pause")
	}
	// A listener not heard for directUnheard packets gets its queue.
	st.PacketsSent += directUnheard + 1
	if d.admit(st, now) {
		t.Fatal("admitted to a listener not heard for many packets")
	}
	st.PacketsReceived++
	if !d.admit(st, now) {
		t.Fatal("refused once the listener was heard again")
	}
}

// TestQueuedFramesKeepOrder: while a listener has frames queued (or its
// voiceLoop is sending one), the fan-out queues behind them.
func TestQueuedFramesKeepOrder(t *testing.T) {
	var q voiceQueue
	q.init(2)
	q.push([]byte{1})
	if q.busy.Load() != 1 {
		t.Fatalf("busy %d after a push", q.busy.Load())
	}
	q.push([]byte{2})
	q.push([]byte{3}) // drops 1: still two waiting
	if q.busy.Load() != 2 {
		t.Fatalf("busy %d after a drop", q.busy.Load())
	}
	q.pop()
	if q.busy.Load() != 2 {
		t.Fatal("a popped datagram not yet sent must keep the queue busy")
	}
	q.sent()
	q.pop()
	q.sent()
	if q.busy.Load() != 0 {
		t.Fatalf("busy %d with nothing left", q.busy.Load())
	}
}

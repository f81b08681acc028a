package relay

import (
	"errors"
	"time"

	"github.com/hark-intercom/hark/proto"
)

// fanout is one copy of a datagram and who gets it; ch is the channel of
// a local talker's frame (published to the other relays of a cluster).
type fanout struct {
	b  []byte
	to []*session
	ch *channel
}

// handleVoice checks one datagram from s and queues it for its listeners. b
// is owned by the relay from here on (quic-go hands out a fresh slice) and is
// modified in place.
func (r *Relay) handleVoice(s *session, b []byte) {
	h, payload, err := proto.ParseVoice(b)
	if err != nil {
		r.c.bad[badReasonOf(err)].Add(1)
		return
	}
	// Priority is the relay's to set, and flags the relay does not know are
	// ignored: cleared, so no listener gets a flag it may not know.
	flags := h.Flags & proto.ClientVoiceFlags
	proto.PutSender(b, s.id)
	if flags != h.Flags {
		proto.PutFlags(b, flags)
	}
	now := time.Now()
	if r.fastVoice(s, b, h, flags, now) {
		if r.hist != nil {
			r.hist.capture(s, h, payload, now) // non-blocking hand-off to the recorder
		}
		return
	}

	var one fanout
	var page []fanout
	r.mu.Lock()
	switch {
	case s.gone:
	case h.Channel == proto.PageChannel:
		page = r.pageVoiceLocked(s, b, flags, now)
	case h.Channel == proto.WhisperChannel:
		// A call (whisper.go): to the callee alone, never recorded.
		call := r.whisperVoiceLocked(s, flags, now)
		r.mu.Unlock()
		if call.to != nil {
			call.b = b
			r.deliver(s, call)
		}
		return
	default:
		one = r.channelVoiceLocked(s, b, h.Channel, h.Seq, flags, now)
	}
	r.mu.Unlock()

	if r.hist != nil && (one.b != nil || page != nil) {
		r.hist.capture(s, h, payload, now) // non-blocking hand-off to the recorder
	}
	r.deliver(s, one)
	if one.ch != nil {
		r.clusterPublish(one.ch.info.Name, one.b)
	}
	for _, f := range page {
		r.deliver(s, f)
	}
}

// deliver hands f.b to each listener but the sender: straight to QUIC where
// the relay's account says that cannot block (session.trySend; a send that
// blocks anyway is ended by Relay.watchDirect), else into the listener's
// bounded queue. The counters are added once per frame, not per listener.
func (r *Relay) deliver(from *session, f fanout) {
	var queued, dropped, direct, failed uint64
	now := time.Now().UnixNano()
	for _, l := range f.to {
		if l == from {
			continue
		}
		if handled, sent := l.trySend(f.b, now); handled {
			if sent {
				direct++
			} else {
				failed++
			}
			continue
		}
		if l.voice.push(f.b) {
			dropped++
		}
		queued++
	}
	if dropped > 0 {
		r.c.dropped[dropQueueFull].Add(dropped)
	}
	if failed > 0 {
		r.c.dropped[dropSendError].Add(failed)
	}
	if queued > 0 {
		r.c.framesQueued.Add(queued)
	}
	if direct > 0 {
		r.c.framesDirect.Add(direct)
		r.c.framesOut.Add(direct)
	}
}

func badReasonOf(err error) badReason {
	switch {
	case errors.Is(err, proto.ErrShort):
		return badShort
	case errors.Is(err, proto.ErrBadType):
		return badKind
	case errors.Is(err, proto.ErrTooLong):
		return badTooLong
	}
	return badValue
}

func (r *Relay) drop(why dropReason) fanout {
	r.c.dropped[why].Add(1)
	return fanout{}
}

// channelVoiceLocked applies floor control to a frame for the sender's channel.
func (r *Relay) channelVoiceLocked(s *session, b []byte, id, seq uint16, flags proto.VoiceFlags, now time.Time) fanout {
	ch := s.ch
	if ch == nil {
		return r.drop(dropNotJoined)
	}
	if ch.info.ID != id {
		return r.drop(dropWrongChannel)
	}
	start, end := flags&proto.FlagStart != 0, flags&proto.FlagEnd != 0
	if p := r.page; p != nil {
		if start && p.s != s {
			s.sendMsg(&proto.Error{Code: proto.CodeBusy, Text: "busy: " + p.s.name + " is paging everyone"})
		}
		s.mustStart = true
		return r.drop(dropPreempted)
	}
	if p := r.remotePagerLocked(); p != nil {
		if start {
			s.sendMsg(&proto.Error{Code: proto.CodeBusy, Text: "busy: " + p.Name + " is paging everyone"})
		}
		s.mustStart = true
		return r.drop(dropPreempted)
	}
	// A frame of a transmission that already ended (it arrived after the
	// end frame) must not start a new one.
	if !start && s.ended && int16(seq-s.endSeq) <= 0 && ch.holder != s && ch.talkers[s] == nil {
		return r.drop(dropLate)
	}
	if start {
		s.ended = false
	}
	if end {
		s.ended, s.endSeq = true, seq
	}
	if ch.holder != s && ch.talkers[s] == nil && !ch.mayTalk(s) {
		if start {
			r.refuseTalkLocked(s, ch, proto.TypeFloorRequest)
		}
		s.mustStart = true
		return r.drop(dropForbidden)
	}
	members := ch.listeners // members and monitors (monitor.go)
	if ch.info.Mode == proto.ModeOpen {
		t := ch.talkers[s]
		if t == nil {
			if !start && s.mustStart {
				return r.drop(dropNoFloor)
			}
			t = r.talkerStartLocked(ch, s, false, now)
		}
		t.last, t.granted = now, false
		if end {
			r.talkerStopLocked(ch, s)
		} else {
			r.issuePassLocked(s, ch, now)
		}
		return fanout{b: b, to: members, ch: ch}
	}
	switch ch.holder {
	case s:
	case nil:
		// A free floor is taken by a start frame (saving the FloorRequest
		// round trip), or by any frame when the sender's previous attempt was
		// not refused or cut (its start frame may have been lost).
		if !start && s.mustStart {
			return r.drop(dropNoFloor)
		}
		if r.cs != nil {
			return r.clusterFloorLocked(ch, s, b, start, false)
		}
		r.grantLocked(ch, s, false, now)
	default:
		if start {
			r.denyLocked(s, ch.info.ID, ch.holder, "busy: "+ch.holder.name+" is talking")
		}
		s.mustStart = true
		return r.drop(dropNoFloor)
	}
	ch.holderLast, ch.holderGranted = now, false
	if end {
		r.releaseLocked(ch)
	} else {
		r.issuePassLocked(s, ch, now)
	}
	return fanout{b: b, to: members, ch: ch}
}

// pageVoiceLocked fans a page frame out to every session: one copy per
// channel with that channel's id and the priority flag, and one for sessions
// in no channel (channel id PageChannel).
func (r *Relay) pageVoiceLocked(s *session, b []byte, flags proto.VoiceFlags, now time.Time) []fanout {
	p := r.page
	if p == nil || p.s != s {
		r.c.dropped[dropNoFloor].Add(1)
		return nil
	}
	p.last, p.granted = now, false
	// To the other relays first (a copy into the publish queue): the
	// page's end below releases its lease, and the other relays must get
	// the last frame before they see the lease go (Cluster.ReleaseFloor).
	r.clusterPublish("", b)
	out := r.pageFanoutLocked(b, flags)
	if flags&proto.FlagEnd != 0 {
		r.endPageLocked()
	}
	return out
}

// pageFanoutLocked makes the copies of a page frame b: one per channel with
// members, with that channel's id and the priority flag, and b itself (the
// priority flag set) for the sessions in no channel.
func (r *Relay) pageFanoutLocked(b []byte, flags proto.VoiceFlags) []fanout {
	out := make([]fanout, 0, len(r.channels)+1)
	for _, ch := range r.channels {
		if len(ch.members) == 0 {
			continue
		}
		c := append([]byte(nil), b...)
		proto.PutChannel(c, ch.info.ID)
		proto.PutFlags(c, flags|proto.FlagPriority)
		out = append(out, fanout{b: c, to: ch.members})
	}
	var nowhere []*session
	for _, o := range r.sessions {
		if o.ch == nil {
			nowhere = append(nowhere, o)
		}
	}
	if len(nowhere) > 0 {
		proto.PutFlags(b, flags|proto.FlagPriority)
		out = append(out, fanout{b: b, to: nowhere})
	}
	return out
}

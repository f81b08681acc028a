package relay

import (
	"time"

	"github.com/hark-intercom/hark/proto"
)

// Calls (proto.WhisperStart): one session talks to one other alone. A call
// holds no channel floor: it is heard while the callee's channel is busy,
// and the callee may call back meanwhile. One caller at a time per callee
// (another is denied, naming the caller); a page ends every call. Call
// frames take the slow path (under r.mu, no fast-path pass) and are not
// recorded in history; forwarding them does not allocate (the callee's
// one-element listener list is made when the call starts).

// whisperCall is one call. Guarded by r.mu.
type whisperCall struct {
	from, to    *session
	toList      []*session // {to}, the fan-out's listener list
	since, last time.Time
	granted     bool // granted by WhisperStart and no frame yet
}

// whisperStartLocked answers a WhisperStart. Called under r.mu.
func (r *Relay) whisperStartLocked(s *session, name string, now time.Time) {
	refuse := func(code proto.Code, text string) {
		s.sendMsg(&proto.Error{Code: code, About: proto.TypeWhisperStart, Text: truncate(text, proto.MaxReasonLen)})
	}
	if s.features&proto.FeatureWhisper == 0 {
		refuse(proto.CodeBadMessage, "your app did not offer calls when it logged in: update it")
		return
	}
	to := r.byName[name]
	switch {
	case to == nil || to.gone:
		refuse(proto.CodeNoUser, name+" is not online, so the call cannot reach them: try again when they are, or send a text")
		return
	case to == s:
		refuse(proto.CodeBadMessage, "you cannot call yourself")
		return
	case to.features&proto.FeatureWhisper == 0:
		refuse(proto.CodeNoUser, name+"'s app cannot take calls (it is older than the relay): they need to update it; talk in their channel or send a text instead")
		return
	}
	if p := r.page; p != nil && p.s != s {
		r.c.floorDenials.Add(1)
		s.sendMsg(&proto.FloorDeny{Channel: proto.WhisperChannel, Holder: p.s.id, HolderName: p.s.name,
			Reason: "busy: " + p.s.name + " is paging everyone"})
		return
	}
	if c := to.called; c != nil && c.from != s {
		r.c.floorDenials.Add(1)
		s.sendMsg(&proto.FloorDeny{Channel: proto.WhisperChannel, Holder: c.from.id, HolderName: c.from.name,
			Reason: "busy: " + c.from.name + " is calling " + name})
		return
	}
	grant := &proto.FloorGrant{Channel: proto.WhisperChannel, MaxMillis: r.maxMillis()}
	if c := s.call; c != nil {
		if c.to == to {
			c.last = now
			s.sendMsg(grant)
			return
		}
		r.endCallLocked(c)
	}
	s.sendMsg(grant)
	r.startCallLocked(s, to, true, now)
}

// startCallLocked puts s's call to "to" on the air and tells both.
func (r *Relay) startCallLocked(s, to *session, byRequest bool, now time.Time) *whisperCall {
	c := &whisperCall{from: s, to: to, toList: []*session{to}, since: now, last: now, granted: byRequest}
	s.call, to.called = c, c
	s.mustStart = false
	r.c.floorGrants.Add(1)
	f := r.frame(&proto.Whisper{From: s.id, FromName: s.name, To: to.id, ToName: to.name, Active: true})
	s.sendFrame(f)
	to.sendFrame(f)
	s.log.Info("call started", "to", to.name)
	return c
}

// endCallLocked ends c and tells both ends. Idempotent.
func (r *Relay) endCallLocked(c *whisperCall) {
	if c.from.call != c {
		return
	}
	c.from.call = nil
	if c.to.called == c {
		c.to.called = nil
	}
	f := r.frame(&proto.Whisper{From: c.from.id, FromName: c.from.name, To: c.to.id, ToName: c.to.name})
	c.from.sendFrame(f)
	c.to.sendFrame(f)
	c.from.log.Info("call ended", "to", c.to.name, "length", time.Since(c.since).Round(time.Millisecond))
}

// callGoneLocked ends the calls s makes or hears (it logged out).
func (r *Relay) callGoneLocked(s *session) {
	if c := s.call; c != nil {
		r.endCallLocked(c)
	}
	if c := s.called; c != nil {
		r.endCallLocked(c)
	}
}

// whisperVoiceLocked checks a frame of s's call and returns its fan-out
// (the callee alone). The frame's channel stays proto.WhisperChannel.
func (r *Relay) whisperVoiceLocked(s *session, flags proto.VoiceFlags, now time.Time) fanout {
	c := s.call
	if c == nil {
		return r.drop(dropNoFloor)
	}
	if p := r.page; p != nil && p.s != s {
		return r.drop(dropPreempted)
	}
	c.last, c.granted = now, false
	out := fanout{to: c.toList}
	if flags&proto.FlagEnd != 0 {
		r.endCallLocked(c)
	}
	return out
}

// sweepCallsLocked ends calls whose frames stopped or that ran too long,
// as sweepLocked does for floors. Called under r.mu.
func (r *Relay) sweepCallsLocked(now time.Time) {
	for _, s := range r.sessions {
		c := s.call
		if c == nil {
			continue
		}
		lim := r.cfg.FloorTimeout
		if c.granted {
			lim = r.cfg.GrantTimeout
		}
		tooLong := r.cfg.MaxTalk > 0 && now.Sub(c.since) > r.cfg.MaxTalk
		if tooLong {
			r.cutLocked(s, r.cfg.MaxTalk)
		}
		if tooLong || now.Sub(c.last) > lim {
			r.endCallLocked(c)
		}
	}
}

// callsPreemptedLocked ends every call but pager's for a page.
func (r *Relay) callsPreemptedLocked(pager *session, busy *frame) {
	for _, s := range r.sessions {
		if c := s.call; c != nil && s != pager {
			s.mustStart = true
			s.sendFrame(busy)
			r.endCallLocked(c)
		}
	}
}

package relay

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/proto"
)

// Calls (proto.WhisperStart, and proto.GroupCallStart to several users):
// one session talks to others alone. A call holds no channel floor: it is
// heard while a callee's channel is busy, and a callee may call back
// meanwhile. One caller at a time per callee (another is denied, naming
// the caller); a page ends every call. Call frames take the slow path
// (under r.mu, no fast-path pass) and are not recorded in history;
// forwarding them does not allocate (the callees' listener list is made
// when the call starts).

// whisperCall is one call. Guarded by r.mu.
type whisperCall struct {
	from        *session
	toList      []*session // the callees, the fan-out's listener list
	since, last time.Time
	granted     bool // granted by WhisperStart and no frame yet
}

// whisperStartLocked answers a WhisperStart (about TypeWhisperStart, one
// name) or a GroupCallStart (several names, or proto.GroupCallRole and a
// role). Called under r.mu.
func (r *Relay) whisperStartLocked(s *session, names []string, about proto.MsgType, now time.Time) {
	refuse := func(code proto.Code, text string) {
		s.sendMsg(&proto.Error{Code: code, About: about, Text: truncate(text, proto.MaxReasonLen)})
	}
	if s.features&proto.FeatureWhisper == 0 || (about == proto.TypeGroupCallStart && s.features&proto.FeatureGroupCall == 0) {
		refuse(proto.CodeBadMessage, "your app did not offer calls when it logged in: update it")
		return
	}
	tos, code, text := r.calleesLocked(s, names)
	if tos == nil {
		refuse(code, text)
		return
	}
	if p := r.page; p != nil && p.s != s {
		r.c.floorDenials.Add(1)
		s.sendMsg(&proto.FloorDeny{Channel: proto.WhisperChannel, Holder: p.s.id, HolderName: p.s.name,
			Reason: "busy: " + p.s.name + " is paging everyone"})
		return
	}
	for _, to := range tos {
		if c := to.called; c != nil && c.from != s {
			r.c.floorDenials.Add(1)
			s.sendMsg(&proto.FloorDeny{Channel: proto.WhisperChannel, Holder: c.from.id, HolderName: c.from.name,
				Reason: "busy: " + c.from.name + " is calling " + to.name})
			return
		}
	}
	grant := &proto.FloorGrant{Channel: proto.WhisperChannel, MaxMillis: r.maxMillis(nil)}
	if c := s.call; c != nil {
		if slices.Equal(c.toList, tos) {
			c.last = now
			s.sendMsg(grant)
			return
		}
		r.endCallLocked(c)
	}
	s.sendMsg(grant)
	r.startCallLocked(s, tos, true, now)
}

// calleesLocked finds the sessions names call (each once, in order): nil
// with the refusal's code and words when one cannot be called. Called
// under r.mu.
func (r *Relay) calleesLocked(s *session, names []string) (tos []*session, code proto.Code, text string) {
	add := func(to *session) {
		if !slices.Contains(tos, to) {
			tos = append(tos, to)
		}
	}
	for _, name := range names {
		if role, ok := strings.CutPrefix(name, proto.GroupCallRole); ok {
			want, err := accounts.ParseRoles(role)
			if err != nil || want == 0 {
				return nil, proto.CodeBadMessage, "there is no role " + role + " (the roles are page and admin)"
			}
			n := len(tos)
			for _, o := range r.sessions {
				if o != s && !o.gone && o.roles&want == want && o.features&proto.FeatureWhisper != 0 {
					add(o)
				}
			}
			if len(tos) == n {
				return nil, proto.CodeNoUser, "nobody with the role " + role + " is online (or their apps cannot take calls)"
			}
			continue
		}
		to := r.byName[name]
		switch {
		case to == nil || to.gone:
			return nil, proto.CodeNoUser, name + " is not online, so the call cannot reach them: try again when they are, or send a text"
		case to == s:
			return nil, proto.CodeBadMessage, "you cannot call yourself"
		case to.features&proto.FeatureWhisper == 0:
			return nil, proto.CodeNoUser, name + "'s app cannot take calls (it is older than the relay): they need to update it; talk in their channel or send a text instead"
		}
		add(to)
	}
	if len(tos) == 0 {
		return nil, proto.CodeBadMessage, "a call names nobody"
	}
	// A stable order, so the same group called again is the same call.
	slices.SortFunc(tos, func(a, b *session) int { return cmp.Compare(a.id, b.id) })
	return tos, 0, ""
}

// startCallLocked puts s's call to tos on the air and tells everyone in it.
func (r *Relay) startCallLocked(s *session, tos []*session, byRequest bool, now time.Time) *whisperCall {
	c := &whisperCall{from: s, toList: tos, since: now, last: now, granted: byRequest}
	s.call = c
	s.mustStart = false
	r.c.floorGrants.Add(1)
	for _, to := range tos {
		to.called = c
		f := r.frame(&proto.Whisper{From: s.id, FromName: s.name, To: to.id, ToName: to.name, Active: true})
		s.sendFrame(f)
		to.sendFrame(f)
		s.log.Info("call started", "to", to.name)
	}
	return c
}

// endCallLocked ends c and tells everyone in it. Idempotent.
func (r *Relay) endCallLocked(c *whisperCall) {
	if c.from.call != c {
		return
	}
	c.from.call = nil
	for _, to := range c.toList {
		if to.called == c {
			to.called = nil
		}
		f := r.frame(&proto.Whisper{From: c.from.id, FromName: c.from.name, To: to.id, ToName: to.name})
		c.from.sendFrame(f)
		to.sendFrame(f)
		c.from.log.Info("call ended", "to", to.name, "length", time.Since(c.since).Round(time.Millisecond))
	}
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
// (the callees alone). The frame's channel stays proto.WhisperChannel.
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
		maxTalk := r.maxTalk(nil)
		tooLong := maxTalk > 0 && now.Sub(c.since) > maxTalk
		if tooLong {
			r.cutLocked(s, maxTalk)
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

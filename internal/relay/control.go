package relay

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/cluster"
	"github.com/hark-intercom/hark/internal/limit"
	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/proto"
)

// dispatch handles one control message from a logged-in session.
func (r *Relay) dispatch(s *session, m proto.Message) {
	if p, ok := m.(*proto.Ping); ok {
		// Clients ping often to notice a lost relay quickly: answer
		// without the relay's lock. The Pong is queued after the answers
		// to earlier messages (requests use it as a barrier).
		s.sendMsg(&proto.Pong{Nonce: p.Nonce})
		return
	}
	// History requests read the store: on the history workers, not under
	// the lock.
	if r.hist != nil && r.hist.request(s, m) || r.hist == nil && noHistory(s, m) {
		return
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.gone {
		return
	}
	switch m := m.(type) {
	case *proto.Pong:
	case *proto.Join:
		r.joinLocked(s, m.Channel)
	case *proto.Leave:
		if s.ch != nil {
			r.leaveLocked(s)
			r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceMoved, User: r.userInfoLocked(s)})
		}
	case *proto.FloorRequest:
		r.floorRequestLocked(s, m.Channel, now)
	case *proto.FloorRelease:
		r.floorReleaseLocked(s, m.Channel)
	case *proto.PageStart:
		r.pageStartLocked(s, now)
	case *proto.PageStop:
		if r.page != nil && r.page.s == s {
			r.endPageLocked()
		}
	case *proto.Text:
		if !r.chattyAllowedLocked(s, &s.textLim, m.Type(), "texts", now) {
			return
		}
		r.textLocked(s, m, now)
	case *proto.Ring:
		if !r.chattyAllowedLocked(s, &s.ringLim, m.Type(), "rings", now) {
			return
		}
		r.c.rings.Add(1)
		var id uint64
		if r.hist != nil {
			id = r.hist.ringLocked(s, m.Text, now)
		}
		if m.Flags&proto.RingAlarm != 0 {
			r.alarmLocked(s, m.Text, id, now)
			return
		}
		ring := &proto.Ring{From: s.id, FromName: s.name, Time: proto.UnixMillis(now), Text: m.Text, ID: id}
		r.toAllLocked(r.frame(ring))
		ring.ID = 0 // a history id of this relay's
		r.clusterSend(cluster.EventRing, ring)
		s.log.Info("ring", "text", m.Text)
	case *proto.AlarmAck:
		r.alarmAckLocked(s, m.Alarm)
	case *proto.Monitor:
		r.monitorLocked(s, m.Channels)
	case *proto.WhisperStart:
		r.whisperStartLocked(s, []string{m.To}, m.Type(), now)
	case *proto.GroupCallStart:
		r.whisperStartLocked(s, m.To, m.Type(), now)
	case *proto.WhisperStop:
		if c := s.call; c != nil {
			r.endCallLocked(c)
		}
	case *proto.ListSessions:
		if !r.adminLocked(s, m.Type()) {
			return
		}
		r.sendSessionsLocked(s)
	case *proto.Kick:
		if !r.adminLocked(s, m.Type()) {
			return
		}
		ban := min(time.Duration(m.BanSeconds)*time.Second, maxBan)
		if ban > 0 {
			r.bans.add(m.Name, ban, now) // also for a name that is not online now
			s.log.Info("banned a name", "victim", m.Name, "for", ban, "reason", m.Reason)
		}
		v := r.byName[m.Name]
		if v == nil && r.clusterKickLocked(m.Name, truncate(kickText(s.name, ban, m.Reason), proto.MaxReasonLen)) {
			r.c.kicks.Add(1)
			s.log.Info("kicked a session at another relay", "victim", m.Name, "reason", m.Reason)
			return
		}
		if v == nil {
			if ban == 0 {
				s.sendMsg(&proto.Error{Code: proto.CodeNoUser, About: m.Type(), Text: fmt.Sprintf("%q is not online", m.Name)})
			}
			return
		}
		text := kickText(s.name, ban, m.Reason)
		r.removeLocked(v)
		v.bye(proto.CodeKicked, truncate(text, proto.MaxReasonLen))
		r.c.kicks.Add(1)
		s.log.Info("kicked a session", "victim", v.name, "victim_session", v.id, "reason", m.Reason)
	case *proto.Hello, *proto.Auth:
		s.sendMsg(&proto.Error{Code: proto.CodeBadMessage, About: m.Type(), Text: "you are already logged in"})
	default:
		s.sendMsg(&proto.Error{Code: proto.CodeBadMessage, About: m.Type(), Text: fmt.Sprintf("a client may not send %v", m.Type())})
	}
}

// kickText tells a kicked user who kicked them, for how long, and why.
func kickText(admin string, ban time.Duration, reason string) string {
	text := "an admin (" + admin + ") disconnected you"
	if ban > 0 {
		text += fmt.Sprintf(" and banned you for %v", ban)
	}
	if reason != "" {
		text += ": " + reason
	}
	return text
}

// chattyAllowedLocked applies a session's ring or text limit; a refusal is
// counted and answered (at most once a second) with CodeRateLimit.
func (r *Relay) chattyAllowedLocked(s *session, b *limit.Bucket, t proto.MsgType, what string, now time.Time) bool {
	if b.Allow(now) {
		return true
	}
	r.c.controlLimited.Add(1)
	if now.Sub(s.limWarned) > time.Second {
		s.limWarned = now
		s.sendMsg(&proto.Error{Code: proto.CodeRateLimit, About: t, Text: "too many " + what + ": wait a little"})
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (r *Relay) adminLocked(s *session, about proto.MsgType) bool {
	if s.roles&proto.RoleAdmin != 0 {
		return true
	}
	s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: about, Text: "only an admin may do this: ask an admin for the admin role"})
	return false
}

func (r *Relay) channelNames() string {
	n := make([]string, len(r.channels))
	for i, ch := range r.channels {
		n[i] = ch.info.Name
	}
	return strings.Join(n, ", ")
}

func (r *Relay) joinLocked(s *session, name string) {
	if name == "" {
		name = r.cfg.Channels.Default
	}
	ch := r.channelToHear(s, name, proto.TypeJoin)
	if ch == nil {
		return
	}
	if s.ch != ch {
		r.leaveLocked(s)
		m := make([]*session, len(ch.members), len(ch.members)+1)
		copy(m, ch.members)
		ch.setMembers(append(m, s))
		s.ch = ch
		s.mustStart = false
	}
	s.sendMsg(&proto.Joined{ChannelInfo: r.infoFor(ch, s)})
	r.sendPresenceLocked(s)
	r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceMoved, User: r.userInfoLocked(s)})
	if r.hist != nil {
		r.hist.joinedLocked(s, ch)
	}
}

func (r *Relay) denyLocked(s *session, chID uint16, holder *session, reason string) {
	r.c.floorDenials.Add(1)
	s.mustStart = true
	s.sendMsg(&proto.FloorDeny{Channel: chID, Holder: holder.id, HolderName: holder.name, Reason: reason})
}

func (r *Relay) floorRequestLocked(s *session, id uint16, now time.Time) {
	if id == proto.PageChannel {
		r.pageStartLocked(s, now)
		return
	}
	ch := s.ch
	if ch == nil {
		s.sendMsg(&proto.Error{Code: proto.CodeNotJoined, About: proto.TypeFloorRequest, Text: "join a channel before you talk"})
		return
	}
	if ch.info.ID != id {
		s.sendMsg(&proto.Error{Code: proto.CodeNotJoined, About: proto.TypeFloorRequest,
			Text: fmt.Sprintf("you can only talk in the channel you joined (%s, id %d)", ch.info.Name, ch.info.ID)})
		return
	}
	if !ch.mayTalk(s) {
		r.refuseTalkLocked(s, ch, proto.TypeFloorRequest)
		return
	}
	if p := r.page; p != nil && p.s != s {
		r.denyLocked(s, id, p.s, "busy: "+p.s.name+" is paging everyone")
		return
	}
	if p := r.remotePagerLocked(); p != nil {
		r.c.floorDenials.Add(1)
		s.mustStart = true
		s.sendMsg(&proto.FloorDeny{Channel: id, Holder: p.Session, HolderName: p.Name, Reason: "busy: " + p.Name + " is paging everyone"})
		return
	}
	// The grant goes out before the Talking announcement.
	grant := &proto.FloorGrant{Channel: id, MaxMillis: r.maxMillis(ch)}
	if ch.info.Mode == proto.ModeOpen {
		s.sendMsg(grant)
		if t := ch.talkers[s]; t != nil {
			t.last = now
		} else {
			r.talkerStartLocked(ch, s, true, now)
		}
		return
	}
	switch ch.holder {
	case nil:
		if r.cs != nil {
			r.clusterFloorLocked(ch, s, nil, false, true) // granted when the cluster agrees
			return
		}
		s.sendMsg(grant)
		r.grantLocked(ch, s, true, now)
	case s:
		s.sendMsg(grant)
		ch.holderLast = now
	default:
		r.denyLocked(s, id, ch.holder, "busy: "+ch.holder.name+" is talking")
	}
}

func (r *Relay) floorReleaseLocked(s *session, id uint16) {
	if id == proto.PageChannel {
		if r.page != nil && r.page.s == s {
			r.endPageLocked()
		}
		return
	}
	ch := s.ch
	if ch == nil || ch.info.ID != id {
		return
	}
	r.clusterCancelLocked(s, ch)
	if ch.holder == s {
		r.releaseLocked(ch)
	}
	r.talkerStopLocked(ch, s)
}

func (r *Relay) pageStartLocked(s *session, now time.Time) {
	if s.roles&proto.RolePage == 0 {
		s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: proto.TypePageStart,
			Text: "you are not allowed to page: ask an admin for the page role"})
		r.logRefusal(s.log, slog.LevelInfo, "page refused: no page role")
		return
	}
	if p := r.page; p != nil {
		if p.s != s {
			r.c.floorDenials.Add(1)
			s.sendMsg(&proto.FloorDeny{Channel: proto.PageChannel, Holder: p.s.id, HolderName: p.s.name,
				Reason: "busy: " + p.s.name + " is paging everyone"})
			return
		}
		p.last = now
		s.sendMsg(&proto.FloorGrant{Channel: proto.PageChannel, MaxMillis: r.maxMillis(nil)})
		return
	}
	if r.clusterPageLocked(s) {
		return // started when the cluster agrees
	}
	s.sendMsg(&proto.FloorGrant{Channel: proto.PageChannel, MaxMillis: r.maxMillis(nil)})
	r.startPageLocked(s, now)
}

func (r *Relay) textLocked(s *session, m *proto.Text, now time.Time) {
	h := r.hist
	if h != nil && h.dupLocked(s, m) {
		return
	}
	out := &proto.Text{From: s.id, FromName: s.name, Time: proto.UnixMillis(now), Text: m.Text, ClientID: m.ClientID}
	if m.To != "" {
		to := r.byName[m.To]
		if to == nil && r.remoteNameLocked(m.To) {
			// At another relay: sent there (not kept in this relay's history).
			out.To = m.To
			r.clusterSend(cluster.EventText, out)
			s.sendMsg(out)
			if m.ClientID != 0 && r.historyOK(s) {
				s.sendMsg(&proto.TextAck{ClientID: m.ClientID, Status: proto.TextDelivered})
			}
			r.c.texts.Add(1)
			return
		}
		if to == nil {
			if h != nil && r.knownLocked(m.To) {
				if h.privateOfflineLocked(s, m, now) {
					r.c.texts.Add(1)
				}
				return
			}
			s.sendMsg(&proto.Error{Code: proto.CodeNoUser, About: proto.TypeText, Text: fmt.Sprintf("%q is not online", m.To)})
			return
		}
		out.To = m.To
		if h != nil {
			out.ID = h.storeLocked(s, store.Item{Kind: store.KindPrivate, Time: out.Time, From: s.name, To: m.To,
				Text: m.Text, ClientID: m.ClientID, Delivered: true}, proto.TextDelivered)
		}
		f := r.frame(out)
		to.sendFrame(f)
		if to != s {
			s.sendFrame(f)
		}
		r.c.texts.Add(1)
		return
	}
	name := m.Channel
	if name == "" {
		if s.ch == nil {
			s.sendMsg(&proto.Error{Code: proto.CodeNotJoined, About: proto.TypeText, Text: "join a channel or name a user to send text"})
			return
		}
		name = s.ch.info.Name
	}
	ch := r.chByName[name]
	if ch == nil {
		r.noChannel(s, name, proto.TypeText)
		return
	}
	if !ch.mayTalk(s) {
		r.c.ruleRefusals.Add(1)
		s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: proto.TypeText,
			Text: truncate(fmt.Sprintf("only %s may write in %s: your text was not sent", who(ch.rules.Load().talkText), ch.info.Name), proto.MaxReasonLen)})
		return
	}
	out.Channel = name
	if h != nil {
		if set := ch.hset.Load(); set != nil && set.History != store.HistoryOff {
			out.ID = h.storeLocked(s, store.Item{Kind: store.KindText, Time: out.Time, From: s.name, Channel: name,
				Text: m.Text, ClientID: m.ClientID}, proto.TextSent)
		} else if m.ClientID != 0 {
			// Not kept, but a resend must not go out twice.
			h.rememberLocked(textKey{s.name, m.ClientID}, textRef{0, proto.TextSent})
			if r.historyOK(s) {
				s.sendMsg(&proto.TextAck{ClientID: m.ClientID, Status: proto.TextSent})
			}
		}
	}
	f := r.frame(out)
	ch.sendAll(f)
	if s.ch != ch {
		s.sendFrame(f)
	}
	r.clusterSend(cluster.EventText, out)
	r.c.texts.Add(1)
}

// sendSessionsLocked sends an admin the session list, split into several
// Sessions messages when it does not fit in one (proto.SplitSessions: from
// version 2 on all but the last say more follows).
func (r *Relay) sendSessionsLocked(s *session) {
	all := r.sortedSessionsLocked()
	list := make([]proto.SessionInfo, 0, len(all))
	for _, o := range all {
		si := proto.SessionInfo{Session: o.id, Name: o.name, Addr: o.addr, Since: proto.UnixMillis(o.since), Roles: o.roles}
		if o.ch != nil {
			si.Channel = o.ch.info.Name
		}
		list = append(list, si)
	}
	for _, m := range proto.SplitSessions(list, s.version) {
		s.sendMsg(m)
	}
}

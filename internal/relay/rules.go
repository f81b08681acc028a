package relay

import (
	"fmt"
	"slices"

	"github.com/hark-intercom/hark/proto"
)

// Per-channel rules from the store (store.ChannelSettings, changed live by
// `relay channel set` or ChannelSet): who may talk in a channel and who may
// join or monitor it. A rule names the role a user needs; an admin always
// may. Without a store every channel is open to everyone. When a channel's
// listen rule tightens, the sessions that may no longer hear it are taken
// out of it (members) or stop monitoring it, and told why.

// mayTalkLocked reports whether s may talk in ch; if not, it tells s why
// (about: the request refused).
func (r *Relay) mayTalkLocked(s *session, ch *channel, about proto.MsgType) bool {
	cs := ch.hset.Load()
	if cs == nil || allowed(s, cs.Talk) {
		return true
	}
	s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: about, Text: truncate(fmt.Sprintf(
		"in channel %s only users with the %s role may talk; you may listen: ask an admin for the role", ch.info.Name, cs.Talk), proto.MaxReasonLen)})
	return false
}

// mayListenLocked reports whether s may join or monitor ch; if not, it
// tells s why.
func (r *Relay) mayListenLocked(s *session, ch *channel, about proto.MsgType) bool {
	cs := ch.hset.Load()
	if cs == nil || allowed(s, cs.Listen) {
		return true
	}
	s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: about, Text: truncate(fmt.Sprintf(
		"only users with the %s role may join or listen to channel %s: ask an admin for the role", cs.Listen, ch.info.Name), proto.MaxReasonLen)})
	return false
}

// talkAllowed reports whether s may talk in ch, saying nothing.
func (r *Relay) talkAllowed(s *session, ch *channel) bool {
	cs := ch.hset.Load()
	return cs == nil || allowed(s, cs.Talk)
}

func allowed(s *session, need proto.Role) bool {
	return need == 0 || s.roles&(need|proto.RoleAdmin) != 0
}

// enforceListenLocked takes the sessions that may not listen to ch out of
// it: members leave it (they are in no channel then, and told so), monitors
// stop hearing it. Called under r.mu after ch's settings changed.
func (r *Relay) enforceListenLocked(ch *channel) {
	cs := ch.hset.Load()
	if cs == nil || cs.Listen == 0 {
		return
	}
	text := truncate(fmt.Sprintf("channel %s is now only for users with the %s role: you were taken out of it; join another channel", ch.info.Name, cs.Listen), proto.MaxReasonLen)
	for _, s := range ch.members {
		if !allowed(s, cs.Listen) {
			r.leaveLocked(s)
			s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: proto.TypeJoin, Text: text})
			r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceMoved, User: r.userInfoLocked(s)})
			s.log.Info("taken out of a channel its listen rule no longer allows", "channel", ch.info.Name)
		}
	}
	var gone []*session
	for _, s := range ch.monitors {
		if !allowed(s, cs.Listen) {
			gone = append(gone, s)
		}
	}
	for _, s := range gone {
		ch.monitors = without(ch.monitors, s)
		s.monitored = slices.DeleteFunc(slices.Clone(s.monitored), func(c *channel) bool { return c == ch })
		ans := &proto.Monitoring{Channels: make([]proto.ChannelInfo, len(s.monitored))}
		for i, c := range s.monitored {
			ans.Channels[i] = c.info
		}
		s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: proto.TypeMonitor, Text: text})
		s.sendMsg(ans)
	}
	if len(gone) > 0 {
		ch.refreshListeners()
	}
}

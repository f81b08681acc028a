package relay

import (
	"fmt"

	"github.com/hark-intercom/hark/proto"
)

// Per-channel rules from the store (store.ChannelSettings, changed live by
// `relay channel set` or ChannelSet): who may talk in a channel and who may
// join or monitor it. A rule names the role a user needs; an admin always
// may. Without a store every channel is open to everyone. A session already
// in a channel when its listen rule tightens stays until it leaves (it is
// refused the next time).

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

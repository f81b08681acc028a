package relay

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/proto"
)

// Per-channel rules (an admin's `relay channel set NAME talk=… listen=…
// max-talk=…`): who may talk (and write texts) in a channel, who may join
// or monitor it, and the longest transmission, all changed live.
//
// The rules are checked where a session asks for something: a Join, a
// FloorRequest, the first voice frame of a transmission and a channel text.
// A change takes effect at once for the people already in the channel: a
// member who may no longer listen is taken out of it, a talker who may no
// longer talk is cut, and every member gets Joined again with its own
// ChannelInfo.Access and MaxMillis, so front ends show "listen only" and
// the limit. Pages are not channel transmissions: the page role decides.

// chanRules are a channel's parsed rules. Immutable once published in
// channel.rules; nil means no rules (everyone may talk and listen, the
// relay's MaxTalk).
type chanRules struct {
	talk, listen *store.AccessRule
	talkText     string        // the talk setting as written, for refusals
	listenText   string        // the listen setting as written
	maxTalk      time.Duration // 0: the relay's Config.MaxTalk
}

func newChanRules(set store.ChannelSettings, log *slog.Logger, channel string) *chanRules {
	talk, err := set.TalkRule()
	if err != nil {
		log.Error("channel's talk setting is not valid any more: only admins may talk there until it is fixed with relay channel set",
			"channel", channel, "talk", set.Talk, "err", err)
	}
	listen, err := set.ListenRule()
	if err != nil {
		log.Error("channel's listen setting is not valid any more: only admins may listen there until it is fixed with relay channel set",
			"channel", channel, "listen", set.Listen, "err", err)
	}
	return &chanRules{talk: talk, listen: listen, talkText: set.Talk, listenText: set.Listen, maxTalk: set.MaxTalk}
}

// mayTalk reports whether s may talk and write texts in ch.
func (ch *channel) mayTalk(s *session) bool {
	ru := ch.rules.Load()
	return ru == nil || ru.talk.Allows(s.name, s.roles)
}

// mayListen reports whether s may join or monitor ch.
func (ch *channel) mayListen(s *session) bool {
	ru := ch.rules.Load()
	return ru == nil || ru.listen.Allows(s.name, s.roles)
}

// maxTalk is the longest transmission in ch (0: no limit).
func (r *Relay) maxTalk(ch *channel) time.Duration {
	if ch != nil {
		if ru := ch.rules.Load(); ru != nil && ru.maxTalk > 0 {
			return ru.maxTalk
		}
	}
	return max(r.cfg.MaxTalk, 0)
}

// infoFor is ch's ChannelInfo as s sees it: with what s may not do there
// and the channel's longest transmission.
func (r *Relay) infoFor(ch *channel, s *session) proto.ChannelInfo {
	ci := ch.info
	if !ch.mayTalk(s) {
		ci.Access |= proto.AccessNoTalk
	}
	if !ch.mayListen(s) {
		ci.Access |= proto.AccessNoListen | proto.AccessNoTalk
	}
	ci.MaxMillis = uint32(r.maxTalk(ch) / time.Millisecond)
	return ci
}

// infosForLocked is the channel list of a Welcome to s.
func (r *Relay) infosForLocked(s *session) []proto.ChannelInfo {
	out := make([]proto.ChannelInfo, len(r.channels))
	for i, ch := range r.channels {
		out[i] = r.infoFor(ch, s)
	}
	return out
}

// who describes an access setting for a person: "role:admin,alice" →
// "admins and alice".
func who(setting string) string {
	var parts []string
	for _, w := range strings.Split(setting, ",") {
		switch w {
		case "role:admin":
			parts = append(parts, "admins")
		case "role:page":
			parts = append(parts, "people with the page role")
		default:
			parts = append(parts, w)
		}
	}
	switch len(parts) {
	case 0:
		return "nobody"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// talkRefusal is the words for s, who may not talk in ch.
func (ch *channel) talkRefusal() string {
	t := ""
	if ru := ch.rules.Load(); ru != nil {
		t = ru.talkText
	}
	return fmt.Sprintf("only %s may talk in %s (you may listen): ask an admin if you need to", who(t), ch.info.Name)
}

// listenRefusal is the words for s, who may not join or monitor ch.
func (ch *channel) listenRefusal() string {
	t := ""
	if ru := ch.rules.Load(); ru != nil {
		t = ru.listenText
	}
	return fmt.Sprintf("only %s may listen to %s: ask an admin if you need to", who(t), ch.info.Name)
}

// refuseTalkLocked tells s it may not talk in ch; the next frame must
// start a new transmission.
func (r *Relay) refuseTalkLocked(s *session, ch *channel, about proto.MsgType) {
	s.mustStart = true
	r.c.ruleRefusals.Add(1)
	s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: about, Text: truncate(ch.talkRefusal(), proto.MaxReasonLen)})
}

// applyRulesLocked puts ch's new rules into effect for the people in it:
// members who may no longer listen leave the channel (told why) and
// talkers who may no longer talk are cut. It reports whether the rules
// changed (the caller then sends every member Joined again with its own
// ChannelInfo).
func (r *Relay) applyRulesLocked(ch *channel, ru *chanRules) bool {
	old := ch.rules.Swap(ru)
	if old == nil && ru == nil {
		return false
	}
	if old != nil && ru != nil && old.talkText == ru.talkText && old.listenText == ru.listenText && old.maxTalk == ru.maxTalk {
		return false
	}
	var out []*session
	for _, s := range ch.members {
		if !ch.mayListen(s) {
			out = append(out, s)
		}
	}
	for _, s := range out {
		r.leaveLocked(s)
		r.c.ruleRefusals.Add(1)
		s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: proto.TypeJoin,
			Text: truncate(ch.listenRefusal()+"; an admin changed the channel's rules, so you are in no channel now", proto.MaxReasonLen)})
		r.presenceToAllLocked(&proto.PresenceChange{Kind: proto.PresenceMoved, User: r.userInfoLocked(s)})
	}
	var deaf []*session
	for _, s := range ch.monitors {
		if s.ch != ch && !ch.mayListen(s) {
			deaf = append(deaf, s)
		}
	}
	for _, s := range deaf {
		ch.monitors = without(ch.monitors, s)
		ch.refreshListeners()
		s.monitored = slices.DeleteFunc(slices.Clone(s.monitored), func(c *channel) bool { return c == ch })
		r.c.ruleRefusals.Add(1)
		s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: proto.TypeMonitor,
			Text: truncate(ch.listenRefusal()+"; an admin changed the channel's rules, so you no longer hear it", proto.MaxReasonLen)})
		r.sendMonitoringLocked(s)
	}
	if h := ch.holder; h != nil && !ch.mayTalk(h) {
		r.releaseLocked(ch)
		r.refuseTalkLocked(h, ch, proto.TypeFloorRequest)
	}
	for s := range ch.talkers {
		if !ch.mayTalk(s) {
			r.talkerStopLocked(ch, s)
			r.refuseTalkLocked(s, ch, proto.TypeFloorRequest)
		}
	}
	return true
}

// rejoinedLocked sends every member of ch Joined again with its own
// ChannelInfo, after the channel's settings changed.
func (r *Relay) rejoinedLocked(ch *channel) {
	for _, s := range ch.members {
		s.sendMsg(&proto.Joined{ChannelInfo: r.infoFor(ch, s)})
	}
}

// listenable returns the items of channels s may listen to (and every
// private item and ring). chByName does not change after New, and rules
// are atomic: safe without Relay.mu.
func (r *Relay) listenable(s *session, items []store.Item) []store.Item {
	out := items[:0:0]
	for _, it := range items {
		if ch := r.chByName[it.Channel]; it.Channel != "" && ch != nil && !ch.mayListen(s) {
			continue
		}
		out = append(out, it)
	}
	return out
}

// channelToHear returns the channel named name for s's request about (a
// Join or a Monitor), or nil after telling s in words that there is no
// such channel or that its rules do not let s listen to it.
func (r *Relay) channelToHear(s *session, name string, about proto.MsgType) *channel {
	ch := r.chByName[name]
	if ch == nil {
		r.noChannel(s, name, about)
		return nil
	}
	if !ch.mayListen(s) {
		r.c.ruleRefusals.Add(1)
		s.sendMsg(&proto.Error{Code: proto.CodeForbidden, About: about, Text: truncate(ch.listenRefusal(), proto.MaxReasonLen)})
		return nil
	}
	return ch
}

// noChannel tells s that the channel it named does not exist, and which do.
func (r *Relay) noChannel(s *session, name string, about proto.MsgType) {
	s.sendMsg(&proto.Error{Code: proto.CodeNoChannel, About: about,
		Text: truncate(fmt.Sprintf("there is no channel %q; the channels are: %s", name, r.channelNames()), proto.MaxReasonLen)})
}

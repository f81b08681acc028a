package relay

import (
	"slices"

	"github.com/hark-intercom/hark/proto"
)

// Monitoring (proto.Monitor): a session hears channels besides the one it
// joined. Each channel keeps its monitors beside its members, and the voice
// path fans a channel's frames out to its listeners: the members, then the
// monitors that are not members. The listener list is rebuilt (never
// modified in place) whenever a member or a monitor comes or goes, and
// published with the member list's atomic pointer (channel.live), so the
// fast path reads it without the lock and forwarding stays free of
// allocations. Floor control, pages and presence still use the members.

// refreshListeners rebuilds ch.listeners from its members and monitors and
// publishes it to the fast path. Called under r.mu.
func (ch *channel) refreshListeners() {
	l := ch.members
	if len(ch.monitors) > 0 {
		l = make([]*session, len(ch.members), len(ch.members)+len(ch.monitors))
		copy(l, ch.members)
		// By the member list, not s.ch: a session that joins or leaves
		// is moved between the lists before its s.ch changes.
		for _, s := range ch.monitors {
			if !slices.Contains(ch.members, s) {
				l = append(l, s)
			}
		}
	}
	ch.listeners = l
	ch.live.Store(&l)
}

// sendListeners queues f for the channel's members and monitors.
// Called under r.mu.
func (ch *channel) sendListeners(f *frame) {
	for _, s := range ch.listeners {
		s.sendFrame(f)
	}
}

// monitorLocked sets the channels s hears besides its own and answers with
// the set in force. An unknown channel refuses the whole request (the set
// stays as it was). Called under r.mu.
func (r *Relay) monitorLocked(s *session, names []string) {
	if s.features&proto.FeatureMonitor == 0 {
		s.sendMsg(&proto.Error{Code: proto.CodeBadMessage, About: proto.TypeMonitor,
			Text: "your app did not offer to monitor channels when it logged in: update it"})
		return
	}
	var want []*channel
	for _, n := range names {
		ch := r.channelToHear(s, n, proto.TypeMonitor)
		if ch == nil {
			return
		}
		if !slices.Contains(want, ch) {
			want = append(want, ch)
		}
	}
	for _, ch := range s.monitored {
		if !slices.Contains(want, ch) {
			ch.monitors = without(ch.monitors, s)
			ch.refreshListeners()
		}
	}
	for _, ch := range want {
		if !slices.Contains(s.monitored, ch) {
			ch.monitors = append(slices.Clip(ch.monitors), s)
			ch.refreshListeners()
		}
	}
	s.monitored = want
	r.clusterDirtyLocked() // other relays send this relay the channels it now listens to
	r.sendMonitoringLocked(s)
	s.log.Info("monitoring", "channels", names)
}

// sendMonitoringLocked tells s the channels it monitors now, each as s
// sees it (its access and the longest transmission there).
func (r *Relay) sendMonitoringLocked(s *session) {
	ans := &proto.Monitoring{Channels: make([]proto.ChannelInfo, len(s.monitored))}
	for i, ch := range s.monitored {
		ans.Channels[i] = r.infoFor(ch, s)
	}
	s.sendMsg(ans)
}

// monitorGoneLocked takes a leaving session off the channels it monitored.
// Called under r.mu.
func (r *Relay) monitorGoneLocked(s *session) {
	for _, ch := range s.monitored {
		ch.monitors = without(ch.monitors, s)
		ch.refreshListeners()
	}
	s.monitored = nil
}

// without returns a new slice of l without s.
func without(l []*session, s *session) []*session {
	out := make([]*session, 0, len(l))
	for _, o := range l {
		if o != s {
			out = append(out, o)
		}
	}
	return out
}

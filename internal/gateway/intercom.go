package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/proto"
)

// Listening to several channels and calls, for browsers.
//
// A browser that monitors channels (its {"t":"listen"}) joins each of
// their hubs besides its own channel's: the hub of a channel decodes its
// voice once for every browser that hears it, whether as a member or as a
// monitor, and the voice pump hands each frame to the hub of the channel it
// is marked with. The PCM messages to the browser carry the channel's voice
// id, so the page can show and turn down each channel. A call to this
// browser's user (proto.WhisperChannel) goes through a private hub of the
// session alone, made on the first call.

// MonitorSession is a RelaySession that can monitor channels;
// clientSession is one.
type MonitorSession interface {
	Monitor(ctx context.Context, channels []string) ([]proto.ChannelInfo, error)
}

// CallSession is a RelaySession that can call one user; clientSession is
// one.
type CallSession interface {
	Whisper(ctx context.Context, to string) (RelayTx, error)
}

func (cs *clientSession) Monitor(ctx context.Context, channels []string) ([]proto.ChannelInfo, error) {
	return cs.c.Monitor(ctx, channels)
}

func (cs *clientSession) Whisper(ctx context.Context, to string) (RelayTx, error) {
	return client.AsFloorTx(cs.c.Whisper(ctx, to))
}

// listen handles {"t":"listen","channels":[…]} (on the loop).
func (s *session) listen(names []string) {
	ms, ok := s.relay.(MonitorSession)
	if !ok {
		s.sendError("listen", "This gateway cannot listen to other channels.")
		return
	}
	if len(names) > proto.MaxMonitored {
		s.strike("listen", "That is too many channels to listen to at once.")
		return
	}
	s.do(func(ctx context.Context) {
		chs, err := ms.Monitor(ctx, names)
		s.post(func() {
			if err != nil {
				s.sendError("listen", "The channels you listen to did not change: "+err.Error())
				s.sendListening()
				return
			}
			s.monitored = chs
			s.syncMonitorHubs(false)
			s.syncMonitorHubs(true)
			s.sendListening()
		})
	})
}

// relayMonitoring takes the relay's Monitoring news (after a reconnection
// the client asks for the set again).
func (s *session) relayMonitoring(m *proto.Monitoring) {
	s.monitored = m.Channels
	s.syncMonitorHubs(false)
	s.syncMonitorHubs(true)
	s.sendListening()
}

func (s *session) sendListening() {
	chs := make([]map[string]any, 0, len(s.monitored))
	for _, c := range s.monitored {
		chs = append(chs, map[string]any{"name": c.Name, "id": c.ID})
	}
	s.sendJSON(map[string]any{"t": "listening", "channels": chs})
}

// syncMonitorHubs makes the session a member of the hubs of its monitored
// channels but its own: with add false it only leaves the hubs it no longer
// wants, with add true it only joins the ones it lacks (joined calls the
// two around the change of its own hub, so it is never in one hub twice).
// Called on the loop; the voice pump reads the result.
func (s *session) syncMonitorHubs(add bool) {
	var own uint16
	if h := s.hub.Load(); h != nil {
		own = h.id
	}
	if s.inChannel {
		own = s.channel.ID
	}
	want := func(id uint16) bool {
		return id != own && slices.ContainsFunc(s.monitored, func(c proto.ChannelInfo) bool { return c.ID == id })
	}
	var cur []*hub
	if p := s.monHubs.Load(); p != nil {
		cur = *p
	}
	next := make([]*hub, 0, len(s.monitored))
	for _, h := range cur {
		if want(h.id) {
			next = append(next, h)
		} else if !add {
			s.srv.leaveHub(h, s)
		} else {
			next = append(next, h)
		}
	}
	if add {
		for _, c := range s.monitored {
			if want(c.ID) && !slices.ContainsFunc(next, func(h *hub) bool { return h.id == c.ID }) {
				next = append(next, s.srv.joinHub(c.ID, s))
			}
		}
	}
	s.monHubs.Store(&next)
}

// leaveMonitorHubs leaves every monitored channel's hub and the call hub
// (the session ends).
func (s *session) leaveMonitorHubs() {
	if p := s.monHubs.Swap(nil); p != nil {
		for _, h := range *p {
			s.srv.leaveHub(h, s)
		}
	}
	if h := s.callHub.Swap(nil); h != nil {
		h.remove(s)
	}
}

// monitorHub returns the monitored channel's hub for a frame marked id
// (voice pump), or nil.
func (s *session) monitorHub(id uint16) *hub {
	if p := s.monHubs.Load(); p != nil {
		for _, h := range *p {
			if h.id == id {
				return h
			}
		}
	}
	return nil
}

// privateCallHub returns the session's own hub for calls to it, made on
// first use (voice pump or loop).
func (s *session) privateCallHub() *hub {
	if h := s.callHub.Load(); h != nil {
		return h
	}
	h := newHub(s.srv, proto.WhisperChannel)
	h.add(s)
	if !s.callHub.CompareAndSwap(nil, h) {
		h.remove(s)
		return s.callHub.Load()
	}
	return h
}

// channelName names a voice id from the welcome's channel list.
func (s *session) channelName(id uint16) string {
	for _, c := range s.relay.Welcome().Channels {
		if c.ID == id {
			return c.Name
		}
	}
	return ""
}

// whisperEvent tells the page that a call to or from its user started or
// ended; the end of a call to it is told once its audio is all sent.
func (s *session) whisperEvent(m *proto.Whisper) {
	msg := map[string]any{"t": "call", "from": m.FromName, "to": m.ToName, "on": m.Active,
		"mine": m.From == s.sessionID, "to_me": m.To == s.sessionID}
	if m.Active && m.To == s.sessionID {
		s.stopReplay(m.FromName + " is calling you.")
	}
	if !m.Active && m.To == s.sessionID {
		if h := s.callHub.Load(); h != nil {
			h.talkerOff(m.From, func() { s.sendJSON(msg) })
			return
		}
	}
	s.sendJSON(msg)
}

// callTx asks the relay to call one user (startTx with "to").
func (s *session) callTx(ctx context.Context, to string) (RelayTx, error) {
	cs, ok := s.relay.(CallSession)
	if !ok {
		return nil, errors.New("this gateway cannot call one person")
	}
	return cs.Whisper(ctx, to)
}

// callToProblem checks the to of a call from the page: one name, several
// separated by commas, or "role:page" (client.Callees), never with a page
// or a microphone test. It returns what to tell the page, or "" when the
// call may go out.
func callToProblem(to string, pageOrEcho bool, self string) string {
	if pageOrEcho {
		return "A call goes to people by name, not with a page or a microphone test."
	}
	if len(to) > proto.MaxCallees*(proto.MaxNameLen+1) || !utf8.ValidString(to) {
		return fmt.Sprintf("A call goes to at most %d people, each by a valid name.", proto.MaxCallees)
	}
	if err := accounts.CheckCallees(client.Callees(to), self); err != nil {
		return fmt.Sprintf("Your call did not go through: %v.", err)
	}
	return ""
}

// callRefused words a refused call for the page; ok is false when err is
// not a refusal of the call itself.
func callRefused(err error) (code, text string, ok bool) {
	var re *client.RelayError
	if errors.As(err, &re) && (re.About == proto.TypeWhisperStart || re.About == proto.TypeGroupCallStart) {
		return codeName(re.Code), "Your call did not go through: " + re.Text, true
	}
	return "", "", false
}

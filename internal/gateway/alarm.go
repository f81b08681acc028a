package gateway

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/proto"
)

// AlarmSession is a RelaySession that can raise and acknowledge alarms
// (proto.RingAlarm); the client library's session is one. Without it the
// page's alarm button is refused in words.
type AlarmSession interface {
	Alarm(ctx context.Context, text string) error
	AckAlarm(id uint32) error
}

// alarmJSON handles the page's "alarm" (raise one) and "alarm_ack"
// (acknowledge one at this station). It reports whether m was one.
func (s *session) alarmJSON(m *clientMsg) bool {
	switch m.T {
	case "alarm":
		if !s.textLimit.Take(5, time.Now()) {
			s.strike("rate", "You raised an alarm a moment ago; wait a little before raising another.")
			return true
		}
		if len(m.Text) > proto.MaxTextLen || !utf8.ValidString(m.Text) {
			s.strike("text", "The alarm message is too long.")
			return true
		}
		as, ok := s.relay.(AlarmSession)
		if !ok {
			s.sendError("alarm", "This gateway cannot raise alarms.")
			return true
		}
		text := m.Text
		s.do(func(ctx context.Context) {
			if err := as.Alarm(ctx, text); err != nil {
				s.post(func() { s.sendError("alarm", "The alarm was not raised: "+err.Error()) })
			}
		})
	case "alarm_ack":
		if m.ID == 0 || m.ID > 0xFFFFFFFF {
			s.strike("alarm", "That is not an alarm this page was told of. Reload the page.")
			return true
		}
		as, ok := s.relay.(AlarmSession)
		if !ok {
			s.sendError("alarm", "This gateway cannot acknowledge alarms.")
			return true
		}
		id := uint32(m.ID)
		s.do(func(context.Context) {
			if err := as.AckAlarm(id); err != nil {
				s.post(func() { s.sendError("alarm", "The alarm was not acknowledged: "+err.Error()+" — press again.") })
			}
		})
	default:
		return false
	}
	return true
}

// alarmAckJSON tells the page who acknowledged an alarm.
func (s *session) alarmAckJSON(m *proto.AlarmAck) {
	s.sendJSON(map[string]any{"t": "alarm_ack", "id": m.Alarm, "name": m.Name, "pending": m.Pending,
		"over": m.Over, "mine": m.Session != 0 && m.Session == s.sessionID, "text": client.AlarmAckText(m, s.sessionID)})
}

// EchoSession is a RelaySession that can run an echo test ("test my
// microphone": client.Client.Echo); the client library's session is one.
type EchoSession interface {
	Echo(ctx context.Context) (RelayTx, error)
}

// echoTx starts an echo test for the page's microphone test.
func (s *session) echoTx(ctx context.Context) (RelayTx, error) {
	es, ok := s.relay.(EchoSession)
	if !ok {
		return nil, errors.New("this gateway cannot run a microphone test")
	}
	return es.Echo(ctx)
}

// echoPlayback plays the relay's playback of this page's microphone test
// to the page, like a replay (the voice pump's goroutine; the decoder is
// made on first use and kept).
func (s *session) echoPlayback(f VoiceFrame) {
	if f.Header.Flags&proto.FlagEcho == 0 || f.Header.Sender != s.sessionID {
		return
	}
	if s.echoSink == nil {
		s.echoSink = s.replaySink()
	}
	s.echoSink(f.Header, f.Opus, f.Arrival)
}

package relay

import (
	"encoding/binary"
	"time"

	"github.com/hark-intercom/hark/proto"
)

// echoFrame is one frame of an echo test and when it came, from the first.
type echoFrame struct {
	b  []byte
	at time.Duration
}

// echoRec records one session's echo test (proto.EchoChannel). It is owned
// by the session's datagram reader until the end frame, then by the
// goroutine that plays it back.
type echoRec struct {
	start  time.Time
	frames []echoFrame
	full   bool // MaxEchoDuration reached: later frames are dropped
}

// isEcho reports whether the datagram b is a voice frame for the echo test.
func isEcho(b []byte) bool {
	return len(b) >= proto.VoiceHeaderLen && proto.DatagramKind(b[0]) == proto.KindVoice &&
		binary.BigEndian.Uint16(b[2:]) == proto.EchoChannel
}

// handleEcho takes a frame of s's echo test. Called only from s's datagram
// reader. b is owned by the relay from here on (quic-go hands out a fresh
// slice). Frames past proto.MaxEchoDuration are dropped and counted; the
// frame with the end flag starts the playback to s alone, at the pace the
// frames came. A session without FeatureEcho gets nothing back: its frames
// are counted as for an unknown channel.
func (s *session) handleEcho(b []byte) {
	h, _, err := proto.ParseVoice(b)
	if err != nil {
		s.r.c.bad[badReasonOf(err)].Add(1)
		return
	}
	if s.features&proto.FeatureEcho == 0 {
		s.r.c.dropped[dropWrongChannel].Add(1)
		return
	}
	now := time.Now()
	if h.Flags&proto.FlagStart != 0 || s.echo == nil {
		s.echo = &echoRec{start: now}
	}
	rec := s.echo
	at := now.Sub(rec.start)
	switch {
	case at > proto.MaxEchoDuration || len(rec.frames) >= maxEchoFrames:
		rec.full = true
		s.r.c.dropped[dropEchoFull].Add(1)
	default:
		proto.PutSender(b, s.id)
		proto.PutFlags(b, h.Flags&proto.ClientVoiceFlags|proto.FlagEcho)
		rec.frames = append(rec.frames, echoFrame{b: b, at: at})
	}
	if h.Flags&proto.FlagEnd == 0 {
		return
	}
	s.echo = nil
	if rec.full && len(rec.frames) > 0 {
		// The end frame was dropped: mark the last kept one.
		last := rec.frames[len(rec.frames)-1].b
		proto.PutFlags(last, proto.VoiceFlags(last[1])|proto.FlagEnd)
	}
	s.r.c.echoes.Add(1)
	go s.playEcho(rec)
}

// maxEchoFrames bounds an echo test's frames (10 s of 2.5 ms frames).
const maxEchoFrames = 4000

// playEcho sends rec's frames back to s at their original pace, starting
// at once. It stops early when the session ends.
func (s *session) playEcho(rec *echoRec) {
	done := s.conn.Context().Done()
	start := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for _, f := range rec.frames {
		if wait := time.Until(start.Add(f.at)); wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
		if s.voice.push(f.b) {
			s.r.c.dropped[dropQueueFull].Add(1)
		}
	}
}

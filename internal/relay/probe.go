package relay

import "github.com/hark-intercom/hark/proto"

// handleProbe sends a path probe (proto.KindProbe) straight back to its
// sender through the sender's voice queue, so that the probe meets the delay
// voice meets. A malformed probe, or one already marked as a reply, is
// counted as a bad datagram. b is owned by the relay (quic-go hands out a
// fresh slice) and is modified in place.
func (r *Relay) handleProbe(s *session, b []byte) {
	h, err := proto.ParseProbe(b)
	if err != nil {
		r.c.bad[badReasonOf(err)].Add(1)
		return
	}
	if h.Flags&proto.ProbeReply != 0 {
		r.c.bad[badValue].Add(1)
		return
	}
	proto.MarkProbeReply(b)
	r.c.probes.Add(1)
	if s.voice.push(b) {
		r.c.dropped[dropQueueFull].Add(1)
	}
}

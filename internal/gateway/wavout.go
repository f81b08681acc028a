package gateway

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/wav"
)

// WAV playback: members that cannot play live audio get each transmission
// as one WAV file once it is over. They hear it only then, so nothing
// needs to wait for the network: the hub keeps the transmission's frames as
// they come (up to maxWAVSamples of audio) and, when the talker's live
// stream ends (see live.go), decodes them in timestamp order, late ones
// included, with the losses concealed (from the next frame's FEC data
// where it has some). That is a second decode of the talker's audio, made
// only while a WAV member listens.

// wavLostMax: a gap in a transmission longer than this is silence rather
// than concealment (the talker's link was down).
const wavLostMax = 2 * codec.MaxPacketSamples

// wavBlob decodes frames (of one talker, in any order, possibly with gaps)
// and returns the WAV message for sender, or nil when there is no audio.
// It owns frames.
func (h *hub) wavBlob(sender uint32, frames []VoiceFrame) []byte {
	if len(frames) == 0 {
		return nil
	}
	ts0 := frames[0].Header.Timestamp
	for _, f := range frames {
		if int32(f.Header.Timestamp-ts0) < 0 {
			ts0 = f.Header.Timestamp
		}
	}
	off := func(f *VoiceFrame) int { return int(f.Header.Timestamp - ts0) }
	slices.SortStableFunc(frames, func(a, b VoiceFrame) int { return cmp.Compare(off(&a), off(&b)) })
	dec, err := codec.NewDecoder()
	if err != nil {
		h.srv.log.Error("cannot create an Opus decoder for a WAV listener", "err", err)
		return nil
	}
	var pcm []int16
	var buf [codec.MaxPacketSamples]int16
	for i := range frames {
		f := &frames[i]
		at := off(f)
		if at < len(pcm) || at > maxWAVSamples {
			continue // a frame already covered, or past the limit
		}
		if gap := at - len(pcm); gap > 0 {
			if gap > wavLostMax || gap%120 != 0 {
				pcm = append(pcm, make([]int16, gap)...)
			} else {
				h.srv.m.concealed.Add(float64(gap) / outFrame)
				for gap > 0 {
					n := min(gap, codec.MaxPacketSamples)
					var err error
					if gap == n {
						_, err = dec.DecodeFEC(f.Opus, buf[:n])
					} else {
						_, err = dec.DecodePLC(buf[:n])
					}
					if err != nil {
						clear(buf[:n])
					}
					pcm = append(pcm, buf[:n]...)
					gap -= n
				}
			}
		}
		n, err := dec.Decode(f.Opus, buf[:])
		if err != nil {
			h.srv.m.decodeErrors.Inc()
			n = min(int(f.Header.Duration), len(buf))
			if _, err := dec.DecodePLC(buf[:n]); err != nil {
				clear(buf[:n])
			}
		}
		h.srv.m.decoded.Inc()
		pcm = append(pcm, buf[:n]...)
	}
	if len(pcm) == 0 {
		return nil
	}
	var b bytes.Buffer
	hdr := make([]byte, binHeaderLen)
	hdr[0] = binWAV
	binary.LittleEndian.PutUint32(hdr[4:], sender)
	b.Write(hdr)
	if err := wav.Encode(&b, codec.SampleRate, 1, pcm[:min(len(pcm), maxWAVSamples)]); err != nil {
		return nil
	}
	return b.Bytes()
}

// sendWAV decodes a finished transmission for the WAV members (on its own
// goroutine: a minute of audio takes tens of milliseconds to decode, which
// the tick loop cannot spare).
func (h *hub) sendWAV(sender uint32, frames []VoiceFrame, members []*session) {
	msg := h.wavBlob(sender, frames)
	if msg == nil {
		return
	}
	for _, s := range members {
		if !s.transmitting.Load() && s.sessionID != sender {
			s.queueAudio(msg)
		}
	}
}

// Package history is what Hark's front ends share about the relay's
// history (issue 11): turning a stored transmission (its Opus packets at
// their offsets, see client.Fetch) into sound — 48 kHz mono PCM, a WAV
// file, an Ogg/Opus file, or voice frames paced in real time into the same
// playout as live voice — and describing history items for people.
//
// Nothing here talks to the relay; package client does. Functions are safe
// for concurrent use; a Player is used by one goroutine at a time.
package history

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/proto"
)

// SampleRate of everything this package produces.
const SampleRate = codec.SampleRate

// maxConceal is the longest gap between packets filled by Opus concealment
// (a lost packet or two); longer gaps are pauses and become silence.
const maxConceal = 3 * 960

// maxGap bounds the silence inserted for one gap, so that a corrupt offset
// cannot make Decode allocate without limit: a transmission is at most a
// few minutes (the relay's max-length) and this is ten.
const maxGap = 10 * 60 * SampleRate

// DecodeStats says what Decode made of a recording.
type DecodeStats struct {
	Packets   int // packets decoded
	Bad       int // packets that did not decode (concealed or silent instead)
	Concealed int // samples made by Opus concealment for short gaps and bad packets
	Silence   int // samples of silence inserted for pauses between packets
}

// Decode decodes a recording's packets, placing each at its offset from
// the start, into 48 kHz mono 16-bit PCM. A gap of up to 60 ms between one
// packet's end and the next one's offset (a packet lost on the way to the
// relay) is filled by Opus concealment, a longer one (a pause) with
// silence; a packet whose offset is earlier than the end of the one before
// (offsets are whole milliseconds) follows it directly. A packet that does
// not decode is concealed and counted, so one bad packet does not lose the
// rest.
func Decode(packets []proto.RecPacket) ([]int16, DecodeStats, error) {
	var st DecodeStats
	dec, err := codec.NewDecoder()
	if err != nil {
		return nil, st, err
	}
	var pcm []int16
	buf := make([]int16, codec.MaxPacketSamples)
	for _, p := range packets {
		at := int(p.Offset) * SampleRate / 1000
		if gap := at - len(pcm); gap > 0 {
			if gap > maxGap {
				return pcm, st, fmt.Errorf("the recording has a gap of %v before the packet at %v: it looks corrupt", time.Duration(gap)*time.Second/SampleRate, time.Duration(p.Offset)*time.Millisecond)
			}
			if gap <= maxConceal && len(pcm) > 0 {
				pcm = conceal(dec, pcm, gap, &st)
			} else {
				pcm = append(pcm, make([]int16, gap)...)
				st.Silence += gap
			}
		}
		n, err := dec.Decode(p.Opus, buf)
		if err != nil {
			st.Bad++
			// Conceal as long as the packet says it lasts (20 ms if it
			// does not say).
			ns, err := codec.PacketSamples(p.Opus)
			if err != nil || ns > codec.MaxPacketSamples {
				ns = 960
			}
			pcm = conceal(dec, pcm, ns, &st)
			continue
		}
		st.Packets++
		pcm = append(pcm, buf[:n]...)
	}
	return pcm, st, nil
}

// conceal appends n samples of Opus concealment (in pieces the decoder
// accepts; a remainder that is not a multiple of 2.5 ms becomes silence).
func conceal(dec *codec.Decoder, pcm []int16, n int, st *DecodeStats) []int16 {
	for n > 0 {
		k := min(n, codec.MaxPacketSamples)
		k -= k % 120
		if k == 0 {
			pcm = append(pcm, make([]int16, n)...)
			st.Silence += n
			return pcm
		}
		start := len(pcm)
		pcm = append(pcm, make([]int16, k)...)
		if _, err := dec.DecodePLC(pcm[start:]); err != nil {
			clear(pcm[start:]) // silence then
			st.Silence += k
		} else {
			st.Concealed += k
		}
		n -= k
	}
	return pcm
}

// WriteWAV writes pcm (48 kHz mono) as a 16-bit WAV file to w.
func WriteWAV(w io.Writer, pcm []int16) error {
	return wav.Encode(w, SampleRate, 1, pcm)
}

// Duration is the length of pcm (48 kHz mono).
func Duration(pcm []int16) time.Duration {
	return time.Duration(len(pcm)) * time.Second / SampleRate
}

// Line describes one history item on one line, for `talk history` and the
// terminal UI: its id, local time, who, where, and the text or the
// transmission's length, with "page", "ring" and "cut" spelled out. self is
// the user's own name ("" if unknown), so private texts read "to you".
func Line(it proto.HistoryItem, self string, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	t := time.UnixMilli(it.Time).In(loc)
	when := t.Format("2006-01-02 15:04:05")
	var b strings.Builder
	fmt.Fprintf(&b, "%-6d %s  ", it.ID, when)
	b.WriteString(Describe(it, self))
	if Playable(it) {
		fmt.Fprintf(&b, "  [talk play %d]", it.ID)
	}
	return b.String()
}

// Describe is Line without the id and time: "bob in lobby: hello",
// "bob to you (private): hi", "bob talked in lobby for 4.2s", "page from
// boss for 3.0s", "ring from bob: lunch".
func Describe(it proto.HistoryItem, self string) string {
	var s string
	dur := func() string {
		d := time.Duration(it.Duration) * time.Millisecond
		return d.Round(100 * time.Millisecond).String()
	}
	switch it.Kind {
	case proto.ItemText:
		s = fmt.Sprintf("%s in %s: %s", it.From, it.Channel, it.Text)
	case proto.ItemPrivate:
		to := it.To
		if to == self && self != "" {
			to = "you"
		}
		s = fmt.Sprintf("%s to %s (private): %s", it.From, to, it.Text)
		if it.Flags&proto.ItemWaiting != 0 && (self == "" || it.From == self) {
			s += fmt.Sprintf(" [waiting: %s has not logged in since]", it.To)
		}
	case proto.ItemVoice:
		s = fmt.Sprintf("%s talked in %s for %s", it.From, it.Channel, dur())
	case proto.ItemRing:
		s = "ring from " + it.From
		if it.Text != "" {
			s += ": " + it.Text
		}
	case proto.ItemPage:
		s = "page from " + it.From + " to all channels"
		if it.Duration > 0 {
			s += " for " + dur()
		}
	default:
		s = fmt.Sprintf("%s from %s", client.KindName(it.Kind), it.From)
	}
	if it.Flags&proto.ItemCut != 0 {
		s += " (cut: only the start was kept)"
	}
	return s
}

// Playable reports whether it has sound to fetch and play.
func Playable(it proto.HistoryItem) bool { return it.Flags&proto.ItemAudio != 0 }

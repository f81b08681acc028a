package history

import (
	"fmt"
	"io"
	"time"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/webm"
	"github.com/hark-intercom/hark/proto"
)

// WriteOgg writes a recording as an Ogg Opus file (RFC 7845) without
// decoding it: the stored packets as they are, and where the offsets leave
// a gap of at least 10 ms (a pause, a lost packet), Opus packets of
// silence, so that the file lasts as long as the transmission did and
// every player keeps the timing. it describes the recording in the file's
// comments (who, where, when).
func WriteOgg(w io.Writer, it proto.HistoryItem, packets []proto.RecPacket) error {
	silence10, silence20, err := silencePackets()
	if err != nil {
		return err
	}
	var out [][]byte
	var at int // samples written
	for i, p := range packets {
		n, err := codec.PacketSamples(p.Opus)
		if err != nil {
			return fmt.Errorf("stored packet %d: %w", i, err)
		}
		gap := int(p.Offset)*SampleRate/1000 - at
		if gap > maxGap {
			return fmt.Errorf("the recording has a gap of %v before the packet at %v: it looks corrupt", time.Duration(gap)*time.Second/SampleRate, time.Duration(p.Offset)*time.Millisecond)
		}
		for ; gap >= 960; gap -= 960 {
			out = append(out, silence20)
			at += 960
		}
		if gap >= 480 {
			out = append(out, silence10)
			at += 480
		}
		out = append(out, p.Opus)
		at += n
	}
	comments := []string{"ARTIST=" + it.From, "DATE=" + time.UnixMilli(it.Time).Format(time.RFC3339)}
	if it.Channel != "" {
		comments = append(comments, "ALBUM="+it.Channel)
	}
	comments = append(comments, "TITLE="+Describe(it, ""))
	return webm.WriteOggOpus(w, webm.OggOpusHeader{Vendor: "hark", Comments: comments}, out)
}

// silencePackets returns Opus packets of 10 and 20 ms of silence.
func silencePackets() (p10, p20 []byte, err error) {
	for _, n := range []int{480, 960} {
		enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: n})
		if err != nil {
			return nil, nil, err
		}
		p, err := enc.Encode(make([]int16, n), make([]byte, 0, codec.MaxPacketBytes))
		if err != nil {
			return nil, nil, err
		}
		if n == 480 {
			p10 = p
		} else {
			p20 = p
		}
	}
	return p10, p20, nil
}

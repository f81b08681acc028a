package webm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// parseOpusHead reads the Opus identification header (RFC 7845 §5.1), which is
// the CodecPrivate of a WebM Opus track and the first packet of an Ogg Opus stream.
func parseOpusHead(b []byte) (Info, error) {
	if len(b) < 19 || string(b[:8]) != "OpusHead" {
		return Info{}, errors.New("the Opus track has no valid OpusHead header")
	}
	if b[8]>>4 != 0 {
		return Info{}, fmt.Errorf("%w: OpusHead version %d", ErrUnsupported, b[8])
	}
	ch := int(b[9])
	if ch < 1 || ch > 2 {
		return Info{}, fmt.Errorf("%w: Opus with %d channels (only mono and stereo)", ErrUnsupported, ch)
	}
	if b[18] != 0 {
		return Info{}, fmt.Errorf("%w: Opus channel mapping family %d", ErrUnsupported, b[18])
	}
	return Info{
		Codec:      "opus",
		Channels:   ch,
		PreSkip:    int(binary.LittleEndian.Uint16(b[10:])),
		InputRate:  int(binary.LittleEndian.Uint32(b[12:])),
		HeaderSeen: true,
	}, nil
}

// OpusSamples returns the duration of an Opus packet in 48 kHz samples, read
// from its TOC byte (RFC 6716 §3.1), or 0 if the packet is malformed.
func OpusSamples(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	toc := p[0]
	cfg := toc >> 3
	var frame int // in 48 kHz samples
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int{480, 960, 1920, 2880}[cfg&3]
	case cfg < 16: // hybrid: 10, 20 ms
		frame = []int{480, 960}[cfg&1]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int{120, 240, 480, 960}[cfg&3]
	}
	var count int
	switch toc & 3 {
	case 0:
		count = 1
	case 1, 2:
		count = 2
	case 3:
		if len(p) < 2 {
			return 0
		}
		count = int(p[1] & 0x3F)
	}
	total := frame * count
	if total > 5760 { // 120 ms is the most a packet may hold
		return 0
	}
	return total
}

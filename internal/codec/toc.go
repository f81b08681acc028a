package codec

import (
	"errors"
	"fmt"
)

// Errors from PacketSamples. They wrap ErrMalformed so callers can test with
// errors.Is(err, ErrMalformed).
var ErrMalformed = errors.New("codec: malformed Opus packet")

// frameSamples48 is the duration of one frame for each TOC configuration
// (RFC 6716 §3.1, Table 2) in samples at 48 kHz.
var frameSamples48 = [32]int{
	// SILK NB, MB, WB: 10, 20, 40, 60 ms
	480, 960, 1920, 2880,
	480, 960, 1920, 2880,
	480, 960, 1920, 2880,
	// Hybrid SWB, FB: 10, 20 ms
	480, 960,
	480, 960,
	// CELT NB, WB, SWB, FB: 2.5, 5, 10, 20 ms
	120, 240, 480, 960,
	120, 240, 480, 960,
	120, 240, 480, 960,
	120, 240, 480, 960,
}

// PacketSamples returns the duration of an Opus packet in samples at 48 kHz,
// parsed from its TOC byte and, for code 3 packets, its frame count byte
// (RFC 6716 §3.1–3.2). It checks what it reads but does not validate frame
// lengths in depth; a packet it accepts may still fail to decode.
func PacketSamples(pkt []byte) (int, error) {
	if len(pkt) == 0 {
		return 0, fmt.Errorf("%w: empty packet", ErrMalformed)
	}
	toc := pkt[0]
	per := frameSamples48[toc>>3]
	switch toc & 3 {
	case 0: // one frame
		return per, nil
	case 1: // two frames, equal size
		if (len(pkt)-1)%2 != 0 {
			return 0, fmt.Errorf("%w: code 1 packet needs an even payload length, got %d bytes", ErrMalformed, len(pkt)-1)
		}
		return 2 * per, nil
	case 2: // two frames, different sizes
		if len(pkt) < 2 {
			return 0, fmt.Errorf("%w: code 2 packet is missing its frame length", ErrMalformed)
		}
		return 2 * per, nil
	default: // code 3: arbitrary number of frames
		if len(pkt) < 2 {
			return 0, fmt.Errorf("%w: code 3 packet is missing its frame count byte", ErrMalformed)
		}
		m := int(pkt[1] & 0x3f)
		if m == 0 {
			return 0, fmt.Errorf("%w: code 3 packet with zero frames", ErrMalformed)
		}
		total := m * per
		if total > MaxPacketSamples {
			return 0, fmt.Errorf("%w: %d frames of %d samples exceed the 120 ms limit", ErrMalformed, m, per)
		}
		return total, nil
	}
}

package codec

import "fmt"

// PacketHasFEC reports whether the Opus packet pkt carries in-band FEC data
// (SILK "LBRR" frames) for the audio just before it, i.e. whether
// Decoder.DecodeFEC on pkt recovers the previous packet rather than falling
// back to loss concealment.
//
// Only SILK and hybrid packets can carry FEC (RFC 6716 §4.2.4); CELT-only
// packets, and packets whose first frame is empty (DTX), never do. The
// answer comes from the first frame's SILK header (RFC 6716 §4.2.3): for
// each channel, one voice-activity flag per SILK frame and then the LBRR
// flag, each range-coded with probability ½. libopus 1.5's
// opus_packet_has_lbrr reads the same flags; this is a Go version of it for
// the older libopus found in distributions.
//
// A packet that cannot be parsed gives an error wrapping ErrMalformed.
// pkt is only read; the function is safe for concurrent use.
func PacketHasFEC(pkt []byte) (bool, error) {
	if len(pkt) == 0 {
		return false, fmt.Errorf("%w: empty packet", ErrMalformed)
	}
	toc := pkt[0]
	config := toc >> 3
	if config >= 16 { // CELT-only
		return false, nil
	}
	frame, err := firstFrame(pkt)
	if err != nil {
		return false, err
	}
	if len(frame) == 0 {
		return false, nil // DTX: nothing coded
	}
	// SILK frames of 20 ms in one Opus frame: 10 and 20 ms frames hold one
	// (hybrid frames are 10 or 20 ms), 40 ms two, 60 ms three.
	nSilk := 1
	if config < 12 {
		switch config & 3 {
		case 2:
			nSilk = 2
		case 3:
			nSilk = 3
		}
	}
	channels := 1
	if toc&4 != 0 {
		channels = 2
	}
	d := newRangeDecoder(frame)
	lbrr := false
	for ch := 0; ch < channels; ch++ {
		for i := 0; i < nSilk; i++ {
			d.bitLogp(1) // voice activity flag of SILK frame i
		}
		if d.bitLogp(1) {
			lbrr = true
		}
	}
	return lbrr, nil
}

// HasFEC is PacketHasFEC without the error: false for a malformed packet.
// Its signature fits jitter.WithFECProbe.
func HasFEC(pkt []byte) bool {
	ok, err := PacketHasFEC(pkt)
	return ok && err == nil
}

// firstFrame returns the first compressed frame of an Opus packet (RFC 6716
// §3.2), which is the one libopus reads FEC data from. It checks the framing
// it needs to find that frame.
func firstFrame(pkt []byte) ([]byte, error) {
	body := pkt[1:]
	switch pkt[0] & 3 {
	case 0:
		if len(body) > MaxPacketBytes {
			return nil, fmt.Errorf("%w: frame of %d bytes exceeds %d", ErrMalformed, len(body), MaxPacketBytes)
		}
		return body, nil
	case 1:
		if len(body)%2 != 0 {
			return nil, fmt.Errorf("%w: code 1 packet needs an even payload length, got %d bytes", ErrMalformed, len(body))
		}
		return body[:len(body)/2], nil
	case 2:
		n, k, err := frameLength(body)
		if err != nil {
			return nil, err
		}
		body = body[k:]
		if n > len(body) {
			return nil, fmt.Errorf("%w: code 2 packet's first frame of %d bytes overruns the packet", ErrMalformed, n)
		}
		return body[:n], nil
	}
	// Code 3: frame count byte, optional padding, optional VBR lengths.
	if len(body) < 1 {
		return nil, fmt.Errorf("%w: code 3 packet is missing its frame count byte", ErrMalformed)
	}
	fc := body[0]
	body = body[1:]
	m := int(fc & 0x3f)
	if m == 0 {
		return nil, fmt.Errorf("%w: code 3 packet with zero frames", ErrMalformed)
	}
	pad := 0
	if fc&0x40 != 0 {
		for {
			if len(body) == 0 {
				return nil, fmt.Errorf("%w: code 3 packet's padding length is cut off", ErrMalformed)
			}
			b := body[0]
			body = body[1:]
			if b == 255 {
				pad += 254
				continue
			}
			pad += int(b)
			break
		}
	}
	if fc&0x80 != 0 && m > 1 { // VBR: lengths of the first m-1 frames
		n, k, err := frameLength(body)
		if err != nil {
			return nil, err
		}
		// Skip the other m-2 length fields to reach the frame data.
		rest := body[k:]
		for i := 1; i < m-1; i++ {
			_, k2, err := frameLength(rest)
			if err != nil {
				return nil, err
			}
			rest = rest[k2:]
		}
		if n+pad > len(rest) {
			return nil, fmt.Errorf("%w: code 3 packet's frames overrun the packet", ErrMalformed)
		}
		return rest[:n], nil
	}
	// CBR, or a single frame: the data (without the trailing padding)
	// splits evenly.
	data := len(body) - pad
	if data < 0 || data%m != 0 {
		return nil, fmt.Errorf("%w: code 3 CBR packet's %d data bytes do not split into %d frames", ErrMalformed, data, m)
	}
	return body[:data/m], nil
}

// frameLength decodes a frame length field (RFC 6716 §3.2.1): one byte
// below 252, else two bytes. It returns the length and the field's size.
func frameLength(b []byte) (n, size int, err error) {
	if len(b) < 1 {
		return 0, 0, fmt.Errorf("%w: frame length is missing", ErrMalformed)
	}
	if b[0] < 252 {
		return int(b[0]), 1, nil
	}
	if len(b) < 2 {
		return 0, 0, fmt.Errorf("%w: two-byte frame length is cut off", ErrMalformed)
	}
	return int(b[0]) + 4*int(b[1]), 2, nil
}

// rangeDecoder is the start of the Opus range decoder (RFC 6716 §4.1):
// enough to read the binary symbols at the head of a SILK frame.
type rangeDecoder struct {
	buf []byte
	pos int
	rem int    // the byte last read, of which the low bit is still unused
	rng uint32 // size of the current range
	val uint32 // (top of range - 1) - the coded value
}

func newRangeDecoder(buf []byte) rangeDecoder {
	d := rangeDecoder{buf: buf}
	d.rem = d.byte()
	d.rng = 128
	d.val = d.rng - 1 - uint32(d.rem>>1)
	d.normalize()
	return d
}

// byte returns the next input byte, 0 past the end (RFC 6716 §4.1.1).
func (d *rangeDecoder) byte() int {
	if d.pos >= len(d.buf) {
		return 0
	}
	b := d.buf[d.pos]
	d.pos++
	return int(b)
}

func (d *rangeDecoder) normalize() {
	for d.rng <= 1<<23 {
		d.rng <<= 8
		sym := d.rem
		d.rem = d.byte()
		sym = (sym<<8 | d.rem) >> 1
		d.val = ((d.val << 8) + uint32(255&^sym)) & (1<<31 - 1)
	}
}

// bitLogp decodes one binary symbol whose probability of being 1 is
// 1/2^logp (RFC 6716 §4.1.3.2).
func (d *rangeDecoder) bitLogp(logp uint) bool {
	s := d.rng >> logp
	one := d.val < s
	if one {
		d.rng = s
	} else {
		d.val -= s
		d.rng -= s
	}
	d.normalize()
	return one
}

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

// maxFrameBytes is the largest Opus frame (RFC 6716 §3.4, R2).
const maxFrameBytes = 1275

// SplitFrames cuts an Opus packet into one packet per frame, without
// re-encoding (RFC 6716 §3.2): each frame gets the packet's TOC byte with
// frame count code 0, so a packet of three 20 ms frames becomes three
// packets of 20 ms that decode to the same audio. It appends the packets
// (new memory, not aliasing pkt) to dst and returns dst and the samples of
// each (at 48 kHz, the same for every frame). Code 0 packets come back as
// they are (one frame). It checks every length the RFC constrains and
// returns an error wrapping ErrMalformed otherwise. Padding is dropped.
func SplitFrames(pkt []byte, dst [][]byte) ([][]byte, int, error) {
	if len(pkt) == 0 {
		return dst, 0, fmt.Errorf("%w: empty packet", ErrMalformed)
	}
	toc := pkt[0]
	per := frameSamples48[toc>>3]
	one := func(frame []byte) {
		p := make([]byte, 1+len(frame))
		p[0] = toc &^ 3
		copy(p[1:], frame)
		dst = append(dst, p)
	}
	body := pkt[1:]
	switch toc & 3 {
	case 0: // one frame
		if len(body) > maxFrameBytes {
			return dst, 0, fmt.Errorf("%w: a frame of %d bytes (at most %d)", ErrMalformed, len(body), maxFrameBytes)
		}
		one(body)
		return dst, per, nil
	case 1: // two frames of equal size
		if len(body)%2 != 0 || len(body)/2 > maxFrameBytes {
			return dst, 0, fmt.Errorf("%w: code 1 packet with a payload of %d bytes", ErrMalformed, len(body))
		}
		n := len(body) / 2
		one(body[:n])
		one(body[n:])
		return dst, per, nil
	case 2: // two frames, the first one's length coded
		n, used, err := frameLen(body)
		if err != nil {
			return dst, 0, err
		}
		body = body[used:]
		if n > len(body) || len(body)-n > maxFrameBytes {
			return dst, 0, fmt.Errorf("%w: code 2 frame lengths %d and %d do not fit %d bytes", ErrMalformed, n, len(body)-n, len(body))
		}
		one(body[:n])
		one(body[n:])
		return dst, per, nil
	}
	// Code 3: frame count byte (v: VBR, p: padding, M: frames), padding
	// length, VBR frame lengths, frames, padding.
	if len(body) < 1 {
		return dst, 0, fmt.Errorf("%w: code 3 packet is missing its frame count byte", ErrMalformed)
	}
	fc := body[0]
	body = body[1:]
	m := int(fc & 0x3f)
	if m == 0 || m*per > MaxPacketSamples {
		return dst, 0, fmt.Errorf("%w: code 3 packet of %d frames of %d samples", ErrMalformed, m, per)
	}
	if fc&0x40 != 0 { // padding
		pad := 0
		for {
			if len(body) == 0 {
				return dst, 0, fmt.Errorf("%w: padding length runs past the packet", ErrMalformed)
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
		if pad > len(body) {
			return dst, 0, fmt.Errorf("%w: %d bytes of padding in %d", ErrMalformed, pad, len(body))
		}
		body = body[:len(body)-pad]
	}
	if fc&0x80 == 0 { // CBR: equal frames
		if len(body)%m != 0 || len(body)/m > maxFrameBytes {
			return dst, 0, fmt.Errorf("%w: %d bytes do not make %d equal frames", ErrMalformed, len(body), m)
		}
		n := len(body) / m
		for i := 0; i < m; i++ {
			one(body[i*n : (i+1)*n])
		}
		return dst, per, nil
	}
	lens := make([]int, m)
	total := 0
	for i := 0; i < m-1; i++ {
		n, used, err := frameLen(body)
		if err != nil {
			return dst, 0, err
		}
		body = body[used:]
		lens[i] = n
		total += n
	}
	if total > len(body) || len(body)-total > maxFrameBytes {
		return dst, 0, fmt.Errorf("%w: VBR frame lengths (%d bytes) do not fit %d bytes", ErrMalformed, total, len(body))
	}
	lens[m-1] = len(body) - total
	for _, n := range lens {
		one(body[:n])
		body = body[n:]
	}
	return dst, per, nil
}

// frameLen reads a frame length coded in one or two bytes (RFC 6716
// §3.2.1) and returns it and the bytes it took.
func frameLen(b []byte) (n, used int, err error) {
	if len(b) == 0 {
		return 0, 0, fmt.Errorf("%w: a frame length is missing", ErrMalformed)
	}
	if b[0] < 252 {
		return int(b[0]), 1, nil
	}
	if len(b) < 2 {
		return 0, 0, fmt.Errorf("%w: a two-byte frame length is cut off", ErrMalformed)
	}
	return 4*int(b[1]) + int(b[0]), 2, nil
}

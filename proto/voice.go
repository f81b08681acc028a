package proto

import (
	"encoding/binary"
	"fmt"
)

// DatagramKind is the first byte of every QUIC datagram. Unknown kinds are
// dropped (and counted) by receivers.
type DatagramKind uint8

// Datagram kinds.
const (
	// KindVoice is a voice frame: a [VoiceHeader] and one Opus packet.
	KindVoice DatagramKind = 0x01
)

// VoiceFlags mark transmission boundaries and priority. A receiver acts on
// the flags it knows and ignores the others (from version 2 on; a version-1
// receiver drops a frame with a flag it does not know, which is why the
// relay forwards only the flags below: see [ClientVoiceFlags]).
type VoiceFlags uint8

// Voice flags.
const (
	// FlagStart marks the first frame of a transmission (the talker pressed).
	FlagStart VoiceFlags = 1 << 0
	// FlagEnd marks the last frame of a transmission (the talker released).
	// A frame may carry both. The relay frees the floor when it forwards it.
	FlagEnd VoiceFlags = 1 << 1
	// FlagPriority marks a page: the relay sets it on frames of a page; it
	// is ignored on frames a client sends.
	FlagPriority VoiceFlags = 1 << 2

	knownFlags = FlagStart | FlagEnd | FlagPriority | FlagEcho

	// ClientVoiceFlags are the flags a client may set. The relay clears
	// every other flag of a client's frame before forwarding it: priority is
	// the relay's to set, and a flag the relay does not know must not reach
	// a listener that might not know it either. A flag added later that
	// should pass a relay joins this set in a new version, and the relay
	// must clear it for listeners that negotiated an older version.
	ClientVoiceFlags = FlagStart | FlagEnd
)

// String renders flags as "start|end|priority".
func (f VoiceFlags) String() string {
	s := ""
	add := func(n string) {
		if s != "" {
			s += "|"
		}
		s += n
	}
	if f&FlagStart != 0 {
		add("start")
	}
	if f&FlagEnd != 0 {
		add("end")
	}
	if f&FlagPriority != 0 {
		add("priority")
	}
	if f&FlagEcho != 0 {
		add("echo")
	}
	if f&^knownFlags != 0 {
		add(fmt.Sprintf("0x%02x", uint8(f&^knownFlags)))
	}
	if s == "" {
		return "none"
	}
	return s
}

// VoiceHeaderLen is the size of a [VoiceHeader] on the wire.
const VoiceHeaderLen = 16

// VoiceHeader precedes the Opus packet in a voice datagram.
//
//	 0        1        2        3        4        5        6        7
//	+--------+--------+--------+--------+--------+--------+--------+--------+
//	| kind=1 | flags  | channel (u16)   | sender session (u32)              |
//	+--------+--------+--------+--------+--------+--------+--------+--------+
//	| sequence (u16)  | timestamp in 48 kHz samples (u32) | duration (u16)  |
//	+--------+--------+--------+--------+--------+--------+--------+--------+
//	| Opus packet (1..MaxVoicePayload bytes) ...
//
// Channel is the id the relay gave in [Joined]. Sender is the talker's session
// id: a client may put anything there; the relay overwrites it with the
// authenticated session (see [PutSender]) before forwarding. Sequence counts
// frames of one talker and wraps. Timestamp counts 48 kHz samples from an
// arbitrary origin and wraps. Duration is the frame's length in 48 kHz samples
// (480 for 10 ms, 960 for 20 ms, 2880 for 60 ms), so a receiver can place
// frames of mixed durations without parsing Opus.
type VoiceHeader struct {
	Flags     VoiceFlags
	Channel   uint16
	Sender    uint32
	Seq       uint16
	Timestamp uint32
	Duration  uint16
}

// AppendVoice appends a voice datagram (header and payload) to b and returns
// the extended slice. It does not allocate when b has room.
func AppendVoice(b []byte, h VoiceHeader, payload []byte) []byte {
	b = append(b, byte(KindVoice), byte(h.Flags))
	b = binary.BigEndian.AppendUint16(b, h.Channel)
	b = binary.BigEndian.AppendUint32(b, h.Sender)
	b = binary.BigEndian.AppendUint16(b, h.Seq)
	b = binary.BigEndian.AppendUint32(b, h.Timestamp)
	b = binary.BigEndian.AppendUint16(b, h.Duration)
	return append(b, payload...)
}

// ParseVoice parses a voice datagram. The returned payload aliases b. It
// checks the kind, that the payload is 1..[MaxVoicePayload] bytes and that
// the duration is not zero, and does not allocate. Flags it does not know
// are kept in the header as they came, so a relay can clear them: receivers
// ignore them.
func ParseVoice(b []byte) (VoiceHeader, []byte, error) {
	if len(b) < VoiceHeaderLen+1 {
		return VoiceHeader{}, nil, errShortVoice
	}
	if DatagramKind(b[0]) != KindVoice {
		return VoiceHeader{}, nil, errKindVoice
	}
	if len(b)-VoiceHeaderLen > MaxVoicePayload {
		return VoiceHeader{}, nil, errLongVoice
	}
	h := VoiceHeader{
		Flags:     VoiceFlags(b[1]),
		Channel:   binary.BigEndian.Uint16(b[2:]),
		Sender:    binary.BigEndian.Uint32(b[4:]),
		Seq:       binary.BigEndian.Uint16(b[8:]),
		Timestamp: binary.BigEndian.Uint32(b[10:]),
		Duration:  binary.BigEndian.Uint16(b[14:]),
	}
	if h.Duration == 0 {
		return VoiceHeader{}, nil, errDurVoice
	}
	return h, b[VoiceHeaderLen:], nil
}

// Preallocated errors keep ParseVoice allocation-free on bad input too: a
// flood of garbage datagrams must not become a flood of garbage collection.
var (
	errShortVoice = fmt.Errorf("%w: voice datagram needs %d header bytes and a payload", ErrShort, VoiceHeaderLen)
	errKindVoice  = fmt.Errorf("%w: not a voice datagram", ErrBadType)
	errLongVoice  = fmt.Errorf("%w: voice payload over %d bytes", ErrTooLong, MaxVoicePayload)
	errDurVoice   = fmt.Errorf("%w: voice frame duration is zero", ErrBadValue)
)

// PutSender overwrites the sender field of a voice datagram in place. The
// relay calls it with the authenticated session id before forwarding. b must
// be at least [VoiceHeaderLen] bytes (as returned by a successful [ParseVoice]).
func PutSender(b []byte, sender uint32) {
	binary.BigEndian.PutUint32(b[4:8], sender)
}

// PutFlags overwrites the flags byte of a voice datagram in place.
func PutFlags(b []byte, f VoiceFlags) { b[1] = byte(f) }

// PutChannel overwrites the channel field of a voice datagram in place (the
// relay uses it when a page is forwarded into every channel).
func PutChannel(b []byte, ch uint16) { binary.BigEndian.PutUint16(b[2:4], ch) }
